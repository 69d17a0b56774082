import { labelText } from '../../lib/labels';

/** What the diff needs to turn keys and values into words. */
export interface DiffText {
  t: (key: string, opts?: Record<string, unknown>) => string;
  lang: string;
  /** label of a role resource ("entity:lead" -> "Entity · Lead") */
  resource?: (res: string) => string;
  /** label of an entity of the entry's app */
  entity?: (slug: string) => string;
  /** label of a field of an entity of the entry's app */
  field?: (entity: string, key: string) => string;
  /** name of a user or team id */
  name?: (id: string) => string | undefined;
}

/** One changed field of an audit entry, in words. */
export interface DiffRow {
  key: string;
  label: string;
  before: string;
  after: string;
  kind: 'added' | 'removed' | 'changed';
}

type Obj = Record<string, unknown>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const LOCALE = /^[a-z]{2}(-[A-Z]{2})?$/;
// bookkeeping that changes on every write and says nothing to a reader
const NOISE = new Set(['id', 'created_at', 'updated_at']);

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isLabel = (v: unknown): v is Record<string, string> =>
  isObj(v) && Object.keys(v).length > 0 && Object.entries(v).every(([k, x]) => LOCALE.test(k) && typeof x === 'string');

/** Label of a top-level key: the translated name when the UI knows it, else the key. */
export function keyLabel(key: string, x: DiffText): string {
  return x.t(`audit.f.${key}`, { defaultValue: key });
}

/** A value in words: labels in the user's language, names for ids, yes/no, lists joined. */
export function formatValue(v: unknown, x: DiffText): string {
  if (v === null || v === undefined || v === '') return '—';
  if (typeof v === 'boolean') return x.t(v ? 'audit.yes' : 'audit.no');
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return (UUID.test(v) && x.name?.(v)) || v;
  if (Array.isArray(v)) return v.length ? v.map((i) => formatValue(i, x)).join(', ') : '—';
  if (isLabel(v)) return labelText(v, x.lang);
  if (isObj(v)) {
    if (typeof v.role === 'string' && typeof v.app === 'string') return `${(v.app_name as string) || v.app} · ${v.role}`;
    if (typeof v.key === 'string') return v.label ? `${labelText(v.label as Record<string, string>, x.lang, v.key)} (${v.key})` : v.key;
    return JSON.stringify(v);
  }
  return String(v);
}

type Flat = Map<string, { label: string; value: string }>;

function permission(p: Obj, x: DiffText): string {
  const acts = Array.isArray(p.actions) ? (p.actions as string[]).map((a) => x.t(`actions.${a}`, { defaultValue: a })).join(', ') : '';
  const scope = typeof p.scope === 'string' && p.scope ? ` · ${x.t(`scopes.${p.scope}`, { defaultValue: p.scope })}` : '';
  return `${acts || '—'}${scope}`;
}

function flatten(v: unknown, x: DiffText): Flat {
  const out: Flat = new Map();
  if (!isObj(v)) {
    if (v !== null && v !== undefined) out.set('', { label: x.t('audit.value'), value: formatValue(v, x) });
    return out;
  }
  const walk = (o: Obj, path: string, label: string, depth: number) => {
    for (const [k, val] of Object.entries(o)) {
      if (NOISE.has(k)) continue;
      const key = path ? `${path}.${k}` : k;
      const lab = label ? `${label} › ${depth === 0 ? keyLabel(k, x) : k}` : keyLabel(k, x);
      if (k === 'permissions' && Array.isArray(val) && val.every(isObj)) {
        // role permissions: one line per resource, so a change reads "Lead: Read, Create · Own"
        for (const p of val as Obj[]) {
          const res = String(p.resource ?? '');
          out.set(`${key}[${res}]`, { label: `${lab} › ${x.resource?.(res) ?? res}`, value: permission(p, x) });
        }
        continue;
      }
      if (depth === 0 && k === 'fields' && isObj(val)) {
        // role field rules: {entity: {hidden: [...], readonly: [...]}}
        for (const [ent, rule] of Object.entries(val)) {
          if (!isObj(rule)) continue;
          for (const [kind, keys] of Object.entries(rule)) {
            const names = Array.isArray(keys) && keys.length ? (keys as string[]).map((f) => x.field?.(ent, f) ?? f).join(', ') : '—';
            out.set(`${key}.${ent}.${kind}`, { label: `${x.entity?.(ent) ?? ent} › ${x.t(`audit.rule.${kind}`, { defaultValue: kind })}`, value: names });
          }
        }
        continue;
      }
      if (k === 'fields' && Array.isArray(val) && val.every((f) => isObj(f) && typeof f.key === 'string')) {
        // an entity definition's fields: one line per field, named by its label
        for (const f of val as Obj[]) {
          const { key: fk, label: fl, ...rest } = f;
          out.set(`${key}[${fk as string}]`, { label: `${lab} › ${labelText(fl as Record<string, string>, x.lang, fk as string)}`, value: JSON.stringify(rest) });
        }
        continue;
      }
      if (isObj(val) && !isLabel(val) && depth < 2) {
        walk(val, key, lab, depth + 1);
        continue;
      }
      out.set(key, { label: lab, value: formatValue(val, x) });
    }
  };
  walk(v, '', '', 0);
  return out;
}

/** The fields that differ between an audit entry's before and after, labelled, in order. */
export function auditDiff(before: unknown, after: unknown, x: DiffText): DiffRow[] {
  const b = flatten(before, x);
  const a = flatten(after, x);
  const keys = [...new Set([...b.keys(), ...a.keys()])];
  const rows: DiffRow[] = [];
  for (const k of keys) {
    const bv = b.get(k);
    const av = a.get(k);
    if (bv && av && bv.value === av.value) continue;
    rows.push({
      key: k,
      label: (av ?? bv)!.label,
      before: bv?.value ?? '—',
      after: av?.value ?? '—',
      kind: !bv ? 'added' : !av ? 'removed' : 'changed',
    });
  }
  return rows;
}
