import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { MemoryRouter } from 'react-router';
import { describe, expect, it, vi } from 'vitest';
import i18n from '../i18n';
import NotificationBell from './NotificationBell';
import { setupDom } from '../testDom';

setupDom();

const page = {
  unread_count: 1,
  items: [
    { id: 'n1', kind: 'task_reminder', title: '回访客户', params: { task_kind: 'task' }, task_id: 't1', created_at: '2026-11-22T10:00:00Z', read_at: null },
    { id: 'n2', kind: 'approval_decided', title: '大单审批', params: { outcome: 'approved' }, run_id: 'r1', created_at: '2026-11-22T09:00:00Z', read_at: '2026-11-22T09:30:00Z' },
  ],
};

function json(body: unknown) {
  return new Response(JSON.stringify(body), { status: 200, headers: { 'Content-Type': 'application/json' } });
}

describe('NotificationBell', () => {
  it('shows the unread count, lists notifications in the UI language and marks read', async () => {
    await i18n.changeLanguage('zh-CN');
    const calls: string[] = [];
    vi.stubGlobal('fetch', vi.fn(async (url: string, init?: RequestInit) => {
      calls.push(`${init?.method ?? 'GET'} ${url}`);
      return url.includes('/read') ? json({}) : json(page);
    }));
    const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    render(
      <QueryClientProvider client={qc}>
        <MemoryRouter>
          <NotificationBell />
        </MemoryRouter>
      </QueryClientProvider>,
    );
    const bell = await screen.findByTestId('notification-bell');
    await waitFor(() => expect(bell.getAttribute('data-unread')).toBe('1'));
    fireEvent.click(bell);
    expect(await screen.findByText('催办：待办尚未完成：回访客户')).toBeTruthy();
    expect(screen.getByText('已通过：大单审批')).toBeTruthy();
    expect(screen.queryByTestId('notification-read-n2')).toBeNull(); // already read
    fireEvent.click(screen.getByTestId('notification-read-n1'));
    await waitFor(() => expect(calls).toContain('POST /api/v1/notifications/n1/read'));
    fireEvent.click(screen.getByTestId('notification-read-all'));
    await waitFor(() => expect(calls).toContain('POST /api/v1/notifications/read-all'));
    expect(calls.filter((c) => c.startsWith('GET /api/v1/notifications?limit=20')).length).toBeGreaterThan(1); // refetched after marking
  });
});
