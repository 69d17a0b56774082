// Line items (fields of type "lines"): row editing and a client-side preview of the formulas.
// The server computes every formula on each write and its answer is authoritative; the preview
// evaluates the common subset of expr-lang the definitions use (arithmetic, comparisons, ??,
// ternaries, member access, round/abs/min/max/len/string/join and the closures sum/any/all/
// count/map/filter/reduce over lists). Anything else previews as "unknown" (undefined).
import type { EntityDef, FieldDef } from '../api/types';

export type Row = Record<string, unknown>;

// ---- expression preview -------------------------------------------------------------------

type Tok = { t: 'num' | 'str' | 'id' | 'op'; v: string };

const OPS = ['??', '||', '&&', '==', '!=', '>=', '<=', '>', '<', '+', '-', '*', '/', '%', '!', '(', ')', '[', ']', ',', '.', '?', ':', ';', '='];

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) { i++; continue; }
    if (/[0-9]/.test(c)) {
      let j = i;
      while (j < src.length && /[0-9._]/.test(src[j])) j++;
      out.push({ t: 'num', v: src.slice(i, j).replace(/_/g, '') });
      i = j;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      let s = '';
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\' && j + 1 < src.length) { s += src[j + 1]; j += 2; continue; }
        s += src[j++];
      }
      if (j >= src.length) throw new Error('unterminated string');
      out.push({ t: 'str', v: s });
      i = j + 1;
      continue;
    }
    if (/[A-Za-z_#$]/.test(c)) {
      let j = i + 1;
      while (j < src.length && /[A-Za-z0-9_]/.test(src[j])) j++;
      out.push({ t: 'id', v: src.slice(i, j) });
      i = j;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (!op) throw new Error(`unexpected ${c}`);
    out.push({ t: 'op', v: op });
    i += op.length;
  }
  return out;
}

type Node =
  | { k: 'lit'; v: unknown }
  | { k: 'var'; name: string }
  | { k: 'member'; obj: Node | null; name: string } // obj null: ".x" on the closure element
  | { k: 'index'; obj: Node; idx: Node }
  | { k: 'un'; op: string; a: Node }
  | { k: 'bin'; op: string; a: Node; b: Node }
  | { k: 'cond'; c: Node; a: Node; b: Node }
  | { k: 'call'; fn: string; args: Node[] }
  | { k: 'list'; items: Node[] }
  | { k: 'let'; name: string; v: Node; body: Node };

const PREC: Record<string, number> = { '??': 1, '||': 2, or: 2, '&&': 3, and: 3, '==': 4, '!=': 4, '>': 5, '<': 5, '>=': 5, '<=': 5, in: 5, '+': 6, '-': 6, '*': 7, '/': 7, '%': 7 };

function parse(src: string): Node {
  const toks = tokenize(src);
  let p = 0;
  const peek = () => toks[p];
  const isOp = (v: string) => peek()?.t === 'op' && peek()!.v === v;
  const expect = (v: string) => {
    if (!isOp(v)) throw new Error(`expected ${v}`);
    p++;
  };
  const expr = (): Node => {
    if (peek()?.t === 'id' && peek()!.v === 'let') {
      p++;
      const name = toks[p++]?.v;
      expect('=');
      const v = expr();
      expect(';');
      return { k: 'let', name, v, body: expr() };
    }
    const c = binary(0);
    if (isOp('?')) {
      p++;
      const a = expr();
      expect(':');
      return { k: 'cond', c, a, b: expr() };
    }
    return c;
  };
  const opOf = (): string | undefined => {
    const t = peek();
    if (!t) return undefined;
    if (t.t === 'op' && PREC[t.v]) return t.v;
    if (t.t === 'id' && (t.v === 'and' || t.v === 'or' || t.v === 'in')) return t.v;
    return undefined;
  };
  const binary = (min: number): Node => {
    let a = unary();
    for (let op = opOf(); op && PREC[op] > min; op = opOf()) {
      p++;
      const b = binary(PREC[op]);
      a = { k: 'bin', op, a, b };
    }
    return a;
  };
  const unary = (): Node => {
    if (isOp('!') || isOp('-')) {
      const op = toks[p++].v;
      return { k: 'un', op, a: unary() };
    }
    if (peek()?.t === 'id' && peek()!.v === 'not') {
      p++;
      return { k: 'un', op: '!', a: unary() };
    }
    return postfix(primary());
  };
  const postfix = (n: Node): Node => {
    for (;;) {
      if (isOp('.')) {
        p++;
        n = { k: 'member', obj: n, name: toks[p++].v };
      } else if (isOp('[')) {
        p++;
        const idx = expr();
        expect(']');
        n = { k: 'index', obj: n, idx };
      } else return n;
    }
  };
  const primary = (): Node => {
    const t = toks[p++];
    if (!t) throw new Error('unexpected end');
    if (t.t === 'num') return { k: 'lit', v: Number(t.v) };
    if (t.t === 'str') return { k: 'lit', v: t.v };
    if (t.t === 'op' && t.v === '(') {
      const n = expr();
      expect(')');
      return n;
    }
    if (t.t === 'op' && t.v === '[') {
      const items: Node[] = [];
      while (!isOp(']')) {
        items.push(expr());
        if (isOp(',')) p++;
      }
      p++;
      return { k: 'list', items };
    }
    if (t.t === 'op' && t.v === '.') return { k: 'member', obj: null, name: toks[p++].v };
    if (t.t === 'id') {
      if (t.v === 'true' || t.v === 'false') return { k: 'lit', v: t.v === 'true' };
      if (t.v === 'nil') return { k: 'lit', v: null };
      if (isOp('(')) {
        p++;
        const args: Node[] = [];
        while (!isOp(')')) {
          args.push(expr());
          if (isOp(',')) p++;
          else if (!isOp(')')) throw new Error('expected , or )');
        }
        p++;
        return { k: 'call', fn: t.v, args };
      }
      return { k: 'var', name: t.v };
    }
    throw new Error(`unexpected ${t.v}`);
  };
  const n = expr();
  if (p !== toks.length) throw new Error('unexpected trailing input');
  return n;
}

type Env = Record<string, unknown>;

const num = (v: unknown): number => {
  if (typeof v !== 'number' || Number.isNaN(v)) throw new Error('not a number');
  return v;
};
const list = (v: unknown): unknown[] => {
  if (!Array.isArray(v)) throw new Error('not a list');
  return v;
};

function evaluate(n: Node, env: Env): unknown {
  switch (n.k) {
    case 'lit':
      return n.v;
    case 'var':
      return env[n.name] ?? null;
    case 'member': {
      const o = n.obj ? evaluate(n.obj, env) : env['#'];
      if (o === null || o === undefined) return null;
      if (typeof o !== 'object') throw new Error('not an object');
      return (o as Record<string, unknown>)[n.name] ?? null;
    }
    case 'index': {
      const o = evaluate(n.obj, env);
      const i = evaluate(n.idx, env);
      if (Array.isArray(o)) return o[num(i) < 0 ? o.length + num(i) : num(i)] ?? null;
      if (o && typeof o === 'object') return (o as Record<string, unknown>)[String(i)] ?? null;
      return null;
    }
    case 'un': {
      const a = evaluate(n.a, env);
      return n.op === '!' ? !a : -num(a);
    }
    case 'cond':
      return evaluate(n.c, env) ? evaluate(n.a, env) : evaluate(n.b, env);
    case 'let':
      return evaluate(n.body, { ...env, [n.name]: evaluate(n.v, env) });
    case 'list':
      return n.items.map((x) => evaluate(x, env));
    case 'bin': {
      if (n.op === '??') {
        const a = evaluate(n.a, env);
        return a === null || a === undefined ? evaluate(n.b, env) : a;
      }
      if (n.op === '&&' || n.op === 'and') return !!evaluate(n.a, env) && !!evaluate(n.b, env);
      if (n.op === '||' || n.op === 'or') return !!evaluate(n.a, env) || !!evaluate(n.b, env);
      const a = evaluate(n.a, env);
      const b = evaluate(n.b, env);
      switch (n.op) {
        case '==': return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
        case '!=': return JSON.stringify(a ?? null) !== JSON.stringify(b ?? null);
        case 'in': return Array.isArray(b) ? b.some((x) => JSON.stringify(x) === JSON.stringify(a)) : false;
        case '+': return typeof a === 'string' || typeof b === 'string' ? String(a) + String(b) : num(a) + num(b);
        case '-': return num(a) - num(b);
        case '*': return num(a) * num(b);
        case '/': return num(a) / num(b);
        case '%': return num(a) % num(b);
        case '>': return num(a) > num(b);
        case '<': return num(a) < num(b);
        case '>=': return num(a) >= num(b);
        case '<=': return num(a) <= num(b);
      }
      throw new Error(`operator ${n.op}`);
    }
    case 'call':
      return call(n.fn, n.args, env);
  }
}

function call(fn: string, args: Node[], env: Env): unknown {
  const arg = (i: number) => evaluate(args[i], env);
  const each = (pred: Node, x: unknown, extra: Env = {}) => evaluate(pred, { ...env, '#': x, ...extra });
  switch (fn) {
    case 'round': {
      const x = num(arg(0));
      return Math.sign(x) * Math.round(Math.abs(x));
    }
    case 'floor': return Math.floor(num(arg(0)));
    case 'ceil': return Math.ceil(num(arg(0)));
    case 'abs': return Math.abs(num(arg(0)));
    case 'len': {
      const v = arg(0);
      return Array.isArray(v) || typeof v === 'string' ? v.length : v && typeof v === 'object' ? Object.keys(v).length : 0;
    }
    case 'string': {
      const v = arg(0);
      return v === null || v === undefined ? '<nil>' : String(v);
    }
    case 'float': case 'int': return fn === 'int' ? Math.trunc(Number(arg(0))) : Number(arg(0));
    case 'max': case 'min': {
      const vals = args.length === 1 ? list(arg(0)).map(num) : args.map((_, i) => num(arg(i)));
      if (vals.length === 0) return null;
      return fn === 'max' ? Math.max(...vals) : Math.min(...vals);
    }
    case 'concat': return args.flatMap((_, i) => list(arg(i)));
    case 'join': return list(arg(0)).map(String).join(args.length > 1 ? String(arg(1)) : '');
    case 'sum': {
      const xs = list(arg(0));
      return xs.reduce<number>((s, x) => s + num(args.length > 1 ? each(args[1], x) : x), 0);
    }
    case 'any': return list(arg(0)).some((x) => !!each(args[1], x));
    case 'all': return list(arg(0)).every((x) => !!each(args[1], x));
    case 'none': return !list(arg(0)).some((x) => !!each(args[1], x));
    case 'count': return list(arg(0)).filter((x) => !!each(args[1], x)).length;
    case 'map': return list(arg(0)).map((x) => each(args[1], x));
    case 'filter': return list(arg(0)).filter((x) => !!each(args[1], x));
    case 'reduce': {
      const xs = list(arg(0));
      let acc: unknown = args.length > 2 ? arg(2) : xs[0];
      for (const x of args.length > 2 ? xs : xs.slice(1)) acc = each(args[1], x, { '#acc': acc });
      return acc;
    }
    case 'isEmpty': {
      const v = arg(0);
      return v === null || v === undefined || v === '' || (Array.isArray(v) && v.length === 0);
    }
  }
  throw new Error(`function ${fn}`);
}

const parsed = new Map<string, Node | null>();

/** Evaluates a formula for preview; undefined when it fails or uses what the preview lacks. */
export function previewExpr(src: string, env: Env): unknown {
  let n = parsed.get(src);
  if (n === undefined) {
    try {
      n = parse(src);
    } catch {
      n = null;
    }
    parsed.set(src, n);
  }
  if (!n) return undefined;
  try {
    const v = evaluate(n, env);
    if (typeof v === 'number' && !Number.isFinite(v)) return undefined;
    return v;
  } catch {
    return undefined;
  }
}

// ---- rows ---------------------------------------------------------------------------------

/** The rows a stored lines value holds (an old JSON text of rows is read too). */
export function rowsOf(v: unknown): Row[] {
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch {
      return [];
    }
  }
  return Array.isArray(v) ? v.filter((r): r is Row => !!r && typeof r === 'object' && !Array.isArray(r)) : [];
}

/** A new row with the columns' static defaults. */
export function newRow(field: FieldDef): Row {
  const row: Row = {};
  for (const c of field.fields ?? []) {
    if (c.default !== undefined && c.default !== null && !(typeof c.default === 'string' && c.default.startsWith('$'))) row[c.key] = c.default;
  }
  return row;
}

/** Moves row i by delta (-1 up, +1 down); unchanged when it would leave the list. */
export function moveRow(rows: Row[], i: number, delta: number): Row[] {
  const j = i + delta;
  if (i < 0 || i >= rows.length || j < 0 || j >= rows.length) return rows;
  const out = [...rows];
  [out[i], out[j]] = [out[j], out[i]];
  return out;
}

/** Copies the chosen record's fields into the row along relation column col's fill mapping. */
export function applyFill(field: FieldDef, col: string, row: Row, target: Record<string, unknown> | null | undefined): Row {
  const sub = (field.fields ?? []).find((c) => c.key === col);
  const fill = (sub?.fill ?? {}) as Record<string, string>;
  const out = { ...row };
  for (const [to, from] of Object.entries(fill)) {
    const v = target?.[from];
    if (v === undefined || v === null) delete out[to];
    else out[to] = v;
  }
  return out;
}

/** The rows with their formula columns previewed (the row as `line`, the record as `record`). */
export function computeRows(field: FieldDef, rows: Row[], record: Record<string, unknown> = {}): Row[] {
  const formulas = (field.fields ?? []).filter((c) => c.type === 'formula' && c.formula);
  return rows.map((r) => {
    const row = { ...r };
    for (const c of formulas) {
      const v = previewExpr(c.formula!, { line: row, record });
      if (v === undefined || v === null) delete row[c.key];
      else row[c.key] = v;
    }
    return row;
  });
}

/** The record's values with every lines field's rows and every formula field previewed. */
export function computeRecord(entity: Pick<EntityDef, 'fields'>, data: Record<string, unknown>): Record<string, unknown> {
  const out = { ...data };
  for (const f of entity.fields) {
    if (f.type === 'lines') out[f.key] = computeRows(f, rowsOf(out[f.key]), out);
  }
  for (const f of entity.fields) {
    if (f.type !== 'formula' || !f.formula) continue;
    const v = previewExpr(f.formula, { record: out });
    if (v === undefined || v === null) delete out[f.key];
    else out[f.key] = v;
  }
  return out;
}

/** Formula fields of the entity that depend on lines field key (directly or through others). */
export function totalsOf(entity: Pick<EntityDef, 'fields'>, key: string): FieldDef[] {
  const deps = new Set([key]);
  const out: FieldDef[] = [];
  for (const f of entity.fields) {
    if (f.type !== 'formula' || !f.formula) continue;
    if ([...deps].some((d) => new RegExp(`record\\.${d}\\b`).test(f.formula!))) {
      deps.add(f.key);
      out.push(f);
    }
  }
  return out;
}
