// @vitest-environment node
import { describe, expect, it } from 'vitest';
import type { ReportData } from '../api/types';
import { bucketRange, chartOption, drillFilter, drillUrl, kpiModel, leaderboardModel, pivotModel } from './charts';

const cols = (...c: [string, string?][]) => c.map(([key, type]) => ({ key, label: key, type })) as ReportData['columns'];

describe('chart options', () => {
  const byChannel: ReportData = { columns: cols(['channel', 'text'], ['count', 'number'], ['sum_amount', 'money']), rows: [['web', 2, 3000], ['sem', 5, 90000]] };

  it('puts the combo chart’s second measure on a second axis, so small counts stay visible next to sums', () => {
    const o = chartOption(byChannel, 'combo', 'en') as { yAxis: unknown[]; series: { type: string; yAxisIndex: number }[] };
    expect(o.yAxis).toHaveLength(2);
    expect(o.series.map((s) => [s.type, s.yAxisIndex])).toEqual([['bar', 0], ['line', 1]]);
  });

  it('stacks bars when asked, groups them otherwise, and draws areas', () => {
    const stacked = chartOption(byChannel, 'bar', 'en', { stacked: true }) as { series: { stack?: string }[] };
    expect(stacked.series.every((s) => s.stack === 'total')).toBe(true);
    const grouped = chartOption(byChannel, 'bar', 'en') as { series: { stack?: string }[]; yAxis: unknown };
    expect(grouped.series.some((s) => s.stack)).toBe(false);
    expect(Array.isArray(grouped.yAxis)).toBe(false);
    const right = chartOption(byChannel, 'bar', 'en', { right: ['sum_amount'] }) as { series: { yAxisIndex: number }[] };
    expect(right.series.map((s) => s.yAxisIndex)).toEqual([0, 1]);
    const area = chartOption(byChannel, 'area', 'en') as { series: { type: string; areaStyle?: object }[] };
    expect(area.series[0]).toMatchObject({ type: 'line', areaStyle: {} });
  });

  it('draws a donut as a pie with a hole and keeps each slice’s row for drill-down', () => {
    const o = chartOption(byChannel, 'donut', 'en') as { series: { type: string; radius: string[]; data: { name: string; row: number }[] }[] };
    expect(o.series[0].type).toBe('pie');
    expect(o.series[0].radius).toEqual(['40%', '68%']);
    expect(o.series[0].data.map((d) => [d.name, d.row])).toEqual([['web', 0], ['sem', 1]]);
  });

  it('colours heatmap cells by the server’s threshold flags', () => {
    const dwell: ReportData = { columns: cols(['office', 'text'], ['stage', 'text'], ['avg_hours', 'number'], ['_flag', 'flag']), rows: [['sh', 'new', 120, 'red'], ['bj', 'new', 10, null], ['sh', 'won', 50, 'orange']] };
    const o = chartOption(dwell, 'heatmap', 'en') as { visualMap: { type: string; dimension: number; pieces: { value: number; color: string }[] }; series: { data: { value: unknown[] }[] }[] };
    expect(o.visualMap.type).toBe('piecewise');
    expect(o.visualMap.dimension).toBe(3);
    expect(o.visualMap.pieces.map((p) => p.color)).toEqual(['#e6f4ff', '#f5222d', '#fa8c16']);
    expect(o.series[0].data.map((d) => d.value[3])).toEqual([1, 0, 2]);
    expect(o.series[0].data.map((d) => d.value[2])).toEqual([120, 10, 50]); // the flag column is never a series
  });

  it('leaves subtotal rows out of charts', () => {
    const sub: ReportData = { columns: cols(['channel', 'text'], ['count', 'number'], ['_grouping', 'grouping']), rows: [['web', 2, 0], ['sem', 5, 0], [null, 7, 1]] };
    const o = chartOption(sub, 'bar', 'en') as { xAxis: { data: string[] } };
    expect(o.xAxis.data).toEqual(['web', 'sem']);
  });
});

describe('cards and tables', () => {
  it('reads a KPI card with its previous period', () => {
    const d: ReportData = { columns: cols(['count', 'number'], ['count_prev', 'number'], ['count_change', 'number'], ['count_change_pct', 'percent']), rows: [[12, 8, 4, 50]] };
    expect(kpiModel(d, 'en')).toEqual({ label: 'count', value: 12, prev: 8, changePct: 50, type: 'number' });
    expect(kpiModel({ columns: cols(['count', 'number']), rows: [[3]] }, 'en')).toMatchObject({ value: 3, prev: undefined });
  });

  it('ranks a leaderboard by its first measure', () => {
    const d: ReportData = { columns: cols(['owner_id', 'text'], ['owner_id_name', 'text'], ['sum_amount', 'money']), rows: [['1', 'Ann', 50], ['2', 'Bob', 200], ['3', 'Cy', 100]] };
    expect(leaderboardModel(d, 2)).toEqual([{ name: 'Bob', value: 200, pct: 100, row: 1 }, { name: 'Cy', value: 100, pct: 50, row: 2 }]);
  });

  it('lays out a pivot table with subtotal lines and the row total', () => {
    // dimensions stage, channel; channel across; GROUPING SETS as runtime/report answers them
    const d: ReportData = {
      columns: cols(['stage', 'text'], ['channel', 'text'], ['count', 'number'], ['_grouping', 'grouping']),
      rows: [['new', 'web', 1, 0], ['new', null, 1, 1], ['won', 'expo', 1, 0], ['won', 'web', 1, 0], ['won', null, 2, 1], [null, 'expo', 1, 2], [null, 'web', 2, 2], [null, null, 3, 3]],
    };
    const m = pivotModel(d, [{ field: 'stage' }, { field: 'channel' }], 'en', 'channel')!;
    expect(m.rowLabels).toEqual(['stage']);
    expect(m.colValues).toEqual(['web', 'expo']);
    expect(m.lines.map((l) => [l.cells, l.values, l.total, l.subtotal])).toEqual([
      [['new'], { web: 1 }, 1, false],
      [['won'], { expo: 1, web: 1 }, 2, false],
      [[null], { expo: 1, web: 2 }, 3, true],
    ]);
  });

  it('keeps subtotal lines of nested row dimensions', () => {
    const d: ReportData = {
      columns: cols(['channel', 'text'], ['stage', 'text'], ['count', 'number'], ['_grouping', 'grouping']),
      rows: [['web', 'new', 1, 0], ['web', 'won', 1, 0], ['web', null, 2, 1], [null, null, 2, 3]],
    };
    const m = pivotModel(d, [{ field: 'channel' }, { field: 'stage' }], 'en')!;
    expect(m.lines.map((l) => [l.cells, l.values[''], l.level])).toEqual([[['web', 'new'], 1, 2], [['web', 'won'], 1, 2], [['web', null], 2, 1], [[null, null], 2, 0]]);
  });
});

describe('drill-down to records', () => {
  const data: ReportData = { columns: cols(['channel', 'text'], ['created_at_month', 'period'], ['count', 'number']), rows: [['web', '2026-03', 4], [null, '2026-12', 1]] };
  const report = { kind: 'pivot', dimensions: [{ field: 'channel' }, { field: 'created_at', bucket: 'month' }], filters: { vip: true } };

  it('narrows the report’s filter to the clicked row, a date bucket as its range', () => {
    expect(drillFilter(report, data, 0)).toEqual({ and: [{ vip: true }, { channel: 'web' }, { created_at: { gte: '2026-03-01', lt: '2026-04-01' } }] });
    expect(drillFilter({ ...report, filters: undefined }, data, 1, { extra: { office: 'bj' } })).toEqual({ and: [{ office: 'bj' }, { channel: { is_empty: true } }, { created_at: { gte: '2026-12-01', lt: '2027-01-01' } }] });
  });

  it('opens a funnel stage as the records that reached it', () => {
    const f: ReportData = { columns: cols(['stage', 'text'], ['stage_index', 'number'], ['count', 'number']), rows: [['new', 1, 6], ['proposal', 2, 3]] };
    expect(drillFilter({ kind: 'funnel', params: { field: 'status' } }, f, 1, { stageOrder: ['new', 'proposal', 'won'] })).toEqual({ status: { in: ['proposal', 'won'] } });
    expect(drillFilter({ kind: 'funnel' }, f, 1)).toBeNull(); // no stage field known
  });

  it('leaves rolled-up dimensions out of a subtotal row', () => {
    const sub: ReportData = { columns: cols(['channel', 'text'], ['stage', 'text'], ['count', 'number'], ['_grouping', 'grouping']), rows: [['web', null, 2, 1]] };
    expect(drillFilter({ kind: 'pivot', dimensions: [{ field: 'channel' }, { field: 'stage' }] }, sub, 0)).toEqual({ channel: 'web' });
  });

  it.each([
    ['2026-03-05', 'day', ['2026-03-05', '2026-03-06']],
    ['2026-03-02', 'week', ['2026-03-02', '2026-03-09']],
    ['2026-Q4', 'quarter', ['2026-10-01', '2027-01-01']],
    ['2026', 'year', ['2026-01-01', '2027-01-01']],
    ['March', 'month', null],
  ] as const)('reads bucket %s (%s)', (v, b, want) => {
    expect(bucketRange(v, b)).toEqual(want);
  });

  it('links to the record list with the filter in the URL', () => {
    expect(drillUrl('crm', 'lead', { channel: 'web' })).toBe('/apps/crm/entities/lead?filter=%7B%22channel%22%3A%22web%22%7D');
    expect(drillUrl('crm', 'lead', {})).toBe('/apps/crm/entities/lead');
  });
});

describe('dwell heatmap with the longest stays per cell', () => {
  it('labels its rows by the dimension only, never by the list of records', () => {
    const data = {
      columns: [
        { key: 'office', label: 'Office', type: 'text' },
        { key: 'stage', label: 'Stage', type: 'text' },
        { key: 'avg_hours', label: 'Average hours', type: 'number' },
        { key: 'stuck', label: 'Longest current stays', type: 'json' },
      ],
      rows: [
        ['Beijing', 'new', 12, [{ id: 'a', title: 'ACME', hours: 130 }]],
        ['Shanghai', 'new', 30, null],
      ],
    } as unknown as ReportData;
    const opt = chartOption(data, 'heatmap', 'en') as { yAxis: { data: string[] } };
    expect(opt.yAxis.data).toEqual(['Beijing', 'Shanghai']);
  });
});
