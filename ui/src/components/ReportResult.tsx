import { Empty, Table } from 'antd';
import ReactECharts from 'echarts-for-react/esm/core';
import { useTranslation } from 'react-i18next';
import type { ReportData } from '../api/types';
import echarts from '../lib/echarts';
import { labelText } from '../lib/labels';
import { chartOption, withOptionLabels } from '../lib/report';

// ExportButton lives in its own light module; re-exported for the report pages.
export { ExportButton } from './ExportButton';

/** Report data as an echarts chart (when it has numbers) plus a table. */
export default function ReportResult({ data: raw, chart, height = 320, tableOnly }: { data?: ReportData | null; chart: string; height?: number; tableOnly?: boolean }) {
  const { i18n } = useTranslation();
  if (!raw || !Array.isArray(raw.columns)) return <Empty />;
  const data = withOptionLabels(raw);
  const option = tableOnly ? null : chartOption(data, chart, i18n.language);
  const keys = new Set(data.columns.map((c) => c.key));
  const cols = data.columns.map((c, i) => ({ c, i })).filter(({ c }) => !keys.has(`${c.key}_name`)).map(({ c, i }) => ({
    title: labelText(c.label, i18n.language, c.key),
    dataIndex: String(i),
    key: `${c.key}-${i}`,
    render: (v: unknown) => (typeof v === 'number' ? v.toLocaleString(i18n.language, { maximumFractionDigits: 2 }) : v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v)),
  }));
  const rows = (data.rows ?? []).map((r, k) => Object.fromEntries([['__k', k], ...r.map((v, i) => [String(i), v])]));
  return (
    <div data-testid="report-result">
      {option && <ReactECharts echarts={echarts} option={option} style={{ height }} notMerge lazyUpdate />}
      <Table size="small" rowKey="__k" columns={cols} dataSource={rows} pagination={rows.length > 20 ? { pageSize: 20 } : false} scroll={{ x: true }} />
    </div>
  );
}
