import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, App, Button, Empty, Input, List, Space, Tooltip, Typography } from 'antd';
import dayjs from 'dayjs';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, errorMessage } from '../api/client';
import { recordsPath } from '../api/records';
import PersonSelect from './PersonSelect';

/** One comment of GET .../records/{id}/comments. */
export interface RecordComment {
  id: string;
  author?: string | null;
  author_name?: string;
  body: string;
  mentions?: string[];
  created_at: string;
}

/** A record's comments and a box to add one, with @mentions picked from the app's people (they get a notification). */
export default function RecordComments({ app, entity, id }: { app: string; entity: string; id: string }) {
  const { t, i18n } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [body, setBody] = useState('');
  const [mentions, setMentions] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  const path = `${recordsPath(app, entity, id)}/comments`;
  const q = useQuery({ queryKey: ['comments', app, entity, id], queryFn: async () => (await api<{ items?: RecordComment[] }>(path))?.items ?? [] });
  const add = useMutation({
    mutationFn: () => api(path, { method: 'POST', body: { body, mentions } }),
    onSuccess: () => {
      message.success(t('comments.added'));
      setBody('');
      setMentions([]);
      setError(null);
      void qc.invalidateQueries({ queryKey: ['comments', app, entity, id] });
    },
    onError: (e) => setError(errorMessage(e)),
  });
  return (
    <Space orientation="vertical" style={{ width: '100%' }} data-testid="record-comments">
      {q.isError && <Alert type="warning" title={errorMessage(q.error)} />}
      {(q.data ?? []).length === 0 && !q.isLoading ? (
        <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('comments.empty')} />
      ) : (
        <List
          size="small"
          dataSource={q.data ?? []}
          renderItem={(c) => (
            <List.Item data-testid="record-comment">
              <Space orientation="vertical" size={0} style={{ width: '100%' }}>
                <Space size={6} wrap>
                  <Typography.Text strong>{c.author_name || t('records.system')}</Typography.Text>
                  <Tooltip title={dayjs(c.created_at).format('YYYY-MM-DD HH:mm:ss')}>
                    <Typography.Text type="secondary">{dayjs(c.created_at).locale(i18n.language === 'en' ? 'en' : 'zh-cn').fromNow()}</Typography.Text>
                  </Tooltip>
                </Space>
                <Typography.Paragraph style={{ margin: 0, whiteSpace: 'pre-wrap' }}>{c.body}</Typography.Paragraph>
              </Space>
            </List.Item>
          )}
        />
      )}
      {error && <Alert type="error" showIcon title={error} data-testid="comment-error" />}
      <Input.TextArea rows={3} value={body} onChange={(e) => setBody(e.target.value)} placeholder={t('comments.placeholder')} maxLength={5000} data-testid="comment-body" />
      <div>
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>{t('comments.mention')}</Typography.Text>
        <PersonSelect app={app} multiple value={mentions} onChange={(v) => setMentions(Array.isArray(v) ? v : [])} data-testid="comment-mentions" />
      </div>
      <Button type="primary" disabled={!body.trim()} loading={add.isPending} onClick={() => add.mutate()} data-testid="comment-submit">{t('comments.submit')}</Button>
    </Space>
  );
}
