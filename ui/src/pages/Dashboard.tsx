import { DeleteOutlined, DragOutlined, EditOutlined, EyeOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import { Alert, Button, Card, Col, DatePicker, Empty, Input, Popconfirm, Row, Select, Skeleton, Space, Typography } from 'antd';
import dayjs from 'dayjs';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import ReactGridLayout, { verticalCompactor } from 'react-grid-layout';
import 'react-grid-layout/css/styles.css';
import 'react-resizable/css/styles.css';
import { useTranslation } from 'react-i18next';
import { Link, useParams, useSearchParams } from 'react-router';
import { api, errorMessage } from '../api/client';
import { appAccess, defList, useApp, useDefinition } from '../api/defs';
import type { DashboardDef, EntityDef, ReportData, ReportDef, Widget } from '../api/types';
import DefToolbar from '../components/DefToolbar';
import { usePeople } from '../components/PersonSelect';
import PersonSelect from '../components/PersonSelect';
import ReportResult, { ExportButton } from '../components/ReportResult';
import UndoRedo from '../components/UndoRedo';
import { useDrill } from '../components/useDrill';
import type { ChartSettings } from '../lib/charts';
import { GRID_COLS, PHONE_WIDTH, addWidget, ensureIds, fromLayout, globalFilterJSON, parseGlobalFilter, stackLayout, toLayout, type GlobalFilter, type LayoutItem } from '../lib/dashboardLayout';
import { labelText, optionLabel, optionValue } from '../lib/labels';
import { dashboardQuery, defaultChart, exportUrl, reportFromDefinition, widgetResult } from '../lib/report';
import { useUndoable, useUnsavedGuard } from '../lib/undo';

const ROW_HEIGHT = 44;

/** The width of an element that may mount after the page (a callback ref and a ResizeObserver). */
function useWidth(): [(el: HTMLDivElement | null) => void, number] {
  const [width, setWidth] = useState(0);
  const ro = useRef<ResizeObserver | null>(null);
  const ref = useCallback((el: HTMLDivElement | null) => {
    ro.current?.disconnect();
    ro.current = null;
    if (!el) return;
    setWidth(el.getBoundingClientRect().width);
    ro.current = new ResizeObserver((entries) => setWidth(entries[0].contentRect.width));
    ro.current.observe(el);
  }, []);
  return [ref, width];
}

/** The condition a dashboard's date range puts on a report's date field (records drill-down). */
function rangeFilter(field: string, from: string, to: string): Record<string, unknown> | null {
  if (!from && !to) return null;
  const c: Record<string, string> = {};
  if (from) c.gte = from;
  if (to) c.lt = dayjs(to).add(1, 'day').format('YYYY-MM-DD');
  return { [field]: c };
}

function WidgetCard({ app, w, data, error, standalone, fallbackLabel, edit, onRemove, extra, height }: { app: string; w: Widget; data?: ReportData; error?: string; standalone: boolean; fallbackLabel?: DashboardDef['label']; edit: boolean; onRemove: () => void; extra: Record<string, unknown> | null; height: number }) {
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
  const drill = useDrill(app, r, d, extra ?? undefined);
  return (
    <Card
      size="small"
      title={
        <span className={edit ? 'widget-drag' : undefined} style={{ cursor: edit ? 'move' : undefined }}>
          {edit && <DragOutlined style={{ marginRight: 6 }} />}
          {labelText(w.title ?? r?.label ?? fallbackLabel, i18n.language, w.report)}
        </span>
      }
      style={{ height: '100%', overflow: 'auto' }}
      extra={
        <Space size={4}>
          {!edit && <ExportButton href={(f) => exportUrl(app, { report: w.report }, f)} />}
          {!edit && <Link to={`/apps/${app}/reports/${w.report}`} aria-label={t('reports.view')}><EyeOutlined /></Link>}
          {edit && (
            <Popconfirm title={t('dashboards.removeWidget')} onConfirm={onRemove} okButtonProps={{ danger: true, 'data-testid': 'widget-remove-confirm' } as { danger: boolean }}>
              <Button size="small" type="text" danger icon={<DeleteOutlined />} aria-label={t('common.delete')} data-testid={`widget-remove-${w.report}`} />
            </Popconfirm>
          )}
        </Space>
      }
      data-testid={`widget-${w.report}`}
    >
      {error ? (
        <Alert type="error" showIcon title={t('dashboards.widgetError')} description={error} data-testid="widget-error" />
      ) : own.isError && !data ? (
        <Alert type="error" showIcon title={errorMessage(own.error)} />
      ) : (
        <ReportResult data={d} chart={chart} height={height} settings={r?.chart as ChartSettings} dimensions={r?.dimensions} pivotColumn={r?.params?.pivot_column as string | undefined} onDrill={edit ? undefined : drill} />
      )}
    </Card>
  );
}

/** The global filter bar: date range, owner, team and the select fields of the widgets' entities. */
function FilterBar({ app, entities, from, to, filter, onChange }: { app: string; entities: string[]; from: string; to: string; filter: GlobalFilter; onChange: (p: Record<string, string>) => void }) {
  const { t, i18n } = useTranslation();
  const people = usePeople(app, '');
  const teams = useMemo(() => {
    const m = new Map<string, string>();
    for (const p of people.data ?? []) if (p.team_id) m.set(p.team_id, p.team_name ?? p.team_id);
    return [...m].map(([value, label]) => ({ value, label }));
  }, [people.data]);
  const e0 = useDefinition<EntityDef>(app, 'entities', entities[0] ?? '', !!entities[0]);
  const e1 = useDefinition<EntityDef>(app, 'entities', entities[1] ?? '', !!entities[1]);
  const e2 = useDefinition<EntityDef>(app, 'entities', entities[2] ?? '', !!entities[2]);
  const selects = useMemo(() => {
    const seen = new Map<string, NonNullable<EntityDef['fields']>[number]>();
    for (const e of [e0.data?.def, e1.data?.def, e2.data?.def]) for (const f of e?.fields ?? []) if (f.type === 'select' && !seen.has(f.key)) seen.set(f.key, f);
    return [...seen.values()].slice(0, 4);
  }, [e0.data, e1.data, e2.data]);
  const set = (g: GlobalFilter) => {
    const f = globalFilterJSON(g);
    onChange({ filter: f ? JSON.stringify(f) : '' });
  };
  return (
    <Card size="small" style={{ marginBottom: 12 }} data-testid="dashboard-filters">
      <Space wrap align="center">
        <span>{t('dashboards.dateRange')}</span>
        <DatePicker.RangePicker
          allowEmpty={[true, true]}
          value={[from ? dayjs(from) : null, to ? dayjs(to) : null]}
          onChange={(v) => onChange({ from: v?.[0]?.format('YYYY-MM-DD') ?? '', to: v?.[1]?.format('YYYY-MM-DD') ?? '' })}
          data-testid="dashboard-range"
        />
        <span>{t('dashboards.owner')}</span>
        <div style={{ width: 200 }}><PersonSelect app={app} multiple value={filter.owner ?? []} onChange={(v) => set({ ...filter, owner: (v as string[]) ?? [] })} data-testid="filter-owner" /></div>
        <span>{t('dashboards.team')}</span>
        <Select mode="multiple" allowClear style={{ minWidth: 160 }} value={filter.team ?? []} options={teams} onChange={(v) => set({ ...filter, team: v })} data-testid="filter-team" />
        {selects.map((f) => (
          <Space key={f.key} size={4}>
            <span>{labelText(f.label, i18n.language, f.key)}</span>
            <Select
              mode="multiple"
              allowClear
              style={{ minWidth: 140 }}
              value={filter.fields?.[f.key] ?? []}
              options={(f.options ?? []).map((o) => ({ value: optionValue(o), label: optionLabel(o, i18n.language) }))}
              onChange={(v) => set({ ...filter, fields: { ...(filter.fields ?? {}), [f.key]: v } })}
              data-testid={`filter-${f.key}`}
            />
          </Space>
        ))}
        <Button size="small" onClick={() => onChange({ from: '', to: '', filter: '' })} data-testid="dashboard-clear">{t('dashboards.clearFilters')}</Button>
      </Space>
    </Card>
  );
}

/** A report that can be dragged from the palette onto the grid. */
function PaletteReport({ slug, label, onDragStart }: { slug: string; label: string; onDragStart: (slug: string) => void }) {
  return (
    <div
      className="palette-item droppable-element"
      draggable
      unselectable="on"
      onDragStart={(e) => {
        e.dataTransfer.setData('text/plain', slug);
        onDragStart(slug);
      }}
      data-testid={`palette-report-${slug}`}
    >
      {label}
    </div>
  );
}

/** A dashboard: report widgets on a 24-column grid; ?edit=1 (or the Edit button) arranges them by drag and drop. */
export default function DashboardPage() {
  const { app = '', slug = '' } = useParams();
  const [sp, setSp] = useSearchParams();
  const edit = sp.get('edit') === '1';
  const { t, i18n } = useTranslation();
  const appQ = useApp(app);
  const q = useDefinition<DashboardDef>(app, 'dashboards', slug);
  const hist = useUndoable<DashboardDef | null>(null);
  const dash = hist.value;
  useUnsavedGuard(hist.dirty);
  const loaded = useRef(false);
  const dragging = useRef<string | null>(null);
  const [containerRef, width] = useWidth();
  const mounted = width > 0;
  const from = sp.get('from') ?? '';
  const to = sp.get('to') ?? '';
  const filterParam = sp.get('filter') ?? '';
  const setParams = (patch: Record<string, string>) => {
    const next = new URLSearchParams(sp);
    for (const [k, v] of Object.entries(patch)) if (v) next.set(k, v); else next.delete(k);
    setSp(next);
  };
  useEffect(() => {
    if (q.data && !loaded.current) {
      loaded.current = true;
      if (q.data.def) hist.reset({ ...q.data.def, widgets: q.data.def.widgets ?? [] });
      else {
        // a new dashboard: the names typed when creating it (unsaved until saved)
        const zh = sp.get('label_zh') ?? '';
        const en = sp.get('label_en') ?? '';
        hist.reset({ slug, widgets: [] });
        if (zh || en) hist.set({ slug, widgets: [], label: { ...(zh ? { 'zh-CN': zh } : {}), ...(en ? { en } : {}) } });
      }
    }
  }, [q.data, slug, hist, sp]);
  const data = useQuery({
    queryKey: ['dashboard-data', app, slug, i18n.language, from, to, filterParam],
    enabled: !edit && !!q.data?.def,
    retry: false,
    queryFn: () => api<unknown>(`/api/v1/apps/${encodeURIComponent(app)}/dashboards/${encodeURIComponent(slug)}/data`, { query: dashboardQuery(i18n.language, from, to, filterParam) }),
  });
  const reports = defList(appQ.data, 'reports');
  const widgets = useMemo(() => ensureIds((dash?.widgets ?? []).filter((w) => w.report)), [dash]);
  const entities = useMemo(() => [...new Set(widgets.map((w) => reports.find((r) => r.slug === w.report)?.entity as string | undefined).filter((e): e is string => !!e))], [widgets, reports]);
  const globalFilter = useMemo(() => parseGlobalFilter(filterParam), [filterParam]);
  if (!dash) return q.isError ? <Alert type="error" title={errorMessage(q.error)} /> : <Skeleton active />;

  const setDash = (d: DashboardDef, merge?: string) => hist.set(d, merge);
  const label = dash.label as Record<string, string> | undefined;
  const title = labelText(dash.label, i18n.language, '');
  const phone = mounted && width < PHONE_WIDTH;
  const layout = toLayout(widgets);
  const onLayout = (l: readonly LayoutItem[]) => {
    const next = fromLayout(widgets, l);
    if (JSON.stringify(next) !== JSON.stringify(widgets)) setDash({ ...dash, widgets: next });
  };
  const dateField = (w: Widget) => (reports.find((r) => r.slug === w.report) as { params?: { date_field?: string } } | undefined)?.params?.date_field ?? 'created_at';
  const extraOf = (w: Widget) => {
    const parts = [globalFilterJSON(globalFilter), rangeFilter(dateField(w), from, to)].filter(Boolean) as Record<string, unknown>[];
    return parts.length === 0 ? null : parts.length === 1 ? parts[0] : { ...parts[0], ...parts[1] };
  };
  const card = (w: Widget, i: number, h: number) => {
    const res = widgetResult(data.data, w, i);
    return (
      <WidgetCard
        app={app}
        w={w}
        data={res.data}
        error={res.error}
        standalone={edit || !q.data?.def || data.isError}
        fallbackLabel={reports.find((r) => r.slug === w.report)?.label}
        edit={edit && !phone}
        onRemove={() => setDash({ ...dash, widgets: widgets.filter((x) => x.id !== w.id) })}
        extra={extraOf(w)}
        height={h}
      />
    );
  };

  return (
    <div>
      <Space style={{ marginBottom: 12 }} wrap>
        <Link to={`/apps/${app}`}>{appQ.data?.name ?? app}</Link>
        <span>/</span>
        <Typography.Title level={4} style={{ margin: 0 }} data-testid="dashboard-title">{title || slug}</Typography.Title>
        {title && <Typography.Text type="secondary">{slug}</Typography.Text>}
        {appAccess(appQ.data).design && <Button size="small" icon={edit ? <EyeOutlined /> : <EditOutlined />} onClick={() => setParams({ edit: edit ? '' : '1' })} data-testid="dashboard-edit">{edit ? t('dashboards.view') : t('common.edit')}</Button>}
      </Space>
      {!edit && <FilterBar app={app} entities={entities} from={from} to={to} filter={globalFilter} onChange={setParams} />}
      {data.isError && <Alert type="error" showIcon title={errorMessage(data.error)} style={{ marginBottom: 12 }} data-testid="dashboard-error" />}
      {edit && (
        <>
          <DefToolbar app={app} kind="dashboards" slug={slug} getDefinition={() => ({ ...dash, widgets })} onSaved={hist.markSaved} onRestore={(d) => setDash({ ...(d as DashboardDef), slug })} extra={<UndoRedo h={hist} />} />
          <Row gutter={12} style={{ marginBottom: 12 }}>
            <Col xs={24} md={12}>
              <Input addonBefore={t('dashboards.labelZh')} value={label?.['zh-CN'] ?? ''} onChange={(e) => setDash({ ...dash, label: { ...(label ?? {}), 'zh-CN': e.target.value } }, 'label:zh')} data-testid="dashboard-label-zh" />
            </Col>
            <Col xs={24} md={12}>
              <Input addonBefore={t('dashboards.labelEn')} value={label?.en ?? ''} onChange={(e) => setDash({ ...dash, label: { ...(label ?? {}), en: e.target.value } }, 'label:en')} data-testid="dashboard-label-en" />
            </Col>
          </Row>
        </>
      )}
      <Row gutter={12}>
        {edit && (
          <Col xs={24} lg={4}>
            <Card size="small" title={t('dashboards.reports')} data-testid="dashboard-palette" style={{ marginBottom: 12 }}>
              <Typography.Paragraph type="secondary" style={{ fontSize: 12 }}>{t('dashboards.dragReports')}</Typography.Paragraph>
              {reports.map((r) => <PaletteReport key={r.slug} slug={r.slug} label={labelText(r.label, i18n.language, r.slug)} onDragStart={(s) => (dragging.current = s)} />)}
            </Card>
          </Col>
        )}
        <Col xs={24} lg={edit ? 20 : 24}>
          <div ref={containerRef} className={edit ? 'dash-edit' : undefined} data-testid="dashboard-grid" style={{ minHeight: edit ? 320 : undefined }}>
            {phone ? (
              <div className="dash-stack" data-testid="dashboard-stack">
                {stackLayout(widgets).map((w) => <div key={w.id ?? w.report} style={{ marginBottom: 12 }}>{card(w, widgets.indexOf(w), 240)}</div>)}
              </div>
            ) : mounted ? (
              <>
                {widgets.length === 0 && !edit && <Empty />}
                {widgets.length === 0 && edit && <Typography.Text type="secondary" className="dash-empty-hint">{t('dashboards.emptyGrid')}</Typography.Text>}
                <ReactGridLayout
                  width={width}
                  layout={layout}
                  gridConfig={{ cols: GRID_COLS, rowHeight: ROW_HEIGHT, margin: [12, 12] }}
                  dragConfig={{ enabled: edit, handle: '.widget-drag' }}
                  resizeConfig={{ enabled: edit, handles: ['se'] }}
                  dropConfig={{ enabled: edit, defaultItem: { w: 12, h: 8 } }}
                  compactor={verticalCompactor}
                  style={edit ? { minHeight: 320 } : undefined}
                  onLayoutChange={edit ? (l) => onLayout(l as LayoutItem[]) : undefined}
                  onDrop={(_l, item) => {
                    const report = dragging.current;
                    dragging.current = null;
                    if (report && item) setDash({ ...dash, widgets: addWidget(widgets, report, { x: item.x, y: item.y, w: item.w, h: item.h }) });
                  }}
                >
                  {widgets.map((w, i) => (
                    <div key={w.id!} data-testid={`grid-item-${w.report}`}>
                      {card(w, i, Math.max(120, (w.h || 8) * (ROW_HEIGHT + 12) - 120))}
                    </div>
                  ))}
                </ReactGridLayout>
              </>
            ) : null}
          </div>
        </Col>
      </Row>
    </div>
  );
}
