// Normalises GET /api/v1/catalog into node types and connector operations, whatever its exact nesting.
import type { CatalogNode, CatalogOperation, ParamSchema } from '../api/types';
import { CORE_NODE_TYPES } from './flow';

export interface Catalog {
  nodes: CatalogNode[];
  operations: CatalogOperation[];
  /** Connectors' polling triggers (flow trigger type "poll"); `operation` holds the trigger id. */
  triggers: CatalogOperation[];
}

function arr(v: unknown): Record<string, unknown>[] {
  if (Array.isArray(v)) return v.filter((x) => x && typeof x === 'object') as Record<string, unknown>[];
  if (v && typeof v === 'object') return Object.entries(v as Record<string, unknown>).map(([k, x]) => ({ name: k, type: k, ...(x as object) }));
  return [];
}

/** Accepts {nodes|node_types, connectors:[{name, operations}]|operations} and fills in core nodes when missing. */
export function normalizeCatalog(raw: unknown): Catalog {
  const r = (raw ?? {}) as Record<string, unknown>;
  const nodes: CatalogNode[] = arr(r.nodes ?? r.node_types ?? r.types).map((n) => ({ ...n, type: String(n.type ?? n.name ?? '') })) as CatalogNode[];
  const operations: CatalogOperation[] = [];
  const triggers: CatalogOperation[] = [];
  for (const c of arr(r.connectors)) {
    const cname = String(c.name ?? c.id ?? c.type ?? '');
    for (const op of arr(c.operations ?? c.ops)) {
      operations.push({ ...op, connector: cname, operation: String(op.name ?? op.operation ?? op.id ?? '') } as CatalogOperation);
    }
    for (const tr of Array.isArray(c.triggers) ? arr(c.triggers) : []) {
      triggers.push({ ...tr, connector: cname, operation: String(tr.id ?? tr.name ?? '') } as CatalogOperation);
    }
  }
  for (const op of arr(r.operations)) {
    const full = String(op.name ?? op.id ?? '');
    const [connector, operation] = op.connector ? [String(op.connector), String(op.operation ?? op.name)] : full.split(/[./](.*)/s);
    operations.push({ ...op, connector, operation } as CatalogOperation);
  }
  const have = new Set(nodes.map((n) => n.type));
  for (const t of CORE_NODE_TYPES) if (!have.has(t)) nodes.push({ type: t });
  return { nodes: nodes.filter((n) => n.type), operations, triggers };
}

/** One parameter as the catalog lists it: [{key, type, label, help, required, enum|options, default}]. */
export interface ParamSpec {
  key: string;
  type?: string;
  label?: ParamSchema['title'];
  help?: ParamSchema['description'];
  required?: boolean;
  enum?: unknown[];
  options?: { value: unknown; label?: ParamSchema['title'] }[];
  default?: unknown;
  /** Editor the builder shows (entity, field-values, condition, people, person, approval-levels, ...). */
  'x-widget'?: string;
  /** Sibling parameter holding the entity a field-values/record widget works on. */
  'x-entity-param'?: string;
}

const FORMAT: Record<string, string> = { template: 'template', text: 'textarea', expr: 'expr', code: 'code', javascript: 'code', duration: 'duration', secret: 'password', file: 'file' };

/** Converts a catalog parameter list into the object schema SchemaForm renders. */
export function paramsToSchema(list: ParamSpec[]): ParamSchema {
  const properties: Record<string, ParamSchema> = {};
  const required: string[] = [];
  for (const p of list) {
    if (!p || !p.key) continue;
    const t = p.type ?? 'string';
    const s: ParamSchema = { title: p.label, description: p.help, default: p.default };
    if (p['x-widget']) s['x-widget'] = p['x-widget'];
    if (p['x-entity-param']) s['x-entity-param'] = p['x-entity-param'];
    if (t === 'number' || t === 'integer') s.type = 'number';
    else if (t === 'boolean') s.type = 'boolean';
    else if (t === 'array' || t === 'object' || t === 'json') s.type = t === 'array' ? 'array' : 'object';
    else if (t === 'any') s.format = 'template';
    else {
      s.type = 'string';
      if (FORMAT[t]) s.format = FORMAT[t];
    }
    if (Array.isArray(p.enum)) s.enum = p.enum;
    if (Array.isArray(p.options)) {
      s.enum = p.options.map((o) => o.value);
      s.enumLabels = p.options.map((o) => o.label ?? String(o.value));
    }
    properties[p.key] = s;
    if (p.required) required.push(p.key);
  }
  return { type: 'object', properties, required };
}

/** The parameter schema of a node or operation: a JSON-schema-like object or a catalog parameter list. */
export function schemaOf(x: { params?: unknown; schema?: unknown } | undefined): ParamSchema | undefined {
  const s = x?.params ?? x?.schema;
  if (Array.isArray(s)) return paramsToSchema(s as ParamSpec[]);
  return s && typeof s === 'object' ? (s as ParamSchema) : undefined;
}

/** Node category for grouping the palette. */
export function categoryOf(n: CatalogNode): string {
  if (n.category) return String(n.category);
  if (n.type.startsWith('record.')) return 'records';
  if (n.type === 'script' || n.type === 'set' || n.type === 'transform') return 'data';
  if (['condition', 'switch', 'foreach', 'subflow', 'delay', 'wait_event'].includes(n.type)) return 'control';
  if (['task', 'approval', 'assign'].includes(n.type)) return 'people';
  if (n.type === 'connector') return 'connectors';
  return 'data';
}
