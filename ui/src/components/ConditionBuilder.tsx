// The one condition/filter builder: field-operator-value rows in AND/OR groups. ConditionInput
// edits an expression (flow conditions, stage gates, form visibility); FilterInput edits the
// records API filter JSON (record lists, reports, dashboards). See lib/condition.ts.
import { DeleteOutlined, PlusOutlined } from '@ant-design/icons';
import { Alert, Button, DatePicker, Input, InputNumber, Segmented, Select, Space, Switch, Typography } from 'antd';
import dayjs from 'dayjs';
import { useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { FieldDef } from '../api/types';
import {
  type CondGroup,
  type CondItem,
  type CondKind,
  type CondRow,
  type FileCond,
  type FilterJSON,
  PERIODS,
  condKind,
  emptyGroup,
  fromExpr,
  fromFilter,
  isGroup,
  opArity,
  opsFor,
  toExpr,
  toFilter,
} from '../lib/condition';
import { labelText, optionLabel, optionValue } from '../lib/labels';
import FieldInput from './FieldInput';
import PersonSelect from './PersonSelect';

type Target = 'expr' | 'filter';

interface Ctx {
  fields: FieldDef[];
  target: Target;
  app: string;
  lang: string;
  disabled?: boolean;
}

/** Field picker options: the label in the user's language, the key as secondary text. */
function fieldOptions(fields: FieldDef[], lang: string) {
  return fields.map((f) => {
    const label = labelText(f.label, lang, f.key);
    return {
      value: f.key,
      search: `${label} ${f.key}`,
      title: label,
      label: (
        <span>
          {label}
          {label !== f.key && (
            <Typography.Text type="secondary" style={{ marginInlineStart: 6, fontSize: 12 }}>
              {f.key}
            </Typography.Text>
          )}
        </span>
      ),
    };
  });
}

function isDateField(f: FieldDef) {
  return f.type === 'date' || f.type === 'datetime';
}

function SingleValue({ f, kind, ctx, value, onChange, testid }: { f: FieldDef; kind: CondKind; ctx: Ctx; value: unknown; onChange: (v: unknown) => void; testid: string }) {
  const { t } = useTranslation();
  if (kind === 'select' || kind === 'multi' || kind === 'number' || kind === 'date') {
    if (f.type === 'user') return <PersonSelect app={ctx.app} value={value as string} onChange={onChange} disabled={ctx.disabled} data-testid={testid} />;
    if (kind === 'date') {
      return (
        <DatePicker
          showTime={f.type === 'datetime'}
          value={value ? dayjs(value as string) : null}
          onChange={(d) => onChange(d ? (f.type === 'datetime' ? d.toISOString() : d.format('YYYY-MM-DD')) : undefined)}
          disabled={ctx.disabled}
          data-testid={testid}
        />
      );
    }
    if (f.type === 'multiselect' || f.type === 'select') {
      const opts = (f.options ?? []).map((o) => ({ value: optionValue(o), label: optionLabel(o, ctx.lang) }));
      return <Select style={{ minWidth: 140 }} options={opts} value={value as string} onChange={onChange} disabled={ctx.disabled} placeholder={t('cond.value')} data-testid={testid} />;
    }
    return (
      <span style={{ display: 'inline-block', minWidth: 160 }} data-testid={testid}>
        <FieldInput field={{ ...f, multiple: false, key: `${f.key}-cond` }} app={ctx.app} value={value} onChange={(v) => onChange(v ?? undefined)} disabled={ctx.disabled} />
      </span>
    );
  }
  return <Input style={{ width: 180 }} value={(value as string) ?? ''} onChange={(e) => onChange(e.target.value)} disabled={ctx.disabled} placeholder={t('cond.value')} data-testid={testid} />;
}

function ListValue({ f, ctx, value, onChange, testid }: { f: FieldDef; ctx: Ctx; value: unknown; onChange: (v: unknown) => void; testid: string }) {
  const { t } = useTranslation();
  const arr = Array.isArray(value) ? (value as string[]) : [];
  if (f.type === 'user') return <PersonSelect app={ctx.app} multiple value={arr} onChange={(v) => onChange(v ?? [])} disabled={ctx.disabled} data-testid={testid} />;
  const opts = (f.options ?? []).map((o) => ({ value: optionValue(o), label: optionLabel(o, ctx.lang) }));
  return (
    <Select
      mode={opts.length ? 'multiple' : 'tags'}
      style={{ minWidth: 200 }}
      options={opts}
      value={arr}
      onChange={(v) => onChange(v)}
      disabled={ctx.disabled}
      placeholder={opts.length ? t('cond.pickValues') : t('cond.typeValues')}
      tokenSeparators={opts.length ? undefined : [',', '，']}
      data-testid={testid}
    />
  );
}

function RowEditor({ row, ctx, onChange, onRemove, path }: { row: CondRow; ctx: Ctx; onChange: (r: CondRow) => void; onRemove: () => void; path: string }) {
  const { t } = useTranslation();
  const f = ctx.fields.find((x) => x.key === row.field);
  const kind = condKind(f);
  const ops = opsFor(kind, ctx.target);
  const arity = opArity(row.op);
  const dateFields = ctx.fields.filter((x) => isDateField(x) && x.key !== row.field);
  const fieldOpts = useMemo(() => fieldOptions(ctx.fields, ctx.lang), [ctx.fields, ctx.lang]);
  const set = (p: Partial<CondRow>) => onChange({ ...row, ...p });
  const ofOptions = [{ value: '', label: t('cond.now') }, ...dateFields.map((d) => ({ value: d.key, label: labelText(d.label, ctx.lang, d.key) }))];
  const file = (row.value ?? {}) as FileCond;
  let editor: React.ReactNode = null;
  if (f) {
    switch (arity) {
      case 'one':
        editor = <SingleValue f={f} kind={kind} ctx={ctx} value={row.value} onChange={(v) => set({ value: v })} testid="cond-value" />;
        break;
      case 'list':
        editor = <ListValue f={f} ctx={ctx} value={row.value} onChange={(v) => set({ value: v })} testid="cond-value" />;
        break;
      case 'two':
        editor = (
          <Space size={4}>
            <SingleValue f={f} kind={kind} ctx={ctx} value={row.value} onChange={(v) => set({ value: v })} testid="cond-value" />
            <span>{t('cond.and')}</span>
            <SingleValue f={f} kind={kind} ctx={ctx} value={row.value2} onChange={(v) => set({ value2: v })} testid="cond-value2" />
          </Space>
        );
        break;
      case 'last':
        editor = (
          <Space size={4}>
            <InputNumber min={1} value={row.value as number} onChange={(v) => set({ value: v ?? undefined })} disabled={ctx.disabled} data-testid="cond-value" />
            <Select style={{ width: 90 }} value={(row.value2 as string) || 'days'} onChange={(v) => set({ value2: v })} options={[{ value: 'days', label: t('cond.days') }, { value: 'hours', label: t('cond.hours') }]} disabled={ctx.disabled} />
          </Space>
        );
        break;
      case 'hours_of':
        editor = (
          <Space size={4} wrap>
            <InputNumber min={0} value={row.value as number} onChange={(v) => set({ value: v ?? undefined })} disabled={ctx.disabled} data-testid="cond-value" />
            <span>{t('cond.hoursOf')}</span>
            <Select style={{ minWidth: 140 }} value={(row.value2 as string) ?? ''} onChange={(v) => set({ value2: v })} options={ofOptions} disabled={ctx.disabled} data-testid="cond-value2" />
          </Space>
        );
        break;
      case 'file':
        editor = (
          <Space size={4} wrap>
            <span>{t('cond.fileName')}</span>
            <Input style={{ width: 140 }} value={file.name ?? ''} onChange={(e) => set({ value: { ...file, name: e.target.value || undefined } })} disabled={ctx.disabled} data-testid="cond-file-name" />
            {ctx.target === 'expr' && (
              <>
                <Select
                  style={{ width: 120 }}
                  value={file.type ?? ''}
                  onChange={(v) => set({ value: { ...file, type: (v || undefined) as FileCond['type'] } })}
                  options={[{ value: '', label: t('cond.fileAnyType') }, { value: 'pdf', label: 'PDF' }, { value: 'image', label: t('cond.fileImage') }]}
                  disabled={ctx.disabled}
                  data-testid="cond-file-type"
                />
                <span>{t('cond.uploadedWithin')}</span>
                <InputNumber min={0} style={{ width: 80 }} value={file.hours} onChange={(v) => set({ value: { ...file, hours: v ?? undefined } })} disabled={ctx.disabled} data-testid="cond-file-hours" />
                <span>{t('cond.hoursOf')}</span>
                <Select style={{ minWidth: 120 }} value={file.of ?? ''} onChange={(v) => set({ value: { ...file, of: v || undefined } })} options={ofOptions} disabled={ctx.disabled} data-testid="cond-file-of" />
              </>
            )}
          </Space>
        );
        break;
      case 'period':
        editor = (
          <Select style={{ minWidth: 150 }} value={row.value as string} onChange={(v) => set({ value: v })} options={PERIODS.map((p) => ({ value: p, label: t(`periods.${p}`) }))} disabled={ctx.disabled} placeholder={t('cond.pickPeriod')} data-testid="cond-value" />
        );
        break;
    }
  }
  return (
    <Space size={4} wrap align="start" data-testid="cond-row" data-path={path}>
      <Select
        style={{ minWidth: 170 }}
        showSearch={{ optionFilterProp: 'search' }}
        placeholder={t('cond.field')}
        value={row.field || undefined}
        options={fieldOpts}
        optionLabelProp="title"
        onChange={(k: string) => {
          const nf = ctx.fields.find((x) => x.key === k);
          const nops = opsFor(condKind(nf), ctx.target);
          onChange({ field: k, op: nops.includes(row.op) && condKind(nf) === kind ? row.op : nops[0] });
        }}
        disabled={ctx.disabled}
        data-testid="cond-field"
      />
      <Select
        style={{ minWidth: 130 }}
        value={row.op || undefined}
        options={ops.map((o) => ({ value: o, label: t(`condOps.${o}`) }))}
        onChange={(op: string) => onChange({ field: row.field, op, value: opArity(op) === opArity(row.op) ? row.value : op === 'within_last' ? 7 : undefined, value2: op === 'within_last' ? 'days' : undefined })}
        disabled={ctx.disabled || !f}
        data-testid="cond-op"
      />
      {editor}
      {!ctx.disabled && <Button type="text" size="small" icon={<DeleteOutlined />} onClick={onRemove} aria-label={t('common.delete')} data-testid="cond-remove" />}
    </Space>
  );
}

function GroupEditor({ group, ctx, onChange, onRemove, depth, path }: { group: CondGroup; ctx: Ctx; onChange: (g: CondGroup) => void; onRemove?: () => void; depth: number; path: string }) {
  const { t } = useTranslation();
  const setItem = (i: number, it: CondItem) => onChange({ ...group, items: group.items.map((x, j) => (j === i ? it : x)) });
  const remove = (i: number) => onChange({ ...group, items: group.items.filter((_, j) => j !== i) });
  return (
    <div
      data-testid={depth === 0 ? 'cond-group' : 'cond-subgroup'}
      style={depth ? { borderInlineStart: '3px solid var(--ant-color-primary-border, #91caff)', paddingInlineStart: 8, margin: '4px 0' } : undefined}
    >
      {(group.items.length > 1 || depth > 0) && (
        <Space size={6} style={{ marginBottom: 4 }}>
          <Segmented
            size="small"
            value={group.mode}
            onChange={(m) => onChange({ ...group, mode: m as CondGroup['mode'] })}
            options={[{ value: 'and', label: t('cond.all') }, { value: 'or', label: t('cond.any') }]}
            disabled={ctx.disabled}
            data-testid="cond-mode"
          />
          {onRemove && !ctx.disabled && <Button size="small" type="text" icon={<DeleteOutlined />} onClick={onRemove} aria-label={t('common.delete')} />}
        </Space>
      )}
      <Space orientation="vertical" size={4} style={{ width: '100%' }}>
        {group.items.map((it, i) =>
          isGroup(it) ? (
            <GroupEditor key={i} group={it} ctx={ctx} depth={depth + 1} path={`${path}.${i}`} onChange={(g) => setItem(i, g)} onRemove={() => remove(i)} />
          ) : (
            <RowEditor key={i} row={it} ctx={ctx} path={`${path}.${i}`} onChange={(r) => setItem(i, r)} onRemove={() => remove(i)} />
          ),
        )}
      </Space>
      {!ctx.disabled && (
        <Space size={4} style={{ marginTop: 4 }}>
          <Button size="small" type="dashed" icon={<PlusOutlined />} onClick={() => onChange({ ...group, items: [...group.items, { field: '', op: '' }] })} data-testid="cond-add">
            {t('cond.addRow')}
          </Button>
          {depth < 2 && (
            <Button size="small" type="dashed" icon={<PlusOutlined />} onClick={() => onChange({ ...group, items: [...group.items, { mode: group.mode === 'and' ? 'or' : 'and', items: [{ field: '', op: '' }] }] })} data-testid="cond-add-group">
              {t('cond.addGroup')}
            </Button>
          )}
        </Space>
      )}
    </div>
  );
}

export interface ConditionBuilderProps {
  value: CondGroup;
  onChange: (g: CondGroup) => void;
  fields: FieldDef[];
  target: Target;
  app: string;
  disabled?: boolean;
}

/** Rows and groups of conditions over fields (the model is lib/condition's CondGroup). */
export default function ConditionBuilder({ value, onChange, fields, target, app, disabled }: ConditionBuilderProps) {
  const { i18n } = useTranslation();
  const ctx: Ctx = { fields, target, app, lang: i18n.language, disabled };
  return <GroupEditor group={value} ctx={ctx} onChange={onChange} depth={0} path="0" />;
}

/** The system columns every record has, for filters. */
export function systemFilterFields(t: (k: string) => string): FieldDef[] {
  return [
    { key: 'created_at', type: 'datetime', label: t('cond.createdAt') },
    { key: 'updated_at', type: 'datetime', label: t('cond.updatedAt') },
    { key: 'owner_id', type: 'user', label: t('cond.owner') },
  ];
}

export interface ConditionInputProps {
  /** the expression ("" = no condition) */
  value?: string;
  onChange?: (expr: string) => void;
  /** the fields under root */
  fields: FieldDef[];
  /** "record" for gates and visibility, "trigger.record" for flows */
  root?: string;
  /** further variables by full path (e.g. {key: "steps.find.count", type: "number", label}) */
  vars?: FieldDef[];
  app: string;
  disabled?: boolean;
  placeholder?: string;
  'data-testid'?: string;
}

/** An expression edited as rows when it can be shown as rows, with an "advanced" text editor. */
export function ConditionInput({ value = '', onChange, fields, root = 'record', vars = [], app, disabled, placeholder, ...rest }: ConditionInputProps) {
  const { t } = useTranslation();
  const parsed = useMemo(() => fromExpr(value, root), [value, root]);
  const [group, setGroup] = useState<CondGroup>(parsed ?? emptyGroup());
  const [text, setText] = useState(parsed === null);
  const emitted = useRef(value);
  useEffect(() => {
    // an outside change (another draft, undo) replaces the rows; our own emission does not
    if (value !== emitted.current) {
      emitted.current = value;
      if (parsed) setGroup(parsed);
      else setText(true);
    }
  }, [value, parsed]);
  const all = useMemo(() => [...fields, ...vars], [fields, vars]);
  const emit = (s: string) => {
    emitted.current = s;
    onChange?.(s);
  };
  return (
    <div data-testid={rest['data-testid'] ?? 'condition-input'}>
      <Space size={6} style={{ marginBottom: 4 }}>
        <Switch
          size="small"
          checked={text}
          disabled={disabled || (text && parsed === null)}
          onChange={(on) => {
            if (!on && parsed) setGroup(parsed);
            setText(on);
          }}
          data-testid="cond-advanced"
        />
        <Typography.Text type="secondary">{t('cond.advanced')}</Typography.Text>
      </Space>
      {text ? (
        <>
          {parsed === null && value.trim() !== '' && <Alert type="info" showIcon style={{ marginBottom: 4 }} title={t('cond.asText')} />}
          <Input.TextArea
            autoSize={{ minRows: 2, maxRows: 8 }}
            style={{ fontFamily: 'monospace' }}
            value={value}
            placeholder={placeholder}
            onChange={(e) => emit(e.target.value)}
            disabled={disabled}
            data-testid="cond-text"
          />
        </>
      ) : (
        <ConditionBuilder
          value={group}
          fields={all}
          target="expr"
          app={app}
          disabled={disabled}
          onChange={(g) => {
            setGroup(g);
            emit(toExpr(g, root));
          }}
        />
      )}
    </div>
  );
}

export interface FilterInputProps {
  value?: FilterJSON | null;
  onChange?: (f: FilterJSON | null) => void;
  fields: FieldDef[];
  app: string;
  /** offer created_at, updated_at and owner_id too (default true) */
  system?: boolean;
  disabled?: boolean;
  'data-testid'?: string;
}

/** A records filter (the records API filter JSON) edited as rows. */
export function FilterInput({ value, onChange, fields, app, system = true, disabled, ...rest }: FilterInputProps) {
  const { t } = useTranslation();
  const all = useMemo(() => (system ? [...fields, ...systemFilterFields(t).filter((s) => !fields.some((f) => f.key === s.key))] : fields), [fields, system, t]);
  const key = JSON.stringify(value ?? null);
  const parsed = useMemo(() => fromFilter(value ?? null, all), [key, all]); // eslint-disable-line react-hooks/exhaustive-deps
  const [group, setGroup] = useState<CondGroup>(parsed ?? emptyGroup());
  const emitted = useRef(key);
  useEffect(() => {
    if (key !== emitted.current) {
      emitted.current = key;
      if (parsed) setGroup(parsed);
    }
  }, [key, parsed]);
  if (parsed === null && key === emitted.current && value) {
    return (
      <div data-testid={rest['data-testid'] ?? 'filter-input'}>
        <Alert type="info" showIcon style={{ marginBottom: 4 }} title={t('cond.filterAsText')} />
        <Typography.Paragraph code style={{ whiteSpace: 'pre-wrap' }}>{JSON.stringify(value, null, 1)}</Typography.Paragraph>
        {!disabled && <Button size="small" onClick={() => onChange?.(null)}>{t('common.clear')}</Button>}
      </div>
    );
  }
  return (
    <div data-testid={rest['data-testid'] ?? 'filter-input'}>
      <ConditionBuilder
        value={group}
        fields={all}
        target="filter"
        app={app}
        disabled={disabled}
        onChange={(g) => {
          setGroup(g);
          const f = toFilter(g);
          emitted.current = JSON.stringify(f ?? null);
          onChange?.(f);
        }}
      />
    </div>
  );
}
