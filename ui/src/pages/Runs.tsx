import { ReloadOutlined, RedoOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, App, Button, Card, Descriptions, Skeleton, Space, Table, Tag, Timeline, Typography } from 'antd';
import dayjs from 'dayjs';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { ApiError, api, errorMessage } from '../api/client';
import type { Run, RunStep } from '../api/types';
import { asArray } from '../lib/labels';

const STATUS_COLOR: Record<string, string> = { queued: 'default', running: 'processing', waiting: 'warning', succeeded: 'success', failed: 'error', canceled: 'default' };

export function StatusTag({ status }: { status?: string }) {
  const { t } = useTranslation();
  return <Tag color={STATUS_COLOR[status ?? ''] ?? 'default'} data-testid="run-status">{t(`runStatus.${status}`, { defaultValue: status ?? '' })}</Tag>;
}

function fmt(v?: string) {
  return v ? dayjs(v).format('YYYY-MM-DD HH:mm:ss') : '';
}

/** A step as GET /api/v1/runs/{id} returns it (the params it ran with, the port it took). */
type Step = RunStep & { input?: unknown; port?: string | null; duration_ms?: number };

const pre = { background: '#fafafa', padding: 8, fontSize: 12, maxHeight: 200, overflow: 'auto', margin: '4px 0' } as const;

function short(v: unknown) {
  if (v === undefined || v === null) return '';
  const s = typeof v === 'string' ? v : JSON.stringify(v, null, 2);
  return s;
}

/** What started a run ({type, record_title, form, key, schedule, user_name} from the API), in words. */
export function StartedBy({ run }: { run: Run }) {
  const { t } = useTranslation();
  const by = (run.started_by ?? {}) as { type?: string; record_title?: string; record_id?: string; form?: string; key?: string; schedule?: string; user_name?: string; parent_run_id?: string };
  const trig = run.trigger as { type?: string } | string | undefined;
  const type = by.type ?? (typeof trig === 'string' ? trig : trig?.type) ?? '';
  const kind = { created: 'record.created', updated: 'record.updated', stage: 'stage.changed', deleted: 'record.deleted' }[type] ?? type;
  const what = by.record_title ?? by.form ?? by.key ?? (by.schedule ? dayjs(by.schedule).format('YYYY-MM-DD HH:mm') : undefined);
  return (
    <span data-testid="run-started-by">
      {run.test ? <Tag color="purple">{t('fb.test')}</Tag> : null}
      {kind ? t(`triggers.${kind}`, { defaultValue: kind }) : ''}
      {what ? <Typography.Text strong> · {what}</Typography.Text> : null}
      {by.user_name ? <Typography.Text type="secondary"> · {by.user_name}</Typography.Text> : null}
    </span>
  );
}

/** Runs of one flow, newest first. */
export function FlowRuns() {
  const { app = '', slug = '' } = useParams();
  const { t } = useTranslation();
  const q = useQuery({
    queryKey: ['runs', app, slug],
    queryFn: async () => {
      const r = await api<unknown>(`/api/v1/apps/${encodeURIComponent(app)}/flows/${encodeURIComponent(slug)}/runs`);
      return asArray<Run>(Array.isArray(r) ? r : (r as { items?: unknown })?.items ?? (r as { runs?: unknown })?.runs);
    },
    refetchInterval: 5000,
  });
  return (
    <div>
      <Space style={{ marginBottom: 12 }}>
        <Link to={`/apps/${app}`}>{app}</Link>
        <span>/</span>
        <Typography.Title level={4} style={{ margin: 0 }}>{t('flows.runs')}: {slug}</Typography.Title>
        <Link to={`/apps/${app}/flows/${slug}/design`}>{t('common.design')}</Link>
        <Button size="small" icon={<ReloadOutlined />} onClick={() => q.refetch()} />
      </Space>
      {q.isError && <Alert type="error" showIcon title={errorMessage(q.error)} />}
      <Table<Run>
        rowKey="id"
        loading={q.isLoading}
        dataSource={q.data ?? []}
        data-testid="runs-table"
        columns={[
          { title: 'ID', dataIndex: 'id', render: (id: string) => <Link to={`/runs/${id}`}>{id.slice(0, 8)}</Link> },
          { title: t('runs.status'), dataIndex: 'status', render: (s: string) => <StatusTag status={s} /> },
          { title: t('runs.version'), render: (_v, r) => String(r.version ?? r.flow_version ?? '') },
          { title: t('runs.trigger'), render: (_v, r) => <StartedBy run={r} /> },
          { title: t('runs.started'), render: (_v, r) => fmt((r.started_at ?? r.created_at) as string) },
          { title: t('runs.finished'), dataIndex: 'finished_at', render: fmt },
        ]}
      />
    </div>
  );
}

/** One run with its steps; failed runs can be retried. */
export function RunDetail() {
  const { id = '' } = useParams();
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const q = useQuery({
    queryKey: ['run', id],
    queryFn: () => api<Run>(`/api/v1/runs/${encodeURIComponent(id)}`),
    // a run the caller may not see (an approver's link) answers 404: never poll that
    retry: (n, e) => !(e instanceof ApiError && [401, 403, 404].includes(e.status)) && n < 2,
    refetchInterval: (query) => {
      if (query.state.error) return false;
      return ['succeeded', 'failed', 'canceled'].includes((query.state.data as Run | undefined)?.status ?? '') ? false : 2000;
    },
  });
  const retry = useMutation({
    mutationFn: () => api(`/api/v1/runs/${encodeURIComponent(id)}/retry`, { method: 'POST' }),
    onSuccess: () => {
      message.success(t('runs.retried'));
      void qc.invalidateQueries({ queryKey: ['run', id] });
    },
    onError: (e) => message.error(errorMessage(e)),
  });
  if (q.isLoading) return <Skeleton active />;
  if (q.error instanceof ApiError && [403, 404].includes(q.error.status))
    return <Alert type="info" showIcon data-testid="run-hidden" title={t('fb.runHidden')} description={<Link to="/tasks">{t('fb.openTasks')}</Link>} />;
  if (q.isError || !q.data) return <Alert type="error" showIcon title={errorMessage(q.error)} />;
  const r = q.data;
  const steps = (r.steps ?? []) as Step[];
  const trig = r.trigger as { input?: unknown; body?: unknown; record?: unknown } | undefined;
  return (
    <div>
      <Card
        title={<Space>{t('runs.run')} <Typography.Text code>{r.id}</Typography.Text> <StatusTag status={r.status} /></Space>}
        extra={r.status === 'failed' && <Button icon={<RedoOutlined />} onClick={() => retry.mutate()} loading={retry.isPending} data-testid="run-retry">{t('runs.retry')}</Button>}
      >
        <Descriptions size="small" column={3} style={{ marginBottom: 16 }}>
          <Descriptions.Item label={t('runs.flow')}>{String(r.flow ?? r.flow_slug ?? '')}</Descriptions.Item>
          <Descriptions.Item label={t('runs.version')}>{String(r.version ?? r.flow_version ?? '')}</Descriptions.Item>
          <Descriptions.Item label={t('runs.started')}>{fmt((r.started_at ?? r.created_at) as string)}</Descriptions.Item>
          <Descriptions.Item label={t('runs.finished')}>{fmt(r.finished_at)}</Descriptions.Item>
          {typeof r.queued_ms === 'number' && (
            <Descriptions.Item label={t('runs.queued')}><span data-testid="run-queued">{(r.queued_ms / 1000).toFixed(1)} s</span></Descriptions.Item>
          )}
        </Descriptions>
        {r.error !== undefined && r.error !== null && r.error !== '' && <Alert type="error" showIcon title={short(r.error)} style={{ marginBottom: 16 }} />}
        {trig && typeof trig === 'object' && (
          <details style={{ marginBottom: 16 }} data-testid="run-trigger">
            <summary style={{ cursor: 'pointer' }}>{t('runs.triggerData')}</summary>
            <pre style={pre}>{short(trig)}</pre>
          </details>
        )}
        <Timeline
          data-testid="run-steps"
          items={steps.map((s) => ({
            color: s.status === 'succeeded' ? 'green' : s.status === 'failed' ? 'red' : 'blue',
            content: (
              <div>
                <Space wrap>
                  <b>{s.node}</b><StatusTag status={s.status} />
                  {s.port ? <Tag data-testid="run-step-port">{t('runs.port')}: {s.port}</Tag> : null}
                  {s.attempt ? <Typography.Text type="secondary">#{s.attempt}</Typography.Text> : null}
                  <Typography.Text type="secondary">{fmt(s.started_at)}</Typography.Text>
                  {typeof s.duration_ms === 'number' ? <Typography.Text type="secondary">{s.duration_ms} ms</Typography.Text> : null}
                </Space>
                {s.input !== undefined && s.input !== null && (
                  <details data-testid={`run-step-input-${s.node}`}>
                    <summary style={{ cursor: 'pointer', fontSize: 12 }}>{t('runs.input')}</summary>
                    <pre style={pre}>{short(s.input)}</pre>
                  </details>
                )}
                {s.output !== undefined && s.output !== null && <pre style={pre}>{short(s.output)}</pre>}
                {s.error !== undefined && s.error !== null && s.error !== '' && <Typography.Text type="danger">{short(s.error)}</Typography.Text>}
              </div>
            ),
          }))}
        />
        {r.output !== undefined && r.output !== null && (
          <>
            <Typography.Title level={5}>{t('runs.output')}</Typography.Title>
            <pre style={{ background: '#fafafa', padding: 8, fontSize: 12 }}>{short(r.output)}</pre>
          </>
        )}
      </Card>
    </div>
  );
}
