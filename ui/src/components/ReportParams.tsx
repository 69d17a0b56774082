// A report kind's parameters by pickers (stage field, stages, from/to stage, window in hours,
// days, amount and date fields) instead of JSON. Unknown keys of params are kept as they are.
import { Form, InputNumber, Select, Switch } from 'antd';
import { useTranslation } from 'react-i18next';
import type { EntityDef, FieldDef } from '../api/types';
import { labelText, optionLabel, optionValue } from '../lib/labels';

type P = Record<string, unknown>;

/** Which parameters each kind takes (runtime/report kindParams). */
export const KIND_PARAMS: Record<string, string[]> = {
  funnel: ['field', 'stages', 'date_field'],
  dwell: ['field', 'include_open', 'stuck', 'date_field'],
  stagnation: ['field', 'stage', 'days', 'basis'],
  penetration: ['field', 'from_stage', 'to_stage', 'hours', 'date_field'],
  forecast: ['field', 'amount', 'include_terminal'],
  cycle: ['field', 'from_stage', 'to_stage', 'date_field'],
  pivot: ['date_field'],
  table: ['date_field'],
  kpi: ['date_field'],
  compare: ['date_field'],
};

export default function ReportParams({ kind, entity, value, onChange }: { kind: string; entity?: EntityDef | null; value?: P; onChange: (p: P | undefined) => void }) {
  const { t, i18n } = useTranslation();
  const keys = KIND_PARAMS[kind] ?? [];
  if (!keys.length) return null;
  const fields: FieldDef[] = entity?.fields ?? [];
  const p = value ?? {};
  const set = (k: string, v: unknown) => {
    const next = { ...p };
    if (v === undefined || v === null || v === '' || (Array.isArray(v) && !v.length) || v === false) delete next[k];
    else next[k] = v;
    onChange(Object.keys(next).length ? next : undefined);
  };
  const fopt = (f: FieldDef) => ({ value: f.key, label: labelText(f.label, i18n.language, f.key) });
  const stageFieldKey = (p.field as string) || entity?.stages?.field || '';
  const stageField = fields.find((f) => f.key === stageFieldKey);
  const stageOpts = (stageField?.options ?? []).map((o) => ({ value: optionValue(o), label: optionLabel(o, i18n.language) }));
  const item = (k: string, node: React.ReactNode) => (
    <Form.Item key={k} label={t(`kparams.${k}`)} style={{ marginBottom: 8 }}>
      {node}
    </Form.Item>
  );
  const stageSelect = (k: string) => item(k, <Select allowClear value={p[k] as string} options={stageOpts} onChange={(v) => set(k, v)} data-testid={`param-${k}`} />);
  return (
    <div data-testid="report-params">
      {keys.map((k) => {
        switch (k) {
          case 'field':
            if (!entity?.stages?.field && ['funnel', 'dwell', 'stagnation', 'penetration', 'cycle'].includes(kind))
              return (
                <Form.Item key={k} label={t('kparams.field')} required validateStatus={p.field ? undefined : 'warning'} help={p.field ? undefined : t('kparams.fieldRequired')} style={{ marginBottom: 8 }}>
                  <Select allowClear value={p.field as string} options={fields.filter((f) => f.type === 'select').map(fopt)} onChange={(v) => set(k, v)} data-testid="param-field" />
                </Form.Item>
              );
            return item(k, <Select allowClear placeholder={entity?.stages?.field ? labelText(fields.find((f) => f.key === entity.stages!.field)?.label, i18n.language, entity.stages.field) : undefined} value={p.field as string} options={fields.filter((f) => f.type === 'select').map(fopt)} onChange={(v) => set(k, v)} data-testid="param-field" />);
          case 'stages':
            return item(k, <Select mode="multiple" allowClear value={(p.stages as string[]) ?? []} options={stageOpts} onChange={(v) => set(k, v)} placeholder={t('kparams.allStages')} data-testid="param-stages" />);
          case 'stage':
          case 'from_stage':
          case 'to_stage':
            return stageSelect(k);
          case 'date_field':
            return item(k, <Select allowClear placeholder={t('cond.createdAt')} value={p.date_field as string} options={[{ value: 'updated_at', label: t('cond.updatedAt') }, ...fields.filter((f) => f.type === 'date' || f.type === 'datetime').map(fopt)]} onChange={(v) => set(k, v)} data-testid="param-date_field" />);
          case 'amount':
            return item(k, <Select allowClear value={p.amount as string} options={fields.filter((f) => ['money', 'number'].includes(f.type)).map(fopt)} onChange={(v) => set(k, v)} data-testid="param-amount" />);
          case 'basis':
            return item(k, <Select allowClear value={p.basis as string} options={[{ value: 'stage', label: t('kparams.basisStage') }, { value: 'updated', label: t('kparams.basisUpdated') }]} onChange={(v) => set(k, v)} data-testid="param-basis" />);
          case 'days':
          case 'hours':
          case 'stuck':
            return item(k, <InputNumber min={k === 'stuck' ? 0 : 1} max={k === 'stuck' ? 10 : undefined} value={p[k] as number} onChange={(v) => set(k, v ?? undefined)} data-testid={`param-${k}`} />);
          case 'include_open':
          case 'include_terminal':
            return item(k, <Switch checked={!!p[k]} onChange={(v) => set(k, v)} data-testid={`param-${k}`} />);
          default:
            return null;
        }
      })}
    </div>
  );
}
