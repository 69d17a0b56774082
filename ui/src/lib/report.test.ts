// @vitest-environment node
import { describe, expect, it } from 'vitest';
import type { ReportData, ReportDef } from '../api/types';
import { chartOption, cleanReport, dashboardQuery, defaultChart, dropField, exportUrl, groupFieldErrors, reportFromDefinition, sortKeys, widgetResult, withOptionLabels } from './report';

const base: ReportDef = { slug: 'r', entity: 'deal', kind: 'pivot' };

describe('report definitions', () => {
  it('restores the report kind the definition answer put in its meta', () => {
    expect(reportFromDefinition({ slug: 'r', entity: 'deal' } as ReportDef, { kind: 'compare', modified: false })?.kind).toBe('compare');
    expect(reportFromDefinition({ ...base, kind: 'funnel' }, { kind: 'reports' })?.kind).toBe('funnel');
    expect(reportFromDefinition({ slug: 'r', entity: 'deal' } as ReportDef, { kind: 'reports' })?.kind).toBeUndefined();
    expect(reportFromDefinition(null, {})).toBeNull();
  });

  it.each([
    ['date field onto dimensions is bucketed by month', 'dimensions', 'expected_close', 'date', { dimensions: [{ field: 'expected_close', bucket: 'month' }] }],
    ['select field onto dimensions', 'dimensions', 'office', 'select', { dimensions: [{ field: 'office' }] }],
    ['money field onto measures is summed', 'measures', 'amount', 'money', { measures: [{ agg: 'count' }, { agg: 'sum', field: 'amount' }] }],
    ['text field onto measures is counted distinct', 'measures', 'name', 'text', { measures: [{ agg: 'count' }, { agg: 'count_distinct', field: 'name' }] }],
  ] as const)('drops a field: %s', (_n, zone, field, type, want) => {
    const r: ReportDef = { ...base, dimensions: [{ field: '' }], measures: [{ agg: 'count' }, { agg: 'sum' }] };
    expect(dropField(r, zone, field, type)).toMatchObject(want);
  });

  it('does not add the same field twice', () => {
    const r = dropField(dropField(base, 'dimensions', 'office', 'select'), 'dimensions', 'office', 'select');
    expect(r.dimensions).toEqual([{ field: 'office' }]);
  });

  it('offers the output columns as sort keys and drops empty sort and limit', () => {
    const r: ReportDef = { ...base, dimensions: [{ field: 'office' }], measures: [{ agg: 'count' }, { agg: 'sum', field: 'amount' }, { agg: 'sum' }] };
    expect(sortKeys(r)).toEqual(['office', 'count', 'sum_amount']);
    expect(cleanReport({ ...r, sort: [], limit: undefined })).not.toHaveProperty('sort');
    expect(cleanReport({ ...r, sort: ['-sum_amount'], limit: 10 })).toMatchObject({ sort: ['-sum_amount'], limit: 10 });
  });

  it('puts 422 field errors next to their control', () => {
    expect(groupFieldErrors([
      { field: 'dimensions[0].field', message: 'unknown field "nope"' },
      { field: 'measures[1].field', message: 'sum needs a number' },
      { field: 'params.foo', message: 'unknown field "foo"' },
      { field: 'kind', message: 'unknown kind' },
      { field: '', message: 'whole body' },
    ])).toEqual([
      { slot: 'dimensions', index: 0, message: 'unknown field "nope"' },
      { slot: 'measures', index: 1, message: 'sum needs a number' },
      { slot: 'params', index: undefined, message: 'unknown field "foo"' },
      { slot: 'kind', index: undefined, message: 'unknown kind' },
      { slot: 'other', index: undefined, message: 'whole body' },
    ]);
  });
});

describe('exports and dashboards', () => {
  it('builds export URLs for reports and record lists', () => {
    expect(exportUrl('sales', { report: 'rep-kpi' }, 'csv')).toBe('/api/v1/apps/sales/reports/rep-kpi/export?format=csv');
    expect(exportUrl('sales', { entity: 'deal' }, 'xlsx', { filter: '{"stage":"won"}', sort: '-amount', q: undefined }))
      .toBe('/api/v1/apps/sales/entities/deal/export?format=xlsx&filter=%7B%22stage%22%3A%22won%22%7D&sort=-amount');
  });

  it('passes the shared date range and filter to the dashboard data', () => {
    expect(dashboardQuery('en', '2026-01-01', '2026-01-31', '{"office":"shanghai"}')).toEqual({ locale: 'en', from: '2026-01-01', to: '2026-01-31', filter: '{"office":"shanghai"}' });
    expect(dashboardQuery('zh-CN', '', '', '')).toEqual({ locale: 'zh-CN' });
  });

  it('finds each widget data or its own error', () => {
    const data: ReportData = { columns: [{ key: 'count' }], rows: [[1]] };
    const answer = { widgets: [
      { id: 'a', report: 'funnel', data },
      { id: 'b', report: 'kpi', error: { status: 422, detail: 'the request has invalid fields', errors: [{ field: 'measures[0].field', message: 'unknown field "amount"' }] } },
      { id: 'c', report: 'gone', error: { status: 404, detail: 'report not found' } },
    ] };
    expect(widgetResult(answer, { id: 'a', report: 'funnel' }, 0)).toEqual({ data });
    expect(widgetResult(answer, { id: 'b', report: 'kpi' }, 1)).toEqual({ error: 'unknown field "amount"' });
    expect(widgetResult(answer, { id: 'c', report: 'gone' }, 2)).toEqual({ error: 'report not found' });
    expect(widgetResult(undefined, { report: 'x' }, 0)).toEqual({});
  });
});

describe('charts', () => {
  const dwell: ReportData = {
    columns: [{ key: 'office', type: 'text' }, { key: 'stage', type: 'text' }, { key: 'stays', type: 'number' }, { key: 'avg_hours', label: { en: 'Avg hours' }, type: 'number' }] as unknown as ReportData['columns'],
    rows: [['shanghai', 'proposal', 2, 10], ['beijing', 'proposal', 1, 4], ['shanghai', 'negotiation', 1, 30]],
  };

  it('draws the dwell report as a stage x office heatmap of average hours', () => {
    expect(defaultChart('dwell')).toBe('heatmap');
    const o = chartOption(dwell, 'heatmap', 'en') as { xAxis: { data: string[] }; yAxis: { data: string[] }; series: { type: string; name: string; data: unknown[] }[]; visualMap: { max: number } };
    expect(o.xAxis.data).toEqual(['proposal', 'negotiation']);
    expect(o.yAxis.data).toEqual(['shanghai', 'beijing']);
    expect(o.series[0]).toMatchObject({ type: 'heatmap', name: 'Avg hours', data: [{ value: [0, 0, 10, 0], row: 0 }, { value: [0, 1, 4, 0], row: 1 }, { value: [1, 0, 30, 0], row: 2 }] });
    expect(o.visualMap.max).toBe(30);
  });

  it('sums a funnel with a dimension per stage and never charts the step index', () => {
    const funnel: ReportData = {
      columns: [{ key: 'channel', type: 'text' }, { key: 'stage', type: 'text' }, { key: 'stage_index', type: 'number' }, { key: 'count', type: 'number' }] as unknown as ReportData['columns'],
      rows: [[null, 'new', 1, 3], ['web', 'new', 1, 2], [null, 'won', 2, 1]],
    };
    const f = chartOption(funnel, 'funnel', 'en') as { series: { data: { name: string; value: number }[] }[] };
    expect(f.series[0].data).toEqual([{ name: 'new', value: 5, row: 0 }, { name: 'won', value: 1, row: 2 }]);
    const bar = chartOption(funnel, 'bar', 'en') as { xAxis: { data: string[] }; series: { name: string }[] };
    expect(bar.xAxis.data).toEqual(['∅ / new', 'web / new', '∅ / won']);
    expect(bar.series.map((s) => s.name)).toEqual(['count']);
    expect(chartOption({ ...funnel, rows: [] }, 'bar', 'en')).toBeNull();
  });

  it('labels user dimensions by name, not id', () => {
    const kpi: ReportData = {
      columns: [{ key: 'owner_id', type: 'text' }, { key: 'owner_id_name', type: 'text' }, { key: 'sum_amount', type: 'money' }] as unknown as ReportData['columns'],
      rows: [['0b1c-uuid', 'Administrator', 600000]],
    };
    const o = chartOption(kpi, 'bar', 'en') as { xAxis: { data: string[] } };
    expect(o.xAxis.data).toEqual(['Administrator']);
  });
});

describe('option labels', () => {
  it('shows the labels of option values in charts and tables, leaving other columns alone', () => {
    const data: ReportData = {
      columns: [
        { key: 'office', options: { sh: '上海' } },
        { key: 'stage', options: { won: '已赢单', new: '新商机' } },
        { key: 'tags', options: { a: '甲' } },
        { key: 'count', type: 'number' },
      ],
      rows: [['sh', 'won', ['a', 'b'], 3], ['bj', 'new', null, 1]],
    };
    expect(withOptionLabels(data).rows).toEqual([['上海', '已赢单', ['甲', 'b'], 3], ['bj', '新商机', null, 1]]);
    expect(data.rows[0][0]).toBe('sh'); // the answer itself is not changed
    const opt = chartOption(withOptionLabels(data), 'bar', 'zh-CN') as { xAxis: { data: string[] } };
    expect(opt.xAxis.data[0]).toContain('上海 / 已赢单');
    const plain = { columns: [{ key: 'x' }], rows: [['toString']] };
    expect(withOptionLabels(plain)).toBe(plain);
  });
});
