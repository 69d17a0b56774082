import { useMemo } from 'react';
import { ConditionInput, FilterInput } from '../ConditionBuilder';
import type { FieldDef } from '../../api/types';
import { useFlowCtx } from './FlowContext';

/**
 * A condition parameter (an expr boolean expression) as rows of the shared condition builder:
 * fields of the trigger's record (root trigger.record), or of entity under root (wait_event's
 * `record`), plus the outputs of upstream steps.
 */
export function ConditionWidget({ value, onChange, testId, root = 'trigger.record', entity }: { value?: string; onChange: (v: string) => void; testId?: string; root?: string; entity?: string }) {
  const ctx = useFlowCtx();
  const ent = ctx.entities[entity ?? ctx.triggerEntity ?? ''];
  const vars: FieldDef[] = useMemo(
    () => ctx.upstream.flatMap((n) => n.outputs.map((o) => ({ key: `steps.${n.id}.${o}`, type: 'text', label: `${n.name} · ${o}` }))),
    [ctx.upstream],
  );
  return <ConditionInput value={value ?? ''} onChange={onChange} fields={ent?.fields ?? []} root={root} vars={vars} app={ctx.app} data-testid={testId ?? 'condition-input'} />;
}

/** A record-list filter parameter over entity's fields. */
export function FilterWidget({ value, onChange, entity, testId }: { value: unknown; onChange: (v: unknown) => void; entity?: string; testId?: string }) {
  const ctx = useFlowCtx();
  const ent = ctx.entities[entity ?? ''];
  const v = value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  return <FilterInput value={v} onChange={(f) => onChange(f ?? undefined)} fields={ent?.fields ?? []} app={ctx.app} data-testid={testId ?? 'filter-input'} />;
}
