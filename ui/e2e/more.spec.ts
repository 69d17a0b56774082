import { expect, test } from '@playwright/test';
import { RUN, clickSettled, hasRoute, login, seedLeadApp } from './helpers';

test.describe.configure({ mode: 'serial' });

test('report builder previews a pivot as chart and table, then publishes it', async ({ page, request }) => {
  test.skip(!(await hasRoute(request, '/api/v1/apps/{app}/reports/preview')), 'reports API not available');
  test.setTimeout(180_000);
  const app = `rep${RUN}`;
  const auth = await seedLeadApp(request, app);
  for (const [name, stage, amount] of [['甲', 'new', 1000], ['乙', 'new', 2000], ['丙', 'proposal', 5000]] as const) {
    expect((await request.post(`/api/v1/apps/${app}/entities/lead/records`, { headers: auth, data: { name, stage, amount } })).status()).toBe(201);
  }
  await login(page);
  await page.goto(`/apps/${app}`);
  await page.getByTestId('new-reports').click();
  await page.getByTestId('new-def-slug').fill('by-stage');
  await page.locator('.ant-modal .ant-select').click();
  await page.locator('.ant-select-item-option', { hasText: '线索' }).click();
  await clickSettled(page.getByTestId('new-def-ok'));
  await expect(page).toHaveURL(new RegExp(`/apps/${app}/reports/by-stage/design`));
  await page.getByTestId('report-dim-0').click();
  await page.locator('.ant-select-item-option', { hasText: '(stage)' }).click();
  const result = page.getByTestId('report-result');
  await expect(result).toContainText('proposal');
  await expect(result.locator('tr', { hasText: 'new' })).toContainText('2');
  await expect(result.locator('canvas')).toHaveCount(1);
  await page.getByTestId('def-publish').click();
  await expect(page.getByText(/已发布版本 1/)).toBeVisible();
  await page.goto(`/apps/${app}/reports/by-stage`);
  await expect(page.getByTestId('report-result')).toContainText('proposal');
});

test('form designer places fields and the internal form creates a record', async ({ page, request }) => {
  test.skip(!(await hasRoute(request, '/api/v1/apps/{app}/forms/{form}/submit')), 'forms API not available');
  test.setTimeout(180_000);
  const app = `form${RUN}`;
  await seedLeadApp(request, app);
  await login(page);
  await page.goto(`/apps/${app}`);
  await page.getByTestId('new-forms').click();
  await page.getByTestId('new-def-slug').fill('referral');
  await page.locator('.ant-modal .ant-select').click();
  await page.locator('.ant-select-item-option', { hasText: '线索' }).click();
  await clickSettled(page.getByTestId('new-def-ok'));
  await expect(page.getByTestId('form-canvas')).toBeVisible();

  // drag "name" from the palette onto the canvas, then add the rest with the button
  const from = (await page.getByTestId('palette-name').boundingBox())!;
  const to = (await page.getByTestId('form-canvas').boundingBox())!;
  await page.mouse.move(from.x + 20, from.y + from.height / 2);
  await page.mouse.down();
  await page.mouse.move(from.x + 40, from.y + from.height / 2, { steps: 3 });
  await page.mouse.move(to.x + to.width / 2, to.y + to.height / 2, { steps: 12 });
  await page.mouse.up();
  await expect(page.getByTestId('form-item-name')).toBeVisible();
  await page.getByTestId('form-add-all').click();
  await expect(page.getByTestId('form-item-phone')).toBeVisible();
  await page.getByTestId('form-defaults').fill('stage=new');
  await page.getByTestId('form-public').click();
  await page.getByTestId('def-publish').click();
  await expect(page.getByText(/已发布版本 1/)).toBeVisible();
  await expect(page.getByTestId('public-link')).toHaveAttribute('href', /^\/f\/[A-Za-z0-9_-]+$/);

  await page.goto(`/apps/${app}/forms/referral`);
  await page.getByTestId('input-name').fill('转介绍客户');
  await page.getByTestId('input-phone').fill('13800138001');
  await page.getByTestId('fill-submit').click();
  await expect(page.getByText('已提交')).toBeVisible();
  await page.goto(`/apps/${app}/entities/lead`);
  await expect(page.getByTestId('records-table')).toContainText('转介绍客户');
  await expect(page.getByTestId('records-table')).toContainText('+8613800138001');
});

test('template gallery installs 销售自动化', async ({ page, request }) => {
  test.skip(!(await hasRoute(request, '/api/v1/templates/{name}/install')), 'templates API not available');
  test.setTimeout(180_000);
  await login(page);
  await page.goto('/templates');
  await expect(page.getByTestId('template-sales')).toContainText('销售自动化');
  await page.getByTestId('template-install-sales').click();
  await page.locator('.ant-modal input').first().fill(`sales${RUN}`);
  // with demo data: every widget of the template's dashboard shows data on first open
  await page.getByTestId('template-install-demo').check();
  await page.locator('.ant-modal .ant-input-number input').fill('300');
  await clickSettled(page.getByTestId('template-install-ok'));
  await expect(page).toHaveURL(new RegExp(`/apps/sales${RUN}$`), { timeout: 120_000 });
  await expect(page.getByTestId('section-entities')).toContainText('线索');
  await expect(page.getByTestId('section-entities')).toContainText('商机');
  await expect(page.getByTestId('section-forms')).toContainText('lead');
  for (const [width, lang] of [[1440, 'zh-CN'], [390, 'en']] as const) {
    await page.setViewportSize({ width, height: 900 });
    await page.evaluate((l) => localStorage.setItem('tessera.lang', l), lang);
    await page.goto(`/apps/sales${RUN}/dashboards/sales-overview`);
    const widgets = page.locator('[data-testid^="widget-"]:not([data-testid="widget-error"])');
    await expect(widgets).toHaveCount(7, { timeout: 60_000 });
    await expect(page.getByTestId('widget-error')).toHaveCount(0);
    for (let i = 0; i < 7; i++) {
      // a chart draws a canvas, a table shows rows; an empty report shows antd's Empty
      const w = widgets.nth(i);
      await expect(w.locator('canvas, .ant-table-row, [data-testid="kpi-value"]').first()).toBeVisible({ timeout: 60_000 });
      await expect(w.locator('.ant-empty')).toHaveCount(0);
    }
    await page.screenshot({ path: test.info().outputPath(`demo-dashboard-${width}-${lang}.png`), fullPage: true });
  }
});

test('admin: users, team tree, role permission matrix and audit log', async ({ page, request }) => {
  test.skip(!(await hasRoute(request, '/api/v1/admin/roles')), 'admin API not available');
  test.setTimeout(180_000);
  const app = `adm${RUN}`;
  await seedLeadApp(request, app);
  await login(page);

  await page.goto('/admin/users');
  await expect(page.getByTestId('users-table')).toContainText('admin@example.com');

  await page.goto('/admin/teams');
  await page.getByTestId('team-new').click();
  await page.getByTestId('team-name').fill(`华东 ${RUN}`);
  await page.getByTestId('team-save').click();
  await expect(page.getByTestId('team-tree')).toContainText(`华东 ${RUN}`);

  await page.goto('/admin/roles');
  await page.getByTestId('roles-app').click();
  await page.keyboard.type(`Seed ${app}`);
  await page.locator('.ant-select-item-option', { hasText: `Seed ${app}` }).click();
  await page.getByTestId('role-new').click();
  await page.getByTestId('role-name').fill('sales_rep');
  const row = page.getByTestId('permission-matrix').locator('tr', { hasText: 'entity:lead' });
  await row.locator('input[type=checkbox]').nth(0).check();
  await row.locator('input[type=checkbox]').nth(1).check();
  await page.getByTestId('role-save').click();
  await expect(page.getByText('已保存')).toBeVisible();
  await expect(page.locator('.ant-list')).toContainText('sales_rep');

  await page.goto('/admin/audit');
  await expect(page.getByTestId('audit-table').locator('tbody tr.ant-table-row').first()).toBeVisible();
});
