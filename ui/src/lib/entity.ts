// Pure editing logic of the entity designer (no React): fields, ordering, stages, dedupe, errors.
import type { EntityDef, FieldDef, StagesDef, Transition } from '../api/types';
import { optionValue } from './labels';

/** Every field type of DESIGN section 4, in palette order. */
export const FIELD_TYPES = [
  'text', 'textarea', 'number', 'money', 'percent', 'email', 'phone', 'url', 'date', 'datetime',
  'select', 'multiselect', 'boolean', 'user', 'team', 'relation', 'attachment', 'autonumber', 'formula', 'lines',
] as const;

/** The types a column (sub-field) of a lines field may have. */
export const LINE_FIELD_TYPES = [
  'text', 'textarea', 'number', 'money', 'percent', 'email', 'phone', 'url', 'date', 'datetime', 'select', 'boolean', 'user', 'relation', 'formula',
] as const;

export type FieldType = (typeof FIELD_TYPES)[number];

/** Which extra settings a type shows in the field editor. */
export function typeSettings(type: string): string[] {
  switch (type) {
    case 'text':
    case 'textarea':
      return ['max_length', 'pattern'];
    case 'number':
    case 'percent':
      return ['min', 'max', 'precision'];
    case 'money':
      return ['min', 'max', 'precision', 'currency'];
    case 'phone':
      return ['region'];
    case 'select':
    case 'multiselect':
      return ['options'];
    case 'relation':
      return ['target', 'multiple'];
    case 'user':
    case 'team':
      return ['multiple'];
    case 'attachment':
      return ['multiple', 'accept', 'max_size'];
    case 'autonumber':
      return ['prefix'];
    case 'formula':
      return ['formula'];
    case 'lines':
      return ['columns', 'max_rows'];
    default:
      return [];
  }
}

const KEY_RE = /^[a-z][a-z0-9_]{0,62}$/;

/** True when key is a valid field key (lower snake case, starts with a letter). */
export function isValidKey(key: string): boolean {
  return KEY_RE.test(key);
}

/** Suggests an unused key like "field_3". */
export function nextFieldKey(fields: FieldDef[], base = 'field'): string {
  const used = new Set(fields.map((f) => f.key));
  for (let i = fields.length + 1; ; i++) {
    const k = `${base}_${i}`;
    if (!used.has(k)) return k;
  }
}

/** An empty entity definition. */
export function emptyEntity(slug: string, label?: { en: string; 'zh-CN': string }): EntityDef {
  return { slug, label: label ?? { en: slug, 'zh-CN': slug }, fields: [] };
}

/** Returns a copy with field moved from index `from` to index `to`. */
export function moveField(fields: FieldDef[], from: number, to: number): FieldDef[] {
  if (from === to || from < 0 || to < 0 || from >= fields.length || to >= fields.length) return fields.slice();
  const out = fields.slice();
  const [f] = out.splice(from, 1);
  out.splice(to, 0, f);
  return out;
}

/** Replaces (or appends when index = -1) a field, dropping settings that the type does not use. */
export function upsertField(fields: FieldDef[], index: number, field: FieldDef): FieldDef[] {
  const cleaned = cleanField(field);
  const out = fields.slice();
  if (index < 0 || index >= out.length) out.push(cleaned);
  else out[index] = cleaned;
  return out;
}

const COMMON = new Set(['key', 'type', 'label', 'help', 'required', 'unique', 'indexed', 'default', 'sensitive', 'description', 'searchable']);

/** Removes empty values and settings that do not apply to the field's type. */
export function cleanField(field: FieldDef): FieldDef {
  const allowed = new Set([...COMMON, ...typeSettings(field.type)]);
  const out: FieldDef = { key: field.key, type: field.type };
  for (const [k, v] of Object.entries(field)) {
    if (k === 'key' || k === 'type') continue;
    if (!allowed.has(k)) continue;
    if (v === undefined || v === null || v === '' || v === false) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    if (k === 'label' || k === 'help') {
      if (typeof v === 'object' && !Object.values(v as Record<string, string>).some(Boolean)) continue;
    }
    (out as Record<string, unknown>)[k] = v;
  }
  return out;
}

/** Removes a field and every reference to it (stages field, dedupe keys, title field). */
export function removeField(entity: EntityDef, key: string): EntityDef {
  const fields = entity.fields.filter((f) => f.key !== key);
  const next: EntityDef = { ...entity, fields };
  if (next.stages && next.stages.field === key) delete next.stages;
  if (next.dedupe) {
    const keys = next.dedupe.keys.map((k) => k.filter((x) => x !== key)).filter((k) => k.length > 0);
    if (keys.length) next.dedupe = { ...next.dedupe, keys };
    else delete next.dedupe;
  }
  if (next.title_field === key) delete next.title_field;
  return next;
}

/** Select-type fields that can drive a stage pipeline. */
export function stageCandidates(fields: FieldDef[]): FieldDef[] {
  return fields.filter((f) => f.type === 'select');
}

/** Builds a stages block for a select field, using its options as the order. */
export function stagesFromField(field: FieldDef, previous?: StagesDef): StagesDef {
  const order = (field.options ?? []).map(optionValue);
  const transitions = (previous?.transitions ?? []).filter((t) => order.includes(t.from) && order.includes(t.to));
  const st: StagesDef = { ...(previous ?? {}), field: field.key, order, transitions };
  return st;
}

/** Adds a gate transition between two stages (replacing an existing one for the same pair). */
export function setTransition(stages: StagesDef, t: Transition): StagesDef {
  const list = (stages.transitions ?? []).filter((x) => !(x.from === t.from && x.to === t.to));
  list.push(t);
  return { ...stages, transitions: list };
}

/** Local checks before save; returns errors keyed like the server's JSON paths. */
export function validateEntity(e: EntityDef): { field: string; message: string }[] {
  const errs: { field: string; message: string }[] = [];
  if (!e.slug || !isValidKey(e.slug.replace(/-/g, '_'))) errs.push({ field: 'slug', message: 'invalid slug' });
  const seen = new Set<string>();
  e.fields.forEach((f, i) => {
    if (!isValidKey(f.key)) errs.push({ field: `fields[${i}].key`, message: 'invalid key' });
    if (seen.has(f.key)) errs.push({ field: `fields[${i}].key`, message: 'duplicate key' });
    seen.add(f.key);
    if (!(FIELD_TYPES as readonly string[]).includes(f.type)) errs.push({ field: `fields[${i}].type`, message: 'unknown type' });
    if ((f.type === 'select' || f.type === 'multiselect') && !(f.options ?? []).length)
      errs.push({ field: `fields[${i}].options`, message: 'options required' });
    if (f.type === 'relation' && !f.target) errs.push({ field: `fields[${i}].target`, message: 'target required' });
    if (f.type === 'formula' && !f.formula) errs.push({ field: `fields[${i}].formula`, message: 'formula required' });
  });
  if (e.stages) {
    if (!seen.has(e.stages.field)) errs.push({ field: 'stages.field', message: 'unknown field' });
    (e.stages.transitions ?? []).forEach((t, i) => {
      if (!e.stages!.order.includes(t.from)) errs.push({ field: `stages.transitions[${i}].from`, message: 'unknown stage' });
      if (!e.stages!.order.includes(t.to)) errs.push({ field: `stages.transitions[${i}].to`, message: 'unknown stage' });
    });
  }
  (e.dedupe?.keys ?? []).forEach((k, i) =>
    k.forEach((x, j) => {
      if (!seen.has(x)) errs.push({ field: `dedupe.keys[${i}][${j}]`, message: 'unknown field' });
    }),
  );
  return errs;
}

/** Normalises a server error path ("fields.2.key", "/fields/2/key", "fields[2].key") to "fields[2].key". */
export function normalizePath(p: string): string {
  let s = p.trim().replace(/^\$\.?/, '').replace(/^\//, '');
  s = s.replace(/\//g, '.');
  s = s.replace(/\.(\d+)(?=\.|$|\[)/g, '[$1]');
  return s;
}

/** Groups errors by the index of the field they name (fields[i]...) and collects the rest. */
export function groupErrors(errors: { field: string; message: string }[]): {
  byField: Record<number, string[]>;
  other: { path: string; message: string }[];
} {
  const byField: Record<number, string[]> = {};
  const other: { path: string; message: string }[] = [];
  for (const e of errors) {
    const path = normalizePath(e.field || '');
    const m = path.match(/^fields\[(\d+)\]/);
    if (m) {
      const i = Number(m[1]);
      (byField[i] ??= []).push(`${path}: ${e.message}`);
    } else other.push({ path, message: e.message });
  }
  return { byField, other };
}
