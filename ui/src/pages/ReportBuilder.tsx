import { DndContext, PointerSensor, useDraggable, useDroppable, useSensor, useSensors, type DragEndEvent } from '@dnd-kit/core';
import { DeleteOutlined, PlusOutlined, ReloadOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import { Alert, App, Button, Card, Col, Form, Input, InputNumber, Row, Select, Skeleton, Space, Typography } from 'antd';
import { useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useLocation, useParams, useSearchParams } from 'react-router';
import { ApiError, api, errorMessage } from '../api/client';
import { defList, useApp, useDefinition } from '../api/defs';
import type { EntityDef, ReportData, ReportDef } from '../api/types';
import DefToolbar from '../components/DefToolbar';
import ReportResult, { ExportButton } from '../components/ReportResult';
import { FilterInput } from '../components/ConditionBuilder';
import ReportParams, { KIND_PARAMS } from '../components/ReportParams';
import { labelText } from '../lib/labels';
import ChartOptions from '../components/ChartOptions';
import UndoRedo from '../components/UndoRedo';
import { useDrill } from '../components/useDrill';
import type { ChartSettings } from '../lib/charts';
import { useUndoable, useUnsavedGuard } from '../lib/undo';
import { AGGS, REPORT_KINDS, cleanReport, defaultChart, dropField, exportUrl, groupFieldErrors, reportFromDefinition, sortKeys, type ErrorSlot } from '../lib/report';

function useDebounced<T>(v: T, ms: number): T {
  const [d, setD] = useState(v);
  useEffect(() => {
    const h = setTimeout(() => setD(v), ms);
    return () => clearTimeout(h);
  }, [v, ms]);
  return d;
}

/** A field of the entity that can be dragged onto the dimensions or measures. */
function PaletteField({ id, label }: { id: string; label: string }) {
  const { attributes, listeners, setNodeRef, transform } = useDraggable({ id: `field:${id}` });
  return (
    <div ref={setNodeRef} className="palette-item" style={{ transform: transform ? `translate(${transform.x}px, ${transform.y}px)` : undefined, zIndex: transform ? 10 : undefined, position: 'relative' }} {...attributes} {...listeners} data-testid={`report-field-${id}`}>
      {label}
    </div>
  );
}

/** A drop zone (dimensions or measures) for palette fields. */
function DropZone({ id, children }: { id: 'dimensions' | 'measures'; children: ReactNode }) {
  const { t } = useTranslation();
  const { setNodeRef, isOver } = useDroppable({ id });
  return (
    <div ref={setNodeRef} data-testid={`report-drop-${id}`} style={{ border: `1px dashed ${isOver ? '#1677ff' : '#d9d9d9'}`, background: isOver ? '#e6f4ff' : undefined, borderRadius: 6, padding: 6, minHeight: 40 }}>
      {children}
      <Typography.Text type="secondary" style={{ fontSize: 12 }}>{t('reports.dropHere')}</Typography.Text>
    </div>
  );
}

/** A published report's data (GET .../reports/{slug}/data). */
function ReportView({ app, slug }: { app: string; slug: string }) {
  const { t, i18n } = useTranslation();
  const def = useDefinition<ReportDef>(app, 'reports', slug);
  const data = useQuery({ queryKey: ['report-data', app, slug, i18n.language], queryFn: () => api<ReportData>(`/api/v1/apps/${encodeURIComponent(app)}/reports/${encodeURIComponent(slug)}/data`, { query: { locale: i18n.language } }) });
  const r = reportFromDefinition(def.data?.def, def.data?.meta);
  const drill = useDrill(app, r, data.data);
  return (
    <Card
      title={labelText(r?.label, i18n.language, slug)}
      extra={
        <Space>
          <Button size="small" icon={<ReloadOutlined />} onClick={() => data.refetch()} aria-label={t('reports.refresh')} />
          <Link to={`/apps/${app}/reports/${slug}/design`}>{t('common.design')}</Link>
          <ExportButton href={(f) => exportUrl(app, { report: slug }, f)} />
        </Space>
      }
    >
      {data.isError && <Alert type="error" showIcon title={errorMessage(data.error)} />}
      {data.isLoading ? <Skeleton active /> : <ReportResult data={data.data} chart={String(r?.chart?.type ?? defaultChart(r?.kind ?? 'pivot'))} settings={r?.chart as ChartSettings} dimensions={r?.dimensions} pivotColumn={r?.params?.pivot_column as string | undefined} onDrill={drill} />}
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
  const hist = useUndoable<ReportDef | null>(null);
  const report = hist.value;
  const setReport = (r: ReportDef, merge?: string) => hist.set(r, merge);
  useUnsavedGuard(hist.dirty);
  const { modal } = App.useApp();
  const loaded = useRef(false);
  useEffect(() => {
    if (design && q.data && !loaded.current) {
      loaded.current = true;
      hist.reset(reportFromDefinition(q.data.def, q.data.meta) ?? { slug, entity: sp.get('entity') ?? '', kind: 'pivot', dimensions: [{ field: '' }], measures: [{ agg: 'count' }] });
    }
  }, [design, q.data, slug, sp, hist]);
  const entityQ = useDefinition<EntityDef>(app, 'entities', report?.entity ?? '', !!report?.entity);
  const cleaned = useMemo(() => (report ? cleanReport(report) : null), [report]);
  const debounced = useDebounced(cleaned, 500);
  const preview = useQuery({
    queryKey: ['report-preview', app, debounced, i18n.language],
    enabled: !!debounced?.entity,
    queryFn: () => api<ReportData>(`/api/v1/apps/${encodeURIComponent(app)}/reports/preview`, { method: 'POST', body: debounced, query: { locale: i18n.language } }),
    retry: false,
  });
  const drill = useDrill(app, debounced, preview.data);

  const sensors = useSensors(useSensor(PointerSensor, { activationConstraint: { distance: 4 } }));

  if (!design) return <ReportView app={app} slug={slug} />;
  if (!report) return q.isError ? <Alert type="error" title={errorMessage(q.error)} /> : <Skeleton active />;
  const fields = entityQ.data?.def?.fields ?? [];
  const fieldOpts = [
    ...fields.map((f) => ({ value: f.key, label: `${labelText(f.label, i18n.language, f.key)} (${f.key})` })),
    { value: 'created_at', label: t('records.createdAt') },
    { value: 'owner_id', label: t('reports.owner') },
    { value: 'team_id', label: t('reports.team') },
  ];
  const set = (patch: Partial<ReportDef>, merge?: string) => setReport({ ...report, ...patch }, merge);
  const dims = report.dimensions ?? [];
  const meas = report.measures ?? [];
  const chart = String(report.chart?.type ?? defaultChart(report.kind));
  const fieldErrs = preview.error instanceof ApiError ? groupFieldErrors(preview.error.fieldErrors) : [];
  const errAt = (slot: ErrorSlot, index?: number) => {
    const msgs = fieldErrs.filter((e) => e.slot === slot && (index === undefined || e.index === index)).map((e) => e.message);
    return msgs.length ? msgs.join('; ') : undefined;
  };
  const item = (slot: ErrorSlot) => {
    const help = errAt(slot);
    return help ? { validateStatus: 'error' as const, help: <span data-testid={`report-error-${slot}`}>{help}</span> } : {};
  };
  const fieldTypes = new Map(fields.map((f) => [f.key, f.type]));
  const onDragEnd = (e: DragEndEvent) => {
    const key = String(e.active.id).replace(/^field:/, '');
    const zone = e.over?.id;
    if (zone === 'dimensions' || zone === 'measures') setReport(dropField(report, zone, key, fieldTypes.get(key) ?? (key === 'created_at' ? 'datetime' : undefined)));
  };
  const sortOpts = sortKeys(report).flatMap((k) => [
    { value: k, label: `${k} ${t('reports.asc')}` },
    { value: `-${k}`, label: `${k} ${t('reports.desc')}` },
  ]);

  return (
    <div>
      <Space style={{ marginBottom: 8 }}>
        <Link to={`/apps/${app}`}>{appQ.data?.name ?? app}</Link>
        <span>/</span>
        <Typography.Title level={4} style={{ margin: 0 }} data-testid="report-title">{t('reports.builder')}: {labelText(report.label, i18n.language, slug)}</Typography.Title>
        {labelText(report.label, i18n.language, '') && <Typography.Text type="secondary">{slug}</Typography.Text>}
        <Link to={`/apps/${app}/reports/${slug}`}>{t('reports.view')}</Link>
      </Space>
      <DefToolbar app={app} kind="reports" slug={slug} getDefinition={() => cleaned} onSaved={hist.markSaved} onRestore={(d) => setReport({ ...(reportFromDefinition(d as ReportDef) ?? (d as ReportDef)), slug })} extra={<UndoRedo h={hist} />} />
      <DndContext sensors={sensors} onDragEnd={onDragEnd}>
      <Row gutter={16}>
        <Col xs={24} lg={4}>
          <Card size="small" title={t('reports.fields')} data-testid="report-palette">
            <Typography.Paragraph type="secondary" style={{ fontSize: 12 }}>{t('reports.dragHelp')}</Typography.Paragraph>
            {report.entity ? fieldOpts.map((o) => <PaletteField key={o.value} id={o.value} label={o.label} />) : <Typography.Text type="secondary">{t('reports.pickEntity')}</Typography.Text>}
          </Card>
        </Col>
        <Col xs={24} lg={8}>
          <Card size="small">
            <Form layout="vertical" size="small">
              <Form.Item label={t('common.entity')} {...item('entity')}>
                <Select value={report.entity || undefined} onChange={(v) => {
                  const change = () => set({ entity: v, dimensions: [{ field: '' }], measures: [{ agg: 'count' }], filters: undefined, params: undefined, sort: undefined });
                  const used = (report.dimensions ?? []).some((d) => d.field) || !!report.filters || !!report.params;
                  if (report.entity && used) modal.confirm({ title: t('reports.changeEntity'), content: t('reports.changeEntityBody'), okButtonProps: { danger: true, 'data-testid': 'entity-change-confirm' } as { danger: boolean }, onOk: change });
                  else change();
                }} options={defList(appQ.data, 'entities').map((e) => ({ value: e.slug, label: labelText(e.label, i18n.language, e.slug) }))} data-testid="report-entity" />
              </Form.Item>
              <Form.Item label={t('reports.kind')} {...item('kind')}>
                <Select value={report.kind} onChange={(v) => set({ kind: v })} options={REPORT_KINDS.map((k) => ({ value: k, label: t(`reportKinds.${k}`) }))} data-testid="report-kind" />
              </Form.Item>
              <Form.Item label={t('reports.dimensions')} {...(errAt('dimensions') ? { validateStatus: 'error' as const } : {})}>
                <DropZone id="dimensions">
                {dims.map((d, i) => (
                  <div key={i}>
                  <Space style={{ marginBottom: 4 }}>
                    <Select style={{ width: 170 }} value={d.field || undefined} options={fieldOpts} onChange={(v) => set({ dimensions: dims.map((x, j) => (j === i ? { ...x, field: v } : x)) })} data-testid={`report-dim-${i}`} />
                    <Select style={{ width: 90 }} allowClear placeholder={t('reports.bucket')} value={d.bucket} options={['day', 'week', 'month', 'quarter', 'year'].map((b) => ({ value: b, label: t(`buckets.${b}`) }))} onChange={(v) => set({ dimensions: dims.map((x, j) => (j === i ? { ...x, bucket: v } : x)) })} />
                    <Button type="text" danger icon={<DeleteOutlined />} onClick={() => set({ dimensions: dims.filter((_x, j) => j !== i) })} aria-label={t('common.delete')} />
                  </Space>
                  {errAt('dimensions', i) && <Typography.Text type="danger" style={{ display: 'block', fontSize: 12 }} data-testid={`report-error-dimensions-${i}`}>{errAt('dimensions', i)}</Typography.Text>}
                  </div>
                ))}
                <Button size="small" icon={<PlusOutlined />} onClick={() => set({ dimensions: [...dims, { field: '' }] })}>{t('reports.addDimension')}</Button>
                </DropZone>
              </Form.Item>
              <Form.Item label={t('reports.measures')} {...(errAt('measures') ? { validateStatus: 'error' as const } : {})}>
                <DropZone id="measures">
                {meas.map((m, i) => (
                  <div key={i}>
                  <Space style={{ marginBottom: 4 }}>
                    <Select style={{ width: 120 }} value={m.agg} options={AGGS.map((a) => ({ value: a, label: t(`aggs.${a}`) }))} onChange={(v) => set({ measures: meas.map((x, j) => (j === i ? { ...x, agg: v } : x)) })} />
                    <Select style={{ width: 140 }} allowClear disabled={m.agg === 'count' || m.agg === 'rate'} value={m.field} options={fieldOpts} onChange={(v) => set({ measures: meas.map((x, j) => (j === i ? { ...x, field: v } : x)) })} />
                    <Button type="text" danger icon={<DeleteOutlined />} onClick={() => set({ measures: meas.filter((_x, j) => j !== i) })} aria-label={t('common.delete')} />
                  </Space>
                  {errAt('measures', i) && <Typography.Text type="danger" style={{ display: 'block', fontSize: 12 }} data-testid={`report-error-measures-${i}`}>{errAt('measures', i)}</Typography.Text>}
                  </div>
                ))}
                <Button size="small" icon={<PlusOutlined />} onClick={() => set({ measures: [...meas, { agg: 'count' }] })}>{t('reports.addMeasure')}</Button>
                </DropZone>
              </Form.Item>
              <Form.Item label={t('charts.options')} {...item('chart')}>
                <Card size="small">
                  <ChartOptions report={report} chart={chart} onChange={(r) => setReport(r)} dimOptions={fieldOpts} />
                </Card>
              </Form.Item>
              <Form.Item label={t('reports.compare')} {...item('compare')}>
                <Select allowClear value={report.compare?.period} onChange={(v) => { const next = { ...report }; if (v) next.compare = { ...(report.compare ?? {}), period: v }; else delete next.compare; setReport(next); }} options={[...['day', 'week', 'month', 'quarter', 'year'].map((p) => ({ value: p, label: t(`buckets.${p}`) })), { value: 'previous', label: t('charts.previous') }]} />
              </Form.Item>
              <Form.Item label={t('reports.sort')} {...item('sort')}>
                <Select mode="multiple" allowClear value={report.sort ?? []} onChange={(v: string[]) => set({ sort: v })} options={sortOpts} data-testid="report-sort" />
              </Form.Item>
              <Form.Item label={t('reports.limit')} extra={t('reports.limitHelp')} {...item('limit')}>
                <InputNumber min={1} max={10000} value={report.limit} onChange={(v) => set({ limit: v ?? undefined })} data-testid="report-limit" />
              </Form.Item>
              <Form.Item label={t('reports.filters')} {...item('filters')}>
                <FilterInput app={app} fields={fields} value={report.filters as Record<string, unknown> | undefined} onChange={(v) => { const next = { ...report }; if (v) next.filters = v; else delete next.filters; setReport(next); }} data-testid="report-filters" />
              </Form.Item>
              {KIND_PARAMS[report.kind]?.length ? (
                <Form.Item label={t('reports.params')} {...item('params')}>
                  <ReportParams kind={report.kind} entity={entityQ.data?.def} value={report.params as Record<string, unknown> | undefined} onChange={(v) => { const next = { ...report }; if (v) next.params = v; else delete next.params; setReport(next); }} />
                </Form.Item>
              ) : null}
              <Form.Item label={t('entity.labelZh')}>
                <Input value={(report.label as Record<string, string>)?.['zh-CN']} onChange={(e) => set({ label: { ...((report.label as Record<string, string>) ?? {}), 'zh-CN': e.target.value } }, 'label:zh')} data-testid="report-label-zh" />
              </Form.Item>
              <Form.Item label={t('entity.labelEn')}>
                <Input value={(report.label as Record<string, string>)?.en} onChange={(e) => set({ label: { ...((report.label as Record<string, string>) ?? {}), en: e.target.value } }, 'label:en')} data-testid="report-label-en" />
              </Form.Item>
            </Form>
          </Card>
        </Col>
        <Col xs={24} lg={12}>
          <Card size="small" title={t('reports.preview')} extra={<Button size="small" icon={<ReloadOutlined />} onClick={() => preview.refetch()} loading={preview.isFetching} aria-label={t('reports.refresh')} />}>
            {preview.isError && <Alert type="error" showIcon title={fieldErrs.length ? t('reports.invalid') : errorMessage(preview.error)} description={fieldErrs.length ? fieldErrs.map((e) => e.message).join('; ') : undefined} style={{ marginBottom: 8 }} data-testid="report-error" />}
            {preview.isLoading ? <Skeleton active /> : <ReportResult data={preview.data} chart={chart} settings={report.chart as ChartSettings} dimensions={report.dimensions} pivotColumn={report.params?.pivot_column as string | undefined} onDrill={drill} />}
          </Card>
        </Col>
      </Row>
      </DndContext>
    </div>
  );
}
