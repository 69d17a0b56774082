import { DeleteOutlined, EditOutlined, FilterOutlined, PlusOutlined } from '@ant-design/icons';
import { useQueryClient } from '@tanstack/react-query';
import { Alert, App, Badge, Button, Input, Popconfirm, Popover, Segmented, Select, Skeleton, Space, Table, Typography } from 'antd';
import dayjs from 'dayjs';
import { useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams, useSearchParams } from 'react-router';
import { ApiError, api, errorMessage } from '../api/client';
import { appAccess, useApp, useDefinition } from '../api/defs';
import { mergeDisplay, recordsPath, useRecord, useRecords } from '../api/records';
import type { EntityDef, RecordItem } from '../api/types';
import { FieldValue, fieldLabel, type Names } from '../components/FieldInput';
import Kanban from '../components/Kanban';
import RecordDrawer from '../components/RecordDrawer';
import { ExportButton } from '../components/ExportButton';
import { FILTER_OPS, buildFilter, encodeFilter, type FilterRow } from '../lib/filter';
import { labelText } from '../lib/labels';
import { exportUrl } from '../lib/report';

function FilterBuilder({ entity, rows, onChange }: { entity: EntityDef; rows: FilterRow[]; onChange: (r: FilterRow[]) => void }) {
  const { t, i18n } = useTranslation();
  const [draft, setDraft] = useState<FilterRow[]>(rows.length ? rows : [{ field: '', op: 'eq', value: '' }]);
  const set = (i: number, patch: Partial<FilterRow>) => setDraft(draft.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  return (
    <div style={{ width: 520 }} data-testid="filter-builder">
      {draft.map((r, i) => (
        <Space key={i} style={{ marginBottom: 8 }}>
          <Select style={{ width: 160 }} value={r.field || undefined} placeholder={t('records.field')} onChange={(v) => set(i, { field: v })}
            options={[...entity.fields.map((f) => ({ value: f.key, label: fieldLabel(f, i18n.language) })), { value: 'created_at', label: t('records.createdAt') }]} />
          <Select style={{ width: 110 }} value={r.op} onChange={(v) => set(i, { op: v })} options={FILTER_OPS.map((o) => ({ value: o, label: t(`ops.${o}`) }))} />
          <Input style={{ width: 160 }} value={r.value} onChange={(e) => set(i, { value: e.target.value })} placeholder={t('records.value')} />
          <Button type="text" danger icon={<DeleteOutlined />} onClick={() => setDraft(draft.filter((_x, j) => j !== i))} />
        </Space>
      ))}
      <Space>
        <Button size="small" onClick={() => setDraft([...draft, { field: '', op: 'eq', value: '' }])}>{t('records.addCondition')}</Button>
        <Button size="small" onClick={() => { setDraft([]); onChange([]); }}>{t('common.clear')}</Button>
        <Button size="small" type="primary" onClick={() => onChange(draft.filter((r) => r.field))} data-testid="filter-apply">{t('common.apply')}</Button>
      </Space>
    </div>
  );
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
  const [filterRows, setFilterRows] = useState<FilterRow[]>([]);
  const [sort, setSort] = useState('-created_at');
  const [view, setView] = useState<'table' | 'kanban'>('table');
  const [drawer, setDrawer] = useState<{ record: RecordItem | null } | null>(null);

  const numeric = (entity?.fields ?? []).filter((f) => ['number', 'money', 'percent'].includes(f.type)).map((f) => f.key);
  const filter = encodeFilter(buildFilter(filterRows, 'and', numeric));
  const list = useRecords(app, slug, { q: q || undefined, filter, sort, limit: 50 }, !!entity);
  const records = useMemo(() => (list.data?.pages ?? []).flatMap((p) => p.items), [list.data]);
  const display = useMemo(() => mergeDisplay(list.data?.pages), [list.data]);
  const names: Names = { map: display, placeholder: t('records.restricted') };
  const access = appAccess(appQ.data);
  const res = `entity:${slug}`;
  // ?record=<id> (links from notifications) opens that record
  const [search, setSearch] = useSearchParams();
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

  if (def.isLoading) return <Skeleton active />;
  if (!entity) return <Alert type="warning" showIcon title={def.isError ? errorMessage(def.error) : t('records.noEntity')} action={access.design ? <Link to={`/apps/${app}/entities/${slug}/design`}>{t('common.design')}</Link> : undefined} />;

  const fields = entity.fields;
  const shown = fields.filter((f) => f.type !== 'textarea').slice(0, 8);

  const moveStage = async (r: RecordItem, to: string) => {
    const field = entity.stages!.field;
    try {
      await api(recordsPath(app, slug, r.id), { method: 'PATCH', body: { [field]: to }, headers: { 'If-Match': String(r.version) } });
      message.success(t('records.moved', { stage: to }));
    } catch (e) {
      if (e instanceof ApiError && e.status === 422) {
        const msg = e.fieldErrors.map((x) => x.message).filter(Boolean).join('; ') || e.problem.detail || t('records.gateBlocked');
        modal.error({ title: t('records.gateBlocked'), content: <span data-testid="gate-message">{msg}</span> });
      } else if (e instanceof ApiError && e.status === 409) message.error(t('records.conflict'));
      else message.error(errorMessage(e));
    } finally {
      void qc.invalidateQueries({ queryKey: ['records', app, slug] });
      void qc.invalidateQueries({ queryKey: ['history', app, slug, r.id] });
    }
  };
  const remove = async (r: RecordItem) => {
    try {
      await api(recordsPath(app, slug, r.id), { method: 'DELETE' });
      message.success(t('records.deleted'));
      void qc.invalidateQueries({ queryKey: ['records', app, slug] });
    } catch (e) {
      message.error(errorMessage(e));
    }
  };

  const columns = [
    ...shown.map((f) => ({
      title: fieldLabel(f, i18n.language),
      dataIndex: ['data', f.key],
      key: f.key,
      ellipsis: true,
      sorter: !['attachment', 'multiselect', 'relation', 'formula', 'user', 'team'].includes(f.type),
      sortOrder: sort === f.key ? ('ascend' as const) : sort === `-${f.key}` ? ('descend' as const) : null,
      render: (v: unknown) => <FieldValue field={f} value={v} app={app} names={names} />,
    })),
    {
      title: t('records.owner'),
      dataIndex: 'owner_id',
      key: 'owner_id',
      width: 120,
      ellipsis: true,
      render: (v: string | null) => (v ? names.map[v] ?? names.placeholder : ''),
    },
    {
      title: t('records.updatedAt'),
      dataIndex: 'updated_at',
      key: 'updated_at',
      width: 150,
      render: (v: string) => (v ? dayjs(v).format('YYYY-MM-DD HH:mm') : ''),
    },
    {
      title: '',
      key: 'actions',
      width: 90,
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

  return (
    <div>
      <Space style={{ marginBottom: 12, width: '100%', justifyContent: 'space-between' }} wrap>
        <Space>
          <Link to={`/apps/${app}`}>{appQ.data?.name ?? app}</Link>
          <span>/</span>
          <Typography.Title level={4} style={{ margin: 0 }} data-testid="records-title">
            {labelText(entity.label, i18n.language, slug)}
          </Typography.Title>
          {access.design && <Link to={`/apps/${app}/entities/${slug}/design`} data-testid="entity-design-link">{t('common.design')}</Link>}
        </Space>
        <Space wrap>
          {entity.stages && (
            <Segmented value={view} onChange={(v) => setView(v as 'table' | 'kanban')} options={[{ value: 'table', label: t('records.table') }, { value: 'kanban', label: t('records.pipeline') }]} data-testid="view-switch" />
          )}
          <Input.Search allowClear placeholder={t('records.search')} onSearch={setQ} style={{ width: 220 }} data-testid="records-search" />
          <Popover trigger="click" placement="bottomRight" content={<FilterBuilder entity={entity} rows={filterRows} onChange={setFilterRows} />}>
            <Badge count={filterRows.length} size="small">
              <Button icon={<FilterOutlined />} data-testid="filter-open">{t('records.filter')}</Button>
            </Badge>
          </Popover>
          {access.may(res, 'export') && <ExportButton size="middle" href={(f) => exportUrl(app, { entity: slug }, f, { filter, sort })} />}
          {access.may(res, 'create') && (
            <Button type="primary" icon={<PlusOutlined />} onClick={() => setDrawer({ record: null })} data-testid="record-new">
              {t('records.new')}
            </Button>
          )}
        </Space>
      </Space>
      {list.isError && <Alert type="error" showIcon title={errorMessage(list.error)} style={{ marginBottom: 12 }} />}
      {view === 'kanban' && entity.stages ? (
        <Kanban entity={entity} records={records} names={names} onMove={moveStage} onOpen={(r) => setDrawer({ record: r })} />
      ) : (
        <Table<RecordItem>
          data-testid="records-table"
          rowKey="id"
          size="middle"
          loading={list.isLoading}
          dataSource={records}
          columns={columns}
          pagination={false}
          scroll={{ x: true }}
          onChange={(_p, _f, s) => {
            const so = Array.isArray(s) ? s[0] : s;
            if (so?.order && so.columnKey) setSort(so.order === 'ascend' ? String(so.columnKey) : `-${String(so.columnKey)}`);
            else setSort('-created_at');
          }}
          onRow={(r) => ({ onClick: () => setDrawer({ record: r }), style: { cursor: 'pointer' } })}
        />
      )}
      {list.hasNextPage && (
        <div style={{ textAlign: 'center', marginTop: 12 }}>
          <Button onClick={() => list.fetchNextPage()} loading={list.isFetchingNextPage}>{t('common.loadMore')}</Button>
        </div>
      )}
      {wanted && linked.isError && (
        <Alert type="warning" showIcon closable onClose={closeDrawer} title={errorMessage(linked.error)} data-testid="linked-record-error" />
      )}
      <RecordDrawer app={app} entity={entity} record={drawer?.record ?? null} open={!!drawer} onClose={closeDrawer} />
    </div>
  );
}
