import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import i18n from '../../i18n';
import { setupDom } from '../../testDom';
import { AuditEntryDiff } from './Audit';
import { auditDiff, type DiffText } from './auditDiff';

setupDom();

const text = (lang: string): DiffText => ({
  t: (k, o) => i18n.getFixedT(lang)(k, o ?? {}) as string,
  lang,
  resource: (r) => ({ 'entity:product': '产品', 'entity:deal': '商机' })[r] ?? r,
  entity: (s) => ({ deal: '商机' })[s] ?? s,
  field: (e, k) => (e === 'deal' && k === 'cost' ? '成本' : k),
  name: (id) => (id === '11111111-1111-1111-1111-111111111111' ? '华东销售部' : undefined),
});

describe('auditDiff', () => {
  it.each([
    {
      name: 'a user change lists only the changed fields, labelled, with names for ids',
      before: { id: 'u', email: 'a@x.cn', name: '王小明', team_id: null, is_admin: false, updated_at: '1' },
      after: { id: 'u', email: 'a@x.cn', name: '王晓明', team_id: '11111111-1111-1111-1111-111111111111', is_admin: true, updated_at: '2' },
      lang: 'zh-CN',
      want: [
        ['名称', '王小明', '王晓明', 'changed'],
        ['团队', '—', '华东销售部', 'changed'],
        ['平台管理员', '否', '是', 'changed'],
      ],
    },
    {
      name: 'roles read as app name and role',
      before: { roles: [{ app: 'crm', app_name: 'CRM', role: 'rep' }] },
      after: { roles: [{ app: 'crm', app_name: 'CRM', role: 'rep' }, { app: 'crm', app_name: 'CRM', role: 'viewer' }] },
      lang: 'en',
      want: [['Roles', 'CRM · rep', 'CRM · rep, CRM · viewer', 'changed']],
    },
    {
      name: 'role permissions one line per resource, field rules with entity and field labels',
      before: { app: 'crm', name: 'rep', permissions: [{ resource: 'entity:deal', actions: ['read'], scope: 'own' }] },
      after: {
        app: 'crm', name: 'rep',
        permissions: [{ resource: 'entity:deal', actions: ['read', 'update'], scope: 'own' }, { resource: 'entity:product', actions: ['read'], scope: 'all' }],
        fields: { deal: { hidden: ['cost'] } },
      },
      lang: 'zh-CN',
      want: [
        ['权限 › 商机', '查看 · 本人', '查看, 修改 · 本人', 'changed'],
        ['权限 › 产品', '—', '查看 · 全部', 'added'],
        ['商机 › 隐藏字段', '—', '成本', 'added'],
      ],
    },
    {
      name: 'a deleted team shows what was removed',
      before: { name: 'B2', parent_id: null },
      after: null,
      lang: 'en',
      want: [['Name', 'B2', '—', 'removed'], ['Parent team', '—', '—', 'removed']],
    },
    {
      name: 'scalar before and after (a publish)',
      before: { version: 1 },
      after: { version: 2 },
      lang: 'en',
      want: [['Version', '1', '2', 'changed']],
    },
  ])('$name', ({ before, after, lang, want }) => {
    const rows = auditDiff(before, after, text(lang)).map((r) => [r.label, r.before, r.after, r.kind]);
    expect(rows).toEqual(want);
  });
});

describe('AuditEntryDiff', () => {
  it('renders the diff as a labelled before/after grid', async () => {
    await i18n.changeLanguage('en');
    vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify({ items: [] }), { status: 200, headers: { 'Content-Type': 'application/json' } })));
    const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    render(
      <QueryClientProvider client={qc}>
        <AuditEntryDiff entry={{ id: 7, at: '2026-12-01T00:00:00Z', action: 'user.update', target: 'user:x', before: { name: 'Old', disabled: false }, after: { name: 'New', disabled: true } }} />
      </QueryClientProvider>,
    );
    await waitFor(() => expect(screen.getByTestId('audit-diff-7')).toBeTruthy());
    const grid = screen.getByTestId('audit-diff-7');
    expect(grid.textContent).toContain('Before');
    expect(grid.textContent).toContain('After');
    const rows = screen.getAllByTestId('audit-diff-row').map((r) => r.textContent);
    expect(rows).toEqual(['NameOldNew', 'DisabledNoYes']);
    vi.unstubAllGlobals();
  });
});
