import { DownOutlined, LockOutlined } from '@ant-design/icons';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, App, Dropdown, Steps, Tooltip } from 'antd';
import { useLayoutEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, api, errorMessage } from '../../api/client';
import { recordsPath } from '../../api/records';
import type { EntityDef, RecordItem } from '../../api/types';
import { optionLabel, optionValue } from '../../lib/labels';
import { STAGE_STEP_MIN, localizeMessage, stageSteps, stageWindow, type StageCheck, type StageStep } from '../../lib/recordPage';

/** The message of a refused stage move (422 stage_gate), in lang. */
export function gateMessage(e: unknown, lang: string, fallback: string): string {
  if (e instanceof ApiError && e.status === 422) {
    const msg = e.fieldErrors.map((x) => x.message).filter(Boolean).join('; ') || e.problem.detail || fallback;
    return localizeMessage(msg, lang);
  }
  return errorMessage(e);
}

/** The width of the element (0 until measured), following its resizes. */
function useWidth() {
  const ref = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(0);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    setWidth(el.clientWidth);
    const ro = new ResizeObserver(() => setWidth(el.clientWidth));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return [ref, width] as const;
}

/**
 * The record's stages as steps: where it is, and the next stage's gate message before anyone
 * tries (the server evaluates the gates for this record). A click moves the record; a refused
 * move shows the gate's message. The bar never scrolls: when the stages do not fit its width
 * (STAGE_STEP_MIN each), it shows the current stage, the next and those around them, and puts
 * the earlier and later stages in menus at its ends (stageWindow).
 */
export default function StageBar({ app, entity, record, onMoved }: { app: string; entity: EntityDef; record: RecordItem; onMoved: (r: RecordItem) => void }) {
  const { t, i18n } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [busy, setBusy] = useState(false);
  const [refused, setRefused] = useState<string | null>(null);
  const [ref, width] = useWidth();
  const stages = entity.stages!;
  const lang = i18n.language;
  const checks = useQuery({
    queryKey: ['stages', app, entity.slug, record.id, record.version, lang],
    queryFn: () => api<{ field: string; editable: boolean; stages: StageCheck[] }>(`${recordsPath(app, entity.slug, record.id)}/stages`, { query: { lang } }),
  });
  const field = entity.fields.find((f) => f.key === stages.field);
  const label = (s: string) => {
    const o = (field?.options ?? []).find((x) => optionValue(x) === s);
    return o ? optionLabel(o, lang) : s;
  };
  const current = record.data[stages.field] as string | undefined;
  const steps = stageSteps(stages.order, current, checks.data?.stages ?? [], stages.terminal ?? []);
  const editable = !!checks.data?.editable;
  const next = steps.find((s) => s.next);

  const move = async (i: number) => {
    const to = stages.order[i];
    if (!editable || busy || to === current) return;
    setBusy(true);
    setRefused(null);
    try {
      const r = await api<RecordItem>(recordsPath(app, entity.slug, record.id), { method: 'PATCH', body: { [stages.field]: to }, headers: { 'If-Match': String(record.version) } });
      message.success(t('records.moved', { stage: label(to) }));
      onMoved(r);
      void qc.invalidateQueries({ queryKey: ['records', app, entity.slug] });
      void qc.invalidateQueries({ queryKey: ['history', app, entity.slug, record.id] });
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) setRefused(t('records.conflict'));
      else setRefused(gateMessage(e, lang, t('records.gateBlocked')));
    } finally {
      setBusy(false);
    }
  };

  const at = stages.order.indexOf(current ?? '');
  const win = width > 0 ? stageWindow(steps.length, at, Math.floor(width / STAGE_STEP_MIN)) : { start: 0, end: steps.length };
  const shown = steps.slice(win.start, win.end);
  const stageTitle = (s: StageStep) => (
    <>
      {label(s.stage)}
      {s.blocked && <LockOutlined style={{ marginInlineStart: 4, fontSize: 11 }} aria-label={t('recordPage.gated')} />}
    </>
  );
  // a menu of folded stages: a click moves the record there, like a step
  const folded = (side: 'before' | 'after', hidden: StageStep[]) => ({
    title: (
      <Dropdown
        trigger={['click']}
        menu={{
          items: hidden.map((s) => ({
            key: s.stage,
            disabled: !editable || busy || s.stage === current,
            label: (
              <Tooltip title={s.blocked ? s.message : undefined} placement="left">
                <span data-testid={`stage-step-${s.stage}`} data-status={s.status}>{stageTitle(s)}</span>
              </Tooltip>
            ),
          })),
          onClick: ({ key }) => void move(stages.order.indexOf(key)),
        }}
      >
        <span data-testid={`stage-more-${side}`} style={{ cursor: 'pointer', whiteSpace: 'nowrap' }} aria-label={t(side === 'before' ? 'recordPage.earlierStages' : 'recordPage.laterStages', { count: hidden.length })}>
          {side === 'before' ? `${hidden.length} ` : `+${hidden.length} `}
          <DownOutlined style={{ fontSize: 10 }} />
        </span>
      </Dropdown>
    ),
    status: (side === 'before' ? 'finish' : 'wait') as StageStep['status'],
  });
  const items = [
    ...(win.start > 0 ? [folded('before', steps.slice(0, win.start))] : []),
    ...shown.map((s) => ({
      title: (
        <Tooltip title={s.blocked && !s.next ? s.message : undefined}>
          <span data-testid={`stage-step-${s.stage}`} data-status={s.status} style={{ display: 'inline-block', padding: '0 4px', overflowWrap: 'anywhere' }}>{stageTitle(s)}</span>
        </Tooltip>
      ),
      status: s.status,
      disabled: !editable || busy || s.stage === current,
    })),
    ...(win.end < steps.length ? [folded('after', steps.slice(win.end))] : []),
  ];
  // the steps count from the first shown item (the menu of earlier stages stands for the one
  // right before the window), so every stage keeps its own number and index
  const initial = win.start > 0 ? win.start - 1 : 0;

  return (
    <div data-testid="stage-bar" ref={ref} style={{ marginBottom: 12 }}>
      <Steps
        size="small"
        titlePlacement="vertical"
        responsive={false}
        initial={initial}
        current={Math.max(0, at)}
        onChange={editable ? (i) => {
          if (i < win.start || i >= win.end) return; // a menu, not a stage
          void move(i);
        } : undefined}
        items={items}
      />
      {next?.blocked && next.message && !refused && (
        <Alert
          type="warning"
          showIcon
          style={{ marginTop: 8 }}
          title={t('recordPage.nextGate', { stage: label(next.stage) })}
          description={<span data-testid="stage-gate-message">{next.message}</span>}
        />
      )}
      {refused && (
        <Alert type="error" showIcon closable onClose={() => setRefused(null)} style={{ marginTop: 8 }} title={t('records.gateBlocked')} description={<span data-testid="gate-message">{refused}</span>} />
      )}
      {checks.isError && <Alert type="warning" showIcon style={{ marginTop: 8 }} title={errorMessage(checks.error)} />}
    </div>
  );
}
