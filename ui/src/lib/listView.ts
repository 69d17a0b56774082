// The record list's view state: shown columns in order, filter, sort and grouping, as saved
// server-side in views (GET/POST/PUT/DELETE /api/v1/apps/{app}/entities/{entity}/views).
// Pure functions, so the column chooser, the view bar and the export agree.
import type { EntityDef, FieldDef } from '../api/types';
import type { FilterJSON } from './condition';

export interface ViewConfig {
  columns: string[];
  filter?: FilterJSON | null;
  sort?: string;
  group?: string;
}

export interface SavedView {
  id: string;
  name: string;
  shared: boolean;
  mine: boolean;
  config: ViewConfig;
}

/** Record columns that are not entity fields. */
export const SYSTEM_COLUMNS = ['owner_id', 'team_id', 'created_at', 'updated_at'] as const;

/** Field types a list can be grouped by (single-valued ones). */
export const GROUPABLE = ['select', 'user', 'team', 'relation', 'boolean'];

/** Field types edited in the table cell. */
export const INLINE_EDITABLE = ['text', 'number', 'money', 'percent', 'email', 'phone', 'url', 'date', 'datetime', 'select', 'multiselect', 'boolean', 'user', 'relation'];

/** Every column the list can show, in the entity's order, then the system columns. */
export function allColumns(entity: EntityDef): string[] {
  return [...entity.fields.map((f) => f.key), ...SYSTEM_COLUMNS];
}

/** The columns of a list without a saved view: the first 8 short fields, the owner and the update time. */
export function defaultColumns(entity: EntityDef): string[] {
  const shown = entity.fields.filter((f) => !['textarea', 'lines'].includes(f.type)).slice(0, 8).map((f) => f.key);
  return [...shown, 'owner_id', 'updated_at'];
}

export function defaultConfig(entity: EntityDef): ViewConfig {
  return { columns: defaultColumns(entity), filter: null, sort: '-created_at', group: '' };
}

/** Drops columns the entity no longer has (or the caller may not see) and repeats. */
export function cleanColumns(columns: string[], entity: EntityDef): string[] {
  const known = new Set(allColumns(entity));
  const seen = new Set<string>();
  return columns.filter((c) => {
    if (!known.has(c) || seen.has(c)) return false;
    seen.add(c);
    return true;
  });
}

/** Shows or hides a column; a column shown again goes back to its place in the entity's order. */
export function toggleColumn(columns: string[], key: string, on: boolean, all: string[]): string[] {
  if (!on) return columns.filter((c) => c !== key);
  if (columns.includes(key)) return columns;
  const rank = (k: string) => all.indexOf(k);
  const out = [...columns];
  let at = out.length;
  for (let i = 0; i < out.length; i++) {
    if (rank(out[i]) > rank(key)) {
      at = i;
      break;
    }
  }
  out.splice(at, 0, key);
  return out;
}

/** Moves a column (drag and drop): the column `from` takes the place of `to`. */
export function moveColumn(columns: string[], from: string, to: string): string[] {
  const i = columns.indexOf(from);
  const j = columns.indexOf(to);
  if (i < 0 || j < 0 || i === j) return columns;
  const out = [...columns];
  out.splice(i, 1);
  out.splice(j, 0, from);
  return out;
}

/** Fields the list can be grouped by (plus the owner). */
export function groupableFields(entity: EntityDef): FieldDef[] {
  return entity.fields.filter((f) => GROUPABLE.includes(f.type) && !f.multiple);
}

/** A canonical form for comparing configurations (a view is "changed" when they differ). */
export function configKey(c: ViewConfig): string {
  const f = c.filter && Object.keys(c.filter).length ? c.filter : null;
  return JSON.stringify({ columns: c.columns, filter: f, sort: c.sort || '-created_at', group: c.group || '' });
}

export function sameConfig(a: ViewConfig, b: ViewConfig): boolean {
  return configKey(a) === configKey(b);
}

/** The body saved for a view. */
export function viewBody(name: string, shared: boolean, c: ViewConfig) {
  const config: ViewConfig = { columns: c.columns };
  if (c.filter && Object.keys(c.filter).length) config.filter = c.filter;
  if (c.sort) config.sort = c.sort;
  if (c.group) config.group = c.group;
  return { name: name.trim(), shared, config };
}

/** The list filter of one group: the view's filter and "field is value" (or "is empty" for null). */
export function groupFilter(filter: FilterJSON | null | undefined, field: string, value: unknown): FilterJSON {
  const own: FilterJSON = value === null || value === undefined || value === '' ? { [field]: { is_empty: true } } : { [field]: { eq: value } };
  if (!filter || !Object.keys(filter).length) return own;
  return { and: [filter, own] };
}

/** Export query of the current view: its filter, sort and columns in order. */
export function exportQuery(c: ViewConfig): Record<string, string | undefined> {
  return {
    filter: c.filter && Object.keys(c.filter).length ? JSON.stringify(c.filter) : undefined,
    sort: c.sort || undefined,
    columns: c.columns.length ? c.columns.join(',') : undefined,
  };
}

export interface RowError {
  row: number; // 0-based data row of the whole file
  field: string;
  code?: string;
  message: string;
}

/** Turns a chunk's errors (rows[i].field) into errors of the whole file (offset = the chunk's first row). */
export function rowErrors(errors: { field: string; code?: string; message: string }[] | undefined, offset: number): RowError[] {
  const out: RowError[] = [];
  for (const e of errors ?? []) {
    const m = /^rows\[(\d+)\]\.?(.*)$/.exec(e.field);
    if (!m) continue;
    out.push({ row: offset + Number(m[1]), field: m[2], code: e.code, message: e.message });
  }
  return out;
}

/** One language of a server message written "English text (中文)": the Chinese part for zh, else the rest. */
export function localMessage(msg: string | undefined, lang: string): string {
  if (!msg) return '';
  const m = /^(.*\S)\s*[(（]([^()（）]*[\u4e00-\u9fff][^()（）]*)[)）]\s*$/.exec(msg);
  if (!m) return msg;
  return lang.startsWith('zh') ? m[2] : m[1];
}
