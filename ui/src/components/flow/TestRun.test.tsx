import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { App as AntApp } from 'antd';
import type { ReactNode } from 'react';
import { MemoryRouter } from 'react-router';
import { describe, expect, it, vi } from 'vitest';
import type { TestSample } from '../../api/types';
import i18n from '../../i18n';
import { setupDom } from '../../testDom';
import { FlowContext, type FlowCtx } from './FlowContext';
import { RerunPanel } from './Rerun';
import { TestRunModal, samePinned, sampleOf } from './TestRun';

setupDom();

function json(body: unknown, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

const ctx: FlowCtx = {
  app: 'crm', entities: { contract: { slug: 'contract', fields: [{ key: 'name', type: 'text' }] } as never }, entityList: [], reports: [], flows: [], upstream: [],
};

function wrap(ui: ReactNode) {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={qc}>
      <AntApp>
        <MemoryRouter>
          <FlowContext.Provider value={ctx}>{ui}</FlowContext.Provider>
        </MemoryRouter>
      </AntApp>
    </QueryClientProvider>,
  );
}

type Call = { method: string; url: string; body?: unknown };

function stubFetch(calls: Call[], answer: (c: Call) => Response) {
  vi.stubGlobal('fetch', vi.fn(async (url: string, init?: RequestInit) => {
    const c = { method: init?.method ?? 'GET', url, body: init?.body ? JSON.parse(String(init.body)) : undefined };
    calls.push(c);
    return answer(c);
  }));
}

describe('pinned test samples', () => {
  it('says what a trigger pins and whether it is the pinned one', () => {
    expect(sampleOf('record.created', 'r1', '大合同')).toEqual({ record: 'r1', label: '大合同' });
    expect(sampleOf('stage.changed', undefined)).toBeNull();
    expect(sampleOf('form.submitted', 'r2')).toEqual({ record: 'r2', label: undefined });
    expect(sampleOf('webhook', undefined, undefined, { a: 1 })).toEqual({ body: { a: 1 } });
    expect(sampleOf('manual')).toEqual({ body: {} });
    expect(sampleOf('cron', 'r1')).toBeNull();
    expect(samePinned({ record: 'r1', label: 'x' }, { record: 'r1', label: 'y' })).toBe(true);
    expect(samePinned({ record: 'r1' }, { record: 'r2' })).toBe(false);
    expect(samePinned({ body: { a: 1 } }, { body: { a: 1 } })).toBe(true);
    expect(samePinned({ body: { a: 1 } }, { body: { a: 2 } })).toBe(false);
    expect(samePinned(null, { record: 'r1' })).toBe(false);
    expect(samePinned({ record: 'r1' }, null)).toBe(false);
  });

  it('preselects the pinned record by name, unpins it, and pins another record', async () => {
    await i18n.changeLanguage('en');
    const calls: Call[] = [];
    stubFetch(calls, (c) => (c.url.includes('/records') ? json({ items: [{ id: 'r2', data: { name: 'Small deal' } }] }) : json({})));
    let pinned: TestSample | null = { record: 'r1', label: 'Big deal' };
    const onPinned = vi.fn((s: TestSample | null) => { pinned = s; });
    const view = (p: TestSample | null) => (
      <TestRunModal open onClose={() => {}} slug="deal" trigger={{ type: 'record.created', entity: 'contract' }} entity="contract" mustPublish={false}
        publish={async () => true} onStarted={() => {}} pinned={p} onPinned={onPinned} />
    );
    const r = wrap(view(pinned));
    const dialog = await screen.findByRole('dialog');
    // the pinned record is chosen, shown by its name although the search does not list it
    expect(await within(dialog).findByText('Big deal')).toBeTruthy();
    expect(within(dialog).getByTestId('test-sample-pinned')).toBeTruthy();
    expect((within(dialog).getByTestId('flow-run-ok') as HTMLButtonElement).disabled).toBe(false);
    fireEvent.click(within(dialog).getByTestId('test-sample-unpin'));
    await waitFor(() => expect(onPinned).toHaveBeenCalledWith(null));
    expect(calls.find((c) => c.method === 'DELETE')?.url).toBe('/api/v1/apps/crm/flows/deal/test/sample');
    r.rerender(<QueryClientProvider client={new QueryClient()}><AntApp><MemoryRouter><FlowContext.Provider value={ctx}>{view(pinned)}</FlowContext.Provider></MemoryRouter></AntApp></QueryClientProvider>);
    await waitFor(() => expect(screen.queryByTestId('test-sample-pinned')).toBeNull());
    // choose another record by name and pin it
    fireEvent.mouseDown(within(screen.getByRole('dialog')).getByRole('combobox'));
    fireEvent.click(await screen.findByText('Small deal'));
    fireEvent.click(await screen.findByTestId('test-sample-pin'));
    await waitFor(() => expect(onPinned).toHaveBeenLastCalledWith({ record: 'r2', label: 'Small deal' }));
    const put = calls.find((c) => c.method === 'PUT')!;
    expect(put.url).toBe('/api/v1/apps/crm/flows/deal/test/sample');
    expect(put.body).toEqual({ record: 'r2', label: 'Small deal' });
  });

  it('preselects a pinned webhook body over the one remembered in the browser', async () => {
    await i18n.changeLanguage('zh-CN');
    localStorage.setItem('tessera.flowSample.crm.hook', JSON.stringify({ old: true }));
    stubFetch([], () => json({}));
    wrap(<TestRunModal open onClose={() => {}} slug="hook" trigger={{ type: 'webhook', key: 'k' }} mustPublish={false} publish={async () => true}
      onStarted={() => {}} pinned={{ body: { amount: 5 } }} onPinned={() => {}} />);
    const dialog = await screen.findByRole('dialog');
    expect((within(dialog).getByRole('textbox') as HTMLTextAreaElement).value).toContain('"amount": 5');
    expect(within(dialog).getByTestId('test-sample-pinned').textContent).toContain('已固定的样本');
    expect(within(dialog).getByTestId('test-sample-unpin').textContent).toContain('取消固定');
  });
});

describe('run from this node', () => {
  it('saves first, re-runs the node on the run and shows the new output', async () => {
    await i18n.changeLanguage('en');
    const calls: Call[] = [];
    stubFetch(calls, () => json({ run_id: 'new1', rerun_of: 'run1', node: 'calc', status: 'succeeded', input: { values: { note: 'x' } }, output: { note: 'Big deal checked' }, test: true }));
    const order: string[] = [];
    const onResult = vi.fn();
    wrap(<RerunPanel app="crm" slug="deal" runId="run1" node="calc" waits={false} beforeRun={async () => { order.push('save'); return true; }}
      onResult={(r) => { order.push('result'); onResult(r); }} />);
    fireEvent.click(screen.getByTestId('node-rerun'));
    await waitFor(() => expect(onResult).toHaveBeenCalled());
    expect(order).toEqual(['save', 'result']);
    expect(calls[0]).toEqual({ method: 'POST', url: '/api/v1/apps/crm/flows/deal/test/step', body: { run_id: 'run1', node: 'calc' } });
    expect(onResult.mock.calls[0][0].output).toEqual({ note: 'Big deal checked' });
  });

  it('shows a result with its state, and refuses nodes that wait', async () => {
    await i18n.changeLanguage('zh-CN');
    stubFetch([], () => json({}));
    wrap(<RerunPanel app="crm" slug="deal" runId="run1" node="ok" waits beforeRun={async () => true} onResult={() => {}}
      result={{ run_id: 'n2', node: 'ok', status: 'failed', error: 'boom', output: null }} />);
    expect((screen.getByTestId('node-rerun') as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByTestId('node-rerun').textContent).toContain('从此节点运行');
    expect(screen.getByTestId('node-rerun-result').getAttribute('data-status')).toBe('failed');
    expect(screen.getByText('boom')).toBeTruthy();
  });

  it('stops when saving the draft fails, and shows a refusal', async () => {
    await i18n.changeLanguage('en');
    const calls: Call[] = [];
    stubFetch(calls, () => json({ title: 'Unprocessable', status: 422, errors: [{ field: 'node', code: 'not_run', message: 'node calc did not run' }] }, 422));
    const { rerender } = wrap(<RerunPanel app="crm" slug="deal" runId="run1" node="calc" waits={false} beforeRun={async () => false} onResult={() => {}} />);
    fireEvent.click(screen.getByTestId('node-rerun'));
    await waitFor(() => expect((screen.getByTestId('node-rerun') as HTMLButtonElement).querySelector('.ant-btn-loading-icon')).toBeNull());
    expect(calls).toHaveLength(0);
    rerender(<QueryClientProvider client={new QueryClient()}><AntApp><MemoryRouter><RerunPanel app="crm" slug="deal" runId="run1" node="calc" waits={false} beforeRun={async () => true} onResult={() => {}} /></MemoryRouter></AntApp></QueryClientProvider>);
    fireEvent.click(screen.getByTestId('node-rerun'));
    expect((await screen.findByTestId('node-rerun-error')).textContent).toContain('node calc did not run');
  });
});
