import { expect, test, type APIRequestContext, type Page } from '@playwright/test';
import { RUN, clickSettled, token, loginAs } from './helpers';

// Record lists as a sales rep: columns and a saved view, inline edit with the server's error in
// the cell, bulk owner assignment, the CSV import wizard in partial mode, export of the view.
const APP = `ls${RUN}`;
const REP = { email: `lrep-${RUN}@example.com`, password: 'rep-password-12345', name: '陈一' };
const MATE = { email: `lmate-${RUN}@example.com`, password: 'rep-password-12345', name: '周二' };

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
    { key: 'stage', type: 'select', label: { en: 'Stage', 'zh-CN': '阶段' }, options: [{ value: 'new', label: { en: 'New', 'zh-CN': '新建' } }, { value: 'won', label: { en: 'Won', 'zh-CN': '赢单' } }] },
  ],
};

async function seed(request: APIRequestContext) {
  const auth = { Authorization: `Bearer ${await token(request)}` };
  expect((await request.post('/api/v1/apps', { headers: auth, data: { slug: APP, name: `Lists ${RUN}` } })).status()).toBe(201);
  for (const e of [account, deal]) {
    expect((await request.put(`/api/v1/apps/${APP}/entities/${e.slug}`, { headers: auth, data: e })).ok()).toBeTruthy();
    expect((await request.post(`/api/v1/apps/${APP}/entities/${e.slug}/publish`, { headers: auth })).ok()).toBeTruthy();
  }
  const role = await request.put('/api/v1/admin/roles', {
    headers: auth,
    data: {
      app: APP,
      name: 'rep',
      permissions: [
        { resource: 'app', actions: ['read'], scope: 'all' },
        { resource: 'entity:account', actions: ['read', 'create'], scope: 'all' },
        { resource: 'entity:deal', actions: ['read', 'create', 'update', 'export'], scope: 'all' },
      ],
    },
  });
  expect(role.ok()).toBeTruthy();
  for (const u of [REP, MATE]) {
    const r = await request.post('/api/v1/admin/users', { headers: auth, data: { email: u.email, password: u.password, name: u.name } });
    expect(r.status()).toBe(201);
    expect((await request.put(`/api/v1/admin/users/${(await r.json()).id}/roles`, { headers: auth, data: { roles: [{ app: APP, role: 'rep' }] } })).ok()).toBeTruthy();
  }
  const login = await request.post('/api/v1/auth/login', { data: { email: REP.email, password: REP.password } });
  const repAuth = { Authorization: `Bearer ${(await login.json()).token}` };
  const acc = await request.post(`/api/v1/apps/${APP}/entities/account/records`, { headers: repAuth, data: { name: '宁德时代' } });
  for (const [name, amount] of [['储能一期', 300000], ['储能二期', 200000], ['电池检测', 50000]] as const) {
    const d = await request.post(`/api/v1/apps/${APP}/entities/deal/records`, { headers: repAuth, data: { name, amount, stage: 'new', account: (await acc.json()).id } });
    expect(d.status()).toBe(201);
  }
}

const headers = (page: Page) => page.getByTestId('records-table').locator('thead th').allInnerTexts();
const row = (page: Page, name: string) => page.getByTestId('records-table').locator('tbody tr', { hasText: name });

test('a rep saves a view, edits in place, assigns owners in bulk and imports a CSV in partial mode', async ({ page, request }) => {
  test.setTimeout(240_000);
  await seed(request);
  await loginAs(page, REP, 'zh-CN');
  await page.goto(`/apps/${APP}/entities/deal`);
  await expect(row(page, '储能一期')).toBeVisible();
  await expect(row(page, '储能一期')).toContainText('宁德时代');

  // Columns: hide the amount, show the creation time, drag the stage before the account.
  await page.getByTestId('columns-open').click();
  await clickSettled(page.getByTestId('column-toggle-amount'));
  await expect(page.getByTestId('column-toggle-amount')).not.toBeChecked();
  await clickSettled(page.getByTestId('column-toggle-created_at'));
  await expect(page.getByTestId('column-toggle-created_at')).toBeChecked();
  const from = (await page.getByTestId('column-drag-stage').boundingBox())!;
  const to = (await page.getByTestId('column-drag-account').boundingBox())!;
  await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
  await page.mouse.down();
  await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2 - 6, { steps: 3 });
  await page.mouse.move(to.x + to.width / 2, to.y + 2, { steps: 10 });
  await page.mouse.up();
  await expect.poll(async () => (await headers(page)).map((h) => h.trim()).filter(Boolean).join('|')).toBe('名称|阶段|客户|负责人|创建时间|更新时间');
  await page.keyboard.press('Escape');

  // Save as a personal view and reopen it.
  await page.getByTestId('view-save-as').click();
  await page.getByTestId('view-name').fill('我的列视图');
  await page.getByTestId('view-create').click();
  await expect(page).toHaveURL(/view=/);
  const url = page.url();
  await page.goto(`/apps/${APP}`);
  await page.goto(url);
  await expect(page.getByTestId('view-select')).toContainText('我的列视图');
  await expect.poll(async () => (await headers(page)).map((h) => h.trim()).filter(Boolean).join('|')).toBe('名称|阶段|客户|负责人|创建时间|更新时间');

  // Inline edit: an empty name is refused by the server, its message stays in the cell.
  await row(page, '电池检测').hover();
  await row(page, '电池检测').getByTestId('cell-edit-name').click();
  const editor = page.getByTestId('cell-editor-name');
  await editor.getByRole('textbox').fill('');
  await editor.getByTestId('cell-save').click();
  await expect(editor.getByTestId('cell-error')).toBeVisible();
  await expect(editor.getByTestId('cell-error')).not.toContainText('(');
  await editor.getByRole('textbox').fill('电池检测服务');
  await editor.getByTestId('cell-save').click();
  await expect(row(page, '电池检测服务')).toBeVisible();

  // Bulk: hand two deals to a colleague in one request.
  await row(page, '储能一期').locator('.ant-checkbox-input').check();
  await row(page, '储能二期').locator('.ant-checkbox-input').check();
  await expect(page.getByTestId('bulk-count')).toContainText('2');
  await page.getByTestId('bulk-owner').click();
  await page.getByTestId('bulk-owner-pick').click();
  await page.keyboard.type(MATE.name);
  await page.locator('.ant-select-item-option', { hasText: MATE.name }).click();
  const bulk = page.waitForResponse((r) => r.url().includes('/records/bulk') && r.request().method() === 'POST');
  await page.getByTestId('bulk-owner-apply').click();
  expect((await bulk).status()).toBe(200);
  await expect(row(page, '储能一期')).toContainText(MATE.name);
  await expect(row(page, '储能二期')).toContainText(MATE.name);
  await expect(row(page, '电池检测服务')).toContainText(REP.name);
  await page.screenshot({ path: 'test-results/lists-view-1440-zh.png', fullPage: true });

  // Export of the view: its columns, names instead of ids.
  await page.getByTestId('export-menu').hover();
  const href = await page.getByTestId('export-csv').getAttribute('href');
  expect(href).toContain('columns=name%2Cstage%2Caccount');
  const csv = await (await page.request.get(href!)).text();
  expect(csv).toContain('宁德时代');
  expect(csv).toContain(MATE.name);
  expect(csv.split('\n')[0]).toContain('名称,阶段,客户');

  // Import wizard: one bad row (no name), partial mode imports the two good ones.
  await page.getByTestId('import-open').click();
  await page.locator('.ant-modal input[type=file]').setInputFiles({
    name: 'deals.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from('名称,Amount,备注\n光伏一期,1000,a\n,20,b\n光伏二期,3000,c\n'),
  });
  await expect(page.getByTestId('import-mapping')).toBeVisible();
  await expect(page.getByTestId('import-map-0')).toContainText('名称');
  await expect(page.getByTestId('import-map-1')).toContainText('金额');
  await expect(page.getByTestId('import-map-2')).toContainText('不导入');
  await page.screenshot({ path: 'test-results/lists-import-map-1440-zh.png' });
  await page.getByTestId('import-check').click();
  await expect(page.getByTestId('import-bad')).toContainText('1');
  await expect(page.getByTestId('import-errors')).toContainText('3'); // line 3 of the file
  await page.screenshot({ path: 'test-results/lists-import-check-1440-zh.png' });
  await page.getByTestId('import-partial').click();
  await expect(page.getByTestId('import-result')).toContainText('新建 2 条');
  await page.getByTestId('import-close').click();
  await expect(row(page, '光伏一期')).toBeVisible();
  await expect(row(page, '光伏二期')).toBeVisible();

  // Grouping by stage with counts.
  await page.getByTestId('group-select').click();
  await page.locator('.ant-select-item-option', { hasText: '分组：阶段' }).click();
  await expect(page.getByTestId('record-groups')).toContainText('新建');
  await expect(page.getByTestId('group-新建').getByTestId('group-count')).toContainText('3');
  await page.screenshot({ path: 'test-results/lists-grouped-1440-zh.png', fullPage: true });

  // The same list on a phone, in English.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.evaluate(() => localStorage.setItem('tessera.lang', 'en'));
  await page.goto(url);
  await expect(page.getByTestId('view-select')).toContainText('我的列视图');
  await expect(row(page, '储能一期')).toBeVisible();
  await page.screenshot({ path: 'test-results/lists-view-390-en.png', fullPage: true });
  await page.getByTestId('import-open').click();
  await expect(page.locator('.ant-modal .ant-upload-drag')).toContainText('CSV');
  await page.screenshot({ path: 'test-results/lists-import-390-en.png' });
});
