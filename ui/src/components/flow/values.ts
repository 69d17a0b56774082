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
