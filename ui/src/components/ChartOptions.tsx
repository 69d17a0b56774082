// The chart type and its options by pickers: stacking, the second axis, pivot subtotals and
// column, the KPI comparison, heatmap thresholds and the leaderboard length. Options the
// server computes (subtotals, thresholds, the previous period) live in the report's params and
// compare; the others in its chart settings.
import { DeleteOutlined, PlusOutlined } from '@ant-design/icons';
import { Button, Form, InputNumber, Select, Space, Switch } from 'antd';
import { useTranslation } from 'react-i18next';
import type { ReportDef } from '../api/types';
import { CHART_TYPES, type ChartSettings } from '../lib/charts';
import { sortKeys } from '../lib/report';

const COLORS = ['red', 'orange', 'yellow', 'green', 'blue', 'gray'];

type Threshold = { over: number; color: string };

export default function ChartOptions({ report, chart, onChange, dimOptions }: { report: ReportDef; chart: string; onChange: (r: ReportDef) => void; dimOptions: { value: string; label: string }[] }) {
  const { t } = useTranslation();
  const settings = (report.chart ?? {}) as ChartSettings;
  const params = (report.params ?? {}) as Record<string, unknown>;
  const setChart = (patch: Partial<ChartSettings>) => {
    const next: ChartSettings = { ...settings, ...patch };
    for (const k of Object.keys(next)) if (next[k] === undefined || next[k] === false || (Array.isArray(next[k]) && !(next[k] as unknown[]).length)) delete next[k];
    onChange({ ...report, chart: next });
  };
  const setParams = (patch: Record<string, unknown>) => {
    const next = { ...params, ...patch };
    for (const k of Object.keys(next)) if (next[k] === undefined || next[k] === false || next[k] === '' || (Array.isArray(next[k]) && !(next[k] as unknown[]).length)) delete next[k];
    const r = { ...report };
    if (Object.keys(next).length) r.params = next;
    else delete r.params;
    return r;
  };
  const measures = sortKeys({ ...report, dimensions: [] }).map((k) => ({ value: k, label: k }));
  const thresholds = (params.thresholds as Threshold[] | undefined) ?? [];
  const setThresholds = (ts: Threshold[]) => onChange(setParams({ thresholds: ts }));
  const usedDims = new Set((report.dimensions ?? []).map((d) => d.field).filter(Boolean));
  const item = (label: string, node: React.ReactNode) => <Form.Item label={label} style={{ marginBottom: 8 }}>{node}</Form.Item>;
  return (
    <div data-testid="chart-options">
      {item(
        t('reports.chart'),
        <Select
          value={chart}
          onChange={(v) => {
            let r: ReportDef = { ...report, chart: { ...settings, type: v } };
            // a pivot table shows subtotals unless turned off; a KPI card compares with the previous period
            if (v === 'pivot' && params.subtotals === undefined) r = { ...setParams({ subtotals: true }), chart: r.chart };
            onChange(r);
          }}
          options={CHART_TYPES.map((c) => ({ value: c, label: t(`charts.${c}`) }))}
          data-testid="report-chart"
        />,
      )}
      {(chart === 'bar' || chart === 'area') && item(t('charts.stacked'), <Switch checked={!!settings.stacked} onChange={(v) => setChart({ stacked: v })} data-testid="chart-stacked" />)}
      {(chart === 'bar' || chart === 'line' || chart === 'combo') && measures.length > 1 &&
        item(t('charts.right'), <Select mode="multiple" allowClear value={settings.right ?? (chart === 'combo' ? measures.slice(1).map((m) => m.value) : [])} options={measures} onChange={(v: string[]) => setChart({ right: v })} data-testid="chart-right" />)}
      {chart === 'leaderboard' && item(t('charts.top'), <InputNumber min={1} max={100} value={settings.top ?? 10} onChange={(v) => setChart({ top: v ?? undefined })} data-testid="chart-top" />)}
      {chart === 'pivot' && (
        <>
          {item(t('charts.subtotals'), <Switch checked={!!params.subtotals} onChange={(v) => onChange(setParams({ subtotals: v, ...(v ? {} : { pivot_column: undefined }) }))} data-testid="chart-subtotals" />)}
          {item(t('charts.pivotColumn'), <Select allowClear value={params.pivot_column as string | undefined} options={dimOptions.filter((o) => usedDims.has(o.value))} onChange={(v) => onChange(setParams({ pivot_column: v, ...(v ? { subtotals: true } : {}) }))} data-testid="chart-pivot-column" />)}
        </>
      )}
      {chart === 'kpi' &&
        item(
          t('charts.compare'),
          <Switch
            checked={report.compare?.period === 'previous'}
            onChange={(v) => {
              const r = { ...report };
              if (v) r.compare = { period: 'previous', ...(params.date_field ? { field: params.date_field as string } : {}) };
              else delete r.compare;
              onChange(r);
            }}
            data-testid="chart-compare"
          />,
        )}
      {(chart === 'heatmap' || chart === 'table' || chart === 'pivot') && (
        <Form.Item label={t('charts.thresholds')} style={{ marginBottom: 8 }}>
          {thresholds.map((th, i) => (
            <Space key={i} style={{ marginBottom: 4 }}>
              <span>{t('charts.over')}</span>
              <InputNumber value={th.over} onChange={(v) => setThresholds(thresholds.map((x, j) => (j === i ? { ...x, over: Number(v ?? 0) } : x)))} data-testid={`threshold-over-${i}`} />
              <Select style={{ width: 100 }} value={th.color} options={COLORS.map((c) => ({ value: c, label: t(`charts.colors.${c}`) }))} onChange={(v) => setThresholds(thresholds.map((x, j) => (j === i ? { ...x, color: v } : x)))} data-testid={`threshold-color-${i}`} />
              <Button type="text" danger icon={<DeleteOutlined />} onClick={() => setThresholds(thresholds.filter((_x, j) => j !== i))} aria-label={t('common.delete')} />
            </Space>
          ))}
          <Button size="small" icon={<PlusOutlined />} onClick={() => setThresholds([...thresholds, { over: thresholds.length ? thresholds[thresholds.length - 1].over : 96, color: COLORS[thresholds.length % COLORS.length] }])} data-testid="threshold-add">
            {t('charts.addThreshold')}
          </Button>
        </Form.Item>
      )}
    </div>
  );
}
