import { App } from 'antd';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import i18n from '../i18n';
import RecordDrawer from './RecordDrawer';
import { personOptions } from './PersonSelect';
import type { EntityDef, RecordItem } from '../api/types';
import { setupDom } from '../testDom';

setupDom();

function json(body: unknown) {
  return new Response(JSON.stringify(body), { status: 200, headers: { 'Content-Type': 'application/json' } });
}

const entity = { slug: 'lead', fields: [{ key: 'name', type: 'text' }, { key: 'rep', type: 'user' }] } as unknown as EntityDef;
const record = { id: 'r1', data: { name: '王五', rep: 'u1' }, version: 3, owner_id: 'u1' } as unknown as RecordItem;
const people = { items: [{ id: 'u1', name: '张三', team_name: '华东' }, { id: 'u2', name: '李四', team_name: null }] };

describe('personOptions', () => {
  it('labels people with their team and keeps an unknown selected id', () => {
    expect(personOptions(people.items, ['u9'])).toEqual([
      { value: 'u1', label: '张三 · 华东' },
      { value: 'u2', label: '李四' },
      { value: 'u9', label: 'u9' },
    ]);
  });
});

describe('RecordDrawer', () => {
  it('shows the owner and user fields by name and hands the record over', async () => {
    await i18n.changeLanguage('zh-CN');
    const calls: string[] = [];
    vi.stubGlobal('fetch', vi.fn(async (url: string, init?: RequestInit) => {
      calls.push(`${init?.method ?? 'GET'} ${url} ${init?.body ?? ''}`);
      if (url.includes('/people')) return json(people);
      if (url.endsWith('/owner')) return json({ ...record, owner_id: 'u2', version: 4 });
      return json({ items: [] });
    }));
    const onClose = vi.fn();
    const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    render(
      <QueryClientProvider client={qc}>
        <App>
          <RecordDrawer app="sales" entity={entity} record={record} open onClose={onClose} />
        </App>
      </QueryClientProvider>,
    );
    const owner = await screen.findByTestId('record-owner');
    await waitFor(() => expect(owner.textContent).toContain('张三 · 华东'));
    expect(screen.getByText('负责人')).toBeTruthy();
    const handOver = screen.getByTestId('record-hand-over');
    expect((handOver as HTMLButtonElement).disabled).toBe(true); // unchanged owner
    fireEvent.mouseDown(owner.querySelector('.ant-select-selector') ?? owner);
    fireEvent.click(await screen.findByTitle('李四'));
    await waitFor(() => expect((screen.getByTestId('record-hand-over') as HTMLButtonElement).disabled).toBe(false));
    fireEvent.click(screen.getByTestId('record-hand-over'));
    await waitFor(() => expect(calls).toContain('PUT /api/v1/apps/sales/entities/lead/records/r1/owner {"owner_id":"u2"}'));
    await waitFor(() => expect(onClose).toHaveBeenCalled());
  });
});

describe('RecordDrawer pending submissions', () => {
  it('lists a submission that matched the record and accepts it', async () => {
    await i18n.changeLanguage('zh-CN');
    const calls: string[] = [];
    vi.stubGlobal('fetch', vi.fn(async (url: string, init?: RequestInit) => {
      calls.push(`${init?.method ?? 'GET'} ${url}`);
      if (url.includes('/people')) return json(people);
      if (url.endsWith('/intake')) {
        return json({ items: [{ id: 's1', status: 'pending', source: 'form:web-lead', values: { name: '王老五' }, changes: { name: ['王五', '王老五'] }, created_at: '2026-12-05T10:00:00Z' }] });
      }
      if (url.endsWith('/intake/s1/accept')) return json({ ...record, data: { name: '王老五' }, version: 4 });
      return json({ items: [] });
    }));
    const onClose = vi.fn();
    const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    render(
      <QueryClientProvider client={qc}>
        <App>
          <RecordDrawer app="sales" entity={entity} record={record} open onClose={onClose} />
        </App>
      </QueryClientProvider>,
    );
    const item = await screen.findByTestId('intake-item');
    expect(item.textContent).toContain('有新提交与此记录重复');
    expect(item.textContent).toContain('name: 王五 → 王老五');
    fireEvent.click(screen.getByTestId('intake-accept'));
    await waitFor(() => expect(calls).toContain('POST /api/v1/apps/sales/entities/lead/records/r1/intake/s1/accept'));
    await waitFor(() => expect(onClose).toHaveBeenCalled());
  }, 30000);
});

describe('RecordDrawer while the user types', () => {
  it('keeps what was typed when the definition or the row is refetched (new objects, same record)', async () => {
    await i18n.changeLanguage('en');
    vi.stubGlobal('fetch', vi.fn(async () => json({ items: [] })));
    const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    const ui = (ent: EntityDef, rec: RecordItem | null) => (
      <QueryClientProvider client={qc}>
        <App>
          <RecordDrawer app="sales" entity={ent} record={rec} open onClose={() => {}} />
        </App>
      </QueryClientProvider>
    );
    const { rerender } = render(ui(entity, null));
    const input = (await screen.findByTestId('input-name')) as HTMLInputElement;
    fireEvent.change(input, { target: { value: '新线索' } });
    rerender(ui({ ...entity, fields: [...entity.fields] } as EntityDef, null)); // the entity's query answered again
    await waitFor(() => expect((screen.getByTestId('input-name') as HTMLInputElement).value).toBe('新线索'));
    // another record: the form is filled from it
    rerender(ui(entity, record));
    await waitFor(() => expect((screen.getByTestId('input-name') as HTMLInputElement).value).toBe('王五'));
  });
});
