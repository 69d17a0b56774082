// The one condition/filter model of the UI: rows of field-operator-value in AND/OR groups,
// written as an expr-lang expression (flow conditions, stage gates, form visibility) or as the
// records API filter JSON (record lists, reports, dashboards).
//
// Expressions use the helper functions every server expression can call (runtime/exprfn):
// isEmpty, before, after, hoursBetween, daysBetween. The exact strings are evaluated by the Go
// test runtime/exprfn/conditions_test.go from ui/src/lib/testdata/conditions.json.

import type { FieldDef } from '../api/types';

export type CondMode = 'and' | 'or';

export interface CondRow {
  field: string;
  op: string;
  value?: unknown;
  value2?: unknown;
}

export interface CondGroup {
  mode: CondMode;
  items: CondItem[];
}

export type CondItem = CondRow | CondGroup;

/** Value of the attachment operator "file": every given part must hold for the same file. */
export interface FileCond {
  name?: string;
  type?: 'pdf' | 'image';
  hours?: number;
  /** field key the upload time is compared with ("" or absent = now) */
  of?: string;
}

export function isGroup(x: CondItem): x is CondGroup {
  return !!x && Array.isArray((x as CondGroup).items);
}

export function emptyGroup(mode: CondMode = 'and'): CondGroup {
  return { mode, items: [] };
}

/** How a field compares: the operator set and the value editor depend on it. */
export type CondKind = 'text' | 'number' | 'date' | 'boolean' | 'select' | 'multi' | 'attachment';

export function condKind(f: Pick<FieldDef, 'type' | 'multiple'> | undefined): CondKind {
  switch (f?.type) {
    case 'number':
    case 'money':
    case 'percent':
      return 'number';
    case 'date':
    case 'datetime':
      return 'date';
    case 'boolean':
      return 'boolean';
    case 'select':
      return 'select';
    case 'multiselect':
      return 'multi';
    case 'user':
    case 'team':
    case 'relation':
      return f.multiple ? 'multi' : 'select';
    case 'attachment':
      return 'attachment';
    default:
      return 'text';
  }
}

/** Operators of each kind for expressions ("expr") and for list filters ("filter"). */
const OPS: Record<CondKind, { expr: string[]; filter: string[] }> = {
  text: {
    expr: ['eq', 'ne', 'contains', 'not_contains', 'in', 'not_in', 'empty', 'not_empty'],
    filter: ['eq', 'ne', 'contains', 'not_contains', 'in', 'not_in', 'empty', 'not_empty'],
  },
  number: {
    expr: ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'empty', 'not_empty'],
    filter: ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'between', 'empty', 'not_empty'],
  },
  date: {
    expr: ['eq', 'before', 'after', 'within_last', 'within_hours_of', 'empty', 'not_empty'],
    filter: ['period', 'eq', 'before', 'after', 'between', 'empty', 'not_empty'],
  },
  boolean: { expr: ['is_true', 'is_false'], filter: ['is_true', 'is_false'] },
  select: {
    expr: ['eq', 'ne', 'in', 'not_in', 'empty', 'not_empty'],
    filter: ['eq', 'ne', 'in', 'not_in', 'empty', 'not_empty'],
  },
  multi: {
    expr: ['has', 'not_has', 'has_any', 'empty', 'not_empty'],
    filter: ['has', 'not_has', 'has_any', 'empty', 'not_empty'],
  },
  attachment: { expr: ['file', 'empty', 'not_empty'], filter: ['file', 'empty', 'not_empty'] },
};

export function opsFor(kind: CondKind, target: 'expr' | 'filter'): string[] {
  return OPS[kind][target];
}

/** Every operator name (for i18n completeness checks). */
export const ALL_OPS = Array.from(new Set(Object.values(OPS).flatMap((o) => [...o.expr, ...o.filter])));

/** What the value editor of an operator takes. */
export function opArity(op: string): 'none' | 'one' | 'list' | 'two' | 'hours_of' | 'last' | 'file' | 'period' {
  switch (op) {
    case 'empty':
    case 'not_empty':
    case 'is_true':
    case 'is_false':
      return 'none';
    case 'in':
    case 'not_in':
    case 'has_any':
      return 'list';
    case 'between':
      return 'two';
    case 'within_hours_of':
      return 'hours_of';
    case 'within_last':
      return 'last';
    case 'file':
      return 'file';
    case 'period':
      return 'period';
    default:
      return 'one';
  }
}

/** Relative periods the server's filter operator "period" understands (runtime/filter). */
export const PERIODS = ['today', 'yesterday', 'this_week', 'last_week', 'this_month', 'last_month', 'this_quarter', 'last_quarter', 'this_year', 'last_year', 'last_7_days', 'last_30_days', 'last_90_days', 'next_7_days', 'next_30_days'];

// ---------------------------------------------------------------- rows -> expression

/** A row with a field, an operator and the values its operator needs. */
export function complete(r: CondRow): boolean {
  if (!r.field || !r.op) return false;
  const a = opArity(r.op);
  if (a === 'none' || a === 'file') return true;
  if (a === 'list') return Array.isArray(r.value) ? r.value.length > 0 : r.value != null && r.value !== '';
  if (a === 'two') return r.value != null && r.value !== '' && r.value2 != null && r.value2 !== '';
  return r.value !== undefined && r.value !== '';
}


const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The expression reading field (a key under root, or a dotted path such as steps.find.count). */
export function fieldRef(field: string, root: string): string {
  if (field.includes('.')) return field;
  return IDENT.test(field) ? `${root}.${field}` : `${root}[${JSON.stringify(field)}]`;
}

function lit(v: unknown): string {
  if (v === undefined || v === null) return 'nil';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '0';
  if (typeof v === 'boolean') return String(v);
  return JSON.stringify(String(v));
}

function list(v: unknown): string {
  const arr = Array.isArray(v) ? v : v === undefined || v === null || v === '' ? [] : [v];
  return `[${arr.map(lit).join(', ')}]`;
}

function num(v: unknown): string {
  const n = Number(v);
  return Number.isFinite(n) ? String(n) : '0';
}

const CMP: Record<string, string> = { eq: '==', ne: '!=', gt: '>', gte: '>=', lt: '<', lte: '<=' };

function rowExpr(r: CondRow, root: string): string {
  const f = fieldRef(r.field, root);
  switch (r.op) {
    case 'eq':
    case 'ne':
      return `${f} ${CMP[r.op]} ${lit(r.value)}`;
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      // a missing value compares as false instead of failing the expression
      return `(${f} != nil && ${f} ${CMP[r.op]} ${lit(r.value)})`;
    case 'contains':
      return `(${f} ?? "") contains ${lit(String(r.value ?? ''))}`;
    case 'not_contains':
      return `!((${f} ?? "") contains ${lit(String(r.value ?? ''))})`;
    case 'in':
      return `${f} in ${list(r.value)}`;
    case 'not_in':
      return `${f} not in ${list(r.value)}`;
    case 'has':
      return `${lit(r.value)} in (${f} ?? [])`;
    case 'not_has':
      return `${lit(r.value)} not in (${f} ?? [])`;
    case 'has_any':
      return `any(${f} ?? [], {# in ${list(r.value)}})`;
    case 'empty':
      return `isEmpty(${f})`;
    case 'not_empty':
      return `!isEmpty(${f})`;
    case 'is_true':
      return `${f} == true`;
    case 'is_false':
      return `${f} != true`;
    case 'before':
      return `before(${f}, ${lit(r.value)})`;
    case 'after':
      return `after(${f}, ${lit(r.value)})`;
    case 'within_last': {
      const fn = r.value2 === 'hours' ? 'hoursBetween' : 'daysBetween';
      return `(${fn}(${f}, now) <= ${num(r.value)} && !after(${f}, now))`;
    }
    case 'within_hours_of':
      return `hoursBetween(${f}, ${r.value2 ? fieldRef(String(r.value2), root) : 'now'}) <= ${num(r.value)}`;
    case 'file': {
      const v = (r.value ?? {}) as FileCond;
      const parts: string[] = [];
      if (v.name) parts.push(`(.name ?? "") contains ${lit(v.name)}`);
      if (v.type === 'pdf') parts.push(`.type == "application/pdf"`);
      if (v.type === 'image') parts.push(`(.type ?? "") startsWith "image/"`);
      if (v.hours !== undefined && v.hours !== null && String(v.hours) !== '') {
        parts.push(`hoursBetween(.uploaded_at, ${v.of ? fieldRef(v.of, root) : 'now'}) <= ${num(v.hours)}`);
      }
      return `any(${f} ?? [], {${parts.length ? parts.join(' && ') : 'true'}})`;
    }
    default:
      throw new Error(`unknown operator ${r.op}`);
  }
}

function itemExpr(it: CondItem, root: string, nested: boolean): string {
  if (!isGroup(it)) return rowExpr(it, root);
  const parts = it.items.filter((x) => (isGroup(x) ? x.items.length > 0 : complete(x))).map((x) => itemExpr(x, root, true)).filter(Boolean);
  if (!parts.length) return '';
  const s = parts.join(it.mode === 'or' ? ' || ' : ' && ');
  return nested && parts.length > 1 ? `(${s})` : s;
}

/** Writes the group as an expr-lang expression over root ("record", "trigger.record"); "" when empty. */
export function toExpr(group: CondGroup, root = 'record'): string {
  return itemExpr(group, root, false);
}

// ---------------------------------------------------------------- expression -> rows

type Node =
  | { t: 'lit'; v: unknown }
  | { t: 'path'; parts: string[] }
  | { t: 'call'; fn: string; args: Node[] }
  | { t: 'bin'; op: string; l: Node; r: Node }
  | { t: 'not'; x: Node }
  | { t: 'neg'; x: Node }
  | { t: 'paren'; x: Node }
  | { t: 'array'; items: Node[] }
  | { t: 'closure'; body: Node };

interface Tok {
  k: 'id' | 'num' | 'str' | 'op' | 'eof';
  v: string;
  s?: string;
}

const OPERATORS = ['==', '!=', '<=', '>=', '&&', '||', '??', '<', '>', '!', '(', ')', '[', ']', '{', '}', ',', '.', '#', '-', '+', '*', '/', '%'];

function unquote(q: string): string {
  const quote = q[0];
  const body = q.slice(1, -1);
  if (quote === '`') return body;
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = body[++i];
    switch (n) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'u': out += String.fromCharCode(parseInt(body.slice(i + 1, i + 5), 16)); i += 4; break;
      case 'x': out += String.fromCharCode(parseInt(body.slice(i + 1, i + 3), 16)); i += 2; break;
      default: out += n;
    }
  }
  return out;
}

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') {
      let j = i + 1;
      while (j < src.length && src[j] !== c) j += src[j] === '\\' && c !== '`' ? 2 : 1;
      if (j >= src.length) throw new Error('unterminated string');
      out.push({ k: 'str', v: unquote(src.slice(i, j + 1)) });
      i = j + 1;
      continue;
    }
    const m = /^(\d+(\.\d+)?([eE][+-]?\d+)?)/.exec(src.slice(i));
    if (m) {
      out.push({ k: 'num', v: m[1] });
      i += m[1].length;
      continue;
    }
    const id = /^[A-Za-z_$][A-Za-z0-9_$]*/.exec(src.slice(i));
    if (id) {
      out.push({ k: 'id', v: id[0] });
      i += id[0].length;
      continue;
    }
    const op = OPERATORS.find((o) => src.startsWith(o, i));
    if (!op) throw new Error(`unexpected ${c}`);
    out.push({ k: 'op', v: op });
    i += op.length;
  }
  out.push({ k: 'eof', v: '' });
  return out;
}

// Binary operator precedence as in expr-lang.
const PREC: Record<string, number> = {
  '||': 10, or: 10, '&&': 15, and: 15,
  '==': 20, '!=': 20, '<': 20, '>': 20, '<=': 20, '>=': 20, in: 20, 'not in': 20, contains: 20, startsWith: 20, endsWith: 20, matches: 20,
  '+': 30, '-': 30, '*': 60, '/': 60, '%': 60, '??': 500,
};

class Parser {
  private i = 0;
  constructor(private toks: Tok[]) {}
  private peek(o = 0): Tok { return this.toks[Math.min(this.i + o, this.toks.length - 1)]; }
  private next(): Tok { return this.toks[this.i++]; }
  private expect(v: string) {
    const t = this.next();
    if (t.v !== v || (t.k !== 'op' && t.k !== 'id')) throw new Error(`expected ${v}`);
  }
  parseAll(): Node {
    const n = this.expr(0);
    if (this.peek().k !== 'eof') throw new Error('trailing input');
    return n;
  }
  private binOp(): string | null {
    const t = this.peek();
    if (t.k === 'op' && PREC[t.v] !== undefined) return t.v;
    if (t.k === 'id') {
      if (t.v === 'not' && this.peek(1).k === 'id' && this.peek(1).v === 'in') return 'not in';
      if (PREC[t.v] !== undefined) return t.v;
    }
    return null;
  }
  expr(min: number): Node {
    let left = this.unary();
    for (;;) {
      const op = this.binOp();
      if (!op || PREC[op] < min) break;
      this.next();
      if (op === 'not in') this.next();
      const right = this.expr(PREC[op] + 1);
      const norm = op === 'or' ? '||' : op === 'and' ? '&&' : op;
      left = { t: 'bin', op: norm, l: left, r: right };
    }
    return left;
  }
  private unary(): Node {
    const t = this.peek();
    if ((t.k === 'op' && t.v === '!') || (t.k === 'id' && t.v === 'not')) {
      this.next();
      return { t: 'not', x: this.expr(50) };
    }
    if (t.k === 'op' && t.v === '-') {
      this.next();
      const x = this.expr(90);
      if (x.t === 'lit' && typeof x.v === 'number') return { t: 'lit', v: -x.v };
      return { t: 'neg', x };
    }
    return this.postfix(this.primary());
  }
  private postfix(n: Node): Node {
    for (;;) {
      const t = this.peek();
      if (t.k === 'op' && t.v === '.' && n.t === 'path') {
        this.next();
        const id = this.next();
        if (id.k !== 'id') throw new Error('expected a name');
        n = { t: 'path', parts: [...n.parts, id.v] };
      } else if (t.k === 'op' && t.v === '[' && n.t === 'path') {
        this.next();
        const k = this.next();
        if (k.k !== 'str') throw new Error('unsupported index');
        this.expect(']');
        n = { t: 'path', parts: [...n.parts, k.v] };
      } else return n;
    }
  }
  private primary(): Node {
    const t = this.next();
    switch (t.k) {
      case 'num':
        return { t: 'lit', v: Number(t.v) };
      case 'str':
        return { t: 'lit', v: t.v };
      case 'id': {
        if (t.v === 'true' || t.v === 'false') return { t: 'lit', v: t.v === 'true' };
        if (t.v === 'nil') return { t: 'lit', v: null };
        if (this.peek().k === 'op' && this.peek().v === '(') {
          this.next();
          const args: Node[] = [];
          while (!(this.peek().k === 'op' && this.peek().v === ')')) {
            args.push(this.peek().v === '{' && this.peek().k === 'op' ? this.closure() : this.expr(0));
            if (this.peek().k === 'op' && this.peek().v === ',') this.next();
            else break;
          }
          this.expect(')');
          return { t: 'call', fn: t.v, args };
        }
        return { t: 'path', parts: [t.v] };
      }
      case 'op':
        if (t.v === '(') {
          const x = this.expr(0);
          this.expect(')');
          return { t: 'paren', x };
        }
        if (t.v === '[') {
          const items: Node[] = [];
          while (!(this.peek().k === 'op' && this.peek().v === ']')) {
            items.push(this.expr(0));
            if (this.peek().k === 'op' && this.peek().v === ',') this.next();
            else break;
          }
          this.expect(']');
          return { t: 'array', items };
        }
        if (t.v === '#') return { t: 'path', parts: ['#'] };
        if (t.v === '.') {
          const id = this.next();
          if (id.k !== 'id') throw new Error('expected a name');
          return { t: 'path', parts: ['', id.v] };
        }
        if (t.v === '{') {
          this.i--;
          return this.closure();
        }
    }
    throw new Error(`unexpected ${t.v}`);
  }
  private closure(): Node {
    this.expect('{');
    const body = this.expr(0);
    this.expect('}');
    return { t: 'closure', body };
  }
}

function unparen(n: Node): Node {
  while (n.t === 'paren') n = n.x;
  return n;
}

function same(a: Node, b: Node): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

class Unshowable extends Error {}

function fail(): never {
  throw new Unshowable('not a row');
}

/** The row field of a path under root (a key), or a dotted path outside it. */
function fieldOf(n: Node, rootParts: string[]): string {
  n = unparen(n);
  if (n.t !== 'path') fail();
  const p = n.parts;
  if (p.length === rootParts.length + 1 && rootParts.every((x, i) => p[i] === x)) return p[p.length - 1];
  if (p.length >= 2 && p[0] !== '' && p[0] !== '#' && p.every((x) => IDENT.test(x)) && !rootParts.every((x, i) => p[i] === x)) return p.join('.');
  return fail();
}

function litOf(n: Node): unknown {
  n = unparen(n);
  if (n.t !== 'lit') fail();
  return n.v;
}

function listOf(n: Node): unknown[] {
  n = unparen(n);
  if (n.t !== 'array') fail();
  return n.items.map(litOf);
}

/** a ?? <dflt>: the path inside, else the node itself */
function coalesced(n: Node, dflt: string | 'array'): Node {
  n = unparen(n);
  if (n.t === 'bin' && n.op === '??') {
    const d = unparen(n.r);
    if (dflt === 'array' ? d.t === 'array' && d.items.length === 0 : d.t === 'lit' && d.v === dflt) return n.l;
    fail();
  }
  return n;
}

function isNow(n: Node): boolean {
  n = unparen(n);
  return n.t === 'path' && n.parts.length === 1 && n.parts[0] === 'now';
}

function fileParts(body: Node, rootParts: string[]): FileCond {
  const out: FileCond = {};
  const conds: Node[] = [];
  const flat = (n: Node) => {
    n = unparen(n);
    if (n.t === 'bin' && n.op === '&&') {
      flat(n.l);
      flat(n.r);
    } else conds.push(n);
  };
  flat(body);
  const member = (n: Node, name: string) => {
    n = unparen(n);
    return n.t === 'path' && n.parts.length === 2 && n.parts[0] === '' && n.parts[1] === name;
  };
  for (const c of conds) {
    if (c.t === 'lit' && c.v === true && conds.length === 1) continue;
    if (c.t === 'bin' && c.op === 'contains' && member(coalesced(c.l, ''), 'name') && out.name === undefined) {
      out.name = String(litOf(c.r));
    } else if (c.t === 'bin' && c.op === '==' && member(c.l, 'type') && litOf(c.r) === 'application/pdf' && !out.type) {
      out.type = 'pdf';
    } else if (c.t === 'bin' && c.op === 'startsWith' && member(coalesced(c.l, ''), 'type') && litOf(c.r) === 'image/' && !out.type) {
      out.type = 'image';
    } else if (c.t === 'bin' && c.op === '<=' && unparen(c.l).t === 'call' && out.hours === undefined) {
      const call = unparen(c.l) as Extract<Node, { t: 'call' }>;
      if (call.fn !== 'hoursBetween' || call.args.length !== 2 || !member(call.args[0], 'uploaded_at')) fail();
      const h = litOf(c.r);
      if (typeof h !== 'number') fail();
      out.hours = h;
      if (!isNow(call.args[1])) out.of = fieldOf(call.args[1], rootParts);
    } else fail();
  }
  return out;
}

const CMP_OPS: Record<string, string> = { '==': 'eq', '!=': 'ne', '>': 'gt', '>=': 'gte', '<': 'lt', '<=': 'lte' };

function rowOf(n: Node, rootParts: string[]): CondRow {
  n = unparen(n);
  if (n.t === 'bin') {
    const op = n.op;
    // (x != nil && x > 5): the guarded comparison
    if (op === '&&') {
      const l = unparen(n.l);
      const r = unparen(n.r);
      if (l.t === 'bin' && l.op === '!=' && unparen(l.r).t === 'lit' && litOf(l.r) === null && r.t === 'bin' && ['>', '>=', '<', '<='].includes(r.op) && same(unparen(l.l), unparen(r.l))) {
        return { field: fieldOf(r.l, rootParts), op: CMP_OPS[r.op], value: litOf(r.r) };
      }
      // (daysBetween(x, now) <= 7 && !after(x, now)): within the last N days/hours
      if (l.t === 'bin' && l.op === '<=' && unparen(l.l).t === 'call' && r.t === 'not') {
        const call = unparen(l.l) as Extract<Node, { t: 'call' }>;
        const aft = unparen(r.x);
        if ((call.fn === 'daysBetween' || call.fn === 'hoursBetween') && call.args.length === 2 && isNow(call.args[1]) &&
          aft.t === 'call' && aft.fn === 'after' && aft.args.length === 2 && same(unparen(aft.args[0]), unparen(call.args[0])) && isNow(aft.args[1])) {
          const v = litOf(l.r);
          if (typeof v !== 'number') fail();
          return { field: fieldOf(call.args[0], rootParts), op: 'within_last', value: v, value2: call.fn === 'hoursBetween' ? 'hours' : 'days' };
        }
      }
      fail();
    }
    if (op === '<=' && unparen(n.l).t === 'call') {
      const call = unparen(n.l) as Extract<Node, { t: 'call' }>;
      if (call.fn === 'hoursBetween' && call.args.length === 2) {
        const v = litOf(n.r);
        if (typeof v !== 'number') fail();
        return { field: fieldOf(call.args[0], rootParts), op: 'within_hours_of', value: v, value2: isNow(call.args[1]) ? '' : fieldOf(call.args[1], rootParts) };
      }
      fail();
    }
    if (CMP_OPS[op]) {
      const v = litOf(n.r);
      if (op === '==' && v === true) return { field: fieldOf(n.l, rootParts), op: 'is_true' };
      if (op === '!=' && v === true) return { field: fieldOf(n.l, rootParts), op: 'is_false' };
      return { field: fieldOf(n.l, rootParts), op: CMP_OPS[op], value: v };
    }
    if (op === 'contains') return { field: fieldOf(coalesced(n.l, ''), rootParts), op: 'contains', value: litOf(n.r) };
    if (op === 'in' || op === 'not in') {
      const rr = unparen(n.r);
      if (rr.t === 'array') return { field: fieldOf(n.l, rootParts), op: op === 'in' ? 'in' : 'not_in', value: listOf(rr) };
      return { field: fieldOf(coalesced(n.r, 'array'), rootParts), op: op === 'in' ? 'has' : 'not_has', value: litOf(n.l) };
    }
    fail();
  }
  if (n.t === 'not') {
    const x = unparen(n.x);
    if (x.t === 'call' && x.fn === 'isEmpty' && x.args.length === 1) return { field: fieldOf(x.args[0], rootParts), op: 'not_empty' };
    if (x.t === 'bin' && x.op === 'contains') return { field: fieldOf(coalesced(x.l, ''), rootParts), op: 'not_contains', value: litOf(x.r) };
    fail();
  }
  if (n.t === 'call') {
    if (n.fn === 'isEmpty' && n.args.length === 1) return { field: fieldOf(n.args[0], rootParts), op: 'empty' };
    if ((n.fn === 'before' || n.fn === 'after') && n.args.length === 2) return { field: fieldOf(n.args[0], rootParts), op: n.fn, value: litOf(n.args[1]) };
    if (n.fn === 'any' && n.args.length === 2) {
      const pred = unparen(n.args[1]);
      const body = pred.t === 'closure' ? pred.body : pred;
      const b = unparen(body);
      const arr = fieldOf(coalesced(n.args[0], 'array'), rootParts);
      if (b.t === 'bin' && b.op === 'in' && unparen(b.l).t === 'path' && (unparen(b.l) as { parts: string[] }).parts[0] === '#') {
        return { field: arr, op: 'has_any', value: listOf(b.r) };
      }
      return { field: arr, op: 'file', value: fileParts(body, rootParts) };
    }
  }
  return fail();
}

function groupOf(n: Node, rootParts: string[]): CondGroup {
  n = unparen(n);
  const mode: CondMode = n.t === 'bin' && n.op === '||' ? 'or' : 'and';
  const opSym = mode === 'or' ? '||' : '&&';
  const items: Node[] = [];
  const flat = (x: Node) => {
    if (x.t === 'bin' && x.op === opSym) {
      flat(x.l);
      flat(x.r);
    } else items.push(x);
  };
  flat(n);
  return { mode, items: items.map((x) => itemOf(x, rootParts)) };
}

function itemOf(n: Node, rootParts: string[]): CondItem {
  try {
    return rowOf(n, rootParts);
  } catch (e) {
    if (!(e instanceof Unshowable)) throw e;
  }
  const u = unparen(n);
  if (u.t === 'bin' && (u.op === '&&' || u.op === '||')) return groupOf(u, rootParts);
  return fail();
}

/** Reads an expression as rows, or null when it cannot be shown as rows (open it as text). */
export function fromExpr(src: string | undefined | null, root = 'record'): CondGroup | null {
  const s = (src ?? '').trim();
  if (!s) return emptyGroup();
  const rootParts = root.split('.');
  try {
    const node = new Parser(tokenize(s)).parseAll();
    try {
      return { mode: 'and', items: [rowOf(node, rootParts)] };
    } catch (e) {
      if (!(e instanceof Unshowable)) throw e;
    }
    return groupOf(node, rootParts);
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------- rows <-> filter JSON

export type FilterJSON = Record<string, unknown>;

const FILTER_OP: Record<string, string> = { eq: 'eq', ne: 'ne', gt: 'gt', gte: 'gte', lt: 'lt', lte: 'lte', in: 'in', contains: 'contains', before: 'lt', after: 'gt', between: 'between', period: 'period', has: 'contains', has_any: 'in' };

/** One row as {field: {op: value}}. */
function rowFilter(r: CondRow): FilterJSON {
  const w = (op: string, v: unknown) => ({ [r.field]: { [op]: v } });
  switch (r.op) {
    case 'empty':
      return w('is_empty', true);
    case 'not_empty':
      return w('is_empty', false);
    case 'is_true':
      return w('eq', true);
    case 'is_false':
      return w('ne', true);
    case 'not_contains':
    case 'not_has':
      return { not: w('contains', r.value ?? '') };
    case 'not_in':
      return { not: w('in', Array.isArray(r.value) ? r.value : []) };
    case 'in':
    case 'has_any':
      return w('in', Array.isArray(r.value) ? r.value : r.value == null || r.value === '' ? [] : [r.value]);
    case 'between':
      return w('between', [r.value ?? null, r.value2 ?? null]);
    case 'file':
      return w('contains', ((r.value ?? {}) as FileCond).name ?? '');
    default: {
      const op = FILTER_OP[r.op];
      if (!op) throw new Error(`operator ${r.op} has no filter form`);
      return w(op, r.value ?? null);
    }
  }
}

/** Writes the group as the records API filter JSON (null when it has no complete row). */
export function toFilter(group: CondGroup): FilterJSON | null {
  const parts: FilterJSON[] = [];
  for (const it of group.items) {
    if (isGroup(it)) {
      const sub = toFilter(it);
      if (sub) parts.push(sub);
    } else if (complete(it)) parts.push(rowFilter(it));
  }
  if (!parts.length) return null;
  if (parts.length === 1) {
    // a nested group of one mode inside the other keeps its own wrapper
    return parts[0];
  }
  if (group.mode === 'or') return { or: parts };
  // AND: merge into one object when every part is a distinct plain field condition
  const merged: Record<string, FilterJSON> = {};
  for (const p of parts) {
    const keys = Object.keys(p);
    if (keys.length !== 1 || ['and', 'or', 'not'].includes(keys[0])) return { and: parts };
    const ops = p[keys[0]] as FilterJSON;
    const prev = merged[keys[0]];
    if (prev && Object.keys(ops).some((o) => o in prev)) return { and: parts };
    merged[keys[0]] = { ...(prev ?? {}), ...ops };
  }
  return merged;
}

const KIND_BY_OP_FROM_FILTER = (kind: CondKind, op: string, v: unknown): CondRow['op'] | null => {
  switch (op) {
    case 'eq':
      if (kind === 'boolean' || v === true) return v === true ? 'is_true' : 'eq';
      return 'eq';
    case 'ne':
      return v === true ? 'is_false' : 'ne';
    case 'lt':
      return kind === 'date' ? 'before' : 'lt';
    case 'gt':
      return kind === 'date' ? 'after' : 'gt';
    case 'gte':
    case 'lte':
    case 'between':
    case 'period':
      return op;
    case 'in':
      return kind === 'multi' ? 'has_any' : 'in';
    case 'contains':
      return kind === 'multi' ? 'has' : kind === 'attachment' ? 'file' : 'contains';
    case 'is_empty':
      return v === false ? 'not_empty' : 'empty';
    default:
      return null;
  }
};

function filterItems(obj: unknown, fields: FieldDef[]): CondItem[] {
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) fail();
  const out: CondItem[] = [];
  for (const [k, v] of Object.entries(obj as FilterJSON)) {
    if (k === 'and' || k === 'or') {
      if (!Array.isArray(v)) fail();
      const items = v.map((x) => {
        const sub = filterItems(x, fields);
        return sub.length === 1 ? sub[0] : ({ mode: 'and', items: sub } as CondGroup);
      });
      if (k === 'and') out.push(...items);
      else out.push({ mode: 'or', items });
      continue;
    }
    if (k === 'not') {
      const inner = filterItems(v, fields);
      if (inner.length !== 1 || isGroup(inner[0])) fail();
      const r = inner[0] as CondRow;
      const neg: Record<string, string> = { contains: 'not_contains', has: 'not_has', in: 'not_in' };
      if (!neg[r.op]) fail();
      out.push({ field: r.field, op: neg[r.op], value: r.value });
      continue;
    }
    const f = fields.find((x) => x.key === k);
    const kind: CondKind = f ? condKind(f) : k === 'created_at' || k === 'updated_at' ? 'date' : 'text';
    const ops = v && typeof v === 'object' && !Array.isArray(v) ? (v as FilterJSON) : { eq: v };
    for (const [op, val] of Object.entries(ops)) {
      const rowOp = KIND_BY_OP_FROM_FILTER(kind, op, val);
      if (!rowOp) fail();
      if (rowOp === 'between') {
        if (!Array.isArray(val) || val.length !== 2) fail();
        out.push({ field: k, op: rowOp, value: val[0], value2: val[1] });
      } else if (rowOp === 'file') out.push({ field: k, op: rowOp, value: { name: String(val) } });
      else if (['is_true', 'is_false', 'empty', 'not_empty'].includes(rowOp)) out.push({ field: k, op: rowOp });
      else out.push({ field: k, op: rowOp, value: val });
    }
  }
  return out;
}

/** Reads filter JSON as rows (fields give the kinds), or null when it cannot be shown as rows. */
export function fromFilter(json: unknown, fields: FieldDef[] = []): CondGroup | null {
  if (json === null || json === undefined || json === '') return emptyGroup();
  let v = json;
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch {
      return null;
    }
  }
  try {
    const keys = Object.keys(v as object);
    if (keys.length === 1 && keys[0] === 'or' && Array.isArray((v as FilterJSON).or)) {
      const items = ((v as FilterJSON).or as unknown[]).map((x) => {
        const sub = filterItems(x, fields);
        return sub.length === 1 ? sub[0] : ({ mode: 'and', items: sub } as CondGroup);
      });
      return { mode: 'or', items };
    }
    return { mode: 'and', items: filterItems(v, fields) };
  } catch {
    return null;
  }
}

/** Fields referenced anywhere in the group (for "applies to every widget that has the field"). */
export function groupFields(g: CondGroup): string[] {
  const out = new Set<string>();
  const walk = (x: CondItem) => (isGroup(x) ? x.items.forEach(walk) : out.add(x.field));
  walk(g);
  return [...out];
}
