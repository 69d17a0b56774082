// Pure helpers for the report builder and its chart.
import type { ReportData, ReportDef } from '../api/types';

export { CHART_TYPES, ECHART_TYPES, chartOption, splitColumns } from './charts';

export const REPORT_KINDS = ['table', 'pivot', 'funnel', 'dwell', 'kpi', 'stagnation', 'penetration', 'forecast', 'compare', 'cycle'];
export const AGGS = ['count', 'count_distinct', 'sum', 'avg', 'min', 'max', 'median', 'rate'];
/** Export formats of reports and record lists. */
export const EXPORT_FORMATS = ['csv', 'xlsx'] as const;

/** Definition kinds (the app-level kind names); a report's own kind is never one of them. */
const DEF_KIND_NAMES = new Set(['entities', 'forms', 'flows', 'reports', 'dashboards']);

/**
 * A report definition from a GET answer: the server answers reports flat, so the report's own
 * `kind` can end up in the meta (it shares its name with the definition-kind key); put it back.
 */
export function reportFromDefinition(def: ReportDef | null | undefined, meta?: Record<string, unknown>): ReportDef | null {
  if (!def) return null;
  if (def.kind) return def;
  const k = meta?.kind;
  return typeof k === 'string' && k && !DEF_KIND_NAMES.has(k) ? { ...def, kind: k } : def;
}

/** Export URL of a published report or of an entity's record list (same filter and sort as on screen). */
export function exportUrl(app: string, target: { report: string } | { entity: string }, format: string, query: Record<string, string | undefined> = {}): string {
  const path = 'report' in target ? `reports/${encodeURIComponent(target.report)}` : `entities/${encodeURIComponent(target.entity)}`;
  const qs = new URLSearchParams({ format });
  for (const [k, v] of Object.entries(query)) if (v) qs.set(k, v);
  return `/api/v1/apps/${encodeURIComponent(app)}/${path}/export?${qs.toString()}`;
}

/** Where a 422 field error of a report definition belongs in the builder. */
export type ErrorSlot = 'entity' | 'kind' | 'dimensions' | 'measures' | 'filters' | 'params' | 'sort' | 'limit' | 'compare' | 'chart' | 'label' | 'other';

/**
 * Groups field errors by builder control ("dimensions[0].field" -> dimensions, index 0) so each
 * message shows next to the control it is about.
 */
export function groupFieldErrors(errors: { field: string; message: string }[]): { slot: ErrorSlot; index?: number; message: string }[] {
  const known: ErrorSlot[] = ['entity', 'kind', 'dimensions', 'measures', 'filters', 'params', 'sort', 'limit', 'compare', 'chart', 'label'];
  return errors.map((e) => {
    const m = /^([a-z_]+)(?:\[(\d+)\])?/.exec(e.field ?? '');
    const head = (m?.[1] ?? '') as ErrorSlot;
    const slot: ErrorSlot = known.includes(head) ? head : 'other';
    return { slot, index: m?.[2] !== undefined ? Number(m[2]) : undefined, message: e.message };
  });
}

/** Sort options for a report: every output column key the report can produce, ascending or descending. */
export function sortKeys(r: ReportDef): string[] {
  const keys: string[] = [];
  for (const d of r.dimensions ?? []) if (d.field) keys.push(d.field);
  for (const m of r.measures ?? []) {
    if (!m.agg || (m.agg !== 'count' && m.agg !== 'rate' && !m.field)) continue;
    const mk = (m as { key?: unknown }).key;
    const k = typeof mk === 'string' && mk ? mk : m.field && m.agg !== 'rate' ? `${m.agg}_${m.field}` : m.agg;
    keys.push(k);
  }
  return [...new Set(keys)];
}

/** Drops measures that need a field but have none, and empty dimensions. */
export function cleanReport(r: ReportDef): ReportDef {
  const out: ReportDef = { ...r };
  out.dimensions = (r.dimensions ?? []).filter((d) => d.field);
  out.measures = (r.measures ?? []).filter((m) => m.agg && (m.agg === 'count' || m.field));
  if (!out.dimensions.length) delete out.dimensions;
  if (!out.measures.length) delete out.measures;
  if (out.sort) {
    out.sort = out.sort.filter(Boolean);
    if (!out.sort.length) delete out.sort;
  }
  if (out.limit === null || out.limit === undefined) delete out.limit;
  return out;
}

/** Chart kind that fits a report kind when none is chosen. */
export function defaultChart(kind: string): string {
  if (kind === 'funnel') return 'funnel';
  if (kind === 'dwell') return 'heatmap';
  if (kind === 'kpi') return 'kpi';
  if (kind === 'table' || kind === 'stagnation') return 'table';
  return 'bar';
}

/** The data for display: values of columns with options (select fields, stages) become their labels. */
export function withOptionLabels(data: ReportData): ReportData {
  const maps = data.columns.map((c) => c.options);
  if (!maps.some(Boolean) || !Array.isArray(data.rows)) return data;
  const show = (v: unknown, m: Record<string, string>): unknown =>
    Array.isArray(v) ? v.map((x) => show(x, m)) : typeof v === 'string' && Object.prototype.hasOwnProperty.call(m, v) ? m[v] : v;
  return { ...data, rows: data.rows.map((r) => r.map((v, i) => (maps[i] ? show(v, maps[i]!) : v))) };
}

/** Field types whose values can be summed or averaged. */
const NUMERIC_FIELD_TYPES = new Set(['number', 'money', 'percent']);

/**
 * Adds a field dropped from the palette: onto dimensions it groups (date fields by month), onto
 * measures it is summed (numbers) or counted distinct (anything else). Empty rows are replaced.
 */
export function dropField(r: ReportDef, zone: 'dimensions' | 'measures', field: string, type?: string): ReportDef {
  if (zone === 'dimensions') {
    const dims = (r.dimensions ?? []).filter((d) => d.field);
    if (dims.some((d) => d.field === field)) return r;
    const bucket = type === 'date' || type === 'datetime' || field === 'created_at' || field === 'updated_at' ? 'month' : undefined;
    return { ...r, dimensions: [...dims, bucket ? { field, bucket } : { field }] };
  }
  const meas = (r.measures ?? []).filter((m) => m.agg === 'count' || m.agg === 'rate' || m.field);
  const agg = type && NUMERIC_FIELD_TYPES.has(type) ? 'sum' : 'count_distinct';
  if (meas.some((m) => m.agg === agg && m.field === field)) return r;
  return { ...r, measures: [...meas, { agg, field }] };
}

/** Query of GET .../dashboards/{slug}/data: the shared date range and filter apply to every widget. */
export function dashboardQuery(locale: string, from?: string, to?: string, filter?: string): Record<string, string> {
  const q: Record<string, string> = { locale };
  if (from) q.from = from;
  if (to) q.to = to;
  if (filter) q.filter = filter;
  return q;
}

/** One widget's data or error from a dashboard data answer ({widgets: [{id, report, data | error}]}). */
export function widgetResult(answer: unknown, w: { id?: string; report: string }, i: number): { data?: ReportData; error?: string } {
  const d = answer as Record<string, unknown> | undefined;
  if (!d || typeof d !== 'object') return {};
  const list = Array.isArray(d.widgets) ? (d.widgets as Record<string, unknown>[]) : null;
  const hit = list
    ? (list.find((x) => w.id && x.id === w.id) ?? (list[i]?.report === w.report ? list[i] : list.find((x) => x.report === w.report)))
    : ((d[w.id ?? ''] ?? d[w.report]) as Record<string, unknown> | undefined);
  if (!hit) return {};
  const err = hit.error as { detail?: string; errors?: { message?: string }[] } | undefined;
  if (err && typeof err === 'object') {
    const msgs = (err.errors ?? []).map((e) => e.message).filter(Boolean);
    return { error: msgs.length ? msgs.join('; ') : (err.detail ?? '') };
  }
  const inner = (hit.data ?? hit) as ReportData;
  return Array.isArray(inner?.columns) ? { data: inner } : {};
}
