import { UploadOutlined } from '@ant-design/icons';
import { App, Button, DatePicker, Input, InputNumber, Select, Switch, Typography, Upload } from 'antd';
import { Link } from 'react-router';
import dayjs from 'dayjs';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, errorMessage, uploadFile } from '../api/client';
import { recordsPath, toPage } from '../api/records';
import type { FieldDef } from '../api/types';
import { labelText, optionLabel, optionValue } from '../lib/labels';
import { rowsOf } from '../lib/lines';
import PersonSelect from './PersonSelect';
import LinesInput from './LinesInput';
import FileList from './record/FileList';

export interface FileRef {
  id: string;
  name?: string;
  type?: string;
  size?: number;
  uploaded_at?: string;
}

interface Props {
  field: FieldDef;
  app: string;
  value?: unknown;
  onChange?: (v: unknown) => void;
  disabled?: boolean;
  /** names of the ids the value holds (the record's `display`), so a linked record shows its name before the options load */
  names?: Record<string, string>;
  placeholder?: string;
}

function RelationSelect({ app, target, value, onChange, multiple, disabled, names, testid }: { app: string; target: string; value?: unknown; onChange?: (v: unknown) => void; multiple?: boolean; disabled?: boolean; names?: Record<string, string>; testid?: string }) {
  const { t } = useTranslation();
  const [q, setQ] = useState('');
  const list = useQuery({
    queryKey: ['relation', app, target, q],
    enabled: !!target,
    queryFn: async () => toPage(await api(recordsPath(app, target), { query: { q, limit: 20 } })).items,
  });
  const title = (d: Record<string, unknown>) => String(d.name ?? d.title ?? Object.values(d).find((x) => typeof x === 'string') ?? '');
  return (
    <Select
      showSearch={{ filterOption: false, onSearch: setQ }}
      data-testid={testid}
      allowClear
      disabled={disabled}
      mode={multiple ? 'multiple' : undefined}
      value={value as string}
      onChange={onChange}
      loading={list.isLoading}
      options={[
        ...(list.data ?? []).map((r) => ({ value: r.id, label: title(r.data) || r.id })),
        // the current values, named, when the first page of options does not hold them
        ...refIds(value).filter((id) => !(list.data ?? []).some((r) => r.id === id)).map((id) => ({ value: id, label: names?.[id] ?? t('records.restricted') })),
      ]}
    />
  );
}

/** Files of an attachment field with an upload button (POST /api/v1/files, then the caller saves [{id}]). */
export function AttachmentInput({ value, onChange, disabled, multiple }: { value?: unknown; onChange?: (v: unknown) => void; disabled?: boolean; multiple?: boolean }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const [busy, setBusy] = useState(false);
  const files = (Array.isArray(value) ? value : value ? [value] : []) as FileRef[];
  return (
    <div>
      <FileList files={files} onRemove={disabled ? undefined : (id) => onChange?.(files.filter((x) => x.id !== id))} />
      <Upload
        showUploadList={false}
        disabled={disabled}
        customRequest={async ({ file }) => {
          setBusy(true);
          try {
            const r = await uploadFile(file as File);
            const ref: FileRef = { id: r.id, name: (r.name as string) ?? (file as File).name, type: r.type as string, size: r.size as number };
            onChange?.(multiple === false ? [ref] : [...files, ref]);
          } catch (e) {
            message.error(errorMessage(e));
          } finally {
            setBusy(false);
          }
        }}
      >
        <Button size="small" icon={<UploadOutlined />} loading={busy} disabled={disabled} data-testid="attachment-upload">
          {t('records.upload')}
        </Button>
      </Upload>
    </div>
  );
}

/** Input control for one entity field, chosen by the field's type. */
export default function FieldInput({ field, app, value, onChange, disabled, names, placeholder }: Props) {
  const { i18n } = useTranslation();
  const lang = i18n.language;
  const opts = (field.options ?? []).map((o) => ({ value: optionValue(o), label: optionLabel(o, lang) }));
  const testid = `input-${field.key}`;
  switch (field.type) {
    case 'textarea':
      return <Input.TextArea rows={3} placeholder={placeholder} value={value as string} onChange={(e) => onChange?.(e.target.value)} disabled={disabled} data-testid={testid} />;
    case 'number':
    case 'money':
    case 'percent':
      return (
        <InputNumber
          style={{ width: '100%' }}
          placeholder={placeholder}
          value={value as number}
          onChange={(v) => onChange?.(v)}
          disabled={disabled}
          min={field.min}
          max={field.max}
          precision={field.precision}
          prefix={field.type === 'money' ? (field.currency === 'USD' ? '$' : '¥') : undefined}
          suffix={field.type === 'percent' ? '%' : undefined}
          data-testid={testid}
        />
      );
    case 'date':
      return <DatePicker style={{ width: '100%' }} placeholder={placeholder} value={value ? dayjs(value as string) : null} onChange={(d) => onChange?.(d ? d.format('YYYY-MM-DD') : null)} disabled={disabled} data-testid={testid} />;
    case 'datetime':
      return <DatePicker showTime style={{ width: '100%' }} placeholder={placeholder} value={value ? dayjs(value as string) : null} onChange={(d) => onChange?.(d ? d.toISOString() : null)} disabled={disabled} data-testid={testid} />;
    case 'select':
      return <Select allowClear placeholder={placeholder} options={opts} value={value as string} onChange={onChange} disabled={disabled} data-testid={testid} />;
    case 'multiselect':
      return <Select mode="multiple" allowClear placeholder={placeholder} options={opts} value={value as string[]} onChange={onChange} disabled={disabled} data-testid={testid} />;
    case 'boolean':
      return <Switch checked={!!value} onChange={(v) => onChange?.(v)} disabled={disabled} data-testid={testid} />;
    case 'relation':
      return <RelationSelect app={app} target={field.target ?? ''} value={value} onChange={onChange} multiple={field.multiple} disabled={disabled} names={names} testid={testid} />;
    case 'attachment':
      return <AttachmentInput value={value} onChange={onChange} disabled={disabled} multiple={field.multiple} />;
    case 'lines':
      return <LinesInput field={field} app={app} value={value} onChange={onChange} disabled={disabled} names={names} />;
    case 'autonumber':
    case 'formula':
      return <Input value={value == null ? '' : String(value)} disabled data-testid={testid} />;
    case 'user':
      return <PersonSelect app={app} value={value as string | string[] | null} onChange={onChange} multiple={field.multiple} disabled={disabled} data-testid={testid} />;
    case 'team':
      return <Input value={value as string} onChange={(e) => onChange?.(e.target.value)} disabled={disabled} placeholder="id" data-testid={testid} />;
    default:
      return (
        <Input
          value={value as string}
          placeholder={placeholder}
          onChange={(e) => onChange?.(e.target.value)}
          disabled={disabled}
          type={field.type === 'email' ? 'email' : field.type === 'url' ? 'url' : field.type === 'phone' ? 'tel' : 'text'}
          data-testid={testid}
        />
      );
  }
}

/** Names of relation, user and team ids (the list API's `display` map) and the placeholder for ids without one. */
export interface Names {
  map: Record<string, string>;
  placeholder: string;
}

/** The ids a relation, user or team value holds (one or a list). */
export function refIds(v: unknown): string[] {
  return (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string' && x !== '');
}

/** Short display of a stored value in tables and cards; relation, user and team ids become names when `names` is given. */
export function formatValue(field: FieldDef | undefined, v: unknown, lang: string, names?: Names): string {
  if (v === null || v === undefined || v === '') return '';
  if (!field) return typeof v === 'object' ? JSON.stringify(v) : String(v);
  switch (field.type) {
    case 'relation':
    case 'user':
    case 'team':
      if (names) return refIds(v).map((id) => names.map[id] ?? names.placeholder).join(', ');
      return refIds(v).join(', ');
    case 'boolean':
      return v ? '✓' : '✗';
    case 'select': {
      const o = (field.options ?? []).find((x) => optionValue(x) === v);
      return o ? optionLabel(o, lang) : String(v);
    }
    case 'multiselect':
      return (Array.isArray(v) ? v : [v]).map((x) => {
        const o = (field.options ?? []).find((y) => optionValue(y) === x);
        return o ? optionLabel(o, lang) : String(x);
      }).join(', ');
    case 'attachment':
      return (Array.isArray(v) ? v : [v]).map((f) => (f as FileRef)?.name ?? (f as FileRef)?.id).join(', ');
    case 'lines': {
      const n = rowsOf(v).length;
      return lang.startsWith('en') ? `${n} ${n === 1 ? 'row' : 'rows'}` : `${n} 行`;
    }
    case 'money':
      return typeof v === 'number' ? v.toLocaleString(lang, { minimumFractionDigits: 0, maximumFractionDigits: 2 }) : String(v);
    case 'percent':
      return `${v}%`;
    case 'datetime':
      return dayjs(v as string).isValid() ? dayjs(v as string).format('YYYY-MM-DD HH:mm') : String(v);
    default:
      return typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
}

/** A stored value for reading: relation values link to the linked record (by name), others as formatValue. */
export function FieldValue({ field, value, app, names }: { field: FieldDef; value: unknown; app: string; names?: Names }) {
  const { i18n } = useTranslation();
  if (field.type === 'relation' && names && field.target) {
    const ids = refIds(value);
    return (
      <span data-testid={`value-${field.key}`}>
        {ids.map((id, i) => (
          <span key={id}>
            {i > 0 && ', '}
            {names.map[id] !== undefined ? (
              <Link to={`/apps/${encodeURIComponent(app)}/entities/${encodeURIComponent(field.target!)}?record=${encodeURIComponent(id)}`} onClick={(e) => e.stopPropagation()}>
                {names.map[id]}
              </Link>
            ) : (
              <Typography.Text type="secondary" italic>{names.placeholder}</Typography.Text>
            )}
          </span>
        ))}
      </span>
    );
  }
  return <>{formatValue(field, value, i18n.language, names)}</>;
}

export function fieldLabel(f: FieldDef, lang: string): string {
  return labelText(f.label, lang, f.key);
}
