import { ArrowDownOutlined, ArrowUpOutlined } from '@ant-design/icons';
import { Empty, Progress, Statistic, Table, Typography } from 'antd';
import ReactECharts from 'echarts-for-react/esm/core';
import { useTranslation } from 'react-i18next';
import type { ReportData } from '../api/types';
import { ECHART_TYPES, FLAG_COLORS, chartOption, kpiModel, leaderboardModel, pivotModel, type ChartSettings } from '../lib/charts';
import echarts from '../lib/echarts';
import { labelText } from '../lib/labels';
import { withOptionLabels } from '../lib/report';

// ExportButton lives in its own light module; re-exported for the report pages.
export { ExportButton } from './ExportButton';

/** A list of records ({title, hours}, e.g. a dwell cell's longest stays) as their titles. */
const recordList = (v: unknown[], lang: string) =>
  v.map((x) => {
    if (!x || typeof x !== 'object') return String(x);
    const o = x as { title?: unknown; hours?: unknown };
    const h = typeof o.hours === 'number' ? ` (${o.hours.toLocaleString(lang, { maximumFractionDigits: 1 })} h)` : '';
    return `${o.title ?? ''}${h}`;
  }).join(lang.startsWith('zh') ? '、' : ', ');
const fmt = (v: unknown, lang: string) =>
  typeof v === 'number' ? v.toLocaleString(lang, { maximumFractionDigits: 2 })
    : v === null || v === undefined ? ''
      : Array.isArray(v) ? recordList(v, lang)
        : typeof v === 'object' ? JSON.stringify(v) : String(v);

interface Props {
  data?: ReportData | null;
  chart: string;
  height?: number;
  tableOnly?: boolean;
  settings?: ChartSettings;
  /** the report's dimensions (pivot tables) */
  dimensions?: { field: string; bucket?: string }[];
  /** pivot tables: the field spread across the columns */
  pivotColumn?: string;
  /** opens the records behind a row of the answer */
  onDrill?: (row: number) => void;
}

/** Report data as a chart (echarts, a KPI card, a leaderboard or a pivot table) plus, for charts, the table. */
export default function ReportResult({ data: raw, chart, height = 320, tableOnly, settings, dimensions, pivotColumn, onDrill }: Props) {
  const { t, i18n } = useTranslation();
  if (!raw || !Array.isArray(raw.columns)) return <Empty />;
  const lang = i18n.language;
  const data = withOptionLabels(raw);
  const flagCol = data.columns.findIndex((c) => c.key === '_flag');
  const drillable = !!onDrill;
  const table = () => {
    const keys = new Set(data.columns.map((c) => c.key));
    // a record's id is not shown when its title is (names, never ids)
    const titled = keys.has('title') || keys.has('record') || keys.has('name');
    const cols = data.columns.map((c, i) => ({ c, i })).filter(({ c }) => !keys.has(`${c.key}_name`) && !c.key.startsWith('_') && !(titled && c.key === 'id')).map(({ c, i }) => ({
      title: labelText(c.label, lang, c.key),
      dataIndex: String(i),
      key: `${c.key}-${i}`,
      render: (v: unknown, r: Record<string, unknown>) => {
        const flag = flagCol >= 0 && typeof c.type === 'string' && ['number', 'percent'].includes(c.type) ? (r[String(flagCol)] as string | null) : null;
        return flag ? <span style={{ color: FLAG_COLORS[flag] ?? flag, fontWeight: 600 }}>{fmt(v, lang)}</span> : fmt(v, lang);
      },
    }));
    const rows = (data.rows ?? []).map((r, k) => Object.fromEntries([['__k', k], ...r.map((v, i) => [String(i), v])]));
    return (
      <Table
        size="small"
        rowKey="__k"
        columns={cols}
        dataSource={rows}
        pagination={rows.length > 20 ? { pageSize: 20 } : false}
        scroll={{ x: true }}
        onRow={(r) => (drillable ? { onClick: () => onDrill!(r.__k as number), style: { cursor: 'pointer' }, 'data-testid': 'report-row' } as React.HTMLAttributes<HTMLElement> : {})}
      />
    );
  };
  let body: React.ReactNode = null;
  if (tableOnly || chart === 'table') return <div data-testid="report-result">{table()}</div>;
  if (chart === 'kpi') {
    const k = kpiModel(data, lang);
    if (!k) return <div data-testid="report-result"><Empty description={t('charts.noValue')} /></div>;
    const up = typeof k.changePct === 'number' && k.changePct >= 0;
    body = (
      <div data-testid="kpi-card" style={{ padding: 8, cursor: drillable ? 'pointer' : undefined }} onClick={() => onDrill?.(0)}>
        <Statistic title={k.label} value={k.value ?? '—'} precision={k.type === 'percent' || (typeof k.value === 'number' && !Number.isInteger(k.value)) ? 2 : 0} suffix={k.type === 'percent' ? '%' : undefined} valueStyle={{ fontSize: 36 }} />
        {k.prev !== undefined && (
          <Typography.Text type="secondary" data-testid="kpi-compare">
            {typeof k.changePct === 'number' ? (
              <span style={{ color: up ? '#3f8600' : '#cf1322', marginRight: 8 }}>{up ? <ArrowUpOutlined /> : <ArrowDownOutlined />} {Math.abs(k.changePct).toLocaleString(lang, { maximumFractionDigits: 1 })}%</span>
            ) : null}
            {t('charts.previous')}: {fmt(k.prev, lang)}
          </Typography.Text>
        )}
      </div>
    );
    return <div data-testid="report-result">{body}</div>;
  }
  if (chart === 'leaderboard') {
    const list = leaderboardModel(data, settings?.top ?? 10);
    return (
      <div data-testid="report-result">
        <ol className="leaderboard" data-testid="leaderboard">
          {list.map((x, i) => (
            <li key={i} onClick={() => onDrill?.(x.row)} style={{ cursor: drillable ? 'pointer' : undefined }}>
              <span className="leaderboard-rank">{i + 1}</span>
              <span className="leaderboard-name">{x.name}</span>
              <Progress percent={x.pct} showInfo={false} size="small" style={{ flex: 1, margin: '0 8px' }} />
              <span className="leaderboard-value">{fmt(x.value, lang)}</span>
            </li>
          ))}
        </ol>
      </div>
    );
  }
  if (chart === 'pivot') {
    const m = pivotModel(data, dimensions ?? [], lang, pivotColumn);
    if (!m) return <div data-testid="report-result">{table()}</div>;
    const across = m.colValues.length > 0;
    const hasTotal = m.lines.some((l) => l.total !== undefined);
    const cellClick = (row: number | undefined) => (row !== undefined && drillable ? { onClick: () => onDrill!(row), style: { cursor: 'pointer' } } : {});
    return (
      <div data-testid="report-result" style={{ overflowX: 'auto' }}>
        <table className="pivot-table" data-testid="pivot-table">
          <thead>
            <tr>
              {m.rowLabels.map((l) => <th key={l}>{l}</th>)}
              {across ? m.colValues.map((c) => <th key={c} className="num">{c}</th>) : <th className="num">{labelText(data.columns.find((c) => typeof c.type === 'string' && ['number', 'money', 'percent'].includes(c.type))?.label, lang, '')}</th>}
              {across && hasTotal && <th className="num">{t('charts.total')}</th>}
            </tr>
          </thead>
          <tbody>
            {m.lines.map((l, i) => (
              <tr key={i} className={l.subtotal ? (l.level === 0 ? 'pivot-total' : 'pivot-subtotal') : undefined}>
                {l.cells.map((c, k) => <td key={k}>{c ?? (k === l.level ? (l.level === 0 ? t('charts.grandTotal') : t('charts.subtotal')) : '')}</td>)}
                {across
                  ? m.colValues.map((c) => <td key={c} className="num" {...cellClick(l.rows[c])} data-testid="pivot-cell">{fmt(l.values[c], lang)}</td>)
                  : <td className="num" {...cellClick(l.row)} data-testid="pivot-cell">{fmt(l.values[''], lang)}</td>}
                {across && hasTotal && <td className="num" {...cellClick(l.row)}>{fmt(l.total, lang)}</td>}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    );
  }
  const option = ECHART_TYPES.includes(chart) ? chartOption(data, chart, lang, settings) : null;
  return (
    <div data-testid="report-result">
      {option && (
        <div data-testid="report-chart">
          <ReactECharts
            echarts={echarts}
            option={option}
            style={{ height }}
            notMerge
            lazyUpdate
            onEvents={drillable ? { click: (p: { data?: { row?: number } }) => typeof p?.data?.row === 'number' && onDrill!(p.data.row) } : undefined}
          />
        </div>
      )}
      {table()}
    </div>
  );
}
