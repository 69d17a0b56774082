import { DeleteOutlined, PlusOutlined, ReloadOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import { Alert, Button, Card, Col, Form, Input, InputNumber, Row, Select, Skeleton, Space, Typography } from 'antd';
import { useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useLocation, useParams, useSearchParams } from 'react-router';
import { api, errorMessage } from '../api/client';
import { defList, useApp, useDefinition } from '../api/defs';
import type { EntityDef, ReportData, ReportDef } from '../api/types';
import DefToolbar from '../components/DefToolbar';
import ReportResult from '../components/ReportResult';
import { JsonInput } from '../components/SchemaForm';
import { labelText } from '../lib/labels';
import { AGGS, CHART_TYPES, REPORT_KINDS, cleanReport, defaultChart } from '../lib/report';

function useDebounced<T>(v: T, ms: number): T {
  const [d, setD] = useState(v);
  useEffect(() => {
    const h = setTimeout(() => setD(v), ms);
    return () => clearTimeout(h);
  }, [v, ms]);
  return d;
}

/** A published report's data (GET .../reports/{slug}/data). */
function ReportView({ app, slug }: { app: string; slug: string }) {
  const { t, i18n } = useTranslation();
  const def = useDefinition<ReportDef>(app, 'reports', slug);
  const data = useQuery({ queryKey: ['report-data', app, slug, i18n.language], queryFn: () => api<ReportData>(`/api/v1/apps/${encodeURIComponent(app)}/reports/${encodeURIComponent(slug)}/data`, { query: { locale: i18n.language } }) });
  const r = def.data?.def;
  return (
    <Card
      title={labelText(r?.label, i18n.language, slug)}
      extra={
        <Space>
          <Button size="small" icon={<ReloadOutlined />} onClick={() => data.refetch()} />
          <Link to={`/apps/${app}/reports/${slug}/design`}>{t('common.design')}</Link>
          <a href={`/api/v1/apps/${app}/reports/${slug}/export?format=xlsx`}>{t('reports.export')}</a>
        </Space>
      }
    >
      {data.isError && <Alert type="error" showIcon title={errorMessage(data.error)} />}
      {data.isLoading ? <Skeleton active /> : <ReportResult data={data.data} chart={String(r?.chart?.type ?? defaultChart(r?.kind ?? 'pivot'))} />}
    </Card>
  );
}

export default function ReportBuilder() {
  const { app = '', slug = '' } = useParams();
  const loc = useLocation();
  const [sp] = useSearchParams();
  const { t, i18n } = useTranslation();
  const design = loc.pathname.endsWith('/design');
  const appQ = useApp(app);
  const q = useDefinition<ReportDef>(app, 'reports', slug, design);
  const [report, setReport] = useState<ReportDef | null>(null);
  useEffect(() => {
    if (design && q.data && report === null)
      setReport(q.data.def ?? { slug, entity: sp.get('entity') ?? '', kind: 'pivot', dimensions: [{ field: '' }], measures: [{ agg: 'count' }] });
  }, [design, q.data, report, slug, sp]);
  const entityQ = useDefinition<EntityDef>(app, 'entities', report?.entity ?? '', !!report?.entity);
  const cleaned = useMemo(() => (report ? cleanReport(report) : null), [report]);
  const debounced = useDebounced(cleaned, 500);
  const preview = useQuery({
    queryKey: ['report-preview', app, debounced, i18n.language],
    enabled: !!debounced?.entity,
    queryFn: () => api<ReportData>(`/api/v1/apps/${encodeURIComponent(app)}/reports/preview`, { method: 'POST', body: debounced, query: { locale: i18n.language } }),
    retry: false,
  });

  if (!design) return <ReportView app={app} slug={slug} />;
  if (!report) return q.isError ? <Alert type="error" title={errorMessage(q.error)} /> : <Skeleton active />;
  const fields = entityQ.data?.def?.fields ?? [];
  const fieldOpts = [
    ...fields.map((f) => ({ value: f.key, label: `${labelText(f.label, i18n.language, f.key)} (${f.key})` })),
    { value: 'created_at', label: t('records.createdAt') },
    { value: 'owner_id', label: t('reports.owner') },
    { value: 'team_id', label: t('reports.team') },
  ];
  const set = (patch: Partial<ReportDef>) => setReport({ ...report, ...patch });
  const dims = report.dimensions ?? [];
  const meas = report.measures ?? [];
  const chart = String(report.chart?.type ?? defaultChart(report.kind));

  return (
    <div>
      <Space style={{ marginBottom: 8 }}>
        <Link to={`/apps/${app}`}>{appQ.data?.name ?? app}</Link>
        <span>/</span>
        <Typography.Title level={4} style={{ margin: 0 }}>{t('reports.builder')}: {slug}</Typography.Title>
        <Link to={`/apps/${app}/reports/${slug}`}>{t('reports.view')}</Link>
      </Space>
      <DefToolbar app={app} kind="reports" slug={slug} getDefinition={() => cleaned} />
      <Row gutter={16}>
        <Col xs={24} lg={8}>
          <Card size="small">
            <Form layout="vertical" size="small">
              <Form.Item label={t('common.entity')}>
                <Select value={report.entity || undefined} onChange={(v) => set({ entity: v, dimensions: [{ field: '' }], measures: [{ agg: 'count' }] })} options={defList(appQ.data, 'entities').map((e) => ({ value: e.slug, label: labelText(e.label, i18n.language, e.slug) }))} data-testid="report-entity" />
              </Form.Item>
              <Form.Item label={t('reports.kind')}>
                <Select value={report.kind} onChange={(v) => set({ kind: v })} options={REPORT_KINDS.map((k) => ({ value: k, label: t(`reportKinds.${k}`) }))} data-testid="report-kind" />
              </Form.Item>
              <Form.Item label={t('reports.dimensions')}>
                {dims.map((d, i) => (
                  <Space key={i} style={{ marginBottom: 4 }}>
                    <Select style={{ width: 170 }} value={d.field || undefined} options={fieldOpts} onChange={(v) => set({ dimensions: dims.map((x, j) => (j === i ? { ...x, field: v } : x)) })} data-testid={`report-dim-${i}`} />
                    <Select style={{ width: 90 }} allowClear placeholder={t('reports.bucket')} value={d.bucket} options={['day', 'week', 'month', 'quarter', 'year'].map((b) => ({ value: b, label: t(`buckets.${b}`) }))} onChange={(v) => set({ dimensions: dims.map((x, j) => (j === i ? { ...x, bucket: v } : x)) })} />
                    <Button type="text" danger icon={<DeleteOutlined />} onClick={() => set({ dimensions: dims.filter((_x, j) => j !== i) })} />
                  </Space>
                ))}
                <Button size="small" icon={<PlusOutlined />} onClick={() => set({ dimensions: [...dims, { field: '' }] })}>{t('reports.addDimension')}</Button>
              </Form.Item>
              <Form.Item label={t('reports.measures')}>
                {meas.map((m, i) => (
                  <Space key={i} style={{ marginBottom: 4 }}>
                    <Select style={{ width: 120 }} value={m.agg} options={AGGS.map((a) => ({ value: a, label: t(`aggs.${a}`) }))} onChange={(v) => set({ measures: meas.map((x, j) => (j === i ? { ...x, agg: v } : x)) })} />
                    <Select style={{ width: 140 }} allowClear disabled={m.agg === 'count'} value={m.field} options={fieldOpts} onChange={(v) => set({ measures: meas.map((x, j) => (j === i ? { ...x, field: v } : x)) })} />
                    <Button type="text" danger icon={<DeleteOutlined />} onClick={() => set({ measures: meas.filter((_x, j) => j !== i) })} />
                  </Space>
                ))}
                <Button size="small" icon={<PlusOutlined />} onClick={() => set({ measures: [...meas, { agg: 'count' }] })}>{t('reports.addMeasure')}</Button>
              </Form.Item>
              <Form.Item label={t('reports.chart')}>
                <Select value={chart} onChange={(v) => set({ chart: { ...(report.chart ?? {}), type: v } })} options={CHART_TYPES.map((c) => ({ value: c, label: t(`charts.${c}`) }))} />
              </Form.Item>
              <Form.Item label={t('reports.compare')}>
                <Select allowClear value={report.compare?.period} onChange={(v) => { const next = { ...report }; if (v) next.compare = { ...(report.compare ?? {}), period: v }; else delete next.compare; setReport(next); }} options={['week', 'month', 'year'].map((p) => ({ value: p, label: t(`buckets.${p}`) }))} />
              </Form.Item>
              <Form.Item label={t('reports.limit')}>
                <InputNumber min={1} value={report.limit} onChange={(v) => set({ limit: v ?? undefined })} />
              </Form.Item>
              <Form.Item label={t('reports.filters')} extra='{"stage":{"ne":"lost"}}'>
                <JsonInput value={report.filters} onChange={(v) => set({ filters: v })} rows={3} />
              </Form.Item>
              <Form.Item label={t('reports.params')} extra='{"from":"proposal","to":"negotiation","hours":72}'>
                <JsonInput value={report.params} onChange={(v) => set({ params: v as Record<string, unknown> })} rows={3} />
              </Form.Item>
              <Form.Item label={t('entity.labelZh')}>
                <Input value={(report.label as Record<string, string>)?.['zh-CN']} onChange={(e) => set({ label: { ...((report.label as Record<string, string>) ?? {}), 'zh-CN': e.target.value } })} />
              </Form.Item>
              <Form.Item label={t('entity.labelEn')}>
                <Input value={(report.label as Record<string, string>)?.en} onChange={(e) => set({ label: { ...((report.label as Record<string, string>) ?? {}), en: e.target.value } })} />
              </Form.Item>
            </Form>
          </Card>
        </Col>
        <Col xs={24} lg={16}>
          <Card size="small" title={t('reports.preview')} extra={<Button size="small" icon={<ReloadOutlined />} onClick={() => preview.refetch()} loading={preview.isFetching} />}>
            {preview.isError && <Alert type="error" showIcon title={errorMessage(preview.error)} style={{ marginBottom: 8 }} data-testid="report-error" />}
            {preview.isLoading ? <Skeleton active /> : <ReportResult data={preview.data} chart={chart} />}
          </Card>
        </Col>
      </Row>
    </div>
  );
}
