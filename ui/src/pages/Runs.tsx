import { ReloadOutlined, RedoOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, App, Button, Card, DatePicker, Descriptions, Grid, Select, Skeleton, Space, Table, Tag, Timeline, Typography } from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import { useTranslation } from 'react-i18next';
import { Link, useParams, useSearchParams } from 'react-router';
import { ApiError, api, errorMessage } from '../api/client';
import { defList, useApp } from '../api/defs';
import type { Label, Run, RunStep } from '../api/types';
import { TaskDetailBody, type TaskDetailData } from '../components/TaskDetail';
import { ValueTable } from '../components/flow/ValueTable';
import { asArray, labelText } from '../lib/labels';

const STATUS_COLOR: Record<string, string> = { queued: 'default', running: 'processing', waiting: 'warning', succeeded: 'success', failed: 'error', canceled: 'default' };

export function StatusTag({ status }: { status?: string }) {
  const { t } = useTranslation();
  return <Tag color={STATUS_COLOR[status ?? ''] ?? 'default'} data-testid="run-status">{t(`runStatus.${status}`, { defaultValue: status ?? '' })}</Tag>;
}

function fmt(v?: string) {
  return v ? dayjs(v).format('YYYY-MM-DD HH:mm:ss') : '';
}

/** A step as GET /api/v1/runs/{id} returns it (the params it ran with, the port it took). */
type Step = RunStep & { input?: unknown; port?: string | null; duration_ms?: number; name?: string; type?: string };


function short(v: unknown) {
  if (v === undefined || v === null) return '';
  const s = typeof v === 'string' ? v : JSON.stringify(v, null, 2);
  return s;
}

/** What started a run ({type, record_title, form, key, schedule, user_name} from the API), in words. */
export function StartedBy({ run }: { run: Run }) {
  const { t } = useTranslation();
  const { i18n } = useTranslation();
  const by = (run.started_by ?? {}) as { type?: string; record_title?: string; record_id?: string; form?: string; form_label?: Label; key?: string; schedule?: string; user_name?: string; parent_run_id?: string };
  const trig = run.trigger as { type?: string } | string | undefined;
  const type = by.type ?? (typeof trig === 'string' ? trig : trig?.type) ?? '';
  const kind = { created: 'record.created', updated: 'record.updated', stage: 'stage.changed', deleted: 'record.deleted' }[type] ?? type;
  const what = by.record_title ?? (by.form ? labelText(by.form_label, i18n.language, by.form) : undefined) ?? by.key ?? (by.schedule ? dayjs(by.schedule).format('YYYY-MM-DD HH:mm') : undefined);
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
          { title: t('runs.started'), render: (_v, r) => <Link to={`/runs/${r.id}`} data-testid="run-link">{fmt((r.started_at ?? r.created_at) as string)}</Link> },
          { title: t('runs.status'), dataIndex: 'status', render: (s: string) => <StatusTag status={s} /> },
          { title: t('runs.version'), render: (_v, r) => String(r.version ?? r.flow_version ?? '') },
          { title: t('runs.trigger'), render: (_v, r) => <StartedBy run={r} /> },
          { title: t('runs.finished'), dataIndex: 'finished_at', render: fmt },
        ]}
      />
    </div>
  );
}

/** One run with its steps; failed runs can be retried. */
export function RunDetail() {
  const { id = '' } = useParams();
  const { t, i18n } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const q = useQuery({
    queryKey: ['run', id],
    queryFn: () => api<Run>(`/api/v1/runs/${encodeURIComponent(id)}`),
    // a run the caller may not see (an approver's link) answers 404: never poll that
    retry: (n, e) => !(e instanceof ApiError && [401, 403, 404].includes(e.status)) && n < 2,
    refetchInterval: (query) => {
      if (query.state.error) return false;
      const d = query.state.data as Run | undefined;
      // an approver's view of the run changes when someone decides: no need to poll it
      if (d?.scope === 'task') return false;
      return ['succeeded', 'failed', 'canceled'].includes(d?.status ?? '') ? false : 2000;
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
  if (r.scope === 'task') return <TaskRunView run={r as TaskRun} />;
  const steps = (r.steps ?? []) as Step[];
  const trig = r.trigger as { input?: unknown; body?: unknown; record?: unknown } | undefined;
  return (
    <div>
      <Card
        title={<Space wrap data-testid="run-title"><span style={{ wordBreak: 'break-word' }}>{t('fb.runOfFlow', { flow: labelText(r.flow_label as Label | undefined, i18n.language, String(r.flow ?? '')) })}</span> <StatusTag status={r.status} /></Space>}
        // the title wraps on phones instead of being cut off; the actions go below it when there is no room
        styles={{ header: { flexWrap: 'wrap', rowGap: 4, paddingBlock: 8 }, title: { whiteSpace: 'normal', overflow: 'visible', minWidth: 200 } }}
        extra={
          <Space wrap>
            {r.app && r.flow ? (
              <Link to={`/apps/${encodeURIComponent(String(r.app))}/flows/${encodeURIComponent(String(r.flow))}/design?run=${encodeURIComponent(r.id)}`} data-testid="run-open-canvas">{t('fb.openOnCanvas')}</Link>
            ) : null}
            {r.status === 'failed' && <Button icon={<RedoOutlined />} onClick={() => retry.mutate()} loading={retry.isPending} data-testid="run-retry">{t('runs.retry')}</Button>}
          </Space>
        }
      >
        <Descriptions size="small" column={{ xs: 1, md: 3 }} style={{ marginBottom: 16 }}>
          <Descriptions.Item label={t('runs.trigger')}><StartedBy run={r} /></Descriptions.Item>
          {typeof r.rerun_of === 'string' && (
            <Descriptions.Item label={t('fb.rerunResult')}>
              <span data-testid="run-rerun-of">{t('fb.rerunOf', { node: [steps.find((s) => s.node === r.rerun_node)?.name, String(r.rerun_node ?? '')].filter(Boolean).join(' · ') })} <Link to={`/runs/${encodeURIComponent(r.rerun_of)}`}>{t('fb.rerunSource')}</Link></span>
            </Descriptions.Item>
          )}
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
            <div style={{ margin: '4px 0' }}><ValueTable value={trig} /></div>
          </details>
        )}
        <Timeline
          data-testid="run-steps"
          items={steps.map((s) => ({
            color: s.status === 'succeeded' ? 'green' : s.status === 'failed' ? 'red' : 'blue',
            content: (
              <div>
                <Space wrap>
                  <b data-testid={`run-step-name-${s.node}`}>{s.name || (s.type ? t(`nodes.${s.type}`, { defaultValue: s.node }) : s.node)}</b>
                  {(s.name || s.type) && <Typography.Text type="secondary" style={{ fontSize: 12 }}>{[s.name && s.type ? t(`nodes.${s.type}`, { defaultValue: s.type }) : '', s.node].filter(Boolean).join(' · ')}</Typography.Text>}
                  <StatusTag status={s.status} />
                  {s.port ? <Tag data-testid="run-step-port">{t('runs.port')}: {s.port}</Tag> : null}
                  {s.attempt ? <Typography.Text type="secondary">#{s.attempt}</Typography.Text> : null}
                  <Typography.Text type="secondary">{fmt(s.started_at)}</Typography.Text>
                  {typeof s.duration_ms === 'number' ? <Typography.Text type="secondary">{s.duration_ms} ms</Typography.Text> : null}
                </Space>
                {s.input !== undefined && s.input !== null && (
                  <details data-testid={`run-step-input-${s.node}`}>
                    <summary style={{ cursor: 'pointer', fontSize: 12 }}>{t('runs.input')}</summary>
                    <div style={{ margin: '4px 0' }}><ValueTable value={s.input} /></div>
                  </details>
                )}
                {s.output !== undefined && s.output !== null && <div style={{ margin: '4px 0' }} data-testid={`run-step-output-${s.node}`}><ValueTable value={s.output} /></div>}
                {s.error !== undefined && s.error !== null && s.error !== '' && <Typography.Text type="danger">{short(s.error)}</Typography.Text>}
              </div>
            ),
          }))}
        />
        {r.output !== undefined && r.output !== null && (
          <>
            <Typography.Title level={5}>{t('runs.output')}</Typography.Title>
            <ValueTable value={r.output} testId="run-output" />
          </>
        )}
      </Card>
    </div>
  );
}

/** GET /api/v1/runs/{id} as a person with a task on the run (not a reader of the flow) gets it. */
type TaskRun = Run & { scope: 'task'; flow_label?: Label; task: TaskDetailData };

/** An approver's view of a run: the flow's name, the run's state and their task in full. */
function TaskRunView({ run }: { run: TaskRun }) {
  const { t, i18n } = useTranslation();
  return (
    <Card
      data-testid="run-task-view"
      title={<Space wrap>{t('fb.runOfFlow', { flow: labelText(run.flow_label, i18n.language, run.flow ?? '') })} <StatusTag status={run.status} /></Space>}
      extra={<Link to="/tasks">{t('fb.openTasks')}</Link>}
    >
      <Descriptions size="small" column={{ xs: 1, md: 2 }} style={{ marginBottom: 16 }}>
        <Descriptions.Item label={t('runs.started')}>{fmt(run.created_at)}</Descriptions.Item>
        <Descriptions.Item label={t('runs.finished')}>{fmt(run.finished_at)}</Descriptions.Item>
      </Descriptions>
      <Typography.Title level={5} style={{ marginTop: 0 }}>{t('fb.yourTask')}: {run.task.title}</Typography.Title>
      <TaskDetailBody id={run.task.id} onClose={() => undefined} />
    </Card>
  );
}

const RUN_STATUSES = ['queued', 'running', 'waiting', 'succeeded', 'failed'];

/** Runs of every flow of an app: filter by flow, status, test or real, and start time; the trigger in words. */
export function AppRuns() {
  const { app = '' } = useParams();
  const { t, i18n } = useTranslation();
  const [sp, setSp] = useSearchParams();
  const detail = useApp(app);
  const flows = defList(detail.data, 'flows');
  const flowName = (slug: string, label?: unknown) =>
    labelText((label as Label | undefined) ?? flows.find((f) => f.slug === slug)?.label, i18n.language, slug);
  const flow = sp.get('flow') ?? '';
  const status = (sp.get('status') ?? '').split(',').filter(Boolean);
  const test = sp.get('test') ?? '';
  const from = sp.get('from') ?? '';
  const to = sp.get('to') ?? '';
  const set = (k: string, v: string) => {
    const n = new URLSearchParams(sp);
    if (v) n.set(k, v);
    else n.delete(k);
    setSp(n, { replace: true });
  };
  const q = useQuery({
    queryKey: ['app-runs', app, flow, status.join(','), test, from, to],
    queryFn: async () => {
      const p = new URLSearchParams({ limit: '100' });
      if (flow) p.set('flow', flow);
      if (status.length) p.set('status', status.join(','));
      if (test) p.set('test', test);
      if (from) p.set('from', from);
      if (to) p.set('to', to);
      const r = await api<{ items?: Run[] }>(`/api/v1/apps/${encodeURIComponent(app)}/runs?${p.toString()}`);
      return asArray<Run>(r?.items);
    },
    refetchInterval: 5000,
  });
  const range: [Dayjs, Dayjs] | null = from && to ? [dayjs(from), dayjs(to)] : null;
  const narrow = !Grid.useBreakpoint().md;
  const canvasLink = (r: Run) => `/apps/${encodeURIComponent(app)}/flows/${encodeURIComponent(String(r.flow ?? ''))}/design?run=${encodeURIComponent(r.id)}`;
  return (
    <div data-testid="app-runs">
      <Space style={{ marginBottom: 12 }} wrap>
        <Link to={`/apps/${app}`}>{detail.data?.name || app}</Link>
        <span>/</span>
        <Typography.Title level={4} style={{ margin: 0 }}>{t('fb.appRuns')}</Typography.Title>
        <Button size="small" icon={<ReloadOutlined />} onClick={() => q.refetch()} />
      </Space>
      <Space wrap style={{ marginBottom: 12, width: '100%' }}>
        <Select
          style={{ minWidth: 200 }}
          value={flow}
          onChange={(v) => set('flow', v)}
          data-testid="runs-filter-flow"
          options={[{ value: '', label: t('fb.allFlows') }, ...flows.map((f) => ({ value: f.slug, label: flowName(f.slug) }))]}
        />
        <Select
          mode="multiple"
          allowClear
          style={{ minWidth: 200 }}
          placeholder={t('fb.allStatuses')}
          value={status}
          onChange={(v: string[]) => set('status', v.join(','))}
          data-testid="runs-filter-status"
          options={RUN_STATUSES.map((s) => ({ value: s, label: t(`runStatus.${s}`) }))}
        />
        <Select
          style={{ minWidth: 160 }}
          value={test}
          onChange={(v) => set('test', v)}
          data-testid="runs-filter-test"
          options={[{ value: '', label: t('fb.anyRun') }, { value: 'false', label: t('fb.realRuns') }, { value: 'true', label: t('fb.tests') }]}
        />
        <DatePicker.RangePicker
          aria-label={t('fb.filterTime')}
          placeholder={[t('fb.filterTime'), '']}
          value={range}
          data-testid="runs-filter-time"
          onChange={(v) => {
            const n = new URLSearchParams(sp);
            if (v?.[0] && v[1]) {
              n.set('from', v[0].startOf('day').toISOString());
              n.set('to', v[1].endOf('day').add(1, 'millisecond').toISOString());
            } else {
              n.delete('from');
              n.delete('to');
            }
            setSp(n, { replace: true });
          }}
        />
      </Space>
      {q.isError && <Alert type="error" showIcon title={errorMessage(q.error)} />}
      {narrow ? (
        // phones: one card a run (a table would scroll sideways and cut off the trigger)
        <Space orientation="vertical" style={{ width: '100%' }} data-testid="app-runs-cards">
          {q.isLoading && <Skeleton active />}
          {!q.isLoading && (q.data ?? []).length === 0 && <Typography.Text type="secondary">{t('fb.noRuns')}</Typography.Text>}
          {(q.data ?? []).map((r) => (
            <Card key={r.id} size="small" data-testid={`app-run-card-${r.id}`} className="app-run-card">
              <Space orientation="vertical" size={4} style={{ width: '100%', minWidth: 0 }}>
                <Space wrap size={6}>
                  <Link to={`/runs/${r.id}`} data-testid="run-link">{fmt((r.started_at ?? r.created_at) as string)}</Link>
                  <StatusTag status={r.status} />
                </Space>
                <Typography.Text strong data-testid="run-flow" style={{ wordBreak: 'break-word' }}>{flowName(String(r.flow ?? ''), r.flow_label)}</Typography.Text>
                <div style={{ wordBreak: 'break-word' }}><StartedBy run={r} /></div>
                <Link to={canvasLink(r)} data-testid="run-canvas-link">{t('fb.openOnCanvas')}</Link>
              </Space>
            </Card>
          ))}
        </Space>
      ) : (
      <Table<Run>
        rowKey="id"
        size="small"
        scroll={{ x: 760 }}
        loading={q.isLoading}
        dataSource={q.data ?? []}
        data-testid="app-runs-table"
        columns={[
          { title: t('runs.started'), render: (_v, r) => <Link to={`/runs/${r.id}`} data-testid="run-link">{fmt((r.started_at ?? r.created_at) as string)}</Link> },
          { title: t('runs.flow'), render: (_v, r) => <span data-testid="run-flow">{flowName(String(r.flow ?? ''), r.flow_label)}</span> },
          { title: t('runs.status'), dataIndex: 'status', render: (s: string) => <StatusTag status={s} /> },
          { title: t('runs.trigger'), render: (_v, r) => <StartedBy run={r} /> },
          { title: t('runs.finished'), dataIndex: 'finished_at', render: fmt },
          {
            title: '',
            render: (_v, r) => (
              <Link to={canvasLink(r)} data-testid="run-canvas-link">{t('fb.openOnCanvas')}</Link>
            ),
          },
        ]}
      />
      )}
    </div>
  );
}
