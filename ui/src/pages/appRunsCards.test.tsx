import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { cleanup, render, screen, within } from '@testing-library/react';
import { App as AntApp } from 'antd';
import { MemoryRouter, Route, Routes } from 'react-router';
import { afterEach, describe, expect, it, vi } from 'vitest';
import i18n from '../i18n';
import { AppRuns } from './Runs';
import { setupDom } from '../testDom';

setupDom();
afterEach(() => { cleanup(); vi.unstubAllGlobals(); });

const run = {
  id: 'run7', app: 'sales', flow: 'big-order', flow_label: { 'zh-CN': '大单通知', en: 'Big order' }, status: 'succeeded',
  started_at: '2026-01-02T03:04:05Z', trigger: { type: 'record.created' },
  started_by: { type: 'created', record_title: '大单 42', user_name: 'Administrator' },
};

function show() {
  vi.stubGlobal('fetch', vi.fn(async (url: string) => {
    const body = String(url).includes('/runs') ? { items: [run] } : { slug: 'sales', name: 'Sales' };
    return new Response(JSON.stringify(body), { status: 200, headers: { 'Content-Type': 'application/json' } });
  }));
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={qc}>
      <AntApp>
        <MemoryRouter initialEntries={['/apps/sales/runs']}><Routes><Route path="/apps/:app/runs" element={<AppRuns />} /></Routes></MemoryRouter>
      </AntApp>
    </QueryClientProvider>,
  );
}

describe('AppRuns on a phone', () => {
  it.each([
    ['en', 'Big order', 'Open on the canvas', 'Succeeded'],
    ['zh-CN', '大单通知', '在画布上查看', '成功'],
  ])('renders each run as a card (%s): time, flow, status, trigger in words, canvas link', async (lang, flow, open, status) => {
    await i18n.changeLanguage(lang);
    show();
    const card = await screen.findByTestId('app-run-card-run7');
    expect(screen.queryByTestId('app-runs-table')).toBeNull();
    expect(within(card).getByTestId('run-link').getAttribute('href')).toBe('/runs/run7');
    expect(within(card).getByTestId('run-link').textContent).toMatch(/^2026-01-0\d \d\d:04:05$/);
    expect(within(card).getByTestId('run-flow').textContent).toBe(flow);
    expect(within(card).getByTestId('run-status').textContent).toBe(status);
    const by = within(card).getByTestId('run-started-by').textContent ?? '';
    expect(by).toContain('大单 42');
    expect(by).toContain('Administrator');
    expect(by).toContain(i18n.t('triggers.record.created'));
    const canvas = within(card).getByTestId('run-canvas-link');
    expect(canvas.textContent).toBe(open);
    expect(canvas.getAttribute('href')).toBe('/apps/sales/flows/big-order/design?run=run7');
  });
});
