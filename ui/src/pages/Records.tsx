import { DeleteOutlined, EditOutlined, FilterOutlined, PlusOutlined, UploadOutlined } from '@ant-design/icons';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, App, Badge, Button, Collapse, Input, Popconfirm, Popover, Segmented, Select, Skeleton, Space, Table, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import dayjs from 'dayjs';
import { useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams, useSearchParams } from 'react-router';
import { ApiError, api, errorMessage } from '../api/client';
import { appAccess, useApp, useDefinition } from '../api/defs';
import { mergeDisplay, recordsPath, useRecord, useRecords } from '../api/records';
import type { EntityDef, RecordItem } from '../api/types';
import { FilterInput } from '../components/ConditionBuilder';
import { ExportButton } from '../components/ExportButton';
import { fieldLabel, type Names } from '../components/FieldInput';
import Kanban from '../components/Kanban';
import RecordDrawer from '../components/RecordDrawer';
import { gateMessage } from '../components/record/StageBar';
import BulkBar from '../components/records/BulkBar';
import ColumnChooser from '../components/records/ColumnChooser';
import ImportWizard from '../components/records/ImportWizard';
import InlineCell from '../components/records/InlineCell';
import ViewBar, { useViews } from '../components/records/ViewBar';
import type { FilterJSON } from '../lib/condition';
import { labelText, optionLabel, optionValue } from '../lib/labels';
import { INLINE_EDITABLE, type SavedView, type ViewConfig, allColumns, cleanColumns, defaultConfig, exportQuery, groupFilter, groupableFields } from '../lib/listView';
import { exportUrl } from '../lib/report';

const UNSORTABLE = ['attachment', 'multiselect', 'relation', 'formula', 'user', 'team', 'lines'];

interface TableProps {
  app: string;
  slug: string;
  entity: EntityDef;
  filter: FilterJSON | null | undefined;
  q: string;
  sort: string;
  columns: (names: Names) => ColumnsType<RecordItem>;
  selected: string[];
  onSelect: (ids: string[], shown: string[]) => void;
  onSort: (s: string) => void;
  onOpen: (r: RecordItem) => void;
  seen: (recs: RecordItem[]) => void;
  testid?: string;
}

/** One paged table of records (the whole list, or one group of it). */
function RecordTable({ app, slug, entity, filter, q, sort, columns, selected, onSelect, onSort, onOpen, seen, testid }: TableProps) {
  const { t } = useTranslation();
  const list = useRecords(app, slug, { q: q || undefined, filter: filter && Object.keys(filter).length ? JSON.stringify(filter) : undefined, sort, limit: 50 }, !!entity);
  const records = useMemo(() => (list.data?.pages ?? []).flatMap((p) => p.items), [list.data]);
  const display = useMemo(() => mergeDisplay(list.data?.pages), [list.data]);
  const names: Names = { map: display, placeholder: t('records.restricted') };
  useEffect(() => seen(records), [records]); // eslint-disable-line react-hooks/exhaustive-deps
  const ids = records.map((r) => r.id);
  return (
    <>
      {list.isError && <Alert type="error" showIcon title={errorMessage(list.error)} style={{ marginBottom: 12 }} />}
      <Table<RecordItem>
        data-testid={testid ?? 'records-table'}
        rowKey="id"
        size="middle"
        loading={list.isLoading}
        dataSource={records}
        columns={columns(names)}
        pagination={false}
        scroll={{ x: 'max-content' }}
        rowSelection={{ selectedRowKeys: selected.filter((id) => ids.includes(id)), onChange: (keys) => onSelect(keys.map(String), ids), columnWidth: 36 }}
        onChange={(_p, _f, s) => {
          const so = Array.isArray(s) ? s[0] : s;
          if (so?.order && so.columnKey) onSort(so.order === 'ascend' ? String(so.columnKey) : `-${String(so.columnKey)}`);
          else onSort('-created_at');
        }}
        onRow={(r) => ({ onClick: () => onOpen(r), style: { cursor: 'pointer' } })}
      />
      {list.hasNextPage && (
        <div style={{ textAlign: 'center', marginTop: 12 }}>
          <Button onClick={() => list.fetchNextPage()} loading={list.isFetchingNextPage}>{t('common.loadMore')}</Button>
        </div>
      )}
    </>
  );
}

interface GroupCount {
  value: unknown;
  count: number;
}

/** The list grouped by a field: one collapsible table per value, with the group's count. */
function GroupedTables(props: Omit<TableProps, 'filter' | 'testid'> & { filter: FilterJSON | null | undefined; group: string }) {
  const { app, slug, entity, filter, q, group } = props;
  const { t, i18n } = useTranslation();
  const f = entity.fields.find((x) => x.key === group);
  const fq = filter && Object.keys(filter).length ? JSON.stringify(filter) : undefined;
  const groups = useQuery({
    queryKey: ['records', app, slug, 'groups', group, fq, q],
    queryFn: () => api<{ items: GroupCount[]; display: Record<string, string> }>(`/api/v1/apps/${encodeURIComponent(app)}/entities/${encodeURIComponent(slug)}/groups`, { query: { group, filter: fq, q: q || undefined } }),
  });
  if (groups.isLoading) return <Skeleton active />;
  if (groups.isError) return <Alert type="error" showIcon title={errorMessage(groups.error)} />;
  let items = groups.data?.items ?? [];
  if (f?.type === 'select') {
    const order = (f.options ?? []).map(optionValue);
    items = [...items].sort((a, b) => (a.value == null ? 1 : b.value == null ? -1 : order.indexOf(String(a.value)) - order.indexOf(String(b.value))));
  }
  const label = (v: unknown): string => {
    if (v === null || v === undefined || v === '') return t('lists.noValue');
    if (f?.type === 'select') {
      const o = (f.options ?? []).find((x) => optionValue(x) === v);
      return o ? optionLabel(o, i18n.language) : String(v);
    }
    if (f?.type === 'boolean') return v ? t('lists.yes') : t('lists.no');
    return groups.data?.display[String(v)] ?? (f?.type === 'relation' ? t('records.restricted') : String(v));
  };
  if (!items.length) return <Table dataSource={[]} columns={[]} data-testid="records-table" />;
  return (
    <Collapse
      data-testid="record-groups"
      defaultActiveKey={items.slice(0, 3).map((_g, i) => String(i))}
      items={items.map((g, i) => ({
        key: String(i),
        label: (
          <Space data-testid={`group-${label(g.value)}`}>
            <Typography.Text strong>{label(g.value)}</Typography.Text>
            <Badge count={g.count} showZero overflowCount={99999} color="#8c8c8c" data-testid="group-count" />
          </Space>
        ),
        children: <RecordTable {...props} filter={groupFilter(filter, group, g.value)} testid={`records-table-${i}`} />,
      }))}
    />
  );
}

/** The filter of the record list URL (?filter=JSON), or null when absent or not a JSON object. */
function parseUrlFilter(raw: string | null): Record<string, unknown> | null {
  if (!raw) return null;
  try {
    const v = JSON.parse(raw) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export default function Records() {
  const { app = '', slug = '' } = useParams();
  const { t, i18n } = useTranslation();
  const { message, modal } = App.useApp();
  const qc = useQueryClient();
  const def = useDefinition<EntityDef>(app, 'entities', slug);
  const appQ = useApp(app);
  const entity = def.data?.def ?? null;
  const [q, setQ] = useState('');
  const [config, setConfig] = useState<ViewConfig | null>(null);
  const [mode, setMode] = useState<'table' | 'kanban'>('table');
  const [lanes, setLanes] = useState<'' | 'owner'>('');
  const [drawer, setDrawer] = useState<{ record: RecordItem | null } | null>(null);
  const [selected, setSelected] = useState<string[]>([]);
  const [importing, setImporting] = useState(false);
  const titles = useRef<Record<string, string>>({});
  const access = appAccess(appQ.data);
  const res = `entity:${slug}`;
  const [search, setSearch] = useSearchParams();
  const viewId = search.get('view') ?? '';
  const urlFilter = search.get('filter');
  const views = useViews(app, slug);

  // the configuration starts from the view in the URL (once the views are loaded), else the default
  const applied = useRef<string | null>(null);
  useEffect(() => {
    if (!entity) return;
    if (viewId && !views.data) return;
    const key = `${slug}|${viewId}|${urlFilter ?? ''}`;
    if (applied.current === key) return;
    applied.current = key;
    const v = views.data?.items.find((x) => x.id === viewId);
    const base = defaultConfig(entity);
    const cfg = v ? { ...base, ...v.config, columns: cleanColumns(v.config.columns.length ? v.config.columns : base.columns, entity) } : base;
    // ?filter= (a report's drill-down: the records behind a chart element) starts the filter
    const uf = parseUrlFilter(urlFilter);
    setConfig(uf ? { ...cfg, filter: uf as ViewConfig['filter'] } : cfg);
  }, [entity, viewId, views.data, slug, urlFilter]);
  const pickView = (v: SavedView | null) => {
    const next = new URLSearchParams(search);
    if (v) next.set('view', v.id);
    else next.delete('view');
    applied.current = null;
    if (v && entity) {
      applied.current = `${slug}|${v.id}|${urlFilter ?? ''}`;
      setConfig({ ...defaultConfig(entity), ...v.config, columns: cleanColumns(v.config.columns, entity) });
    }
    setSearch(next, { replace: true });
  };

  // ?record=<id> (links from notifications) opens that record
  const wanted = search.get('record');
  const linked = useRecord(app, slug, wanted);
  useEffect(() => {
    if (wanted && linked.data && linked.data.id === wanted) setDrawer({ record: linked.data });
  }, [wanted, linked.data]);
  const closeDrawer = () => {
    setDrawer(null);
    if (wanted) {
      const next = new URLSearchParams(search);
      next.delete('record');
      setSearch(next, { replace: true });
    }
  };
  // the kanban shows the whole (filtered) list
  const cfg = config ?? (entity ? defaultConfig(entity) : { columns: [] });
  const kanbanList = useRecords(app, slug, { q: q || undefined, filter: cfg.filter && Object.keys(cfg.filter).length ? JSON.stringify(cfg.filter) : undefined, sort: cfg.sort, limit: 200 }, !!entity && mode === 'kanban');

  if (def.isLoading || (entity && !config)) return <Skeleton active />;
  if (!entity) return <Alert type="warning" showIcon title={def.isError ? errorMessage(def.error) : t('records.noEntity')} action={access.design ? <Link to={`/apps/${app}/entities/${slug}/design`}>{t('common.design')}</Link> : undefined} />;
  const c = config!;
  const set = (patch: Partial<ViewConfig>) => setConfig({ ...c, ...patch });
  const all = allColumns(entity);
  const colLabel = (k: string) => {
    const f = entity.fields.find((x) => x.key === k);
    if (f) return fieldLabel(f, i18n.language);
    return ({ owner_id: t('records.owner'), team_id: t('records.team'), created_at: t('records.createdAt'), updated_at: t('records.updatedAt') } as Record<string, string>)[k] ?? k;
  };
  const mayUpdate = access.may(res, 'update');
  const refresh = () => void qc.invalidateQueries({ queryKey: ['records', app, slug] });

  const moveStage = async (r: RecordItem, to: string) => {
    const field = entity.stages!.field;
    try {
      await api(recordsPath(app, slug, r.id), { method: 'PATCH', body: { [field]: to }, headers: { 'If-Match': String(r.version) } });
      message.success(t('records.moved', { stage: to }));
    } catch (e) {
      if (e instanceof ApiError && e.status === 422) {
        const msg = gateMessage(e, i18n.language, t('records.gateBlocked'));
        modal.error({ title: t('records.gateBlocked'), content: <span data-testid="gate-message">{msg}</span> });
      } else if (e instanceof ApiError && e.status === 409) message.error(t('records.conflict'));
      else message.error(errorMessage(e));
    } finally {
      refresh();
      void qc.invalidateQueries({ queryKey: ['history', app, slug, r.id] });
    }
  };
  const remove = async (r: RecordItem) => {
    try {
      await api(recordsPath(app, slug, r.id), { method: 'DELETE' });
      message.success(t('records.deleted'));
      refresh();
    } catch (e) {
      message.error(errorMessage(e));
    }
  };

  const sortOrder = (k: string) => (c.sort === k ? ('ascend' as const) : c.sort === `-${k}` ? ('descend' as const) : null);
  const columns = (names: Names): ColumnsType<RecordItem> => [
    ...c.columns.map((k) => {
      const f = entity.fields.find((x) => x.key === k);
      if (f) {
        return {
          title: colLabel(k),
          dataIndex: ['data', k],
          key: k,
          ellipsis: !mayUpdate,
          sorter: !UNSORTABLE.includes(f.type),
          sortOrder: sortOrder(k),
          render: (_v: unknown, r: RecordItem) => (
            <InlineCell app={app} entity={slug} field={f} record={r} names={names} editable={mayUpdate && INLINE_EDITABLE.includes(f.type)} onSaved={() => { message.success(t('records.saved')); refresh(); }} />
          ),
        };
      }
      if (k === 'owner_id' || k === 'team_id') {
        return { title: colLabel(k), dataIndex: k, key: k, width: 120, ellipsis: true, render: (v: string | null) => (v ? names.map[v] ?? names.placeholder : '') };
      }
      return { title: colLabel(k), dataIndex: k, key: k, width: 150, sorter: true, sortOrder: sortOrder(k), render: (v: string) => (v ? dayjs(v).format('YYYY-MM-DD HH:mm') : '') };
    }),
    {
      title: '',
      key: 'actions',
      width: 80,
      fixed: 'right' as const,
      render: (_v: unknown, r: RecordItem) => (
        <Space size={0}>
          <Button type="text" size="small" icon={<EditOutlined />} onClick={(e) => { e.stopPropagation(); setDrawer({ record: r }); }} aria-label={t('common.edit')} />
          {access.may(res, 'delete') && (
            <Popconfirm title={t('common.confirmDelete')} onConfirm={() => remove(r)}>
              <Button type="text" size="small" danger icon={<DeleteOutlined />} onClick={(e) => e.stopPropagation()} aria-label={t('common.delete')} />
            </Popconfirm>
          )}
        </Space>
      ),
    },
  ];
  const titleKey = entity.title_field || entity.fields.find((f) => f.type === 'text')?.key || '';
  const tableProps = {
    app,
    slug,
    entity,
    q,
    sort: c.sort || '-created_at',
    columns,
    selected,
    onSelect: (ids: string[], shown: string[]) => setSelected([...selected.filter((x) => !shown.includes(x)), ...ids]),
    onSort: (s: string) => set({ sort: s }),
    onOpen: (r: RecordItem) => setDrawer({ record: r }),
    seen: (recs: RecordItem[]) => {
      for (const r of recs) titles.current[r.id] = String(r.data[titleKey] ?? '');
    },
  };
  const activeFilters = c.filter ? Object.keys(c.filter).length : 0;
  const kanbanRecords = (kanbanList.data?.pages ?? []).flatMap((p) => p.items);
  const kanbanNames: Names = { map: mergeDisplay(kanbanList.data?.pages), placeholder: t('records.restricted') };

  return (
    <div>
      <Space style={{ marginBottom: 8, width: '100%', justifyContent: 'space-between' }} wrap>
        <Space wrap>
          <Link to={`/apps/${app}`}>{appQ.data?.name ?? app}</Link>
          <span>/</span>
          <Typography.Title level={4} style={{ margin: 0 }} data-testid="records-title">
            {labelText(entity.label, i18n.language, slug)}
          </Typography.Title>
          {access.design && <Link to={`/apps/${app}/entities/${slug}/design`} data-testid="entity-design-link">{t('common.design')}</Link>}
        </Space>
        <Space wrap>
          {entity.stages && (
            <Segmented value={mode} onChange={(v) => setMode(v as 'table' | 'kanban')} options={[{ value: 'table', label: t('records.table') }, { value: 'kanban', label: t('records.pipeline') }]} data-testid="view-switch" />
          )}
          {access.may(res, 'create') && (
            <Button icon={<UploadOutlined />} onClick={() => setImporting(true)} data-testid="import-open">{t('imports.open')}</Button>
          )}
          {access.may(res, 'export') && <ExportButton size="middle" href={(f) => exportUrl(app, { entity: slug }, f, { ...exportQuery(c), locale: i18n.language })} />}
          {access.may(res, 'create') && (
            <Button type="primary" icon={<PlusOutlined />} onClick={() => setDrawer({ record: null })} data-testid="record-new">
              {t('records.new')}
            </Button>
          )}
        </Space>
      </Space>
      <Space style={{ marginBottom: 12, width: '100%', justifyContent: 'space-between' }} wrap>
        <ViewBar app={app} entity={slug} current={viewId} config={c} onPick={pickView} />
        <Space wrap>
          <Input.Search allowClear placeholder={t('records.search')} onSearch={setQ} style={{ width: 200 }} data-testid="records-search" />
          <Popover trigger="click" placement="bottomRight" content={<div style={{ maxWidth: 'min(640px, 90vw)' }}><FilterInput value={c.filter ?? null} onChange={(f) => set({ filter: f })} fields={entity.fields} app={app} data-testid="filter-builder" /></div>}>
            <Badge count={activeFilters} size="small">
              <Button icon={<FilterOutlined />} data-testid="filter-open">{t('records.filter')}</Button>
            </Badge>
          </Popover>
          {mode === 'table' && (
            <Select
              style={{ width: 150 }}
              value={c.group || ''}
              onChange={(g) => set({ group: g })}
              data-testid="group-select"
              popupMatchSelectWidth={false}
              options={[{ value: '', label: t('lists.noGrouping') }, ...groupableFields(entity).map((f) => ({ value: f.key, label: t('lists.groupBy', { field: fieldLabel(f, i18n.language) }) })), { value: 'owner_id', label: t('lists.groupBy', { field: t('records.owner') }) }]}
            />
          )}
          {mode === 'kanban' && (
            <Select
              style={{ width: 150 }}
              value={lanes}
              onChange={setLanes}
              data-testid="lanes-select"
              aria-label={t('recordPage.lanes')}
              popupMatchSelectWidth={false}
              options={[{ value: '', label: t('recordPage.noLanes') }, { value: 'owner', label: `${t('recordPage.lanes')}: ${t('recordPage.byOwner')}` }]}
            />
          )}
          {mode === 'table' && <ColumnChooser columns={c.columns} all={all} label={colLabel} onChange={(cols) => set({ columns: cols })} />}
        </Space>
      </Space>
      {selected.length > 0 && mode === 'table' && (
        <BulkBar
          app={app}
          entity={entity}
          ids={selected}
          titles={titles.current}
          names={{ map: {}, placeholder: t('records.restricted') }}
          may={{ update: mayUpdate, delete: access.may(res, 'delete') }}
          onDone={(failed) => { setSelected(failed); refresh(); }}
          onClear={() => setSelected([])}
        />
      )}
      {mode === 'kanban' && entity.stages ? (
        <Kanban entity={entity} records={kanbanRecords} names={kanbanNames} onMove={moveStage} onOpen={(r) => setDrawer({ record: r })} lanes={lanes || undefined} />
      ) : c.group ? (
        <GroupedTables {...tableProps} filter={c.filter} group={c.group} />
      ) : (
        <RecordTable {...tableProps} filter={c.filter} />
      )}
      {wanted && linked.isError && (
        <Alert type="warning" showIcon closable onClose={closeDrawer} title={errorMessage(linked.error)} data-testid="linked-record-error" />
      )}
      <RecordDrawer app={app} entity={entity} record={drawer?.record ?? null} open={!!drawer} onClose={closeDrawer} />
      <ImportWizard app={app} entity={entity} open={importing} onClose={() => setImporting(false)} onImported={refresh} />
    </div>
  );
}
