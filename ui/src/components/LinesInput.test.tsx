import { App } from 'antd';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import i18n from '../i18n';
import RecordDrawer from './RecordDrawer';
import type { EntityDef, RecordItem } from '../api/types';
import { setupDom } from '../testDom';

setupDom();

const entity = {
  slug: 'quote',
  fields: [
    { key: 'items', type: 'lines', fields: [
      { key: 'product', type: 'relation', target: 'product', fill: { unit_price: 'price' } },
      { key: 'quantity', type: 'number', default: 1 },
      { key: 'unit_price', type: 'money' },
      { key: 'line_total', type: 'formula', formula: '(line.quantity ?? 0) * (line.unit_price ?? 0)' },
    ] },
    { key: 'subtotal', type: 'formula', formula: 'sum(record.items ?? [], .line_total ?? 0)' },
  ],
} as unknown as EntityDef;
const record = { id: 'q1', version: 2, owner_id: 'u1', display: { p1: 'Widget' },
  data: { items: [{ id: 'l1', product: 'p1', quantity: 2, unit_price: 10, line_total: 20 }], subtotal: 20 } } as unknown as RecordItem;

describe('line items in the record drawer', () => {
  it('previews the totals live as rows are added and edited', async () => {
    await i18n.changeLanguage('en');
    vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify({ items: [] }), { status: 200, headers: { 'Content-Type': 'application/json' } })));
    const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    render(
      <QueryClientProvider client={qc}>
        <App>
          <RecordDrawer app="sales" entity={entity} record={record} open onClose={() => {}} />
        </App>
      </QueryClientProvider>,
    );
    await waitFor(() => expect(screen.getByTestId('lines-total-subtotal').textContent).toBe('20'));
    fireEvent.click(screen.getByTestId('lines-add-items'));
    await waitFor(() => expect(screen.getAllByTestId('lines-row')).toHaveLength(2));
    const qty = screen.getAllByTestId('lines-cell-quantity')[1].querySelector('input')!;
    const price = screen.getAllByTestId('lines-cell-unit_price')[1].querySelector('input')!;
    fireEvent.change(qty, { target: { value: '3' } });
    fireEvent.change(price, { target: { value: '5' } });
    await waitFor(() => expect(screen.getByTestId('lines-total-subtotal').textContent).toBe('35'));
    fireEvent.click(screen.getAllByTestId('lines-remove')[0]);
    await waitFor(() => expect(screen.getByTestId('lines-total-subtotal').textContent).toBe('15'));
  });
});

describe('a product picked in one row while another row is edited', () => {
  it('keeps both: the fill after the fetch starts from the latest rows', async () => {
    await i18n.changeLanguage('en');
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => { release = r; });
    vi.stubGlobal('fetch', vi.fn(async (url: string) => {
      const ok = (b: unknown) => new Response(JSON.stringify(b), { status: 200, headers: { 'Content-Type': 'application/json' } });
      if (/\/records\/p2(\?|$)/.test(String(url))) {
        await gate; // the product's record arrives only when the test says so
        return ok({ id: 'p2', data: { name: 'Service', price: 50 } });
      }
      return ok({ items: [{ id: 'p2', data: { name: 'Service', price: 50 } }] });
    }));
    const two = { ...record, data: { items: [{ id: 'l1', product: 'p1', quantity: 2, unit_price: 10, line_total: 20 }, { id: 'l2', quantity: 1 }], subtotal: 20 } } as unknown as RecordItem;
    const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    render(
      <QueryClientProvider client={qc}>
        <App>
          <RecordDrawer app="sales" entity={entity} record={two} open onClose={() => {}} />
        </App>
      </QueryClientProvider>,
    );
    await waitFor(() => expect(screen.getAllByTestId('lines-row')).toHaveLength(2));
    // pick the product of row 2 (its record is fetched for the fill)…
    const sel = screen.getAllByTestId('lines-cell-product')[1].querySelector('.ant-select')!;
    fireEvent.mouseDown(sel.querySelector('.ant-select-selector') ?? sel);
    const option = await waitFor(() => {
      const o = document.querySelector('.ant-select-dropdown .ant-select-item-option[title="Service"], .ant-select-dropdown .ant-select-item-option');
      if (!o) throw new Error('no option yet');
      return o as HTMLElement;
    });
    fireEvent.click(option);
    // …and while that fetch is pending, change row 1's quantity
    fireEvent.change(screen.getAllByTestId('lines-cell-quantity')[0].querySelector('input')!, { target: { value: '3' } });
    await waitFor(() => expect(screen.getByTestId('lines-total-subtotal').textContent).toBe('30'));
    release();
    // row 2 got the product's price and row 1 kept its new quantity: 3 × 10 + 1 × 50
    await waitFor(() => expect(screen.getByTestId('lines-total-subtotal').textContent).toBe('80'));
  });
});
