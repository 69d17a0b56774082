import { App } from 'antd';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import i18n from '../../i18n';
import ImportWizard from './ImportWizard';
import ImportProgressBar, { PROGRESS_POLL_MS } from './ImportProgressBar';
import type { EntityDef } from '../../api/types';
import { setupDom } from '../../testDom';

setupDom();

function json(body: unknown, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json' } });
}

const entity = {
  slug: 'deal',
  fields: [
    { key: 'name', type: 'text', required: true, label: { en: 'Name', 'zh-CN': '名称' } },
    { key: 'amount', type: 'money', label: { en: 'Amount', 'zh-CN': '金额' } },
  ],
} as unknown as EntityDef;

const ROWS = 1200;
const parsed = { headers: ['名称', '金额'], rows: Array.from({ length: ROWS }, (_, i) => [`商机 ${i}`, String(i)]), suggestions: ['name', 'amount'], total: ROWS };

function wrap(node: React.ReactNode) {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={qc}>
      <App>{node}</App>
    </QueryClientProvider>,
  );
}

describe('ImportWizard', () => {
  it('follows the check and the import with a progress id and shows rows done of the total', async () => {
    await i18n.changeLanguage('zh-CN');
    const calls: string[] = [];
    let progress: unknown = null; // 404 until the server starts the import
    const answers: ((r: Response) => void)[] = [];
    vi.stubGlobal('fetch', vi.fn(async (url: string, init?: RequestInit) => {
      const method = init?.method ?? 'GET';
      calls.push(`${method} ${url}`);
      if (url.endsWith('/import/parse')) return json(parsed);
      if (url.startsWith('/api/v1/imports/')) return progress ? json(progress) : json({ status: 404, title: 'Not Found' }, 404);
      if (method === 'POST' && url.includes('/import?')) return new Promise<Response>((resolve) => answers.push(resolve)); // held until the test answers
      return json({});
    }));
    const onImported = vi.fn();
    wrap(<ImportWizard app="crm" entity={entity} open onClose={() => {}} onImported={onImported} />);
    const input = document.querySelector('input[type=file]') as HTMLInputElement;
    fireEvent.change(input, { target: { files: [new File(['名称,金额\n'], 'deals.csv', { type: 'text/csv' })] } });
    await screen.findByTestId('import-mapping');

    // the check: one request for all rows, followed; the bar shows what the server reports
    fireEvent.click(screen.getByTestId('import-check'));
    await waitFor(() => expect(answers.length).toBe(1));
    const post = calls.find((c) => c.startsWith('POST') && c.includes('/import?'))!;
    const id = new URL(post.slice(5), 'http://x').searchParams.get('progress')!;
    expect(id).toMatch(/^[A-Za-z0-9_-]{8,64}$/);
    expect(post).toContain('dry_run=true');
    expect(await screen.findByTestId('import-progress-text')).toHaveProperty('textContent', '已处理 0 / 1,200 行');
    progress = { rows: 500, rows_total: ROWS, created: 500, merged: 0, pending: 0, failed: 0, bytes_read: 9000, bytes_total: 9000, done: false };
    await waitFor(() => expect(screen.getByTestId('import-progress-text').textContent).toBe('已处理 500 / 1,200 行'), { timeout: 5000 });
    expect(screen.getByTestId('import-progress').querySelector('[role=progressbar]')?.getAttribute('aria-valuenow')).toBe('41');
    expect(calls).toContain(`GET /api/v1/imports/${id}`);
    answers[0](json({ rows: ROWS, created: ROWS - 1, merged: 0, pending: 0, failed: 1, errors: [{ field: 'rows[3].name', code: 'required', message: 'name is required (名称必填)' }] }));
    expect(await screen.findByTestId('import-bad')).toHaveProperty('textContent', '1 行有错误');
    expect(screen.queryByTestId('import-progress')).toBeNull(); // gone with the answer
    expect(screen.getByTestId('import-errors').textContent).toContain('5'); // file line of row 3
    expect(screen.getByTestId('import-errors').textContent).toContain('名称必填');

    // the import of the good rows: a new id, partial mode, the bar again, then the summary
    progress = null;
    fireEvent.click(screen.getByTestId('import-partial'));
    await waitFor(() => expect(answers.length).toBe(2));
    const run = calls.filter((c) => c.startsWith('POST') && c.includes('/import?'))[1];
    const runId = new URL(run.slice(5), 'http://x').searchParams.get('progress')!;
    expect(runId).not.toBe(id);
    expect(run).toContain('mode=partial');
    expect(run).not.toContain('dry_run');
    progress = { rows: ROWS, rows_total: ROWS, created: ROWS - 1, merged: 0, pending: 0, failed: 1, bytes_read: 9000, bytes_total: 9000, done: false };
    await waitFor(() => expect(screen.getByTestId('import-progress-text').textContent).toBe('已处理 1,200 / 1,200 行'), { timeout: 5000 });
    answers[1](json({ rows: ROWS, created: ROWS - 1, merged: 0, pending: 0, failed: 1, errors: [{ field: 'rows[3].name', code: 'required', message: 'name is required (名称必填)' }] }, 207));
    expect((await screen.findByTestId('import-result')).textContent).toContain('新建 1199 条');
    expect(screen.getByTestId('import-errors').textContent).toContain('名称必填');
  });
});

describe('ImportProgressBar', () => {
  it('shows rows and bytes read when the server knows no row total, in English', async () => {
    await i18n.changeLanguage('en');
    vi.stubGlobal('fetch', vi.fn(async () => json({ rows: 5000, created: 5000, merged: 0, pending: 0, failed: 0, bytes_read: 1 << 20, bytes_total: 4 << 20, done: false })));
    wrap(<ImportProgressBar id="api-import-1" />);
    await waitFor(() => expect(screen.getByTestId('import-progress-text').textContent).toBe('5,000 rows, 1.0 MB of 4.0 MB read'));
    expect(screen.getByTestId('import-progress').querySelector('[role=progressbar]')?.getAttribute('aria-valuenow')).toBe('25');
  });
  it('polls while the import runs and stops when the server says done', async () => {
    await i18n.changeLanguage('en');
    vi.useFakeTimers({ shouldAdvanceTime: true });
    let done = false;
    const get = vi.fn(async () => json({ rows: done ? 10 : 4, rows_total: 10, created: 10, merged: 0, pending: 0, failed: 0, bytes_read: 100, done }));
    vi.stubGlobal('fetch', get);
    try {
      wrap(<ImportProgressBar id="api-import-2" />);
      await waitFor(() => expect(screen.getByTestId('import-progress-text').textContent).toBe('4 of 10 rows'));
      done = true;
      await vi.advanceTimersByTimeAsync(PROGRESS_POLL_MS);
      await waitFor(() => expect(screen.getByTestId('import-progress-text').textContent).toBe('10 of 10 rows'));
      const n = get.mock.calls.length;
      await vi.advanceTimersByTimeAsync(PROGRESS_POLL_MS * 10);
      expect(get.mock.calls.length).toBe(n); // no read after done
    } finally {
      vi.useRealTimers();
    }
  });
});
