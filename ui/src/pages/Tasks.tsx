import { CheckOutlined, CloseOutlined, EyeOutlined, UserSwitchOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, App, Button, Card, Checkbox, Form, Grid, Input, Modal, Segmented, Select, Space, Table, Tag, Typography } from 'antd';
import dayjs from 'dayjs';
import { useState } from 'react';
import PersonSelect from '../components/PersonSelect';
import TaskDetail, { LevelTag } from '../components/TaskDetail';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api, errorMessage } from '../api/client';
import type { Task, User } from '../api/types';
import { asArray } from '../lib/labels';

/** Picks the user a task is delegated to: a searchable list when the caller may list users (admins), else an email (or a user ID). */
function DelegateUser({ value, onChange, enabled }: { value?: string; onChange: (v: string) => void; enabled: boolean }) {
  const users = useQuery({
    queryKey: ['delegate-users'],
    queryFn: async () => asArray<User>(((await api<unknown>('/api/v1/admin/users', { query: { limit: 500 } })) as { items?: unknown })?.items),
    enabled,
    retry: false,
    staleTime: 60_000,
  });
  if (users.data?.length)
    return (
      <Select
        showSearch={{ optionFilterProp: 'label' }}
        value={value || undefined}
        onChange={onChange}
        options={users.data.filter((u) => !u.disabled).map((u) => ({ value: u.id, label: u.name ? `${u.name} <${u.email}>` : u.email }))}
        data-testid="task-delegate-user"
      />
    );
  return <Input value={value} onChange={(e) => onChange(e.target.value.trim())} placeholder="name@example.com" data-testid="task-delegate-user" />;
}

/** The delegate request: someone typed as an email goes by email, else by user id. */
export function delegateBody(who: string, comment: string): { user_id?: string; email?: string; comment: string } {
  return who.includes('@') ? { email: who, comment } : { user_id: who, comment };
}

/** My tasks and approvals; complete with approve/reject (or done) plus a comment, or delegate to someone else. */
export default function Tasks() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [status, setStatus] = useState<'open' | 'done' | 'all'>('open');
  const [target, setTarget] = useState<{ task: Task; outcome: string } | null>(null);
  const [comment, setComment] = useState('');
  const [delegating, setDelegating] = useState<Task | null>(null);
  const [delegateTo, setDelegateTo] = useState('');
  const [detail, setDetail] = useState<string | null>(null);
  const [selected, setSelected] = useState<string[]>([]);
  const [bulkOpen, setBulkOpen] = useState(false);
  const narrow = !Grid.useBreakpoint().md;
  const q = useQuery({
    queryKey: ['tasks', status],
    queryFn: async () => {
      const r = await api<unknown>('/api/v1/tasks', { query: { status } });
      return asArray<Task>(Array.isArray(r) ? r : (r as { items?: unknown })?.items ?? (r as { tasks?: unknown })?.tasks);
    },
    refetchInterval: 15000,
  });
  const complete = useMutation({
    mutationFn: ({ id, outcome, comment }: { id: string; outcome: string; comment: string }) =>
      api(`/api/v1/tasks/${encodeURIComponent(id)}/complete`, { method: 'POST', body: { outcome, comment } }),
    onSuccess: () => {
      message.success(t('tasks.completed'));
      setTarget(null);
      setComment('');
      void qc.invalidateQueries({ queryKey: ['tasks'] });
    },
    onError: (e) => message.error(errorMessage(e)),
  });
  const delegate = useMutation({
    mutationFn: ({ id, user_id, comment }: { id: string; user_id: string; comment: string }) =>
      api(`/api/v1/tasks/${encodeURIComponent(id)}/delegate`, { method: 'POST', body: delegateBody(user_id, comment) }),
    onSuccess: () => {
      message.success(t('tasks.delegated'));
      setDelegating(null);
      setDelegateTo('');
      setComment('');
      void qc.invalidateQueries({ queryKey: ['tasks'] });
    },
    onError: (e) => message.error(errorMessage(e)),
  });
  const bulk = useMutation({
    mutationFn: ({ ids, comment }: { ids: string[]; comment: string }) =>
      api<{ results?: { id: string; status: number; error?: string }[] }>('/api/v1/tasks/bulk-complete', { method: 'POST', body: { ids, outcome: 'approve', comment } }),
    onSuccess: (r) => {
      const res = r?.results ?? [];
      const failed = res.filter((x) => x.status >= 300);
      if (failed.length) message.warning(t('tasks.bulkPartial', { ok: res.length - failed.length, failed: failed.length, error: failed[0]?.error ?? '' }));
      else message.success(t('tasks.bulkDone', { count: res.length }));
      setBulkOpen(false);
      setSelected([]);
      setComment('');
      void qc.invalidateQueries({ queryKey: ['tasks'] });
    },
    onError: (e) => message.error(errorMessage(e)),
  });
  const isApproval = (tk: Task) => tk.kind === 'approval' || tk.type === 'approval';
  const openApproval = (tk: Task) => isApproval(tk) && (!tk.status || tk.status === 'open');
  const items = q.data ?? [];
  const toggle = (id: string, on: boolean) => setSelected((cur) => (on ? [...cur, id] : cur.filter((x) => x !== id)));
  const dueText = (tk: Task) => {
    const due = tk.due ?? tk.due_at;
    if (!due) return null;
    const late = dayjs(due).isBefore(dayjs()) && tk.status !== 'done';
    return (
      <Space size={4} wrap>
        <Typography.Text type={late ? 'danger' : undefined}>{dayjs(due).format('YYYY-MM-DD HH:mm')}{late ? ` ⚠️${t('tasks.overdue')}` : ''}</Typography.Text>
        {tk.reminded_at && tk.status !== 'done' ? <Tag color="orange">{t('tasks.reminded')}</Tag> : null}
      </Space>
    );
  };
  const bulkBar = selected.length > 0 && (
    <Space style={{ marginBottom: 12 }} wrap data-testid="tasks-bulk-bar">
      <Typography.Text>{t('tasks.selected', { count: selected.length })}</Typography.Text>
      <Button type="primary" icon={<CheckOutlined />} onClick={() => { setComment(''); setBulkOpen(true); }} data-testid="tasks-bulk-approve">{t('tasks.bulkApprove')}</Button>
      <Button onClick={() => setSelected([])}>{t('common.cancel')}</Button>
    </Space>
  );
  return (
    <div>
      <Space style={{ marginBottom: 12, width: '100%', justifyContent: 'space-between' }}>
        <Typography.Title level={3} style={{ margin: 0 }}>{t('nav.tasks')}</Typography.Title>
        <Segmented value={status} onChange={(v) => setStatus(v as typeof status)} options={[{ value: 'open', label: t('tasks.open') }, { value: 'done', label: t('tasks.done') }, { value: 'all', label: t('tasks.all') }]} />
      </Space>
      {q.isError && <Alert type="error" showIcon title={errorMessage(q.error)} style={{ marginBottom: 12 }} />}
      {bulkBar}
      {narrow ? (
        <Space orientation="vertical" style={{ width: '100%' }} data-testid="tasks-cards">
          {!q.isLoading && items.length === 0 && <Typography.Text type="secondary">{t('tasks.empty')}</Typography.Text>}
          {items.map((tk) => (
            <Card key={tk.id} size="small" hoverable onClick={() => setDetail(tk.id)} data-testid={`task-card-${tk.id}`} className="task-card">
              <Space align="start" style={{ width: '100%' }}>
                {openApproval(tk) && (
                  <Checkbox checked={selected.includes(tk.id)} onClick={(e) => e.stopPropagation()} onChange={(e) => toggle(tk.id, e.target.checked)} aria-label={t('tasks.select')} data-testid={`task-select-${tk.id}`} />
                )}
                <Space orientation="vertical" size={2} style={{ minWidth: 0 }}>
                  <Typography.Text strong style={{ wordBreak: 'break-word' }}>{tk.title ?? tk.name ?? tk.id}</Typography.Text>
                  <Space size={4} wrap>
                    <Tag color={isApproval(tk) ? 'purple' : 'blue'}>{isApproval(tk) ? t('tasks.approval') : t('tasks.task')}</Tag>
                    <LevelTag task={tk} />
                    {tk.outcome ? <Tag color={/^reject/.test(tk.outcome) ? 'red' : /^approve/.test(tk.outcome) ? 'green' : undefined}>{t(`tasks.outcomes.${tk.outcome}`, { defaultValue: tk.outcome })}</Tag> : null}
                  </Space>
                  {dueText(tk)}
                  {(tk.run_id || (tk.app && tk.entity && tk.record_id)) && (
                    <Space size={12} wrap onClick={(e) => e.stopPropagation()}>
                      {tk.app && tk.entity && tk.record_id ? <Link to={`/apps/${encodeURIComponent(tk.app)}/entities/${encodeURIComponent(tk.entity)}?record=${encodeURIComponent(tk.record_id)}`} data-testid={`task-card-record-${tk.id}`}>{t('tasks.record')}</Link> : null}
                      {tk.run_id ? <Link to={`/runs/${tk.run_id}`} data-testid={`task-card-run-${tk.id}`}>{t('runs.run')}</Link> : null}
                    </Space>
                  )}
                </Space>
              </Space>
            </Card>
          ))}
        </Space>
      ) : (
      <Table<Task>
        rowKey="id"
        loading={q.isLoading}
        dataSource={items}
        data-testid="tasks-table"
        rowSelection={{ selectedRowKeys: selected, onChange: (keys) => setSelected(keys.map(String)), getCheckboxProps: (tk) => ({ disabled: !openApproval(tk), 'data-testid': `task-select-${tk.id}` } as object) }}
        columns={[
          {
            title: t('tasks.title'),
            render: (_v, tk) => (
              <Space orientation="vertical" size={0}>
                <Typography.Link strong onClick={() => setDetail(tk.id)} data-testid={`task-open-${tk.id}`}>{tk.title ?? tk.name ?? tk.id}</Typography.Link>
                <LevelTag task={tk} />
                {typeof tk.description === 'string' && <Typography.Text type="secondary">{tk.description}</Typography.Text>}
              </Space>
            ),
          },
          { title: t('tasks.kind'), render: (_v, tk) => <Tag color={isApproval(tk) ? 'purple' : 'blue'}>{isApproval(tk) ? t('tasks.approval') : t('tasks.task')}</Tag> },
          { title: t('tasks.due'), render: (_v, tk) => dueText(tk) },
          {
            title: t('tasks.context'),
            render: (_v, tk) => (
              <Space>
                {tk.app && tk.entity && tk.record_id ? <Link to={`/apps/${encodeURIComponent(tk.app)}/entities/${encodeURIComponent(tk.entity)}?record=${encodeURIComponent(tk.record_id)}`}>{t('tasks.record')}</Link> : null}
                {tk.run_id ? <Link to={`/runs/${tk.run_id}`}>{t('runs.run')}</Link> : null}
              </Space>
            ),
          },
          {
            title: t('tasks.outcome'),
            render: (_v, tk) => (
              <Space orientation="vertical" size={0}>
                {tk.outcome ? <Tag color={/^reject/.test(tk.outcome) ? 'red' : /^approve/.test(tk.outcome) ? 'green' : undefined}>{t(`tasks.outcomes.${tk.outcome}`, { defaultValue: tk.outcome })}</Tag> : null}
                {tk.comment ? <Typography.Text type="secondary" style={{ fontSize: 12 }}>{tk.comment}</Typography.Text> : null}
              </Space>
            ),
          },
          {
            title: '',
            render: (_v, tk) =>
              tk.status && tk.status !== 'open' ? (
                <Button size="small" icon={<EyeOutlined />} onClick={() => setDetail(tk.id)}>{t('tasks.details')}</Button>
              ) : (
                <Space>
                  <Button size="small" icon={<EyeOutlined />} onClick={() => setDetail(tk.id)} aria-label={t('tasks.details')} />
                  {isApproval(tk) ? (
                    <>
                      <Button size="small" type="primary" icon={<CheckOutlined />} onClick={() => setTarget({ task: tk, outcome: 'approve' })} data-testid={`task-approve-${tk.id}`}>{t('tasks.approve')}</Button>
                      <Button size="small" danger icon={<CloseOutlined />} onClick={() => setTarget({ task: tk, outcome: 'reject' })} data-testid={`task-reject-${tk.id}`}>{t('tasks.reject')}</Button>
                    </>
                  ) : (
                    <Button size="small" type="primary" icon={<CheckOutlined />} onClick={() => setTarget({ task: tk, outcome: 'done' })} data-testid={`task-done-${tk.id}`}>{t('tasks.complete')}</Button>
                  )}
                  <Button size="small" icon={<UserSwitchOutlined />} onClick={() => { setDelegating(tk); setDelegateTo(''); setComment(''); }} data-testid={`task-delegate-${tk.id}`}>{t('tasks.delegate')}</Button>
                </Space>
              ),
          },
        ]}
      />
      )}
      <TaskDetail id={detail} onClose={() => setDetail(null)} />
      <Modal
        title={t('tasks.bulkApprove')}
        open={bulkOpen}
        onCancel={() => setBulkOpen(false)}
        onOk={() => bulk.mutate({ ids: selected, comment })}
        confirmLoading={bulk.isPending}
        okButtonProps={{ 'data-testid': 'tasks-bulk-confirm' } as never}
      >
        <Typography.Paragraph>{t('tasks.bulkConfirm', { count: selected.length })}</Typography.Paragraph>
        <Input.TextArea rows={3} value={comment} onChange={(e) => setComment(e.target.value)} placeholder={t('tasks.comment')} data-testid="tasks-bulk-comment" />
      </Modal>
      <Modal
        title={target ? `${t(`tasks.outcomes.${target.outcome}`)} · ${target.task.title ?? target.task.name ?? ''}` : ''}
        open={!!target}
        onCancel={() => setTarget(null)}
        onOk={() => target && complete.mutate({ id: target.task.id, outcome: target.outcome, comment })}
        confirmLoading={complete.isPending}
        okButtonProps={{ danger: target?.outcome === 'reject', 'data-testid': 'task-confirm' }}
      >
        <Input.TextArea rows={3} value={comment} onChange={(e) => setComment(e.target.value)} placeholder={t('tasks.comment')} data-testid="task-comment" />
      </Modal>
      <Modal
        title={delegating ? `${t('tasks.delegate')} · ${delegating.title ?? delegating.name ?? ''}` : ''}
        open={!!delegating}
        onCancel={() => setDelegating(null)}
        onOk={() => delegating && delegate.mutate({ id: delegating.id, user_id: delegateTo, comment })}
        confirmLoading={delegate.isPending}
        okButtonProps={{ disabled: !delegateTo, 'data-testid': 'task-delegate-confirm' }}
      >
        <Form layout="vertical">
          <Form.Item label={t('tasks.delegateTo')} extra={t('tasks.delegateHelp')} required>
            {typeof delegating?.app === 'string' ? (
              <PersonSelect app={delegating.app} value={delegateTo || null} onChange={(v) => setDelegateTo(typeof v === 'string' ? v : '')} data-testid="task-delegate-user" />
            ) : (
              <DelegateUser value={delegateTo} onChange={setDelegateTo} enabled={!!delegating} />
            )}
          </Form.Item>
          <Form.Item label={t('tasks.comment')}>
            <Input.TextArea rows={2} value={comment} onChange={(e) => setComment(e.target.value)} data-testid="task-delegate-comment" />
          </Form.Item>
        </Form>
      </Modal>
    </div>
  );
}
