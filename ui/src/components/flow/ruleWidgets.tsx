import { ArrowDownOutlined, ArrowUpOutlined, DeleteOutlined, PlusOutlined } from '@ant-design/icons';
import { Button, Card, Input, Select, Space, Switch, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ConditionWidget } from './ConditionWidget';
import { ExpressionInput } from './editors';
import { useFlowCtx } from './FlowContext';
import { casesOf, exprOf, listSources, move, patchAt, rulesOf, wrapExpr, type AssignRule, type SwitchCase } from './values';
import { PeoplePicker } from './widgets';

function RowTools({ i, n, onMove, onRemove }: { i: number; n: number; onMove: (d: -1 | 1) => void; onRemove: () => void }) {
  const { t } = useTranslation();
  return (
    <Space size={0}>
      <Button size="small" type="text" icon={<ArrowUpOutlined />} disabled={i === 0} onClick={() => onMove(-1)} aria-label={t('fb.up')} />
      <Button size="small" type="text" icon={<ArrowDownOutlined />} disabled={i === n - 1} onClick={() => onMove(1)} aria-label={t('fb.down')} />
      <Button size="small" type="text" danger icon={<DeleteOutlined />} onClick={onRemove} aria-label={t('common.delete')} />
    </Space>
  );
}

/** A switch node's branches: a name (its port on the canvas) and a condition per row; the first that holds wins. */
export function SwitchCasesEditor({ value, onChange }: { value: unknown; onChange: (v?: SwitchCase[]) => void }) {
  const { t } = useTranslation();
  const cases = casesOf(value);
  const set = (next: SwitchCase[]) => onChange(next.length ? next : undefined);
  return (
    <div data-testid="switch-cases">
      {cases.map((c, i) => (
        <Card key={i} size="small" style={{ marginBottom: 8 }} data-testid={`switch-case-${i}`}
          title={<Input size="small" value={c.port} placeholder={t('fb.caseName')} onChange={(e) => set(patchAt(cases, i, { port: e.target.value }))} data-testid={`switch-case-port-${i}`} style={{ width: 160 }} />}
          extra={<RowTools i={i} n={cases.length} onMove={(d) => set(move(cases, i, d))} onRemove={() => set(cases.filter((_, j) => j !== i))} />}>
          {c.equals !== undefined && !c.when ? (
            <Space>
              <Typography.Text type="secondary">{t('fb.caseEquals')}</Typography.Text>
              <Input size="small" value={typeof c.equals === 'string' ? c.equals : JSON.stringify(c.equals)} onChange={(e) => set(patchAt(cases, i, { equals: e.target.value }))} data-testid={`switch-case-equals-${i}`} />
            </Space>
          ) : (
            <ConditionWidget value={c.when ?? ''} onChange={(w) => set(patchAt(cases, i, { when: w || undefined }))} testId={`switch-case-when-${i}`} />
          )}
        </Card>
      ))}
      <Button icon={<PlusOutlined />} onClick={() => set([...cases, { port: t('fb.caseDefaultName', { n: cases.length + 1 }), when: '' }])} data-testid="switch-add-case">{t('fb.addCase')}</Button>
    </div>
  );
}

/** An assign node's rules: a condition and the person who gets the record when it holds; the first that holds wins. */
export function AssignRulesEditor({ value, onChange }: { value: unknown; onChange: (v?: AssignRule[]) => void }) {
  const { t } = useTranslation();
  const rules = rulesOf(value);
  const set = (next: AssignRule[]) => onChange(next.length ? next : undefined);
  return (
    <div data-testid="assign-rules">
      {rules.map((r, i) => (
        <Card key={i} size="small" style={{ marginBottom: 8 }} data-testid={`assign-rule-${i}`} title={t('fb.rule', { n: i + 1 })}
          extra={<RowTools i={i} n={rules.length} onMove={(d) => set(move(rules, i, d))} onRemove={() => set(rules.filter((_, j) => j !== i))} />}>
          <Typography.Text type="secondary">{t('fb.routeWhen')}</Typography.Text>
          <ConditionWidget value={r.when} onChange={(w) => set(patchAt(rules, i, { when: w }))} testId={`assign-rule-when-${i}`} />
          <div style={{ height: 6 }} />
          <Typography.Text type="secondary">{t('fb.ruleAssignTo')}</Typography.Text>
          {r.team !== undefined && r.user === undefined ? (
            <Input size="small" value={r.team} onChange={(e) => set(patchAt(rules, i, { team: e.target.value }))} />
          ) : (
            <PeoplePicker value={r.user} multiple={false} onChange={(u) => set(patchAt(rules, i, { user: (u as string | undefined) || undefined }))} testId={`assign-rule-user-${i}`} />
          )}
        </Card>
      ))}
      <Button icon={<PlusOutlined />} onClick={() => set([...rules, { when: '' }])} data-testid="assign-add-rule">{t('fb.addRule')}</Button>
    </div>
  );
}

/** The list a foreach goes through: records an upstream step found, a list in an upstream output, or an expression. */
export function ListSourceInput({ value, onChange, testId }: { value: unknown; onChange: (v?: string) => void; testId?: string }) {
  const ctx = useFlowCtx();
  const { t } = useTranslation();
  const sources = listSources(ctx.upstream);
  const norm = (s: string) => s.replace(/\s+/g, '');
  const v = typeof value === 'string' ? value : undefined;
  const listed = !v || sources.some((o) => norm(o.value) === norm(v));
  const [expr, setExpr] = useState(!listed);
  return (
    <Space orientation="vertical" style={{ width: '100%' }} data-testid={testId ?? 'list-source'}>
      {expr ? (
        <ExpressionInput value={exprOf(v)} onChange={(x) => onChange(x.trim() ? wrapExpr(x) : undefined)} />
      ) : (
        <Select allowClear value={sources.find((o) => norm(o.value) === norm(v ?? ''))?.value} onChange={(x) => onChange(x ?? undefined)} placeholder={sources.length ? t('fb.pickList') : t('fb.noLists')}
          options={sources.map((o) => ({ value: o.value, label: o.output ? t('fb.listOutput', { name: o.step, output: o.output }) : t('fb.listFound', { name: o.step }) }))} style={{ width: '100%' }} />
      )}
      <Switch size="small" checked={expr} onChange={setExpr} checkedChildren={t('fb.expression')} unCheckedChildren={t('fb.expression')} />
    </Space>
  );
}
