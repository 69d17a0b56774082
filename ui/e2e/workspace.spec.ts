import { expect, test, type APIRequestContext, type Page } from '@playwright/test';
import { RUN, login, token, loginAs } from './helpers';

// The end users' workspace: a sales rep without design rights, and the admin assigning roles.
const APP = `ws${RUN}`;
const REP = { email: `rep-${RUN}@example.com`, password: 'rep-password-12345', name: '王小明' };

const account = {
  slug: 'account',
  label: { en: 'Account', 'zh-CN': '客户' },
  title_field: 'name',
  fields: [{ key: 'name', type: 'text', required: true, label: { en: 'Name', 'zh-CN': '名称' } }],
};
const deal = {
  slug: 'deal',
  label: { en: 'Deal', 'zh-CN': '商机' },
  title_field: 'name',
  fields: [
    { key: 'name', type: 'text', required: true, label: { en: 'Name', 'zh-CN': '名称' } },
    { key: 'account', type: 'relation', target: 'account', label: { en: 'Account', 'zh-CN': '客户' } },
    { key: 'amount', type: 'money', label: { en: 'Amount', 'zh-CN': '金额' } },
    { key: 'stage', type: 'select', options: [{ value: 'new', label: { en: 'New', 'zh-CN': '新建' } }, { value: 'proposal', label: { en: 'Proposal', 'zh-CN': '方案' } }, { value: 'won', label: { en: 'Won', 'zh-CN': '赢单' } }] },
  ],
  stages: { field: 'stage', order: ['new', 'proposal', 'won'] },
};

let seeded: { dealId: string } | null = null;

async function seed(request: APIRequestContext) {
  if (seeded) return seeded;
  const auth = { Authorization: `Bearer ${await token(request)}` };
  expect((await request.post('/api/v1/apps', { headers: auth, data: { slug: APP, name: `Workspace ${RUN}` } })).status()).toBe(201);
  for (const e of [account, deal]) {
    expect((await request.put(`/api/v1/apps/${APP}/entities/${e.slug}`, { headers: auth, data: e })).ok()).toBeTruthy();
    expect((await request.post(`/api/v1/apps/${APP}/entities/${e.slug}/publish`, { headers: auth })).ok()).toBeTruthy();
  }
  for (const role of ['rep', 'viewer']) {
    const r = await request.put('/api/v1/admin/roles', {
      headers: auth,
      data: {
        app: APP,
        name: role,
        permissions: [
          { resource: 'app', actions: ['read'], scope: 'all' },
          { resource: 'entity:account', actions: ['read', 'create', 'update'], scope: 'own' },
          { resource: 'entity:deal', actions: role === 'rep' ? ['read', 'create', 'update'] : ['read'], scope: 'own' },
        ],
      },
    });
    expect(r.ok()).toBeTruthy();
  }
  const u = await request.post('/api/v1/admin/users', { headers: auth, data: { email: REP.email, password: REP.password, name: REP.name } });
  expect(u.status()).toBe(201);
  const repId = (await u.json()).id as string;
  expect((await request.put(`/api/v1/admin/users/${repId}/roles`, { headers: auth, data: { roles: [{ app: APP, role: 'rep' }] } })).ok()).toBeTruthy();
  // The rep's own account and deal.
  const login = await request.post('/api/v1/auth/login', { data: { email: REP.email, password: REP.password } });
  const repAuth = { Authorization: `Bearer ${(await login.json()).token}` };
  const acc = await request.post(`/api/v1/apps/${APP}/entities/account/records`, { headers: repAuth, data: { name: '华为技术' } });
  expect(acc.status()).toBe(201);
  const d = await request.post(`/api/v1/apps/${APP}/entities/deal/records`, { headers: repAuth, data: { name: '华为 ERP', account: (await acc.json()).id, amount: 120000, stage: 'new' } });
  expect(d.status()).toBe(201);
  seeded = { dealId: (await d.json()).id };
  return seeded;
}

test('a rep sees no design controls, relation names, and drops a deal into an empty column', async ({ page, request }) => {
  const { dealId } = await seed(request);
  await loginAs(page, REP);

  // App home: the workspace without the builder's controls.
  await page.goto(`/apps/${APP}`);
  await expect(page.getByTestId('open-entities-deal')).toBeVisible();
  await expect(page.getByTestId('nav-entity-deal')).toBeVisible();
  await expect(page.getByTestId('new-entities')).toHaveCount(0);
  await expect(page.getByTestId('design-entities-deal')).toHaveCount(0);
  await expect(page.getByTestId('app-export')).toHaveCount(0);
  await page.screenshot({ path: 'test-results/workspace-rep-home-1440-zh.png', fullPage: true });

  // The designer route refuses the rep in their language.
  await page.goto(`/apps/${APP}/entities/deal/design`);
  await expect(page.getByTestId('design-refused')).toContainText('没有设计此应用的权限');

  // The deal list names the linked account and offers no design link.
  await page.goto(`/apps/${APP}/entities/deal`);
  const table = page.getByTestId('records-table');
  await expect(table.getByRole('link', { name: '华为技术' })).toBeVisible();
  await expect(table).toContainText(REP.name); // the owner column
  await expect(page.getByTestId('entity-design-link')).toHaveCount(0);
  await expect(page.getByTestId('record-new')).toBeVisible();
  await page.screenshot({ path: 'test-results/workspace-rep-list-1440-zh.png', fullPage: true });

  // Kanban: drop the card low in the empty "won" column's body (not on its header).
  await page.getByTestId('view-switch').getByText('阶段看板').click();
  const card = page.getByTestId(`kanban-card-${dealId}`);
  await expect(page.getByTestId('kanban-col-new').getByTestId('col-count')).toContainText('1');
  await expect(card.getByTestId('card-owner')).toContainText(REP.name);
  const target = page.getByTestId('kanban-body-won');
  await expect(target.locator('.kanban-card')).toHaveCount(0);
  const from = (await card.boundingBox())!;
  const to = (await target.boundingBox())!;
  await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
  await page.mouse.down();
  await page.mouse.move(from.x + from.width / 2 + 10, from.y + from.height / 2 + 10, { steps: 3 });
  await page.mouse.move(to.x + to.width / 2, to.y + to.height * 0.75, { steps: 12 });
  await page.mouse.up();
  await expect(page.getByTestId('kanban-col-won').getByTestId(`kanban-card-${dealId}`)).toBeVisible();
  await expect(page.getByTestId('kanban-col-won').getByTestId('col-total')).toContainText('120,000');
  await page.screenshot({ path: 'test-results/workspace-rep-kanban-1440-zh.png', fullPage: true });

  // One click opens the card; the timeline names who moved it, and the stage by its label.
  await page.getByTestId(`kanban-card-${dealId}`).click();
  await page.getByRole('tab', { name: '时间线' }).click();
  const timeline = page.getByTestId('record-timeline');
  await expect(timeline).toContainText(REP.name);
  await expect(timeline).toContainText('新建 → 赢单');
  await page.screenshot({ path: 'test-results/workspace-rep-timeline-1440-zh.png' });
});

test('a rep on a phone sees the deal list in English', async ({ page, request }) => {
  await seed(request);
  await loginAs(page, REP, 'en');
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`/apps/${APP}/entities/deal`);
  await expect(page.getByTestId('records-table').getByRole('link', { name: '华为技术' })).toBeVisible();
  await page.screenshot({ path: 'test-results/workspace-rep-list-390-en.png', fullPage: true });
  // a flow editor URL is a design route too: refused in English, and the app's pages stay reachable
  await page.goto(`/apps/${APP}/flows/anything/design`);
  await expect(page.getByTestId('design-refused')).toContainText('You may not design this app');
  await page.screenshot({ path: 'test-results/workspace-rep-403-390-en.png', fullPage: true });
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.goto(`/apps/${APP}/reports/x/design`);
  await expect(page.getByTestId('design-refused')).toContainText('You may not design this app');
  await expect(page.getByTestId('nav-entity-deal')).toBeVisible();
  await expect(page.getByTestId('nav-tasks')).toBeVisible();
  await page.screenshot({ path: 'test-results/workspace-rep-403-1440-en.png', fullPage: true });
});

test('the admin assigns a second role and the first one stays', async ({ page, request }) => {
  await seed(request);
  await login(page);
  await page.goto('/admin/users');
  // Other tests made many users: find the rep by searching (the list pages by 50).
  await page.getByTestId('users-search').locator('input').fill(REP.email);
  await page.getByTestId('users-search').locator('input').press('Enter');
  const roles = page.getByTestId(`user-roles-${REP.email}`);
  await expect(roles).toContainText('rep');
  await page.getByTestId(`user-assign-roles-${REP.email}`).click();
  const select = page.getByTestId('roles-select');
  // the dialog starts from the current role
  await expect(select).toContainText('rep');
  await select.click();
  // Every app's roles are offered (a long, virtualised list once other tests made apps): search
  // for the role by name, then pick this app's one by its label.
  await page.keyboard.type('viewer');
  await page.locator('.ant-select-item-option', { hasText: `Workspace ${RUN} · viewer` }).click();
  await page.locator('.ant-modal-title').click(); // closes the dropdown
  await page.getByTestId('roles-save').click();
  await expect(roles).toContainText('viewer');
  await expect(roles).toContainText('rep');
  await expect(roles).toContainText(`Workspace ${RUN}`); // the app's name, not its slug
  await page.screenshot({ path: 'test-results/workspace-admin-roles-1440-zh.png', fullPage: true });
  // The audit log tells who changed what, field by field, in labels.
  await page.goto('/admin/audit');
  const row = page.getByTestId('audit-table').locator('tr', { hasText: REP.name }).filter({ hasText: '分配角色' }).first();
  await row.click();
  const diff = page.locator('[data-testid^="audit-diff-"]').first();
  await expect(diff).toContainText('角色');
  await expect(diff).toContainText(`Workspace ${RUN} · viewer`);
  await expect(diff).toContainText('修改前');
  await page.screenshot({ path: 'test-results/workspace-admin-audit-1440-zh.png', fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: 'test-results/workspace-admin-audit-390-zh.png', fullPage: true });
  await page.getByText('English', { exact: true }).click();
  await expect(page.getByTestId('audit-table')).toContainText('Roles assigned');
  await page.screenshot({ path: 'test-results/workspace-admin-audit-390-en.png', fullPage: true });
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.getByTestId('audit-table').locator('tr', { hasText: 'Roles assigned' }).first().click();
  await expect(page.locator('[data-testid^="audit-diff-"]').first()).toContainText('Before');
  await page.screenshot({ path: 'test-results/workspace-admin-audit-1440-en.png', fullPage: true });
  await page.getByText('中文', { exact: true }).click();
  // and the server agrees
  const auth = { Authorization: `Bearer ${await token(request)}` };
  const list = await (await request.get('/api/v1/admin/users', { headers: auth, params: { q: REP.email } })).json();
  // The search matches substrings: other specs' users (lines-rep-…, rp-rep-…) contain this e-mail.
  const me = (list.items as { email: string; roles: { role: string }[] }[]).find((u) => u.email === REP.email);
  const names = me!.roles.map((r) => r.role).sort();
  expect(names).toEqual(['rep', 'viewer']);
});

test('the role editor names resources by their labels and starts at a sensible scope', async ({ page, request }) => {
  await seed(request);
  await login(page);
  await page.goto('/admin/roles');
  await page.getByTestId('roles-app').click();
  await page.keyboard.type(`Workspace ${RUN}`);
  await page.locator('.ant-select-item-option', { hasText: `Workspace ${RUN}` }).click();
  await page.getByTestId('role-new').click();
  await expect(page.getByTestId('resource-entity:deal')).toContainText('商机');
  await expect(page.getByTestId('scope-entity:deal')).toContainText('本人');
  await page.screenshot({ path: 'test-results/workspace-admin-role-editor-1440-zh.png', fullPage: true });
});
