import { CheckOutlined, CloseOutlined, MessageOutlined, UserSwitchOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, App, Button, Descriptions, Divider, Drawer, Empty, Grid, Input, Space, Spin, Tag, Timeline, Tooltip, Typography } from 'antd';
import dayjs from 'dayjs';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api, errorMessage } from '../api/client';
import type { EntityDef, RecordItem, Task } from '../api/types';
import { labelText } from '../lib/labels';
import { FieldValue, fieldLabel } from './FieldInput';
import PersonSelect from './PersonSelect';

/** An earlier decision (or comment) in the task's run. */
export interface TaskDecision {
  task_id: string;
  level?: string | null;
  level_index?: number | null;
  status: string;
  outcome?: string | null;
  comment?: string | null;
  assignee_name?: string | null;
  completed_by_name?: string | null;
  completed_at?: string | null;
}

/** GET /api/v1/tasks/{id}. */
export interface TaskDetailData extends Task {
  data?: { level?: string; level_index?: number; levels?: number; route?: string; [k: string]: unknown };
  decisions?: TaskDecision[];
  summary?: { app: string; entity: EntityDef; record: RecordItem } | null;
  summary_note?: string;
  delegated_from_name?: string;
}

/** "法务 / 第2级（共3级）" and the route, for approvals that carry their level. */
export function LevelTag({ task }: { task: Task }) {
  const { t } = useTranslation();
  const d = (task.data ?? {}) as TaskDetailData['data'];
  if (!d || typeof d.level !== 'string') return null;
  const n = (d.level_index ?? 0) + 1;
  const text = d.levels ? t('tasks.levelOf', { name: d.level, n, total: d.levels }) : t('tasks.level', { name: d.level, n });
  return (
    <Space size={4} wrap data-testid="task-level">
      {d.route ? <Tag color="geekblue">{t('tasks.route', { route: d.route })}</Tag> : null}
      <Tag color="purple">{text}</Tag>
    </Space>
  );
}

function outcomeColor(o?: string | null) {
  if (!o) return undefined;
  return /^reject/.test(o) ? 'red' : /^approve/.test(o) ? 'green' : undefined;
}

function useTask(id: string | null) {
  return useQuery({
    queryKey: ['task', id],
    enabled: !!id,
    queryFn: () => api<TaskDetailData>(`/api/v1/tasks/${encodeURIComponent(id ?? '')}`),
  });
}

/** One task in full in a drawer: level and route, the record's read-only summary, earlier decisions, and the actions. */
export default function TaskDetail({ id, onClose }: { id: string | null; onClose: () => void }) {
  const { t } = useTranslation();
  const narrow = !Grid.useBreakpoint().md;
  const q = useTask(id);
  return (
    <Drawer open={!!id} onClose={onClose} size={narrow ? '100%' : 600} title={q.data?.title ?? t('tasks.title')} destroyOnHidden data-testid="task-detail">
      {id ? <TaskDetailBody id={id} onClose={onClose} /> : null}
    </Drawer>
  );
}

/** The body of one task (also shown inline where an approver opens the task's run). */
export function TaskDetailBody({ id, onClose }: { id: string; onClose: () => void }) {
  const { t, i18n } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const narrow = !Grid.useBreakpoint().md;
  const [comment, setComment] = useState('');
  const [delegateTo, setDelegateTo] = useState<string | null>(null);
  useEffect(() => {
    setComment('');
    setDelegateTo(null);
  }, [id]);
  const q = useTask(id);
  const done = (msg: string, close: boolean) => {
    message.success(msg);
    setComment('');
    void qc.invalidateQueries({ queryKey: ['tasks'] });
    void qc.invalidateQueries({ queryKey: ['task', id] });
    void qc.invalidateQueries({ queryKey: ['run'] });
    if (close) onClose();
  };
  const complete = useMutation({
    mutationFn: (outcome: string) => api(`/api/v1/tasks/${encodeURIComponent(id ?? '')}/complete`, { method: 'POST', body: { outcome, comment } }),
    onSuccess: (_r, outcome) => done(outcome === 'comment' ? t('tasks.commented') : t('tasks.completed'), outcome !== 'comment'),
    onError: (e) => message.error(errorMessage(e)),
  });
  const delegate = useMutation({
    mutationFn: () => api(`/api/v1/tasks/${encodeURIComponent(id ?? '')}/delegate`, { method: 'POST', body: { user_id: delegateTo, comment } }),
    onSuccess: () => done(t('tasks.delegated'), true),
    onError: (e) => message.error(errorMessage(e)),
  });
  const tk = q.data;
  const approval = tk?.kind === 'approval';
  const open = tk?.status === 'open';
  const lang = i18n.language;
  const sum = tk?.summary;
  const names = { map: sum?.record.display ?? {}, placeholder: t('records.restricted') };
  const busy = complete.isPending || delegate.isPending;
  return (
    <>
      {q.isLoading && <Spin />}
      {q.isError && <Alert type="error" showIcon title={errorMessage(q.error)} />}
      {tk && (
        <Space orientation="vertical" style={{ width: '100%' }} size="middle">
          <Space size={4} wrap>
            <Tag color={approval ? 'purple' : 'blue'}>{approval ? t('tasks.approval') : t('tasks.task')}</Tag>
            <LevelTag task={tk} />
            {tk.outcome ? <Tag color={outcomeColor(tk.outcome)}>{t(`tasks.outcomes.${tk.outcome}`, { defaultValue: tk.outcome })}</Tag> : null}
            {tk.due_at ? <Typography.Text type="secondary">{t('tasks.due')}: {dayjs(tk.due_at).format('YYYY-MM-DD HH:mm')}</Typography.Text> : null}
          </Space>
          {tk.delegated_from_name ? <Typography.Text type="secondary">{t('tasks.delegatedFrom', { name: tk.delegated_from_name })}</Typography.Text> : null}

          <div data-testid="task-summary">
            <Typography.Title level={5} style={{ marginTop: 0 }}>
              {sum ? labelText(sum.entity.label, lang, sum.entity.slug) : t('tasks.summary')}
              {sum && tk.app && tk.entity && tk.record_id ? (
                <Link to={`/apps/${encodeURIComponent(tk.app)}/entities/${encodeURIComponent(tk.entity)}?record=${encodeURIComponent(tk.record_id)}`} style={{ fontSize: 13, marginLeft: 8, fontWeight: 'normal' }}>{t('tasks.openRecord')}</Link>
              ) : null}
            </Typography.Title>
            {sum ? (
              <Descriptions size="small" column={1} bordered styles={{ label: { width: narrow ? 110 : 160 } }}>
                {sum.entity.fields
                  .filter((f) => sum.record.data[f.key] !== undefined && sum.record.data[f.key] !== null && sum.record.data[f.key] !== '')
                  .map((f) => (
                    <Descriptions.Item key={f.key} label={fieldLabel(f, lang)}>
                      <span data-testid={`summary-${f.key}`}><FieldValue field={f} value={sum.record.data[f.key]} app={sum.app} names={names} /></span>
                    </Descriptions.Item>
                  ))}
              </Descriptions>
            ) : (
              <Typography.Text type="secondary">{t(`tasks.summaryNote.${tk.summary_note ?? 'no_record'}`, { defaultValue: t('tasks.summaryNote.no_record') })}</Typography.Text>
            )}
          </div>

          <div data-testid="task-decisions">
            <Typography.Title level={5}>{t('tasks.decisions')}</Typography.Title>
            {(tk.decisions ?? []).length === 0 ? (
              <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('tasks.noDecisions')} />
            ) : (
              <Timeline
                items={(tk.decisions ?? []).map((d) => ({
                  color: outcomeColor(d.outcome) ?? 'gray',
                  content: (
                    <div data-testid="task-decision">
                      <Space size={4} wrap>
                        <Typography.Text strong>{d.completed_by_name ?? d.assignee_name ?? t('records.system')}</Typography.Text>
                        {d.level ? <Tag>{d.level}</Tag> : null}
                        {d.outcome ? <Tag color={outcomeColor(d.outcome)}>{t(`tasks.outcomes.${d.outcome}`, { defaultValue: d.outcome })}</Tag> : null}
                        {d.completed_at ? (
                          <Tooltip title={dayjs(d.completed_at).format('YYYY-MM-DD HH:mm:ss')}>
                            <Typography.Text type="secondary">{dayjs(d.completed_at).format('YYYY-MM-DD HH:mm')}</Typography.Text>
                          </Tooltip>
                        ) : null}
                      </Space>
                      {d.comment ? <Typography.Paragraph style={{ margin: '4px 0 0', whiteSpace: 'pre-wrap' }}>{d.comment}</Typography.Paragraph> : null}
                    </div>
                  ),
                }))}
              />
            )}
          </div>

          {tk.comment && open ? (
            <Alert type="info" title={t('tasks.myComments')} description={<span style={{ whiteSpace: 'pre-wrap' }}>{tk.comment}</span>} />
          ) : null}

          {open && (
            <>
              <Divider style={{ margin: '4px 0' }} />
              <Input.TextArea rows={3} value={comment} onChange={(e) => setComment(e.target.value)} placeholder={t('tasks.comment')} data-testid="task-detail-comment" />
              <Space wrap>
                {approval ? (
                  <>
                    <Button type="primary" icon={<CheckOutlined />} loading={busy} onClick={() => complete.mutate('approve')} data-testid="task-detail-approve">{t('tasks.approve')}</Button>
                    <Button danger icon={<CloseOutlined />} loading={busy} onClick={() => complete.mutate('reject')} data-testid="task-detail-reject">{t('tasks.reject')}</Button>
                    <Button icon={<MessageOutlined />} loading={busy} disabled={!comment.trim()} onClick={() => complete.mutate('comment')} data-testid="task-detail-comment-only">{t('tasks.commentOnly')}</Button>
                  </>
                ) : (
                  <Button type="primary" icon={<CheckOutlined />} loading={busy} onClick={() => complete.mutate('done')} data-testid="task-detail-done">{t('tasks.complete')}</Button>
                )}
              </Space>
              {tk.app ? (
                <Space.Compact style={{ width: '100%' }}>
                  <PersonSelect app={tk.app} value={delegateTo} onChange={(v) => setDelegateTo(typeof v === 'string' ? v : null)} data-testid="task-detail-delegate-user" />
                  <Button icon={<UserSwitchOutlined />} disabled={!delegateTo} loading={busy} onClick={() => delegate.mutate()} data-testid="task-detail-delegate">{t('tasks.delegate')}</Button>
                </Space.Compact>
              ) : null}
            </>
          )}
        </Space>
      )}
    </>
  );
}
