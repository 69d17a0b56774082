// Pure builders behind the report charts: echarts options, the pivot table model with
// subtotals, KPI cards, leaderboards, and the record filter behind a clicked element.
import type { ReportData, ReportDef } from '../api/types';

/** Every chart a report can be shown as; the first four are not echarts (tables and cards). */
export const CHART_TYPES = ['table', 'pivot', 'kpi', 'leaderboard', 'bar', 'line', 'area', 'combo', 'pie', 'donut', 'funnel', 'heatmap'];
/** The charts drawn by echarts (lib/echarts.ts registers what they need). */
export const ECHART_TYPES = ['bar', 'line', 'area', 'combo', 'pie', 'donut', 'funnel', 'heatmap'];

/** Chart settings kept in a report's `chart` (the server stores them as they are). */
export interface ChartSettings {
  type?: string;
  /** bar: stack the measures instead of grouping them */
  stacked?: boolean;
  /** measure keys drawn against the second (right) axis; combo: every measure but the first by default */
  right?: string[];
  /** leaderboard: rows shown */
  top?: number;
  [k: string]: unknown;
}

/** Colours of the threshold flags (runtime/report ThresholdColors). */
export const FLAG_COLORS: Record<string, string> = { red: '#f5222d', orange: '#fa8c16', yellow: '#fadb14', green: '#52c41a', blue: '#1677ff', gray: '#8c8c8c' };

const NUMERIC_TYPES = new Set(['number', 'money', 'percent', 'integer', 'float']);

/** Column keys that are never drawn: server markers (_grouping, _flag) and a funnel's step index. */
const hiddenKey = (k: string) => k.startsWith('_') || k === 'step' || k === 'stage_index';

/** Splits report columns into category columns (labels) and numeric columns (series). */
export function splitColumns(data: ReportData): { cats: number[]; nums: number[] } {
  const cols = data.columns as { key: string; type?: string }[];
  const keys = new Set(cols.map((c) => c.key));
  const isNum = (i: number) => (cols[i].type ? NUMERIC_TYPES.has(cols[i].type as string) : data.rows.some((r) => typeof r[i] === 'number'));
  const cats: number[] = [];
  const nums: number[] = [];
  cols.forEach((c, i) => {
    if (hiddenKey(c.key)) return;
    if (c.type === 'json' || data.rows.some((r) => r[i] !== null && typeof r[i] === 'object')) return; // lists (a cell's longest stays) are not axes
    if (isNum(i)) nums.push(i);
    else if (!keys.has(`${c.key}_name`) && c.key !== 'id') cats.push(i); // show a user's name, not the id
  });
  return { cats, nums };
}

const colLabel = (c: ReportData['columns'][number], lang: string) => (typeof c.label === 'string' ? c.label : (c.label?.[lang] ?? c.label?.en ?? c.key));
const text = (v: unknown) => (v === null || v === undefined || v === '' ? '∅' : String(v));

/** Rows without subtotal rows (pivots with subtotals answer them marked in _grouping). */
export function detailRows(data: ReportData): { row: unknown[]; index: number }[] {
  const g = data.columns.findIndex((c) => c.key === '_grouping');
  return data.rows.map((row, index) => ({ row, index })).filter(({ row }) => g < 0 || !row[g]);
}

/**
 * Builds an echarts option from tabular data: text columns = categories, numeric columns =
 * series. Every data item carries the index of its row (`row`) so a click finds the records.
 */
export function chartOption(data: ReportData, chart: string, lang: string, settings: ChartSettings = {}): Record<string, unknown> | null {
  if (!data || !Array.isArray(data.columns) || !Array.isArray(data.rows) || data.columns.length === 0) return null;
  if (!ECHART_TYPES.includes(chart)) return null;
  const { cats: catCols, nums } = splitColumns(data);
  const rows = detailRows(data);
  if (nums.length === 0 || rows.length === 0) return null; // nothing to draw: the table says so
  const catOf = (r: unknown[], cols: number[]) => (cols.length ? cols.map((i) => text(r[i])).join(' / ') : '');
  const label = (i: number) => colLabel(data.columns[i], lang);
  if (chart === 'heatmap') {
    const stageCol = data.columns.findIndex((c) => c.key === 'stage');
    const xCol = stageCol >= 0 && catCols.includes(stageCol) ? stageCol : catCols[catCols.length - 1];
    const yCols = catCols.filter((i) => i !== xCol);
    const vCol = nums.find((i) => data.columns[i].key === 'avg_hours') ?? nums[0];
    if (xCol === undefined) return null;
    const flagCol = data.columns.findIndex((c) => c.key === '_flag');
    const xs = [...new Set(rows.map(({ row }) => text(row[xCol])))];
    const ys = [...new Set(rows.map(({ row }) => catOf(row, yCols) || label(vCol)))];
    const flags = flagCol >= 0 ? [...new Set(rows.map(({ row }) => row[flagCol]).filter((f): f is string => typeof f === 'string'))] : [];
    const values = rows.map(({ row, index }) => ({
      value: [xs.indexOf(text(row[xCol])), ys.indexOf(catOf(row, yCols) || label(vCol)), row[vCol] === null ? '-' : Number(row[vCol]), flagCol >= 0 ? flags.indexOf(row[flagCol] as string) + 1 : 0],
      row: index,
    }));
    const nums2 = values.map((v) => v.value[2]).filter((v): v is number => typeof v === 'number');
    // With threshold flags the colour is the flag (server-computed), else a gradient of the value.
    const visualMap = flagCol >= 0
      ? { type: 'piecewise', dimension: 3, orient: 'horizontal', left: 'center', bottom: 0, pieces: [{ value: 0, color: '#e6f4ff', label: '—' }, ...flags.map((f, i) => ({ value: i + 1, color: FLAG_COLORS[f] ?? f, label: f }))] }
      : { min: 0, max: Math.max(1, ...nums2), calculable: true, orient: 'horizontal', left: 'center', bottom: 0, dimension: 2 };
    return {
      tooltip: { position: 'top' },
      grid: { left: 96, right: 16, top: 16, bottom: 72 },
      xAxis: { type: 'category', data: xs, splitArea: { show: true } },
      yAxis: { type: 'category', data: ys, splitArea: { show: true } },
      visualMap,
      series: [{ type: 'heatmap', name: label(vCol), data: values, label: { show: true } }],
    };
  }
  if (chart === 'pie' || chart === 'donut' || chart === 'funnel') {
    const col = nums.find((i) => data.columns[i].key === 'count') ?? nums[0];
    // A funnel by stage with a dimension sums each stage over the dimension's values.
    const stageCol = data.columns.findIndex((c) => c.key === 'stage');
    const byStage = stageCol >= 0 && (chart === 'funnel' || catCols.length > 1);
    const totals = new Map<string, { value: number; row: number }>();
    rows.forEach(({ row, index }) => {
      const name = byStage ? text(row[stageCol]) : catOf(row, catCols);
      const t = totals.get(name) ?? { value: 0, row: index };
      t.value += Number(row[col]) || 0;
      totals.set(name, t);
    });
    return {
      tooltip: { trigger: 'item' },
      legend: { bottom: 0, type: 'scroll' },
      series: [
        {
          type: chart === 'funnel' ? 'funnel' : 'pie',
          name: label(col),
          data: [...totals].map(([name, t]) => ({ name, value: t.value, row: t.row })),
          ...(chart === 'funnel' ? { sort: 'none', top: 16, bottom: 40, label: { show: true, position: 'inside', formatter: '{b}: {c}' } } : { radius: chart === 'donut' ? ['40%', '68%'] : '62%' }),
        },
      ],
    };
  }
  // bar, line, area, combo
  const keys = nums.map((i) => data.columns[i].key);
  const right = new Set(settings.right ?? (chart === 'combo' ? keys.slice(1) : []));
  const twoAxes = keys.some((k) => right.has(k)) && keys.some((k) => !right.has(k));
  return {
    tooltip: { trigger: 'axis' },
    legend: { bottom: 0, type: 'scroll' },
    grid: { left: 56, right: twoAxes ? 56 : 16, top: 24, bottom: 56 },
    xAxis: { type: 'category', data: rows.map(({ row }) => catOf(row, catCols)) },
    yAxis: twoAxes ? [{ type: 'value' }, { type: 'value', splitLine: { show: false } }] : { type: 'value' },
    series: nums.map((i, k) => {
      const onRight = twoAxes && right.has(keys[k]);
      const type = chart === 'bar' ? 'bar' : chart === 'combo' ? (onRight ? 'line' : 'bar') : 'line';
      return {
        type,
        name: label(i),
        yAxisIndex: onRight ? 1 : 0,
        ...(chart === 'area' ? { areaStyle: {}, stack: settings.stacked ? 'total' : undefined } : {}),
        ...(chart === 'bar' && settings.stacked ? { stack: 'total' } : {}),
        data: rows.map(({ row, index }) => ({ value: row[i] === null ? null : Number(row[i]), row: index })),
      };
    }),
  };
}

/** A KPI card: the first measure, its previous-period value and the change (compare columns). */
export function kpiModel(data: ReportData | null | undefined, lang: string): { label: string; value: number | null; prev?: number | null; changePct?: number | null; type?: string } | null {
  if (!data?.columns?.length || !data.rows?.length) return null;
  const { nums } = splitColumns(data);
  const i = nums.find((k) => !/_(prev|change|change_pct)$/.test(data.columns[k].key));
  if (i === undefined) return null;
  const key = data.columns[i].key;
  const at = (k: string) => {
    const j = data.columns.findIndex((c) => c.key === k);
    return j >= 0 ? (data.rows[0][j] as number | null) : undefined;
  };
  return { label: colLabel(data.columns[i], lang), value: data.rows[0][i] as number | null, prev: at(`${key}_prev`), changePct: at(`${key}_change_pct`), type: data.columns[i].type };
}

/** A leaderboard: rows ranked by the first measure, largest first, with their share of the top value. */
export function leaderboardModel(data: ReportData | null | undefined, top = 10): { name: string; value: number; pct: number; row: number }[] {
  if (!data?.columns?.length) return [];
  const { cats, nums } = splitColumns(data);
  if (!nums.length) return [];
  const v = nums[0];
  const list = detailRows(data)
    .map(({ row, index }) => ({ name: cats.map((c) => text(row[c])).join(' / '), value: Number(row[v]) || 0, row: index }))
    .sort((a, b) => b.value - a.value)
    .slice(0, top);
  const max = Math.max(1, ...list.map((x) => Math.abs(x.value)));
  return list.map((x) => ({ ...x, pct: Math.round((100 * Math.abs(x.value)) / max) }));
}

/** A pivot table: row dimensions down, the pivot column across, one measure in the cells. */
export interface PivotLine {
  /** the row dimensions' values (display text); null where a subtotal line rolled them up */
  cells: (string | null)[];
  /** measure per pivot column value ('' without a pivot column) */
  values: Record<string, unknown>;
  /** the row's total across the pivot column (subtotal reports), else undefined */
  total?: unknown;
  /** row dimensions the line keeps: fewer than all on subtotal lines, 0 on the grand total */
  level: number;
  subtotal: boolean;
  /** index of a report row of this line (drill-down) */
  row: number;
  /** report row per pivot column value */
  rows: Record<string, number>;
}
export interface PivotModel {
  rowLabels: string[];
  colValues: string[];
  lines: PivotLine[];
}

/**
 * Builds a pivot table from a pivot report's rows and dimensions (with subtotals the
 * _grouping mask marks the rolled-up dimensions, the last dimension being bit 0). `column`
 * is the field spread across the columns.
 */
export function pivotModel(data: ReportData, dims: { field: string; bucket?: string }[], lang: string, column?: string, measure?: string): PivotModel | null {
  if (!data?.columns?.length) return null;
  const { nums } = splitColumns(data);
  const v = nums.find((i) => data.columns[i].key === measure) ?? nums[0];
  if (v === undefined) return null;
  const idx = (k: string) => data.columns.findIndex((c) => c.key === k);
  const gi = idx('_grouping');
  const ds = dims.filter((d) => d.field).map((d) => {
    const key = d.bucket ? `${d.field}_${d.bucket}` : d.field;
    const name = idx(`${key}_name`);
    return { field: d.field, col: idx(key), show: name >= 0 ? name : idx(key) };
  });
  const nd = ds.length;
  const ck = ds.findIndex((d) => d.field === column);
  const rowDims = ds.map((d, k) => ({ ...d, k })).filter((d) => d.k !== ck);
  const bit = (row: unknown[], k: number) => gi >= 0 && ((Number(row[gi]) >> (nd - 1 - k)) & 1) === 1;
  const colValues: string[] = [];
  const lines = new Map<string, PivotLine>();
  data.rows.forEach((row, index) => {
    const cells = rowDims.map((d) => (bit(row, d.k) ? null : text(row[d.show])));
    const level = cells.filter((c) => c !== null).length;
    const key = JSON.stringify(cells);
    let line = lines.get(key);
    if (!line) {
      line = { cells, values: {}, level, subtotal: level < rowDims.length, row: index, rows: {} };
      lines.set(key, line);
    }
    if (ck < 0) {
      line.values[''] = row[v];
    } else if (bit(row, ck)) {
      line.total = row[v];
    } else {
      const cv = text(row[ds[ck].show]);
      if (!colValues.includes(cv)) colValues.push(cv);
      line.values[cv] = row[v];
      line.rows[cv] = index;
    }
  });
  return { rowLabels: rowDims.map((d) => colLabel(data.columns[d.col], lang)), colValues, lines: [...lines.values()] };
}

/** Start and end (exclusive) of a bucket value as the server renders it: 2026-03-05, 2026-03, 2026-Q1, 2026. */
export function bucketRange(v: string, bucket: string): [string, string] | null {
  const pad = (n: number) => String(n).padStart(2, '0');
  const ymd = (d: Date) => `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  let start: Date;
  let end: Date;
  let m: RegExpExecArray | null;
  if ((bucket === 'day' || bucket === 'week') && (m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v))) {
    start = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
    end = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3] + (bucket === 'week' ? 7 : 1)));
  } else if (bucket === 'month' && (m = /^(\d{4})-(\d{2})$/.exec(v))) {
    start = new Date(Date.UTC(+m[1], +m[2] - 1, 1));
    end = new Date(Date.UTC(+m[1], +m[2], 1));
  } else if (bucket === 'quarter' && (m = /^(\d{4})-Q([1-4])$/.exec(v))) {
    start = new Date(Date.UTC(+m[1], (+m[2] - 1) * 3, 1));
    end = new Date(Date.UTC(+m[1], +m[2] * 3, 1));
  } else if (bucket === 'year' && (m = /^(\d{4})$/.exec(v))) {
    start = new Date(Date.UTC(+m[1], 0, 1));
    end = new Date(Date.UTC(+m[1] + 1, 0, 1));
  } else return null;
  return [ymd(start), ymd(end)];
}

/**
 * The record filter behind one row of a report's answer: the report's filters, the dashboard's
 * global filter, and the row's dimension values (a date bucket as its range; a funnel stage as
 * "reached it": the stage or any later one). Subtotal rows leave out their rolled-up dimensions.
 * Null when the row cannot be narrowed to records (a stage report over other rows).
 */
export function drillFilter(report: Pick<ReportDef, 'kind' | 'dimensions' | 'filters' | 'params'>, data: ReportData, rowIndex: number, opts: { stageField?: string; stageOrder?: string[]; extra?: unknown } = {}): Record<string, unknown> | null {
  const row = data.rows[rowIndex];
  if (!row) return null;
  const parts: unknown[] = [];
  const isObj = (f: unknown) => f && typeof f === 'object' && Object.keys(f as object).length > 0;
  if (isObj(report.filters)) parts.push(report.filters);
  if (isObj(opts.extra)) parts.push(opts.extra);
  const gi = data.columns.findIndex((c) => c.key === '_grouping');
  const dims = report.dimensions ?? [];
  dims.forEach((d, k) => {
    if (!d.field) return;
    if (gi >= 0 && ((Number(row[gi]) >> (dims.length - 1 - k)) & 1) === 1) return; // rolled up
    const key = d.bucket ? `${d.field}_${d.bucket}` : d.field;
    const ci = data.columns.findIndex((c) => c.key === key);
    if (ci < 0) return;
    const v = row[ci];
    if (v === null || v === undefined || v === '') parts.push({ [d.field]: { is_empty: true } });
    else if (d.bucket) {
      const r = bucketRange(String(v), d.bucket);
      if (r) parts.push({ [d.field]: { gte: r[0], lt: r[1] } });
    } else parts.push({ [d.field]: v });
  });
  const si = data.columns.findIndex((c) => c.key === 'stage');
  if (si >= 0 && ['funnel', 'dwell', 'stagnation'].includes(report.kind)) {
    const field = (report.params?.field as string) || opts.stageField;
    if (!field) return null;
    const stage = String(row[si]);
    const order = (report.params?.stages as string[] | undefined)?.length ? (report.params!.stages as string[]) : (opts.stageOrder ?? []);
    const at = order.indexOf(stage);
    parts.push(report.kind === 'funnel' && at >= 0 ? { [field]: { in: order.slice(at) } } : { [field]: stage });
  }
  if (!parts.length) return {};
  return parts.length === 1 ? (parts[0] as Record<string, unknown>) : { and: parts };
}

/** The record list URL showing the records behind a clicked element. */
export function drillUrl(app: string, entity: string, filter: Record<string, unknown>): string {
  const qs = Object.keys(filter).length ? `?filter=${encodeURIComponent(JSON.stringify(filter))}` : '';
  return `/apps/${encodeURIComponent(app)}/entities/${encodeURIComponent(entity)}${qs}`;
}
