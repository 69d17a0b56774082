import { ArrowDownOutlined, ArrowUpOutlined, CodeOutlined, DeleteOutlined, PlusOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import { Button, Card, Empty, Input, InputNumber, Radio, Select, Space, Switch, Tooltip, Typography } from 'antd';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client';
import type { FieldDef } from '../../api/types';
import { labelText } from '../../lib/labels';
import FieldInput from '../FieldInput';
import { personOptions, usePeople } from '../PersonSelect';
import { ExpressionInput } from './editors';
import { useFlowCtx } from './FlowContext';
import { exprOf, formatDuration, isExprValue, levelsOf, move, OWNER, OWNER_MANAGER, parseDuration, parsePerson, peopleList, peopleValue, setValue, STARTER, wrapExpr, type ApprovalLevel } from './values';

/** The app's entities as a labelled picker. */
export function EntitySelect({ value, onChange, testId }: { value?: string; onChange: (v?: string) => void; testId?: string }) {
  const ctx = useFlowCtx();
  const { t } = useTranslation();
  return (
    <Select allowClear showSearch={{ optionFilterProp: 'label' }} value={value || undefined} onChange={(v) => onChange(v ?? undefined)} placeholder={t('fb.pickEntity')}
      options={ctx.entityList.map((e) => ({ value: e.slug, label: e.label }))} data-testid={testId ?? 'entity-select'} style={{ width: '100%' }} />
  );
}

/** A labelled picker over a list of slugs (reports, flows). */
export function SlugSelect({ value, onChange, list, testId }: { value?: string; onChange: (v?: string) => void; list: { slug: string; label: string }[]; testId?: string }) {
  return <Select allowClear showSearch={{ optionFilterProp: 'label' }} value={value || undefined} onChange={(v) => onChange(v ?? undefined)} options={list.map((e) => ({ value: e.slug, label: e.label }))} data-testid={testId} style={{ width: '100%' }} />;
}

/** Role names of the app (admins see the list; others type a name). */
function useAppRoles(app: string) {
  return useQuery({
    queryKey: ['fb-roles', app],
    enabled: !!app,
    retry: false,
    queryFn: async () => {
      const r = await api<{ items?: { name: string }[] } | { name: string }[]>('/api/v1/admin/roles', { query: { app } });
      return (Array.isArray(r) ? r : r?.items ?? []).map((x) => x.name);
    },
  });
}

/**
 * People picker for assignees and recipients: users by name, roles, the record owner's
 * manager, the run's starter, e-mail addresses. The value is what the engine takes: one
 * reference (single) or a list (multiple) of user ids, role:<name>, manager:…, starter, email:….
 */
export function PeoplePicker({ value, onChange, multiple = true, testId }: { value: unknown; onChange: (v: unknown) => void; multiple?: boolean; testId?: string }) {
  const ctx = useFlowCtx();
  const { t } = useTranslation();
  const [q, setQ] = useState('');
  const people = usePeople(ctx.app, q);
  const roles = useAppRoles(ctx.app);
  const selected = peopleList(value);
  const label = (ref: string) => {
    const p = parsePerson(ref);
    switch (p.kind) {
      case 'role':
        return t('fb.people.role', { role: p.role });
      case 'email':
        return p.email;
      case 'starter':
        return t('fb.people.starter');
      case 'owner':
        return t('fb.people.owner');
      case 'owner-manager':
        return t('fb.people.ownerManager');
      case 'expr':
        return p.text;
      default:
        return ref;
    }
  };
  const users = personOptions(people.data ?? [], selected.filter((s) => parsePerson(s).kind === 'user'));
  const roleNames = [...new Set([...(roles.data ?? []), ...(q.trim() && !q.includes('@') ? [q.trim()] : [])])];
  const options = [
    { label: t('fb.people.special'), title: 'special', options: [STARTER, OWNER, OWNER_MANAGER].map((v) => ({ value: v, label: label(v) })) },
    { label: t('fb.people.roles'), title: 'roles', options: roleNames.map((r) => ({ value: `role:${r}`, label: t('fb.people.role', { role: r }) })) },
    { label: t('fb.people.users'), title: 'users', options: users },
    ...(/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(q.trim()) ? [{ label: t('fb.people.email'), title: 'email', options: [{ value: `email:${q.trim()}`, label: q.trim() }] }] : []),
  ];
  // references outside the options (expressions, e-mails) keep showing
  const known = new Set(options.flatMap((g) => g.options.map((o) => o.value)));
  for (const s of selected) if (!known.has(s)) options.push({ label: t('fb.people.other'), title: 'other', options: [{ value: s, label: label(s) }] });
  return (
    <Select
      mode={multiple ? 'multiple' : undefined}
      allowClear
      showSearch={{ filterOption: (inp, o) => String(o?.label ?? '').toLowerCase().includes(inp.toLowerCase()), onSearch: setQ }}
      loading={people.isFetching}
      placeholder={t('fb.people.pick')}
      value={multiple ? selected : selected[0]}
      onChange={(v: string | string[] | undefined) => onChange(peopleValue(Array.isArray(v) ? v : v ? [v] : [], multiple))}
      options={options}
      style={{ width: '100%' }}
      data-testid={testId ?? 'people-picker'}
    />
  );
}

/** A duration as a number and a unit (minutes, hours, days): "90m", "2h", "3d". */
export function DurationInput({ value, onChange, testId }: { value: unknown; onChange: (v?: string) => void; testId?: string }) {
  const { t } = useTranslation();
  const d = parseDuration(value);
  const [unit, setUnit] = useState(d.unit);
  const u = d.n === null ? unit : d.unit;
  return (
    <Space.Compact data-testid={testId ?? 'duration-input'}>
      <InputNumber min={1} value={d.n} onChange={(n) => onChange(formatDuration(n as number | null, u))} style={{ width: 110 }} placeholder="—" />
      <Select value={u} onChange={(x) => { setUnit(x); if (d.n) onChange(formatDuration(d.n, x)); }} style={{ width: 100 }}
        options={(['m', 'h', 'd'] as const).map((x) => ({ value: x, label: t(`fb.unit.${x}`) }))} />
    </Space.Compact>
  );
}

/** The record a node works on: the trigger's record, one an upstream node made or found, or an expression. */
export function RecordInput({ value, onChange, testId }: { value: unknown; onChange: (v?: string) => void; testId?: string }) {
  const ctx = useFlowCtx();
  const { t } = useTranslation();
  const options = [
    ...(ctx.triggerEntity ? [{ value: '{{ trigger.record.id }}', label: t('fb.record.trigger') }] : []),
    ...ctx.upstream.filter((n) => n.type === 'record.create' || n.type === 'record.update').map((n) => ({ value: `{{ steps.${n.id}.id }}`, label: t('fb.record.step', { name: n.name }) })),
    ...ctx.upstream.filter((n) => n.type === 'record.find').map((n) => ({ value: `{{ steps.${n.id}[0].id }}`, label: t('fb.record.found', { name: n.name }) })),
  ];
  const v = typeof value === 'string' ? value : undefined;
  const listed = !v || options.some((o) => o.value.replace(/\s+/g, '') === v.replace(/\s+/g, ''));
  const [expr, setExpr] = useState(!listed);
  return (
    <Space orientation="vertical" style={{ width: '100%' }} data-testid={testId ?? 'record-input'}>
      {expr ? (
        <ExpressionInput value={exprOf(v)} onChange={(x) => onChange(x.trim() ? wrapExpr(x) : undefined)} />
      ) : (
        <Select allowClear value={options.find((o) => o.value.replace(/\s+/g, '') === (v ?? '').replace(/\s+/g, ''))?.value} onChange={(x) => onChange(x ?? undefined)}
          options={options} placeholder={t('fb.record.default')} style={{ width: '100%' }} />
      )}
      <Switch size="small" checked={expr} onChange={setExpr} checkedChildren={t('fb.expression')} unCheckedChildren={t('fb.expression')} />
    </Space>
  );
}

/** The value of one field: its type's editor, or an expression. */
function FieldValueRow({ field, value, onChange }: { field: FieldDef; value: unknown; onChange: (v: unknown) => void }) {
  const ctx = useFlowCtx();
  const { t, i18n } = useTranslation();
  const [expr, setExpr] = useState(isExprValue(value));
  return (
    <div className="fvm-row" data-testid={`fvm-row-${field.key}`} style={{ display: 'grid', gridTemplateColumns: '110px 1fr 28px', gap: 6, alignItems: 'start', marginBottom: 6 }}>
      <Typography.Text style={{ paddingTop: 4 }} ellipsis={{ tooltip: field.key }}>{labelText(field.label, i18n.language, field.key)}</Typography.Text>
      <div>
        {expr ? (
          <ExpressionInput value={exprOf(value)} onChange={(x) => onChange(x.trim() ? wrapExpr(x) : undefined)} testId={`fvm-expr-${field.key}`} />
        ) : (
          <FieldInput field={field} app={ctx.app} value={isExprValue(value) ? undefined : value} onChange={onChange} />
        )}
      </div>
      <Tooltip title={t('fb.useExpression')}>
        <Button size="small" type={expr ? 'primary' : 'text'} icon={<CodeOutlined />} aria-label={t('fb.useExpression')} data-testid={`fvm-mode-${field.key}`}
          onClick={() => { setExpr(!expr); if (expr && isExprValue(value)) onChange(undefined); }} />
      </Tooltip>
    </div>
  );
}

const UNSETTABLE = new Set(['autonumber', 'formula']);

/**
 * Field-value mapper: one row per field of the entity (labelled in the user's language) with
 * the editor of its type and a switch to an expression. Values of keys the entity does not
 * have stay intact.
 */
export function FieldValueMapper({ entity, value, onChange }: { entity?: string; value: unknown; onChange: (v: Record<string, unknown>) => void }) {
  const ctx = useFlowCtx();
  const { t } = useTranslation();
  const values = value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  const ent = entity ? ctx.entities[entity] : undefined;
  const fields = useMemo(() => (ent?.fields ?? []).filter((f) => !UNSETTABLE.has(f.type)), [ent]);
  const [named, setNamed] = useState('');
  if (!entity) {
    // no entity (set node): named values, each an expression or text
    return (
      <div data-testid="fvm">
        {Object.entries(values).map(([k, v]) => (
          <div key={k} style={{ display: 'grid', gridTemplateColumns: '110px 1fr 28px', gap: 6, marginBottom: 6 }}>
            <Typography.Text code style={{ paddingTop: 4 }}>{k}</Typography.Text>
            <ExpressionInput value={isExprValue(v) ? exprOf(v) : JSON.stringify(v)} onChange={(x) => onChange(setValue(values, k, x.trim() ? wrapExpr(x) : undefined))} />
            <Button size="small" type="text" danger icon={<DeleteOutlined />} onClick={() => onChange(setValue(values, k, undefined))} />
          </div>
        ))}
        <Space.Compact style={{ width: '100%' }}>
          <Input value={named} onChange={(e) => setNamed(e.target.value.replace(/[^\w]/g, '_'))} placeholder={t('fb.valueName')} />
          <Button icon={<PlusOutlined />} disabled={!named} onClick={() => { onChange({ ...values, [named]: '' }); setNamed(''); }}>{t('fb.add')}</Button>
        </Space.Compact>
      </div>
    );
  }
  if (!ent) return <Typography.Text type="secondary">{t('fb.entityUnknown', { entity })}</Typography.Text>;
  if (!fields.length) return <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} />;
  return (
    <div data-testid="fvm">
      {fields.map((f) => (
        <FieldValueRow key={f.key} field={f} value={values[f.key]} onChange={(v) => onChange(setValue(values, f.key, v))} />
      ))}
    </div>
  );
}

/** Ordered approval levels: name, approvers (people picker), any/all. */
export function ApprovalLevelsEditor({ value, onChange, testId }: { value: unknown; onChange: (v?: ApprovalLevel[]) => void; testId?: string }) {
  const { t } = useTranslation();
  const levels = levelsOf(value);
  const set = (next: ApprovalLevel[]) => onChange(next.length ? next : undefined);
  return (
    <div data-testid={testId ?? 'approval-levels'}>
      {levels.map((l, i) => (
        <Card key={i} size="small" style={{ marginBottom: 8 }} data-testid={`approval-level-${i}`}
          title={<Space><Typography.Text type="secondary">{t('fb.level', { n: i + 1 })}</Typography.Text>
            <Input size="small" value={l.name} placeholder={t('fb.levelName')} onChange={(e) => set(levels.map((x, j) => (j === i ? { ...x, name: e.target.value } : x)))} data-testid={`approval-level-name-${i}`} style={{ width: 140 }} /></Space>}
          extra={<Space size={0}>
            <Button size="small" type="text" icon={<ArrowUpOutlined />} disabled={i === 0} onClick={() => set(move(levels, i, -1))} aria-label={t('fb.up')} />
            <Button size="small" type="text" icon={<ArrowDownOutlined />} disabled={i === levels.length - 1} onClick={() => set(move(levels, i, 1))} aria-label={t('fb.down')} />
            <Button size="small" type="text" danger icon={<DeleteOutlined />} onClick={() => set(levels.filter((_, j) => j !== i))} aria-label={t('common.delete')} />
          </Space>}>
          <PeoplePicker value={l.assignees} onChange={(v) => set(levels.map((x, j) => (j === i ? { ...x, assignees: peopleList(v) } : x)))} testId={`approval-level-people-${i}`} />
          <Radio.Group size="small" style={{ marginTop: 6 }} value={l.mode ?? 'any'} onChange={(e) => set(levels.map((x, j) => (j === i ? { ...x, mode: e.target.value } : x)))}
            options={[{ value: 'any', label: t('fb.modeAny') }, { value: 'all', label: t('fb.modeAll') }]} />
        </Card>
      ))}
      <Button icon={<PlusOutlined />} onClick={() => set([...levels, { name: '', assignees: [], mode: 'any' }])} data-testid="approval-add-level">{t('fb.addLevel')}</Button>
    </div>
  );
}

interface Route { when?: string; levels?: ApprovalLevel[] }

/** Conditional approval routes: a condition and its own levels; the first that matches wins. */
export function ApprovalRoutesEditor({ value, onChange, Condition }: { value: unknown; onChange: (v?: Route[]) => void; Condition: (p: { value?: string; onChange: (v: string) => void }) => React.ReactNode }) {
  const { t } = useTranslation();
  const routes: Route[] = Array.isArray(value) ? (value as Route[]) : [];
  const set = (next: Route[]) => onChange(next.length ? next : undefined);
  return (
    <div data-testid="approval-routes">
      {routes.map((r, i) => (
        <Card key={i} size="small" style={{ marginBottom: 8 }} title={t('fb.route', { n: i + 1 })}
          extra={<Button size="small" type="text" danger icon={<DeleteOutlined />} onClick={() => set(routes.filter((_, j) => j !== i))} aria-label={t('common.delete')} />}>
          <Typography.Text type="secondary">{t('fb.routeWhen')}</Typography.Text>
          {Condition({ value: r.when, onChange: (w) => set(routes.map((x, j) => (j === i ? { ...x, when: w } : x))) })}
          <div style={{ height: 8 }} />
          <ApprovalLevelsEditor value={r.levels} onChange={(l) => set(routes.map((x, j) => (j === i ? { ...x, levels: l ?? [] } : x)))} testId={`route-levels-${i}`} />
        </Card>
      ))}
      <Button icon={<PlusOutlined />} onClick={() => set([...routes, { when: '', levels: [] }])} data-testid="approval-add-route">{t('fb.addRoute')}</Button>
    </div>
  );
}
