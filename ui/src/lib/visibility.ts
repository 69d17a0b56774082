// Live visibility of a form as it is filled, in the browser: the designer's preview evaluates
// the conditions the condition builder wrote (layout items' "visible" and the form's show/hide
// rules) over the preview's values, with the semantics of the server (runtime/forms): a field
// whose own or section's condition does not hold is hidden; a "hide" rule that holds hides it,
// a "show" rule that does not hold hides it. A condition the builder cannot read as rows
// (hand-written expressions) counts as holding in the preview: the field stays visible.

import type { FormItem } from '../api/types';
import { type CondGroup, type CondItem, type CondRow, type FileCond, complete, fromExpr, isGroup } from './condition';

export type Values = Record<string, unknown>;

function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (typeof v === 'string') return v.trim() === '';
  if (Array.isArray(v)) return v.length === 0;
  return false;
}

/** A value as the server compares it: dayjs and Date as ISO text, option objects as their value. */
function plain(v: unknown): unknown {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as { toISOString?: () => string; value?: unknown };
    if (typeof o.toISOString === 'function') return o.toISOString();
    if ('value' in o) return o.value;
  }
  return v;
}

function same(a: unknown, b: unknown): boolean {
  a = plain(a);
  b = plain(b);
  if (a === undefined || a === null || b === undefined || b === null) return (a ?? null) === (b ?? null);
  if (typeof a === 'number' || typeof b === 'number') return Number(a) === Number(b);
  return String(a) === String(b);
}

function time(v: unknown): number | null {
  v = plain(v);
  if (v === undefined || v === null || v === '') return null;
  const t = new Date(String(v)).getTime();
  return Number.isFinite(t) ? t : null;
}

const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined || v === null || v === '' ? [] : [v]);

function fileHolds(f: unknown, c: FileCond, values: Values, now: number): boolean {
  const o = (f ?? {}) as { name?: string; type?: string; uploaded_at?: string };
  if (c.name && !String(o.name ?? '').includes(c.name)) return false;
  if (c.type === 'pdf' && o.type !== 'application/pdf') return false;
  if (c.type === 'image' && !String(o.type ?? '').startsWith('image/')) return false;
  if (c.hours !== undefined && c.hours !== null && String(c.hours) !== '') {
    const at = time(o.uploaded_at);
    const ref = c.of ? time(values[c.of]) : now;
    if (at === null || ref === null || Math.abs(ref - at) / 3.6e6 > Number(c.hours)) return false;
  }
  return true;
}

/** Whether one row of the condition builder holds for the values. */
export function rowHolds(r: CondRow, values: Values, now = Date.now()): boolean {
  const v = plain(values[r.field]);
  switch (r.op) {
    case 'eq':
      return same(v, r.value);
    case 'ne':
      return !same(v, r.value);
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      if (v === undefined || v === null || v === '') return false;
      const a = Number(v);
      const b = Number(r.value);
      return r.op === 'gt' ? a > b : r.op === 'gte' ? a >= b : r.op === 'lt' ? a < b : a <= b;
    }
    case 'contains':
      return String(v ?? '').includes(String(r.value ?? ''));
    case 'not_contains':
      return !String(v ?? '').includes(String(r.value ?? ''));
    case 'in':
      return asList(r.value).some((x) => same(v, x));
    case 'not_in':
      return !asList(r.value).some((x) => same(v, x));
    case 'has':
      return asList(v).some((x) => same(x, r.value));
    case 'not_has':
      return !asList(v).some((x) => same(x, r.value));
    case 'has_any':
      return asList(v).some((x) => asList(r.value).some((y) => same(x, y)));
    case 'empty':
      return isEmpty(v);
    case 'not_empty':
      return !isEmpty(v);
    case 'is_true':
      return v === true;
    case 'is_false':
      return v !== true;
    case 'before':
    case 'after': {
      const a = time(v);
      const b = time(r.value);
      if (a === null || b === null) return false;
      return r.op === 'before' ? a < b : a > b;
    }
    case 'within_last': {
      const a = time(v);
      if (a === null || a > now) return false;
      const unit = r.value2 === 'hours' ? 3.6e6 : 8.64e7;
      return (now - a) / unit <= Number(r.value);
    }
    case 'within_hours_of': {
      const a = time(v);
      const b = r.value2 ? time(values[String(r.value2)]) : now;
      if (a === null || b === null) return false;
      return Math.abs(b - a) / 3.6e6 <= Number(r.value);
    }
    case 'file':
      return asList(v).some((f) => fileHolds(f, (r.value ?? {}) as FileCond, values, now));
    default:
      return false;
  }
}

function itemHolds(it: CondItem, values: Values, now: number): boolean {
  if (!isGroup(it)) return complete(it) ? rowHolds(it, values, now) : true;
  return groupHolds(it, values, now);
}

/** Whether a group of rows holds (an empty group holds). */
export function groupHolds(g: CondGroup, values: Values, now = Date.now()): boolean {
  const items = g.items.filter((x) => (isGroup(x) ? x.items.length > 0 : complete(x)));
  if (!items.length) return true;
  return g.mode === 'or' ? items.some((x) => itemHolds(x, values, now)) : items.every((x) => itemHolds(x, values, now));
}

/** Whether a visibility expression holds; null when it is not one the builder can read. */
export function conditionHolds(src: string | undefined, values: Values, now = Date.now()): boolean | null {
  if (!src || !src.trim()) return true;
  const g = fromExpr(src);
  return g ? groupHolds(g, values, now) : null;
}

/** The fields of the layout hidden for the values (by their own or their section's condition, or a show/hide rule). */
export function hiddenFields(layout: FormItem[], rules: { field: string; when: string; then: string }[] | undefined, values: Values, now = Date.now()): Set<string> {
  const hidden = new Set<string>();
  const holds = (src?: string) => conditionHolds(src, values, now) !== false;
  for (const it of layout) {
    if (it.field) {
      if (!holds(it.visible)) hidden.add(it.field);
      continue;
    }
    const secShown = holds(it.visible);
    for (const sub of it.items ?? []) {
      if (sub.field && (!secShown || !holds(sub.visible))) hidden.add(sub.field);
    }
  }
  for (const r of rules ?? []) {
    if (!r.field || !r.when) continue;
    const h = conditionHolds(r.when, values, now);
    if (h === null) continue;
    if ((r.then === 'hide' && h) || (r.then === 'show' && !h)) hidden.add(r.field);
  }
  return hidden;
}

/** The defaults of the layout's fields (the values a form starts with). */
export function layoutDefaults(layout: FormItem[]): Values {
  const out: Values = {};
  for (const it of layout) {
    for (const f of it.field ? [it] : it.items ?? []) if (f.field && f.default !== undefined) out[f.field] = f.default;
  }
  return out;
}
