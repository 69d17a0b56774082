import { BellOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Badge, Button, Empty, Popover, Space } from 'antd';
import dayjs from 'dayjs';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import { api, errorMessage } from '../api/client';
import { linkOf, messageOf, type Notification, type NotificationPage } from '../lib/notifications';
import { Text } from './Text';

/** How often the bell asks for new notifications. */
export const NOTIFICATION_POLL_MS = 30_000;

/** Header bell: unread count (polled), a dropdown of recent notifications, mark read / all read. */
export default function NotificationBell() {
  const { t, i18n } = useTranslation();
  const nav = useNavigate();
  const qc = useQueryClient();
  const [open, setOpen] = useState(false);
  const q = useQuery({
    queryKey: ['notifications'],
    queryFn: () => api<NotificationPage>('/api/v1/notifications', { query: { limit: 20 } }),
    refetchInterval: NOTIFICATION_POLL_MS,
  });
  const refresh = () => void qc.invalidateQueries({ queryKey: ['notifications'] });
  const read = useMutation({
    mutationFn: (id: string) => api(`/api/v1/notifications/${encodeURIComponent(id)}/read`, { method: 'POST' }),
    onSuccess: refresh,
  });
  const readAll = useMutation({
    mutationFn: () => api('/api/v1/notifications/read-all', { method: 'POST' }),
    onSuccess: refresh,
  });
  const items = q.data?.items ?? [];
  const unread = q.data?.unread_count ?? 0;

  const text = (n: Notification) => {
    const m = messageOf(n);
    const fallback = n.text?.[i18n.language] ?? n.text?.['zh-CN'] ?? n.title;
    return m.key ? t(`notifications.msg.${m.key}`, m.values) : fallback;
  };
  const openItem = (n: Notification) => {
    if (!n.read_at) read.mutate(n.id);
    const to = linkOf(n);
    if (to) {
      setOpen(false);
      nav(to);
    }
  };

  const content = (
    <div style={{ width: 'min(360px, calc(100vw - 32px))', maxHeight: 420, overflow: 'auto' }} data-testid="notification-list">
      {q.isError && <Text type="danger">{errorMessage(q.error)}</Text>}
      {!q.isError && items.length === 0 && <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('notifications.empty')} />}
      {items.map((n) => (
        <div
          key={n.id}
          data-testid={`notification-${n.id}`}
          role="button"
          tabIndex={0}
          onClick={() => openItem(n)}
          onKeyDown={(e) => e.key === 'Enter' && openItem(n)}
          style={{ padding: '8px 4px', borderBottom: '1px solid #f0f0f0', cursor: 'pointer', background: n.read_at ? undefined : '#e6f4ff' }}
        >
          <Space style={{ width: '100%', justifyContent: 'space-between' }} align="start">
            <Text strong={!n.read_at}>{text(n)}</Text>
            {!n.read_at && (
              <Button
                size="small"
                type="link"
                data-testid={`notification-read-${n.id}`}
                onClick={(e) => {
                  e.stopPropagation();
                  read.mutate(n.id);
                }}
              >
                {t('notifications.markRead')}
              </Button>
            )}
          </Space>
          {n.kind === 'run_failed' && typeof n.params?.error === 'string' && n.params.error && (
            <Text type="danger" lines={2} style={{ margin: 0, fontSize: 12 }} data-testid={`notification-error-${n.id}`}>
              {n.params.error}
            </Text>
          )}
          {typeof n.params?.body === 'string' && n.params.body && (
            <Text type="secondary" lines={3} style={{ whiteSpace: 'pre-wrap', margin: 0, fontSize: 12 }} data-testid={`notification-body-${n.id}`}>
              {n.params.body}
            </Text>
          )}
          <Text type="secondary" style={{ fontSize: 12 }}>{dayjs(n.created_at).format('YYYY-MM-DD HH:mm')}</Text>
        </div>
      ))}
    </div>
  );

  return (
    <Popover
      trigger="click"
      placement="bottomRight"
      open={open}
      onOpenChange={setOpen}
      title={
        <Space style={{ width: '100%', justifyContent: 'space-between' }}>
          <span>{t('notifications.title')}</span>
          <Space size={4}>
            <Button size="small" type="link" onClick={() => { setOpen(false); nav('/tasks'); }}>{t('notifications.openInbox')}</Button>
            <Button size="small" type="link" disabled={unread === 0} loading={readAll.isPending} onClick={() => readAll.mutate()} data-testid="notification-read-all">
              {t('notifications.markAllRead')}
            </Button>
          </Space>
        </Space>
      }
      content={content}
    >
      <Badge count={unread} size="small" overflowCount={99}>
        <Button type="text" icon={<BellOutlined />} aria-label={t('notifications.title')} data-testid="notification-bell" data-unread={unread} />
      </Badge>
    </Popover>
  );
}
