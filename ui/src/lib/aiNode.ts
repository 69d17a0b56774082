// Logic of the AI connector node's property form (components/flow/AiNodeForm): which
// parameters get their own picker, the JSON types the server's extract schema gives each
// entity field (mirrors plugins/ai/schema.go), and list parameters given as text or arrays.
import type { EntityDef, FieldDef } from '../api/types';
import { labelText, optionValue } from './labels';

/** Parameters the AI form edits with its own pickers; the rest render from the catalog schema. */
export const AI_PICKED: Record<string, string[]> = {
  chat: ['model'],
  extract: ['model', 'entity', 'fields'],
  classify: ['model', 'labels'],
  summarise_record: ['model', 'entity', 'record_id', 'exclude_fields'],
};

export function pickedKeys(operation: string | undefined): string[] {
  return AI_PICKED[operation ?? ''] ?? ['model'];
}

/** The JSON schema type of a field as the extract operation sends it, or undefined for a field a model cannot fill. */
export interface AiFieldType {
  type: 'string' | 'number' | 'boolean' | 'array';
  enum?: string[];
  format?: 'date' | 'datetime' | 'email';
}

const NOT_FILLABLE = new Set(['attachment', 'formula', 'autonumber', 'user', 'team', 'relation', 'lines']);

export function aiFieldType(f: FieldDef): AiFieldType | undefined {
  if (NOT_FILLABLE.has(f.type)) return undefined;
  const opts = (f.options ?? []).map(optionValue);
  let out: AiFieldType;
  if (f.type === 'number' || f.type === 'money' || f.type === 'percent') out = { type: 'number' };
  else if (f.type === 'boolean') out = { type: 'boolean' };
  else if (f.type === 'multiselect' || f.multiple) out = { type: 'array' };
  else out = { type: 'string' };
  if (opts.length) out.enum = opts;
  if (f.type === 'date' || f.type === 'datetime' || f.type === 'email') out.format = f.type;
  return out;
}

/** The fields of an entity a model can fill, in definition order. */
export function fillableFields(ent: EntityDef | undefined): FieldDef[] {
  return (ent?.fields ?? []).filter((f) => aiFieldType(f));
}

/**
 * The JSON schema the extract step will give the model for these field keys (every fillable
 * field when keys is empty), as the server builds it: nullable types, option lists as enums,
 * the field's label as description.
 */
export function extractSchema(ent: EntityDef | undefined, keys: string[]): Record<string, unknown> {
  const chosen = keys.length ? keys.map((k) => ent?.fields.find((f) => f.key === k)).filter((f): f is FieldDef => !!f && !!aiFieldType(f)) : fillableFields(ent);
  const properties: Record<string, unknown> = {};
  for (const f of chosen) {
    const t = aiFieldType(f)!;
    const p: Record<string, unknown> = { type: [t.type, 'null'] };
    const en = labelText(f.label, 'en', '');
    const zh = labelText(f.label, 'zh-CN', '');
    let desc = zh && zh !== en ? `${en} / ${zh}`.trim() : en;
    if (f.type === 'date') desc += ' (YYYY-MM-DD)';
    if (f.type === 'datetime') desc += ' (RFC 3339, e.g. 2026-05-01T09:30:00+08:00)';
    if (f.type === 'email') p.format = 'email';
    if (desc) p.description = desc;
    if (t.enum) {
      if (t.type === 'array') p.items = { type: 'string', enum: t.enum };
      else p.enum = [...t.enum, null];
    }
    properties[f.key] = p;
  }
  return { type: 'object', properties, additionalProperties: false };
}

/** A list parameter (labels, fields, exclude_fields) given as an array or comma-separated text. */
export function listParam(v: unknown): string[] {
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string' && x.trim() !== '').map((x) => x.trim());
  if (typeof v === 'string') return v.split(/[,，]/).map((x) => x.trim()).filter(Boolean);
  return [];
}

/** Stores a list parameter: an empty list removes it (the server's default applies). */
export function setList(input: Record<string, unknown>, key: string, list: string[]): Record<string, unknown> {
  const next = { ...input };
  const clean = [...new Set(list.map((x) => x.trim()).filter(Boolean))];
  if (clean.length) next[key] = clean;
  else delete next[key];
  return next;
}

/** Splits a connector node's input into the values the form's own pickers edit and the rest. */
export function splitInput(operation: string | undefined, input: Record<string, unknown>): { picked: Record<string, unknown>; rest: Record<string, unknown> } {
  const keys = pickedKeys(operation);
  const picked: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) (keys.includes(k) ? picked : rest)[k] = v;
  return { picked, rest };
}

/** The defaults a fresh summarise step takes from its flow: the trigger's entity and record. */
export function summariseDefaults(triggerEntity: string | undefined): Record<string, unknown> {
  return triggerEntity ? { entity: triggerEntity, record_id: '{{ trigger.record.id }}' } : {};
}

/** Credential names of a connector from GET /api/v1/apps/{app}/credentials. */
export function credentialNames(items: { name: string; connector: string }[] | undefined, connector: string): string[] {
  return (items ?? []).filter((c) => c.connector === connector).map((c) => c.name).sort((a, b) => a.localeCompare(b));
}
