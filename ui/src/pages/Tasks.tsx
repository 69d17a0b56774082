import { CheckOutlined, CloseOutlined, UserSwitchOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, App, Button, Form, Input, Modal, Segmented, Select, Space, Table, Tag, Typography } from 'antd';
import dayjs from 'dayjs';
import { useState } from 'react';
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
  const isApproval = (tk: Task) => tk.kind === 'approval' || tk.type === 'approval';
  return (
    <div>
      <Space style={{ marginBottom: 12, width: '100%', justifyContent: 'space-between' }}>
        <Typography.Title level={3} style={{ margin: 0 }}>{t('nav.tasks')}</Typography.Title>
        <Segmented value={status} onChange={(v) => setStatus(v as typeof status)} options={[{ value: 'open', label: t('tasks.open') }, { value: 'done', label: t('tasks.done') }, { value: 'all', label: t('tasks.all') }]} />
      </Space>
      {q.isError && <Alert type="error" showIcon title={errorMessage(q.error)} style={{ marginBottom: 12 }} />}
      <Table<Task>
        rowKey="id"
        loading={q.isLoading}
        dataSource={q.data ?? []}
        data-testid="tasks-table"
        columns={[
          {
            title: t('tasks.title'),
            render: (_v, tk) => (
              <Space orientation="vertical" size={0}>
                <Typography.Text strong>{tk.title ?? tk.name ?? tk.id}</Typography.Text>
                {typeof tk.description === 'string' && <Typography.Text type="secondary">{tk.description}</Typography.Text>}
              </Space>
            ),
          },
          { title: t('tasks.kind'), render: (_v, tk) => <Tag color={isApproval(tk) ? 'purple' : 'blue'}>{isApproval(tk) ? t('tasks.approval') : t('tasks.task')}</Tag> },
          {
            title: t('tasks.due'),
            render: (_v, tk) => {
              const due = tk.due ?? tk.due_at;
              if (!due) return '';
              const late = dayjs(due).isBefore(dayjs()) && tk.status !== 'done';
              return (
                <Space size={4}>
                  <Typography.Text type={late ? 'danger' : undefined}>{dayjs(due).format('YYYY-MM-DD HH:mm')}{late ? ` ⚠️${t('tasks.overdue')}` : ''}</Typography.Text>
                  {tk.reminded_at && tk.status !== 'done' ? <Tag color="orange">{t('tasks.reminded')}</Tag> : null}
                </Space>
              );
            },
          },
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
              tk.status && tk.status !== 'open' ? null : (
                <Space>
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
            <DelegateUser value={delegateTo} onChange={setDelegateTo} enabled={!!delegating} />
          </Form.Item>
          <Form.Item label={t('tasks.comment')}>
            <Input.TextArea rows={2} value={comment} onChange={(e) => setComment(e.target.value)} data-testid="task-delegate-comment" />
          </Form.Item>
        </Form>
      </Modal>
    </div>
  );
}
