// Pure helpers behind the flow builder's widgets: people references, expression values of the
// field-value mapper, durations and approval levels. Kept free of React so vitest covers them.

/** A `{{ expr }}` template that is exactly one expression. */
const WHOLE = /^\s*\{\{([\s\S]*)\}\}\s*$/;

/** True when v is a value the mapper shows as an expression (a string holding {{ }}). */
export function isExprValue(v: unknown): v is string {
  return typeof v === 'string' && v.includes('{{');
}

/** The expression inside a `{{ expr }}` value ('' for anything else). */
export function exprOf(v: unknown): string {
  if (typeof v !== 'string') return '';
  const m = WHOLE.exec(v);
  return m ? m[1].trim() : v;
}

/** Wraps an expression as the template value the engine evaluates with its type kept. */
export function wrapExpr(expr: string): string {
  return `{{ ${expr.trim()} }}`;
}

/** values with key set to v; undefined, null, '' and [] remove the key. */
export function setValue(values: Record<string, unknown> | undefined, key: string, v: unknown): Record<string, unknown> {
  const next = { ...(values ?? {}) };
  if (v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0)) delete next[key];
  else next[key] = v;
  return next;
}

/** Assignee references the engine understands (runtime/engine/people.go). */
export const STARTER = 'starter';
export const OWNER = '{{ trigger.record.owner_id }}';
export const OWNER_MANAGER = 'manager:{{ trigger.record.owner_id }}';

export type PersonRef =
  | { kind: 'user'; id: string }
  | { kind: 'role'; role: string }
  | { kind: 'email'; email: string }
  | { kind: 'starter' }
  | { kind: 'owner' }
  | { kind: 'owner-manager' }
  | { kind: 'expr'; text: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Reads one assignee reference. */
export function parsePerson(s: string): PersonRef {
  const t = s.trim();
  if (t === STARTER) return { kind: 'starter' };
  if (t.replace(/\s+/g, '') === OWNER.replace(/\s+/g, '')) return { kind: 'owner' };
  if (t.replace(/\s+/g, '') === OWNER_MANAGER.replace(/\s+/g, '')) return { kind: 'owner-manager' };
  if (UUID.test(t)) return { kind: 'user', id: t };
  if (t.startsWith('role:') && !t.includes('{{')) return { kind: 'role', role: t.slice(5).trim() };
  if (t.startsWith('email:') && !t.includes('{{')) return { kind: 'email', email: t.slice(6).trim() };
  return { kind: 'expr', text: t };
}

/** Writes one assignee reference. */
export function formatPerson(p: PersonRef): string {
  switch (p.kind) {
    case 'user':
      return p.id;
    case 'role':
      return `role:${p.role}`;
    case 'email':
      return `email:${p.email}`;
    case 'starter':
      return STARTER;
    case 'owner':
      return OWNER;
    case 'owner-manager':
      return OWNER_MANAGER;
    case 'expr':
      return p.text;
  }
}

/** A people param (one reference or a list) as a list of references. */
export function peopleList(v: unknown): string[] {
  if (Array.isArray(v)) return v.filter((x) => x !== null && x !== undefined && x !== '').map(String);
  if (typeof v === 'string' && v.trim()) return [v];
  return [];
}

/** The value a people param stores: one reference as a string (single), else a list. */
export function peopleValue(list: string[], multiple: boolean): string | string[] | undefined {
  const clean = list.map((s) => s.trim()).filter(Boolean);
  if (!multiple) return clean[0];
  if (clean.length === 0) return undefined;
  return clean.length === 1 ? clean[0] : clean;
}

/** A duration param ("90m", "2h", "3d", "1h30m") as a number and unit the picker shows. */
export function parseDuration(v: unknown): { n: number | null; unit: 'm' | 'h' | 'd' } {
  if (typeof v !== 'string' || !v.trim()) return { n: null, unit: 'h' };
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$/.exec(v);
  if (m) return m[2] === 's' ? { n: Math.max(1, Math.round(Number(m[1]) / 60)), unit: 'm' } : { n: Number(m[1]), unit: m[2] as 'm' | 'h' | 'd' };
  // compound Go durations: count minutes
  let mins = 0;
  for (const [, n, u] of v.matchAll(/(\d+(?:\.\d+)?)([dhms])/g)) mins += Number(n) * ({ d: 1440, h: 60, m: 1, s: 1 / 60 } as Record<string, number>)[u];
  if (mins % 1440 === 0 && mins) return { n: mins / 1440, unit: 'd' };
  if (mins % 60 === 0 && mins) return { n: mins / 60, unit: 'h' };
  return { n: mins ? Math.round(mins) : null, unit: 'm' };
}

export function formatDuration(n: number | null | undefined, unit: 'm' | 'h' | 'd'): string | undefined {
  if (n === null || n === undefined || !(n > 0)) return undefined;
  return `${n}${unit}`;
}

/** One approval level as the approval node takes it. */
export interface ApprovalLevel {
  name?: string;
  assignees?: unknown[];
  assignee?: unknown;
  mode?: 'any' | 'all';
}

/** Levels of an approval param, with a lone `assignee` folded into `assignees`. */
export function levelsOf(v: unknown): ApprovalLevel[] {
  if (!Array.isArray(v)) return [];
  return v.filter((x) => x && typeof x === 'object').map((x) => {
    const l = { ...(x as ApprovalLevel) };
    if (l.assignee !== undefined && !l.assignees) {
      l.assignees = peopleList(l.assignee);
      delete l.assignee;
    }
    return l;
  });
}

/** Moves item i of list by delta (-1 up, +1 down). */
export function move<T>(list: T[], i: number, delta: number): T[] {
  const j = i + delta;
  if (j < 0 || j >= list.length) return list;
  const next = [...list];
  [next[i], next[j]] = [next[j], next[i]];
  return next;
}

/** One branch of a switch node: a port name and a condition (or a value the switch value equals). */
export interface SwitchCase {
  port: string;
  when?: string;
  equals?: unknown;
}

/** The cases of a switch node's params (anything else is dropped from the rows, never rewritten). */
export function casesOf(v: unknown): SwitchCase[] {
  if (!Array.isArray(v)) return [];
  return v.filter((c) => c && typeof c === 'object').map((c) => {
    const o = c as Record<string, unknown>;
    const out: SwitchCase = { ...(o as object), port: typeof o.port === 'string' ? o.port : '' };
    return out;
  });
}

/** One rule of an assign node: a condition and the person (or team) it picks. */
export interface AssignRule {
  when: string;
  user?: string;
  team?: string;
}

export function rulesOf(v: unknown): AssignRule[] {
  if (!Array.isArray(v)) return [];
  return v.filter((c) => c && typeof c === 'object').map((c) => ({ ...(c as object), when: typeof (c as AssignRule).when === 'string' ? (c as AssignRule).when : '' }) as AssignRule);
}

/** Replaces item i of list with patch applied; undefined values drop their key. */
export function patchAt<T extends object>(list: T[], i: number, patch: Partial<T>): T[] {
  return list.map((x, j) => {
    if (j !== i) return x;
    const next = { ...x, ...patch } as Record<string, unknown>;
    for (const [k, val] of Object.entries(next)) if (val === undefined) delete next[k];
    return next as T;
  });
}

/** The list sources a foreach may go through: records found by an upstream record.find, lists in upstream outputs. */
export function listSources(upstream: { id: string; name: string; type: string; outputs: string[] }[]): { value: string; step: string; output?: string }[] {
  const out: { value: string; step: string; output?: string }[] = [];
  for (const n of upstream) {
    if (n.type === 'record.find') out.push({ value: `{{ steps.${n.id} }}`, step: n.name });
    for (const o of n.outputs) if (/^(items|rows|records|list|results|levels)$/.test(o)) out.push({ value: `{{ steps.${n.id}.${o} }}`, step: n.name, output: o });
  }
  return out;
}
