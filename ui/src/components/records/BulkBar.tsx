import { App, Button, Modal, Popconfirm, Select, Space, Table, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, errorMessage } from '../../api/client';
import type { EntityDef } from '../../api/types';
import { INLINE_EDITABLE, localMessage } from '../../lib/listView';
import FieldInput, { fieldLabel, type Names } from '../FieldInput';
import PersonSelect from '../PersonSelect';

export interface BulkRow {
  id: string;
  status: 'ok' | 'failed';
  code?: string;
  message?: string;
  errors?: { field: string; message: string }[];
}

interface Props {
  app: string;
  entity: EntityDef;
  ids: string[];
  titles: Record<string, string>; // record id -> title, for the failure list
  names: Names;
  may: { update: boolean; delete: boolean };
  onDone: (failed: string[]) => void;
  onClear: () => void;
}

/** Actions on the selected rows, one request per batch (POST .../records/bulk). */
export default function BulkBar({ app, entity, ids, titles, names, may, onDone, onClear }: Props) {
  const { t, i18n } = useTranslation();
  const { message } = App.useApp();
  const [mode, setMode] = useState<'' | 'edit' | 'owner'>('');
  const [field, setField] = useState<string>();
  const [value, setValue] = useState<unknown>(null);
  const [owner, setOwner] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [failed, setFailed] = useState<BulkRow[] | null>(null);
  const f = entity.fields.find((x) => x.key === field);

  const run = async (body: Record<string, unknown>) => {
    setBusy(true);
    try {
      const r = await api<{ rows: BulkRow[]; ok: number; failed: number }>(`/api/v1/apps/${encodeURIComponent(app)}/entities/${encodeURIComponent(entity.slug)}/records/bulk`, { method: 'POST', body: { ...body, ids } });
      const bad = r.rows.filter((x) => x.status === 'failed');
      if (bad.length) {
        message.warning(t('lists.bulkPartly', { ok: r.ok, failed: r.failed }));
        setFailed(bad);
      } else message.success(t('lists.bulkDone', { count: r.ok }));
      setMode('');
      onDone(bad.map((x) => x.id));
    } catch (e) {
      message.error(localMessage(errorMessage(e), i18n.language));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div style={{ display: 'flex', flexWrap: 'wrap', alignItems: 'center', gap: 8, padding: '8px 12px', marginBottom: 8, background: 'rgba(22,119,255,0.06)', borderRadius: 6 }} data-testid="bulk-bar">
      <Typography.Text strong data-testid="bulk-count">{t('lists.selected', { count: ids.length })}</Typography.Text>
      {may.update && <Button size="small" type={mode === 'edit' ? 'primary' : 'default'} onClick={() => setMode(mode === 'edit' ? '' : 'edit')} data-testid="bulk-edit">{t('lists.bulkEdit')}</Button>}
      {may.update && <Button size="small" type={mode === 'owner' ? 'primary' : 'default'} onClick={() => setMode(mode === 'owner' ? '' : 'owner')} data-testid="bulk-owner">{t('lists.assignOwner')}</Button>}
      {may.delete && (
        <Popconfirm title={t('lists.bulkDeleteConfirm', { count: ids.length })} onConfirm={() => run({ action: 'delete' })}>
          <Button size="small" danger loading={busy && mode === ''} data-testid="bulk-delete">{t('common.delete')}</Button>
        </Popconfirm>
      )}
      <Button size="small" type="link" onClick={onClear}>{t('lists.clearSelection')}</Button>
      {mode === 'edit' && (
        <Space wrap style={{ width: '100%' }}>
          <Select style={{ width: 180 }} placeholder={t('records.field')} value={field} onChange={(k) => { setField(k); setValue(null); }} data-testid="bulk-field"
            options={entity.fields.filter((x) => INLINE_EDITABLE.includes(x.type)).map((x) => ({ value: x.key, label: fieldLabel(x, i18n.language) }))} />
          {f && <div style={{ minWidth: 200 }}><FieldInput field={f} app={app} value={value} onChange={setValue} names={names.map} /></div>}
          <Button type="primary" size="small" disabled={!f} loading={busy} onClick={() => run({ action: 'update', values: { [field!]: value ?? null } })} data-testid="bulk-apply">{t('common.apply')}</Button>
        </Space>
      )}
      {mode === 'owner' && (
        <Space wrap style={{ width: '100%' }}>
          <div style={{ minWidth: 220 }}><PersonSelect app={app} value={owner} onChange={(v) => setOwner((v as string) ?? null)} data-testid="bulk-owner-pick" /></div>
          <Button type="primary" size="small" disabled={!owner} loading={busy} onClick={() => run({ action: 'owner', owner_id: owner })} data-testid="bulk-owner-apply">{t('common.apply')}</Button>
        </Space>
      )}
      <Modal open={!!failed} title={t('lists.bulkFailedTitle')} footer={null} onCancel={() => setFailed(null)} width={640}>
        <Table<BulkRow>
          size="small"
          rowKey="id"
          pagination={false}
          dataSource={failed ?? []}
          data-testid="bulk-failures"
          columns={[
            { title: t('lists.record'), dataIndex: 'id', render: (id: string) => titles[id] || id.slice(0, 8) },
            {
              title: t('lists.reason'),
              render: (_v, r) => (r.errors?.length ? r.errors.map((e) => `${fieldLabel(entity.fields.find((x) => x.key === e.field) ?? { key: e.field, type: 'text' }, i18n.language)}: ${localMessage(e.message, i18n.language)}`).join('; ') : t(`lists.codes.${r.code}`, { defaultValue: r.message ?? r.code })),
            },
          ]}
        />
      </Modal>
    </div>
  );
}
