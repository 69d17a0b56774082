import { useInfiniteQuery } from '@tanstack/react-query';
import { Alert, Button, Input, Space, Table, Typography } from 'antd';
import dayjs from 'dayjs';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, errorMessage } from '../../api/client';
import { useUsers } from '../../api/admin';

interface AuditEntry {
  id: number;
  at: string;
  actor?: string | null;
  action: string;
  target: string;
  before?: unknown;
  after?: unknown;
}

export default function AdminAudit() {
  const { t } = useTranslation();
  const [action, setAction] = useState('');
  const [target, setTarget] = useState('');
  const users = useUsers();
  const q = useInfiniteQuery({
    queryKey: ['audit', action, target],
    initialPageParam: '',
    queryFn: async ({ pageParam }) => {
      const r = await api<{ items?: AuditEntry[]; next_cursor?: string | null }>('/api/v1/admin/audit', { query: { action, target, limit: 100, cursor: pageParam || undefined } });
      return { items: r?.items ?? [], next: r?.next_cursor ?? null };
    },
    getNextPageParam: (p) => p.next || undefined,
  });
  const rows = (q.data?.pages ?? []).flatMap((p) => p.items);
  const who = (id?: string | null) => (id ? users.data?.find((u) => u.id === id)?.email ?? id.slice(0, 8) : '—');
  return (
    <div>
      <Space style={{ marginBottom: 12, width: '100%', justifyContent: 'space-between' }}>
        <Typography.Title level={3} style={{ margin: 0 }}>{t('nav.audit')}</Typography.Title>
        <Space>
          <Input.Search allowClear placeholder={t('admin.action')} onSearch={setAction} />
          <Input.Search allowClear placeholder={t('admin.target')} onSearch={setTarget} />
        </Space>
      </Space>
      {q.isError && <Alert type="error" showIcon title={errorMessage(q.error)} />}
      <Table<AuditEntry>
        rowKey="id"
        size="small"
        loading={q.isLoading}
        dataSource={rows}
        pagination={false}
        data-testid="audit-table"
        expandable={{ expandedRowRender: (r) => <pre style={{ fontSize: 12, margin: 0 }}>{JSON.stringify({ before: r.before, after: r.after }, null, 2)}</pre> }}
        columns={[
          { title: t('admin.at'), dataIndex: 'at', width: 170, render: (v: string) => dayjs(v).format('YYYY-MM-DD HH:mm:ss') },
          { title: t('admin.actor'), dataIndex: 'actor', render: who },
          { title: t('admin.action'), dataIndex: 'action' },
          { title: t('admin.target'), dataIndex: 'target' },
        ]}
      />
      {q.hasNextPage && <div style={{ textAlign: 'center', marginTop: 12 }}><Button onClick={() => q.fetchNextPage()} loading={q.isFetchingNextPage}>{t('common.loadMore')}</Button></div>}
    </div>
  );
}
