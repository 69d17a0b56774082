import { ArrowDownOutlined, ArrowUpOutlined, DeleteOutlined, PlusOutlined } from '@ant-design/icons';
import { App, Button, Space, Table, Tooltip, Typography } from 'antd';
import { useMemo, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import { api, errorMessage } from '../api/client';
import { recordsPath } from '../api/records';
import type { EntityDef, FieldDef, RecordItem } from '../api/types';
import { applyFill, computeRecord, computeRows, moveRow, newRow, rowsOf, totalsOf, type Row } from '../lib/lines';
import FieldInput, { fieldLabel, formatValue } from './FieldInput';

export interface LinesInputProps {
  /** the lines field (its `fields` are the columns) */
  field: FieldDef;
  app: string;
  value?: unknown;
  onChange?: (rows: Row[]) => void;
  disabled?: boolean;
  /** names of the ids the rows hold (the record's `display`) */
  names?: Record<string, string>;
  /** the entity and the other values of the record: column formulas may read `record`, and the
   * entity's formulas over the rows (subtotal, tax, total) are previewed under the grid */
  entity?: Pick<EntityDef, 'fields'>;
  values?: Record<string, unknown>;
  /** the record's current values, read when the grid renders (instead of values) */
  getValues?: () => Record<string, unknown>;
}

/**
 * Editable grid of a lines field (line items): add, remove and reorder rows, a typed editor per
 * column (the relation column is the record picker and copies the picked record's fields along
 * the column's `fill` mapping), formula columns and the record's totals previewed live. The
 * server recomputes everything on save; its answer is authoritative.
 */
export default function LinesInput({ field, app, value, onChange, disabled, names, entity, values, getValues }: LinesInputProps) {
  const { t, i18n } = useTranslation();
  const { message } = App.useApp();
  const lang = i18n.language;
  const cols = field.fields ?? [];
  const rows = useMemo(() => rowsOf(value), [value]);
  const current = getValues ? getValues() : values;
  const record = { ...(current ?? {}), [field.key]: rows };
  const shown = computeRows(field, rows, record);
  const totals = useMemo(() => (entity ? totalsOf(entity, field.key) : []), [entity, field.key]);
  const preview = entity && totals.length ? computeRecord(entity, record) : {};
  const max = field.max_rows ?? 200;

  // The rows every change starts from: the latest emitted, not the ones of the render whose
  // handler runs. A product picked in one row is filled after a fetch; an edit made meanwhile
  // (or an input's change on blur before the next render) must not be undone by either.
  const latest = useRef<Row[]>(rows);
  latest.current = rows;
  const emit = (next: Row[]) => {
    const computed = computeRows(field, next, { ...record, [field.key]: next });
    latest.current = computed;
    onChange?.(computed);
  };
  const setCell = (i: number, key: string, v: unknown) => {
    const next = latest.current.map((r, j) => (j === i ? { ...r, [key]: v } : r));
    if (next[i] && (v === null || v === undefined)) delete next[i][key];
    emit(next);
  };
  const pick = async (i: number, col: FieldDef, id: unknown) => {
    const rowId = latest.current[i]?.id;
    // the row picked in, found again after the fetch by its id (rows may have moved meanwhile)
    const update = (fill: (row: Row) => Row) => {
      const cur = latest.current;
      const at = rowId !== undefined ? cur.findIndex((r) => r.id === rowId) : i;
      if (at < 0 || at >= cur.length) return;
      const base: Row = { ...cur[at], [col.key]: id ?? undefined };
      if (id === null || id === undefined) delete base[col.key];
      emit(cur.map((r, j) => (j === at ? fill(base) : r)));
    };
    if (!col.fill || Object.keys(col.fill).length === 0 || !col.target) {
      update((b) => b);
      return;
    }
    let target: Record<string, unknown> | null = null;
    if (typeof id === 'string' && id) {
      try {
        target = (await api<RecordItem>(recordsPath(app, col.target, id))).data;
      } catch (e) {
        message.error(errorMessage(e));
      }
    }
    update((b) => applyFill(field, col.key, b, target));
  };

  const columns = [
    {
      key: '#',
      title: '#',
      width: 40,
      render: (_: unknown, __: Row, i: number) => <Typography.Text type="secondary">{i + 1}</Typography.Text>,
    },
    ...cols.map((c) => ({
      key: c.key,
      title: (
        <span>
          {fieldLabel(c, lang)}
          {c.required && c.type !== 'formula' && <Typography.Text type="danger"> *</Typography.Text>}
        </span>
      ),
      width: c.type === 'relation' ? 180 : c.type === 'text' || c.type === 'textarea' ? 130 : c.type === 'money' || c.type === 'formula' ? 120 : 90,
      render: (_: unknown, row: Row, i: number) => {
        if (c.type === 'formula' || c.readonly) {
          const v = row[c.key];
          return (
            <Typography.Text data-testid={`lines-cell-${c.key}`} strong={c.type === 'formula'}>
              {v === undefined || v === null ? '—' : formatValue(c.type === 'formula' && typeof v === 'number' ? { ...c, type: 'money' } : c, v, lang)}
            </Typography.Text>
          );
        }
        return (
          <div data-testid={`lines-cell-${c.key}`}>
            <FieldInput
              field={c}
              app={app}
              value={row[c.key]}
              names={names}
              disabled={disabled}
              onChange={(v) => (c.type === 'relation' ? void pick(i, c, v) : setCell(i, c.key, v))}
            />
          </div>
        );
      },
    })),
    {
      key: '_actions',
      title: '',
      width: 100,
      fixed: 'right' as const,
      render: (_: unknown, __: Row, i: number) => (
        <Space size={0}>
          <Tooltip title={t('lines.up')}>
            <Button type="text" size="small" icon={<ArrowUpOutlined />} disabled={disabled || i === 0} onClick={() => emit(moveRow(latest.current, i, -1))} aria-label={t('lines.up')} data-testid="lines-up" />
          </Tooltip>
          <Tooltip title={t('lines.down')}>
            <Button type="text" size="small" icon={<ArrowDownOutlined />} disabled={disabled || i === rows.length - 1} onClick={() => emit(moveRow(latest.current, i, 1))} aria-label={t('lines.down')} data-testid="lines-down" />
          </Tooltip>
          <Tooltip title={t('lines.remove')}>
            <Button type="text" size="small" danger icon={<DeleteOutlined />} disabled={disabled} onClick={() => emit(latest.current.filter((_, j) => j !== i))} aria-label={t('lines.remove')} data-testid="lines-remove" />
          </Tooltip>
        </Space>
      ),
    },
  ];

  return (
    <div data-testid={`lines-${field.key}`}>
      <Table<Row>
        size="small"
        bordered
        pagination={false}
        rowKey={(r) => String(r.id ?? rows.indexOf(r))}
        dataSource={shown.map((r, i) => ({ ...r, id: r.id ?? `new-${i}` }))}
        columns={columns}
        scroll={{ x: 'max-content' }}
        locale={{ emptyText: t('lines.empty') }}
        onRow={() => ({ 'data-testid': 'lines-row' }) as React.HTMLAttributes<HTMLElement>}
      />
      <Space style={{ marginTop: 8, width: '100%', justifyContent: 'space-between' }} wrap>
        <Button icon={<PlusOutlined />} size="small" disabled={disabled || rows.length >= max} onClick={() => emit([...latest.current, newRow(field)])} data-testid={`lines-add-${field.key}`}>
          {t('lines.add')}
        </Button>
        {totals.length > 0 && (
          <Space size="middle" wrap data-testid={`lines-totals-${field.key}`}>
            {totals
              .filter((f) => typeof preview[f.key] === 'number')
              .map((f) => (
                <span key={f.key}>
                  <Typography.Text type="secondary">{fieldLabel(f, lang)}: </Typography.Text>
                  <Typography.Text strong data-testid={`lines-total-${f.key}`}>
                    {formatValue({ ...f, type: 'money' }, preview[f.key], lang)}
                  </Typography.Text>
                </span>
              ))}
          </Space>
        )}
      </Space>
    </div>
  );
}
