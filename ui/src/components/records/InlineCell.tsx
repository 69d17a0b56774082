import { CheckOutlined, CloseOutlined, EditOutlined } from '@ant-design/icons';
import { Button, Space, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, api, errorMessage } from '../../api/client';
import { recordsPath } from '../../api/records';
import type { FieldDef, RecordItem } from '../../api/types';
import { localMessage } from '../../lib/listView';
import FieldInput, { FieldValue, type Names } from '../FieldInput';

interface Props {
  app: string;
  entity: string;
  field: FieldDef;
  record: RecordItem;
  names: Names;
  editable: boolean;
  onSaved: (r: RecordItem) => void;
}

/** The message of a failed cell save: the field's own error(s), else the problem's. */
export function cellError(e: unknown, field: string, conflict: string): string {
  if (e instanceof ApiError) {
    if (e.status === 409) return conflict;
    const own = e.fieldErrors.filter((x) => x.field === field || x.field.startsWith(`${field}.`) || x.field.startsWith(`${field}[`));
    const list = own.length ? own : e.fieldErrors;
    if (list.length) return list.map((x) => x.message).join('; ');
  }
  return errorMessage(e);
}

/**
 * A table cell that edits its field in place through the normal update path (PATCH with the
 * record's version, so gates, validation and permissions apply); the server's message for the
 * field stays in the cell until the value is fixed or the edit is cancelled.
 */
export default function InlineCell({ app, entity, field, record, names, editable, onSaved }: Props) {
  const { t, i18n } = useTranslation();
  const [editing, setEditing] = useState(false);
  const [value, setValue] = useState<unknown>(record.data[field.key]);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const show = <FieldValue field={field} value={record.data[field.key]} app={app} names={names} />;
  if (!editable) return show;
  const start = (e: React.MouseEvent) => {
    e.stopPropagation();
    setValue(record.data[field.key]);
    setError('');
    setEditing(true);
  };
  const save = async () => {
    setBusy(true);
    try {
      const r = await api<RecordItem>(recordsPath(app, entity, record.id), { method: 'PATCH', body: { [field.key]: value ?? null }, headers: { 'If-Match': String(record.version) } });
      setEditing(false);
      setError('');
      onSaved(r);
    } catch (e) {
      setError(localMessage(cellError(e, field.key, t('records.conflict')), i18n.language));
    } finally {
      setBusy(false);
    }
  };
  if (!editing) {
    return (
      <span className="inline-cell">
        {show}
        <Button type="text" size="small" className="inline-cell-edit" icon={<EditOutlined />} onClick={start} aria-label={t('lists.editCell')} data-testid={`cell-edit-${field.key}`} />
      </span>
    );
  }
  return (
    <div onClick={(e) => e.stopPropagation()} onKeyDown={(e) => { if (e.key === 'Escape') setEditing(false); if (e.key === 'Enter' && !['textarea'].includes(field.type)) void save(); }} style={{ minWidth: 180 }} data-testid={`cell-editor-${field.key}`}>
      <Space.Compact style={{ width: '100%' }}>
        <div style={{ flex: 1, minWidth: 0 }}>
          <FieldInput field={field} app={app} value={value} onChange={setValue} names={names.map} />
        </div>
        <Button icon={<CheckOutlined />} type="primary" loading={busy} onClick={save} aria-label={t('common.save')} data-testid="cell-save" />
        <Button icon={<CloseOutlined />} onClick={() => { setEditing(false); setError(''); }} aria-label={t('common.cancel')} />
      </Space.Compact>
      {error && <Typography.Text type="danger" style={{ display: 'block', fontSize: 12, whiteSpace: 'normal' }} data-testid="cell-error">{error}</Typography.Text>}
    </div>
  );
}
