import { FastForwardOutlined, PushpinFilled, PushpinOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import { Alert, App, Button, Modal, Select, Space, Tag, Typography } from 'antd';
import dayjs from 'dayjs';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { ApiError, api, errorMessage } from '../../api/client';
import type { EntityDef, Run, TestSample, TriggerDef } from '../../api/types';
import { labelText } from '../../lib/labels';
import { JsonInput } from '../SchemaForm';
import { useFlowCtx } from './FlowContext';

export { ValueTable } from './ValueTable';

export const RECORD_TRIGGERS = ['record.created', 'record.updated', 'stage.changed', 'form.submitted', 'record.deleted'];

/** A record's display name: the entity's title field, then name/title/subject, then its id. */
export function recordTitle(r: { id: string; data?: Record<string, unknown> }, ent?: EntityDef): string {
  const d = r.data ?? {};
  for (const k of [ent?.title_field, 'name', 'title', 'subject', ent?.fields?.find((f) => f.type === 'text')?.key]) {
    if (k && typeof d[k] === 'string' && d[k]) return d[k] as string;
  }
  return r.id;
}

/** Searches records of entity by name (the records list's q); known (a pinned record) keeps its name while not among the results. */
export function RecordSearch({ entity, value, onChange, known }: { entity: string; value?: string; onChange: (id?: string, label?: string) => void; known?: { id: string; label: string } }) {
  const ctx = useFlowCtx();
  const { t } = useTranslation();
  const [q, setQ] = useState('');
  const ent = ctx.entities[entity];
  const list = useQuery({
    queryKey: ['fb-records', ctx.app, entity, q],
    enabled: !!entity,
    queryFn: async () =>
      (await api<{ items?: { id: string; data?: Record<string, unknown> }[] }>(`/api/v1/apps/${encodeURIComponent(ctx.app)}/entities/${encodeURIComponent(entity)}/records`, { query: { q: q || undefined, limit: 20 } }))?.items ?? [],
  });
  const options = (list.data ?? []).map((r) => ({ value: r.id, label: recordTitle(r, ent) }));
  if (known && !options.some((o) => o.value === known.id)) options.unshift({ value: known.id, label: known.label || known.id });
  return (
    <Select showSearch={{ filterOption: false, onSearch: setQ }} allowClear value={value} onChange={(v) => onChange(v ?? undefined, options.find((o) => o.value === v)?.label)} loading={list.isFetching}
      placeholder={t('fb.pickRecord', { entity: labelText(ent?.label, '', entity) })} style={{ width: '100%' }} data-testid="test-record"
      options={options} notFoundContent={list.isError ? errorMessage(list.error) : undefined} />
  );
}

/** The sample the dialog would pin: the chosen record (record, stage and form triggers) or the body (webhook, manual); none for schedules. */
export function sampleOf(triggerType: string, record?: string, label?: string, body?: unknown): TestSample | null {
  if (RECORD_TRIGGERS.includes(triggerType)) return record ? { record, label: label || undefined } : null;
  if (triggerType === 'webhook' || triggerType === 'manual') return { body: body ?? {} };
  return null;
}

/** Whether the pinned sample is the one chosen now. */
export function samePinned(pinned: TestSample | null | undefined, now: TestSample | null): boolean {
  if (!pinned || !now) return false;
  if (now.record || pinned.record) return now.record === pinned.record;
  return JSON.stringify(pinned.body ?? {}) === JSON.stringify(now.body ?? {});
}

const sampleKey = (app: string, slug: string) => `tessera.flowSample.${app}.${slug}`;

/** The test-run dialog: a sample fitting the trigger (a record by name, a webhook body; the pinned one first), then a test run of the published flow. */
export function TestRunModal({ open, onClose, slug, trigger, entity, mustPublish, publish, onStarted, pinned, onPinned }: {
  open: boolean;
  onClose: () => void;
  slug: string;
  trigger: TriggerDef;
  /** entity of the record sample (record, stage and form triggers) */
  entity?: string;
  /** the draft differs from the published version (or nothing is published) */
  mustPublish: boolean;
  publish: () => Promise<boolean>;
  onStarted: (runId: string) => void;
  /** the sample pinned in the draft (test_sample) */
  pinned?: TestSample | null;
  /** the sample was pinned (or unpinned: null) on the server */
  onPinned?: (s: TestSample | null) => void;
}) {
  const ctx = useFlowCtx();
  const { t } = useTranslation();
  const { message } = App.useApp();
  const [record, setRecord] = useState<string | undefined>(() => pinned?.record);
  const [label, setLabel] = useState<string | undefined>(() => pinned?.label);
  const [body, setBody] = useState<unknown>(() => {
    if (pinned?.body !== undefined) return pinned.body;
    try {
      return JSON.parse(localStorage.getItem(sampleKey(ctx.app, slug)) ?? '{}');
    } catch {
      return {};
    }
  });
  const [busy, setBusy] = useState(false);
  const [pinBusy, setPinBusy] = useState(false);
  const [err, setErr] = useState<string | null>(null);
  const isRecord = RECORD_TRIGGERS.includes(trigger.type);
  const needsBody = trigger.type === 'webhook' || trigger.type === 'manual';
  const current = sampleOf(trigger.type, record, label, body);
  const isPinned = samePinned(pinned, current);
  const samplePath = `/api/v1/apps/${encodeURIComponent(ctx.app)}/flows/${encodeURIComponent(slug)}/test/sample`;
  const togglePin = async () => {
    setErr(null);
    setPinBusy(true);
    try {
      if (isPinned) {
        await api(samplePath, { method: 'DELETE' });
        onPinned?.(null);
        message.success(t('fb.unpinnedOk'));
      } else if (current) {
        await api(samplePath, { method: 'PUT', body: current });
        onPinned?.(current);
        message.success(t('fb.pinnedOk'));
      }
    } catch (e) {
      setErr(e instanceof ApiError && e.fieldErrors.length ? e.fieldErrors.map((f) => f.message).join('; ') : errorMessage(e));
    } finally {
      setPinBusy(false);
    }
  };
  const start = async () => {
    setErr(null);
    setBusy(true);
    try {
      if (mustPublish && !(await publish())) return;
      if (needsBody) localStorage.setItem(sampleKey(ctx.app, slug), JSON.stringify(body ?? {}));
      const r = await api<{ run_id?: string; id?: string }>(`/api/v1/apps/${encodeURIComponent(ctx.app)}/flows/${encodeURIComponent(slug)}/run`, {
        method: 'POST',
        query: { test: 'true', record: isRecord ? record : undefined },
        body: needsBody ? body ?? {} : {},
      });
      const id = r?.run_id ?? r?.id;
      if (id) onStarted(id);
      onClose();
      message.info(t('fb.testStarted'));
    } catch (e) {
      setErr(e instanceof ApiError && e.fieldErrors.length ? e.fieldErrors.map((f) => f.message).join('; ') : errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  const canPin = !!current && (isRecord || needsBody);
  return (
    <Modal title={t('fb.testRun')} open={open} onCancel={onClose} onOk={start} confirmLoading={busy} okText={mustPublish ? t('fb.publishAndTest') : t('fb.startTest')}
      okButtonProps={{ disabled: isRecord && !record, 'data-testid': 'flow-run-ok' } as never} destroyOnHidden>
      {mustPublish && <Alert type="info" showIcon style={{ marginBottom: 12 }} title={t('fb.testPublishes')} />}
      {isRecord && entity && (
        <>
          <Typography.Paragraph>{t('fb.testOnRecord')}</Typography.Paragraph>
          <RecordSearch entity={entity} value={record} onChange={(id, l) => { setRecord(id); setLabel(l); }}
            known={pinned?.record ? { id: pinned.record, label: pinned.label ?? '' } : undefined} />
        </>
      )}
      {isRecord && !entity && <Alert type="warning" showIcon title={t('fb.testNeedsEntity')} />}
      {needsBody && (
        <>
          <Typography.Paragraph type="secondary">{trigger.type === 'webhook' ? t('fb.testWebhookBody') : t('fb.testManualInput')}</Typography.Paragraph>
          <JsonInput value={body} onChange={setBody} rows={6} />
        </>
      )}
      {(isRecord || needsBody) && (
        <Space wrap style={{ marginTop: 12 }}>
          {isPinned && <Tag color="blue" icon={<PushpinFilled />} data-testid="test-sample-pinned">{t('fb.pinned')}</Tag>}
          <Button size="small" icon={isPinned ? <PushpinFilled /> : <PushpinOutlined />} disabled={!canPin} loading={pinBusy} onClick={togglePin}
            data-testid={isPinned ? 'test-sample-unpin' : 'test-sample-pin'}>{isPinned ? t('fb.unpin') : t('fb.pin')}</Button>
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>{t('fb.pinHelp')}</Typography.Text>
        </Space>
      )}
      {(trigger.type === 'cron' || trigger.type === 'poll') && <Typography.Paragraph>{t('fb.testNoSample')}</Typography.Paragraph>}
      {err && <Alert type="error" showIcon style={{ marginTop: 12 }} title={err} data-testid="test-run-error" />}
    </Modal>
  );
}

export type RunWithSteps = Omit<Run, 'steps'> & { id: string; status: string; error?: unknown; trigger?: unknown; steps?: { node: string; status: string; input?: unknown; output?: unknown; error?: unknown; port?: string | null; wake_at?: string | null }[]; test?: boolean; wake_at?: string | null };

const FINISHED = ['succeeded', 'failed', 'canceled'];

/** Polls a run until it finishes; stops on 404/403. */
export function useRunPoll(id: string | null) {
  return useQuery({
    queryKey: ['run', id],
    enabled: !!id,
    retry: (n, e) => !(e instanceof ApiError && [401, 403, 404].includes(e.status)) && n < 2,
    queryFn: () => api<RunWithSteps>(`/api/v1/runs/${encodeURIComponent(id!)}`),
    refetchInterval: (query) => {
      const e = query.state.error;
      if (e instanceof ApiError && [401, 403, 404].includes(e.status)) return false;
      return FINISHED.includes((query.state.data as Run | undefined)?.status ?? '') ? false : 1000;
    },
  });
}

const COLOR: Record<string, string> = { succeeded: 'success', failed: 'error', waiting: 'warning', running: 'processing', queued: 'default' };

/** The current test run above the canvas: status, error, fast-forward of a pending timer, link to the details. */
export function RunBanner({ run, onClose, onRefresh }: { run: RunWithSteps; onClose: () => void; onRefresh: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const [busy, setBusy] = useState(false);
  const waitingTimer = run.status === 'waiting' && (run.steps ?? []).some((s) => s.status === 'waiting' && s.wake_at);
  const ff = async () => {
    setBusy(true);
    try {
      await api(`/api/v1/runs/${encodeURIComponent(run.id)}/fast-forward`, { method: 'POST' });
      message.success(t('fb.fastForwarded'));
      onRefresh();
    } catch (e) {
      message.error(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Alert
      data-testid="test-run-banner"
      data-status={run.status}
      type={run.status === 'failed' ? 'error' : run.status === 'succeeded' ? 'success' : 'info'}
      showIcon
      closable
      onClose={onClose}
      style={{ marginBottom: 8 }}
      title={<Space wrap>
        {run.test && <Tag>{t('fb.test')}</Tag>}
        <span>{run.test ? t('fb.testRunStatus') : t('fb.viewingRun', { time: dayjs(String(run.started_at ?? run.created_at ?? '')).format('YYYY-MM-DD HH:mm') })}</span>
        <Tag color={COLOR[run.status] ?? 'default'} data-testid="test-run-status">{t(`runStatus.${run.status}`, { defaultValue: run.status })}</Tag>
        {waitingTimer && <Button size="small" icon={<FastForwardOutlined />} loading={busy} onClick={ff} data-testid="fast-forward">{t('fb.fastForward')}</Button>}
        <Link to={`/runs/${run.id}`}>{t('fb.runDetails')}</Link>
      </Space>}
      description={run.error ? <span data-testid="test-run-error-text">{String(run.error)}</span> : undefined}
    />
  );
}

