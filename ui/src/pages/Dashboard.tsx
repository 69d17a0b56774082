import { DeleteOutlined, EditOutlined, EyeOutlined, PlusOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import { Alert, Button, Card, DatePicker, Empty, InputNumber, Select, Skeleton, Space, Table, Typography } from 'antd';
import dayjs from 'dayjs';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams, useSearchParams } from 'react-router';
import { api, errorMessage } from '../api/client';
import { appAccess, defList, useApp, useDefinition } from '../api/defs';
import type { DashboardDef, ReportData, ReportDef, Widget } from '../api/types';
import DefToolbar from '../components/DefToolbar';
import ReportResult, { ExportButton } from '../components/ReportResult';
import { labelText } from '../lib/labels';
import { JsonInput } from '../components/SchemaForm';
import { dashboardQuery, defaultChart, exportUrl, reportFromDefinition, widgetResult } from '../lib/report';

function WidgetCard({ app, w, data, error, standalone, fallbackLabel }: { app: string; w: Widget; data?: ReportData; error?: string; standalone: boolean; fallbackLabel?: DashboardDef['label'] }) {
  const { t, i18n } = useTranslation();
  const def = useDefinition<ReportDef>(app, 'reports', w.report);
  const own = useQuery({
    queryKey: ['report-data', app, w.report, i18n.language],
    enabled: standalone, // only when the dashboard's own data is unavailable (editing, unpublished, failed)
    queryFn: () => api<ReportData>(`/api/v1/apps/${encodeURIComponent(app)}/reports/${encodeURIComponent(w.report)}/data`, { query: { locale: i18n.language } }),
  });
  const r = reportFromDefinition(def.data?.def, def.data?.meta);
  const d = data ?? own.data;
  const chart = String((w as { chart?: { type?: string } }).chart?.type ?? r?.chart?.type ?? defaultChart(r?.kind ?? 'pivot'));
  return (
    <Card
      size="small"
      title={labelText(w.title ?? r?.label ?? fallbackLabel, i18n.language, w.report)}
      style={{ gridColumn: `${(w.x ?? 0) + 1} / span ${w.w || 12}`, gridRow: `${(w.y ?? 0) + 1} / span ${w.h || 4}`, overflow: 'auto' }}
      extra={<Space size={4}><ExportButton href={(f) => exportUrl(app, { report: w.report }, f)} /><Link to={`/apps/${app}/reports/${w.report}`} aria-label={t('reports.view')}><EyeOutlined /></Link></Space>}
      data-testid={`widget-${w.report}`}
    >
      {error ? (
        <Alert type="error" showIcon title={t('dashboards.widgetError')} description={error} data-testid="widget-error" />
      ) : own.isError && !data ? (
        <Alert type="error" showIcon title={errorMessage(own.error)} />
      ) : (
        <ReportResult data={d} chart={chart} height={Math.max(160, (w.h || 8) * 56 - 180)} />
      )}
    </Card>
  );
}

/** A dashboard: a 12-column grid of report widgets; ?edit=1 (or the Edit button) arranges them. */
export default function DashboardPage() {
  const { app = '', slug = '' } = useParams();
  const [sp, setSp] = useSearchParams();
  const edit = sp.get('edit') === '1';
  const { t, i18n } = useTranslation();
  const appQ = useApp(app);
  const q = useDefinition<DashboardDef>(app, 'dashboards', slug);
  const [dash, setDash] = useState<DashboardDef | null>(null);
  const from = sp.get('from') ?? '';
  const to = sp.get('to') ?? '';
  const filterParam = sp.get('filter') ?? '';
  const [filterDraft, setFilterDraft] = useState<unknown>(() => {
    try {
      return filterParam ? JSON.parse(filterParam) : undefined;
    } catch {
      return undefined;
    }
  });
  const setParams = (patch: Record<string, string>) => {
    const next = new URLSearchParams(sp);
    for (const [k, v] of Object.entries(patch)) if (v) next.set(k, v); else next.delete(k);
    setSp(next);
  };
  useEffect(() => {
    if (q.data && dash === null) setDash(q.data.def ? { ...q.data.def, widgets: q.data.def.widgets ?? [] } : { slug, widgets: [] });
  }, [q.data, dash, slug]);
  const data = useQuery({
    queryKey: ['dashboard-data', app, slug, i18n.language, from, to, filterParam],
    enabled: !edit && !!q.data?.def,
    retry: false,
    queryFn: () => api<unknown>(`/api/v1/apps/${encodeURIComponent(app)}/dashboards/${encodeURIComponent(slug)}/data`, { query: dashboardQuery(i18n.language, from, to, filterParam) }),
  });
  if (!dash) return q.isError ? <Alert type="error" title={errorMessage(q.error)} /> : <Skeleton active />;

  const reports = defList(appQ.data, 'reports');
  const widgets = dash.widgets;
  const setW = (i: number, patch: Partial<Widget>) => setDash({ ...dash, widgets: widgets.map((w, j) => (j === i ? { ...w, ...patch } : w)) });

  return (
    <div>
      <Space style={{ marginBottom: 12 }}>
        <Link to={`/apps/${app}`}>{appQ.data?.name ?? app}</Link>
        <span>/</span>
        <Typography.Title level={4} style={{ margin: 0 }}>{labelText(dash.label, i18n.language, slug)}</Typography.Title>
        {appAccess(appQ.data).design && <Button size="small" icon={edit ? <EyeOutlined /> : <EditOutlined />} onClick={() => setParams({ edit: edit ? '' : '1' })}>{edit ? t('dashboards.view') : t('common.edit')}</Button>}
      </Space>
      {!edit && (
        <Card size="small" style={{ marginBottom: 12 }} data-testid="dashboard-filters">
          <Space wrap align="start">
            <span>{t('dashboards.dateRange')}</span>
            <DatePicker.RangePicker
              allowEmpty={[true, true]}
              value={[from ? dayjs(from) : null, to ? dayjs(to) : null]}
              onChange={(v) => setParams({ from: v?.[0]?.format('YYYY-MM-DD') ?? '', to: v?.[1]?.format('YYYY-MM-DD') ?? '' })}
              data-testid="dashboard-range"
            />
            <span>{t('dashboards.filter')}</span>
            <div style={{ width: 320 }}><JsonInput value={filterDraft} onChange={setFilterDraft} rows={1} /></div>
            <Button size="small" type="primary" onClick={() => setParams({ filter: filterDraft === undefined || filterDraft === null ? '' : JSON.stringify(filterDraft) })} data-testid="dashboard-apply">{t('dashboards.applyFilters')}</Button>
            <Button size="small" onClick={() => { setFilterDraft(undefined); setParams({ from: '', to: '', filter: '' }); }}>{t('dashboards.clearFilters')}</Button>
          </Space>
        </Card>
      )}
      {data.isError && <Alert type="error" showIcon title={errorMessage(data.error)} style={{ marginBottom: 12 }} data-testid="dashboard-error" />}
      {edit && (
        <>
          <DefToolbar app={app} kind="dashboards" slug={slug} getDefinition={() => dash} />
          <Table
            size="small"
            rowKey={(_w, i) => String(i)}
            pagination={false}
            dataSource={widgets}
            style={{ marginBottom: 12 }}
            columns={[
              { title: t('kinds.reports'), render: (_v, w: Widget, i) => <Select style={{ width: 200 }} value={w.report || undefined} options={reports.map((r) => ({ value: r.slug, label: labelText(r.label, i18n.language, r.slug) }))} onChange={(v) => setW(i, { report: v })} /> },
              ...(['x', 'y', 'w', 'h'] as const).map((k) => ({ title: k, render: (_v: unknown, w: Widget, i: number) => <InputNumber size="small" min={k === 'w' || k === 'h' ? 1 : 0} max={k === 'x' || k === 'w' ? 24 : 100} value={w[k]} onChange={(v) => setW(i, { [k]: v ?? 0 })} /> })),
              { title: '', render: (_v, _w, i) => <Button type="text" danger icon={<DeleteOutlined />} onClick={() => setDash({ ...dash, widgets: widgets.filter((_x, j) => j !== i) })} /> },
            ]}
          />
          <Button icon={<PlusOutlined />} onClick={() => setDash({ ...dash, widgets: [...widgets, { id: `w${widgets.length + 1}`, report: reports[0]?.slug ?? '', x: (widgets.length % 2) * 12, y: Math.floor(widgets.length / 2) * 8, w: 12, h: 8 }] })} style={{ marginBottom: 12 }}>
            {t('dashboards.addWidget')}
          </Button>
        </>
      )}
      {widgets.length === 0 ? (
        <Empty />
      ) : (
        <div className="dash-grid">
          {widgets.filter((w) => w.report).map((w, i) => {
            const res = widgetResult(data.data, w, i);
            return <WidgetCard key={`${w.report}-${i}`} app={app} w={w} data={res.data} error={res.error} standalone={edit || !q.data?.def || data.isError} fallbackLabel={reports.find((r) => r.slug === w.report)?.label} />;
          })}
        </div>
      )}
    </div>
  );
}
