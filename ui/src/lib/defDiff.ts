// A readable difference between two versions of a definition: items of lists (fields, layout
// items, nodes, edges, widgets, measures, ...) matched by their identity, and settings compared
// by value.
import type { Label } from '../api/types';
import { labelText } from './labels';

export interface DiffChange {
  op: 'added' | 'removed' | 'changed';
  /** where: "fields", "layout", "nodes", "edges", "stages", "filters", ... */
  area: string;
  /** the item's identity within its list ("" for a setting) */
  id: string;
  /** the item's label in the given language (or its id) */
  label: string;
  /** the properties of a changed item that differ */
  props?: string[];
  from?: unknown;
  to?: unknown;
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The identity of a list item, or undefined when the list has no identities. */
function identity(x: unknown, index: number): string | undefined {
  if (!isObj(x)) return undefined;
  if (typeof x.from === 'string' && typeof x.to === 'string' && !('key' in x)) return `${x.from} → ${x.to}${x.port ? ` (${x.port})` : ''}`;
  if (typeof x.agg === 'string') return `${x.agg}${x.field ? `(${x.field})` : ''}`;
  for (const k of ['key', 'id', 'field', 'report', 'slug', 'name']) if (typeof x[k] === 'string' && x[k]) return x[k] as string;
  if (isObj(x.section) || typeof x.section === 'string' || typeof x.title !== 'undefined') return `#${index + 1}`;
  return undefined;
}

function itemLabel(x: unknown, id: string, lang: string): string {
  if (!isObj(x)) return id;
  const l = (x.label ?? x.title ?? (isObj(x.section) ? ((x.section as Obj).title ?? x.section) : x.section)) as Label | undefined;
  const text = labelText(l ?? null, lang, '');
  return text ? (text === id ? id : `${text} (${id})`) : id;
}

function listDiff(area: string, a: unknown[], b: unknown[], lang: string, out: DiffChange[]) {
  const ids = (list: unknown[]) => list.map((x, i) => identity(x, i));
  const ia = ids(a);
  const ib = ids(b);
  if (ia.some((x) => x === undefined) || ib.some((x) => x === undefined) || new Set(ia).size !== ia.length || new Set(ib).size !== ib.length) {
    if (!same(a, b)) out.push({ op: 'changed', area, id: '', label: area, from: a, to: b });
    return;
  }
  const ma = new Map(a.map((x, i) => [ia[i]!, x]));
  const mb = new Map(b.map((x, i) => [ib[i]!, x]));
  for (const [id, x] of ma) if (!mb.has(id)) out.push({ op: 'removed', area, id, label: itemLabel(x, id, lang), from: x });
  for (const [id, y] of mb) {
    const x = ma.get(id);
    if (x === undefined) out.push({ op: 'added', area, id, label: itemLabel(y, id, lang), to: y });
    else if (!same(x, y)) {
      const keys = new Set([...Object.keys(x as Obj), ...Object.keys(y as Obj)]);
      const props = [...keys].filter((k) => !same((x as Obj)[k], (y as Obj)[k]));
      out.push({ op: 'changed', area, id, label: itemLabel(y, id, lang), props, from: x, to: y });
    }
  }
  // same items, new order
  const common = ia.filter((id) => mb.has(id!));
  const commonB = ib.filter((id) => ma.has(id!));
  if (!out.some((c) => c.area === area) && !same(common, commonB)) out.push({ op: 'changed', area, id: '', label: area, props: ['order'] });
}

/** The changes from version a to version b (either may be null for "nothing"). */
export function diffDefs(a: unknown, b: unknown, lang = 'en', area = ''): DiffChange[] {
  const out: DiffChange[] = [];
  const oa = isObj(a) ? a : {};
  const ob = isObj(b) ? b : {};
  const keys = [...new Set([...Object.keys(oa), ...Object.keys(ob)])];
  for (const k of keys) {
    const x = oa[k];
    const y = ob[k];
    if (same(x, y)) continue;
    const where = area ? `${area}.${k}` : k;
    if (Array.isArray(x) || Array.isArray(y)) listDiff(where, Array.isArray(x) ? x : [], Array.isArray(y) ? y : [], lang, out);
    else if (isObj(x) && isObj(y) && !('en' in x || 'zh-CN' in x)) out.push(...diffDefs(x, y, lang, where));
    else out.push({ op: x === undefined ? 'added' : y === undefined ? 'removed' : 'changed', area: where, id: '', label: where, from: x, to: y });
  }
  return out;
}

/** A short display of a value in a diff ("∅" for nothing). */
export function showValue(v: unknown, lang = 'en'): string {
  if (v === undefined || v === null || v === '') return '∅';
  if (isObj(v) && ('en' in v || 'zh-CN' in v)) return labelText(v as Label, lang, '');
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}…` : s;
}
