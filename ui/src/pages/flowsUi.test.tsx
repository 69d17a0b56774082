import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { App as AntApp } from 'antd';
import type { ReactNode } from 'react';
import { MemoryRouter, Route, Routes } from 'react-router';
import { describe, expect, it, vi } from 'vitest';
import SchemaForm from '../components/SchemaForm';
import i18n from '../i18n';
import { paramsToSchema } from '../lib/catalog';
import { RunDetail } from './Runs';
import Tasks from './Tasks';
import { setupDom } from '../testDom';

setupDom();

function json(body: unknown, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

function wrap(ui: ReactNode, path = '/') {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={qc}>
      <AntApp>
        <MemoryRouter initialEntries={[path]}>{ui}</MemoryRouter>
      </AntApp>
    </QueryClientProvider>,
  );
}

describe('Tasks', () => {
  const task = { id: 't1', kind: 'approval', title: '合同审批', status: 'open', app: 'sales', entity: 'contract', record_id: 'r9', run_id: 'run1' };

  /** Renders the page as on a desktop screen (the table with row actions, not the phone cards). */
  function wide() {
    vi.stubGlobal('matchMedia', (query: string) => ({ matches: /min-width/.test(query), media: query, onchange: null, addEventListener: () => {}, removeEventListener: () => {}, addListener: () => {}, removeListener: () => {}, dispatchEvent: () => false }));
  }

  it('delegates a task to a colleague picked by name from the app people, with a comment', async () => {
    await i18n.changeLanguage('en');
    wide();
    const calls: { method: string; url: string; body?: unknown }[] = [];
    vi.stubGlobal('fetch', vi.fn(async (url: string, init?: RequestInit) => {
      calls.push({ method: init?.method ?? 'GET', url, body: init?.body ? JSON.parse(String(init.body)) : undefined });
      if (url.includes('/apps/sales/people')) return json({ items: [{ id: 'u2', name: 'Bob', team_name: 'East' }] });
      if (url.includes('/delegate')) return json({ ...task, assignee_id: 'u2' });
      return json({ items: [task] });
    }));
    wrap(<Tasks />);
    const btn = await screen.findByTestId('task-delegate-t1');
    // the record link opens the record itself
    expect(screen.getByText('Record').closest('a')?.getAttribute('href')).toBe('/apps/sales/entities/contract?record=r9');
    fireEvent.click(btn);
    const dialog = await screen.findByRole('dialog');
    const select = await within(dialog).findByRole('combobox');
    fireEvent.mouseDown(select);
    fireEvent.click(await screen.findByText('Bob · East'));
    fireEvent.change(screen.getByTestId('task-delegate-comment'), { target: { value: 'please' } });
    fireEvent.click(screen.getByTestId('task-delegate-confirm'));
    await waitFor(() => expect(calls.find((c) => c.url.includes('/delegate'))).toBeTruthy());
    const d = calls.find((c) => c.url.includes('/delegate'))!;
    expect(d.method).toBe('POST');
    expect(d.url).toBe('/api/v1/tasks/t1/delegate');
    expect(d.body).toEqual({ user_id: 'u2', comment: 'please' });
  });

  it('links a task card to its run and record on a phone', async () => {
    await i18n.changeLanguage('en');
    vi.stubGlobal('fetch', vi.fn(async () => json({ items: [task] })));
    wrap(<Tasks />);
    const card = await screen.findByTestId('task-card-t1');
    expect(within(card).getByTestId('task-card-run-t1').getAttribute('href')).toBe('/runs/run1');
    expect(within(card).getByTestId('task-card-run-t1').textContent).toBe('Run');
    expect(within(card).getByTestId('task-card-record-t1').getAttribute('href')).toBe('/apps/sales/entities/contract?record=r9');
    await i18n.changeLanguage('zh-CN');
    expect((await within(card).findByTestId('task-card-run-t1')).textContent).toBe('运行');
  });

  it('falls back to an email (or a user ID) for a task outside an app when the caller may not list users', async () => {
    await i18n.changeLanguage('zh-CN');
    wide();
    const bare = { ...task, app: undefined, entity: undefined, record_id: undefined };
    const calls: string[] = [];
    vi.stubGlobal('fetch', vi.fn(async (url: string, init?: RequestInit) => {
      calls.push(`${init?.method ?? 'GET'} ${url} ${init?.body ?? ''}`);
      if (url.includes('/admin/users')) return json({ title: 'Forbidden', status: 403 }, 403);
      if (url.includes('/delegate')) return json(bare);
      return json({ items: [bare] });
    }));
    wrap(<Tasks />);
    fireEvent.click(await screen.findByTestId('task-delegate-t1'));
    expect(await screen.findByText('转交给')).toBeTruthy();
    const input = await screen.findByPlaceholderText('name@example.com');
    fireEvent.change(input, { target: { value: ' bob@example.com ' } });
    fireEvent.click(screen.getByTestId('task-delegate-confirm'));
    await waitFor(() => expect(calls.some((c) => c.startsWith('POST /api/v1/tasks/t1/delegate') && c.includes('"email":"bob@example.com"'))).toBe(true));
  });
});

describe('RunDetail', () => {
  it('shows the trigger data, each step input, the port taken and a retry for a failed run', async () => {
    await i18n.changeLanguage('en');
    const run = {
      id: 'run1', flow: 'qa1', flow_version: 1, status: 'failed', error: 'node s: Error: boom 9',
      trigger: { type: 'manual', input: { n: 9 } },
      steps: [
        { node: 'c', name: 'Big deal?', type: 'condition', status: 'succeeded', input: { expr: 'trigger.input.n > 1' }, output: { result: true }, port: 'true', attempt: 1, duration_ms: 3 },
        { node: 's', status: 'failed', input: null, output: null, error: 'Error: boom 9', attempt: 1 },
      ],
    };
    vi.stubGlobal('fetch', vi.fn(async () => json(run)));
    wrap(<Routes><Route path="/runs/:id" element={<RunDetail />} /></Routes>, '/runs/run1');
    expect(await screen.findByTestId('run-retry')).toBeTruthy();
    // labelled tables, not JSON: the trigger's input, the step's input, the node's name and type
    expect(screen.getByTestId('run-trigger').textContent).toMatch(/input.*n.*9/);
    expect(screen.getByTestId('run-trigger').textContent).not.toContain('{');
    expect(screen.getByTestId('run-step-input-c').textContent).toContain('trigger.input.n > 1');
    expect(screen.getByTestId('run-step-output-c').textContent).toContain('Yes');
    expect(screen.getByTestId('run-step-name-c').textContent).toBe('Big deal?');
    expect(screen.getByTestId('run-step-name-s').textContent).toBe('s');
    expect(screen.queryByTestId('run-step-input-s')).toBeNull();
    expect(screen.getByTestId('run-step-port').textContent).toBe('Port: true');
    expect(screen.getByTestId('run-steps').textContent).toContain('Error: boom 9');
  });

  it('shows how long the run waited for a worker', async () => {
    await i18n.changeLanguage('zh-CN');
    const run = { id: 'run2', flow: 'qa1', flow_version: 1, status: 'succeeded', queued_at: '2026-01-01T00:00:00Z', queued_ms: 1530, steps: [] };
    vi.stubGlobal('fetch', vi.fn(async () => json(run)));
    wrap(<Routes><Route path="/runs/:id" element={<RunDetail />} /></Routes>, '/runs/run2');
    expect((await screen.findByTestId('run-queued')).textContent).toBe('1.5 s');
    expect(screen.getByText('排队等待')).toBeTruthy();
  });

  it('says which run a node re-run took its input from', async () => {
    await i18n.changeLanguage('en');
    const run = { id: 'run3', flow: 'qa1', flow_version: 1, status: 'succeeded', test: true, rerun_of: 'run1', rerun_node: 'calc', steps: [{ node: 'calc', name: 'Compute', type: 'script', status: 'succeeded' }] };
    vi.stubGlobal('fetch', vi.fn(async () => json(run)));
    wrap(<Routes><Route path="/runs/:id" element={<RunDetail />} /></Routes>, '/runs/run3');
    const el = await screen.findByTestId('run-rerun-of');
    expect(el.textContent).toBe('Node Compute · calc run again on the input of an earlier run');
    expect(el.querySelector('a')?.getAttribute('href')).toBe('/runs/run1');
  });
});

describe('SchemaForm', () => {
  const schema = paramsToSchema([
    { key: 'report', type: 'string', required: true },
    { key: 'period', type: 'string', enum: ['last_week', 'this_month'] },
    { key: 'escalate_to', type: 'template' },
  ]);

  it('labels catalog params in the UI language and shows publish errors next to the param', async () => {
    await i18n.changeLanguage('zh-CN');
    wrap(<SchemaForm schema={schema} value={{ report: 'weekly-leads', period: 'bad' }} onChange={() => {}} errors={{ period: 'period must be one of today, …' }} />);
    expect(screen.getByText('报表')).toBeTruthy();
    expect(screen.getByText('超时升级给')).toBeTruthy();
    cleanup();
    // a node's own label wins: a report's "to" is its end date, a notify's its recipients
    const dates = paramsToSchema([{ key: 'to', type: 'template' }]);
    wrap(<SchemaForm schema={dates} value={{}} onChange={() => {}} nodeType="report" />);
    expect(screen.getByText('结束日期')).toBeTruthy();
    cleanup();
    wrap(<SchemaForm schema={dates} value={{}} onChange={() => {}} nodeType="notify" />);
    expect(screen.getByText('接收人')).toBeTruthy();
    cleanup();
    wrap(<SchemaForm schema={schema} value={{ report: 'weekly-leads', period: 'bad' }} onChange={() => {}} errors={{ period: 'period must be one of today, …' }} />);
    expect(screen.getByTestId('param-period').textContent).toContain('period must be one of');
    const item = screen.getByTestId('param-period');
    expect(item.outerHTML).toMatch(/ant-form-item(-explain)?-(has-)?error/);
    await i18n.changeLanguage('en');
  });

  it('suggests choices for a string param and keeps free text', async () => {
    await i18n.changeLanguage('en');
    let v: Record<string, unknown> = {};
    wrap(<SchemaForm schema={schema} value={{}} onChange={(x) => (v = x)} choices={{ report: ['weekly-leads', 'weekly-deals'] }} />);
    const input = screen.getByTestId('param-report').querySelector('input')!;
    fireEvent.change(input, { target: { value: 'weekly' } });
    expect(v).toEqual({ report: 'weekly' });
    expect((await screen.findAllByText('weekly-deals')).length).toBeGreaterThan(0);
  });
});
