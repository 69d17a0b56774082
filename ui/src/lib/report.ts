// Pure helpers for the report builder and its chart.
import type { ReportData, ReportDef } from '../api/types';

export const REPORT_KINDS = ['table', 'pivot', 'funnel', 'dwell', 'kpi', 'stagnation', 'penetration', 'forecast'];
export const AGGS = ['count', 'count_distinct', 'sum', 'avg', 'min', 'max', 'median'];
export const CHART_TYPES = ['bar', 'line', 'pie', 'funnel', 'table'];

/** Drops measures that need a field but have none, and empty dimensions. */
export function cleanReport(r: ReportDef): ReportDef {
  const out: ReportDef = { ...r };
  out.dimensions = (r.dimensions ?? []).filter((d) => d.field);
  out.measures = (r.measures ?? []).filter((m) => m.agg && (m.agg === 'count' || m.field));
  if (!out.dimensions.length) delete out.dimensions;
  if (!out.measures.length) delete out.measures;
  return out;
}

/** Chart kind that fits a report kind when none is chosen. */
export function defaultChart(kind: string): string {
  if (kind === 'funnel') return 'funnel';
  if (kind === 'kpi' || kind === 'table' || kind === 'stagnation') return 'table';
  return 'bar';
}

/** Builds an echarts option from tabular data: first column = category, numeric columns = series. */
export function chartOption(data: ReportData, chart: string, lang: string): Record<string, unknown> | null {
  if (!data || !Array.isArray(data.columns) || !Array.isArray(data.rows) || data.columns.length === 0) return null;
  const label = (c: ReportData['columns'][number]) =>
    typeof c.label === 'string' ? c.label : (c.label?.[lang] ?? c.label?.en ?? c.key);
  const cats = data.rows.map((r) => String(r[0] ?? '∅'));
  const numericCols = data.columns
    .map((c, i) => ({ c, i }))
    .filter(({ i }) => i > 0 && data.rows.some((r) => typeof r[i] === 'number' || (r[i] !== null && r[i] !== '' && !Number.isNaN(Number(r[i])))));
  if (chart === 'table') return null;
  if (numericCols.length === 0) return null;
  if (chart === 'pie' || chart === 'funnel') {
    const col = numericCols[0];
    return {
      tooltip: { trigger: 'item' },
      legend: { bottom: 0 },
      series: [
        {
          type: chart,
          name: label(col.c),
          data: data.rows.map((r, k) => ({ name: cats[k], value: Number(r[col.i]) })),
          ...(chart === 'funnel' ? { sort: 'none', label: { show: true, position: 'inside' } } : { radius: '60%' }),
        },
      ],
    };
  }
  return {
    tooltip: { trigger: 'axis' },
    legend: { bottom: 0 },
    grid: { left: 48, right: 16, top: 24, bottom: 48 },
    xAxis: { type: 'category', data: cats },
    yAxis: { type: 'value' },
    series: numericCols.map(({ c, i }) => ({ type: chart === 'line' ? 'line' : 'bar', name: label(c), data: data.rows.map((r) => Number(r[i])) })),
  };
}
