import { expect, test, type Page } from '@playwright/test';
import { RUN, token, loginAs } from './helpers';

// S5 in the workspace: a rep adds two quote lines with the product picker (the price list's
// price is filled in) and sees the totals computed live; the server's totals agree on save.
const APP = `lines${RUN}`;
const REP = { email: `lines-rep-${RUN}@example.com`, password: 'Lines-rep-pass-2026!', name: '李销售' };

/** Picks an option by its text, again until the select shows it (under load the option list can be replaced as the click lands). */
async function pick(page: Page, within: ReturnType<Page['locator']>, text: string) {
  await expect(async () => {
    await within.locator('.ant-select').click();
    await within.locator('input').fill(text.slice(0, 3));
    await page.locator('.ant-select-dropdown:visible .ant-select-item-option', { hasText: text }).click({ timeout: 5_000 });
    await expect(within.locator('.ant-select')).toContainText(text, { timeout: 3_000 });
  }).toPass({ timeout: 45_000 });
}

test('a rep adds two quote lines with the product picker and sees the total', async ({ page, request }) => {
  test.setTimeout(300_000);
  const auth = { Authorization: `Bearer ${await token(request)}` };
  expect((await request.post('/api/v1/templates/sales/install', { headers: auth, data: { slug: APP } })).status()).toBe(201);
  for (const p of [
    { name: 'MES 企业版许可证', sku: `MES-${RUN}`, price: 100000, max_discount: 10 },
    { name: '实施服务', sku: `IMPL-${RUN}`, price: 50000, max_discount: 5 },
  ]) {
    expect((await request.post(`/api/v1/apps/${APP}/entities/product/records`, { headers: auth, data: p })).status()).toBe(201);
  }
  const u = await request.post('/api/v1/admin/users', { headers: auth, data: REP });
  expect(u.status()).toBe(201);
  const repId = (await u.json()).id as string;
  expect((await request.put(`/api/v1/admin/users/${repId}/roles`, { headers: auth, data: { roles: [{ app: APP, role: 'sales_rep' }] } })).ok()).toBeTruthy();
  const repTok = (await (await request.post('/api/v1/auth/login', { data: { email: REP.email, password: REP.password } })).json()).token;
  const deal = await request.post(`/api/v1/apps/${APP}/entities/deal/records`, { headers: { Authorization: `Bearer ${repTok}` }, data: { name: `智能工厂 ${RUN}` } });
  expect(deal.status()).toBe(201);

  await page.setViewportSize({ width: 1440, height: 900 });
  await loginAs(page, REP, 'zh-CN');
  await page.goto(`/apps/${APP}/entities/quote`);
  await page.getByTestId('record-new').click();
  const form = page.getByTestId('record-form');
  await pick(page, form.getByTestId('input-deal').locator('xpath=..'), `智能工厂 ${RUN}`);

  const grid = form.getByTestId('lines-items');
  await form.getByTestId('lines-add-items').click();
  await form.getByTestId('lines-add-items').click();
  const rows = grid.getByTestId('lines-row');
  await expect(rows).toHaveCount(2);
  await pick(page, rows.nth(0).getByTestId('lines-cell-product'), 'MES 企业版许可证');
  // the price list's price and the rep's limit are filled from the product
  await expect(rows.nth(0).getByTestId('lines-cell-unit_price').locator('input')).toHaveValue(/100,?000/);
  await expect(rows.nth(0).getByTestId('lines-cell-max_discount')).toContainText('10');
  await rows.nth(0).getByTestId('lines-cell-quantity').locator('input').fill('2');
  await pick(page, rows.nth(1).getByTestId('lines-cell-product'), '实施服务');
  await expect(rows.nth(1).getByTestId('lines-cell-line_total')).toContainText('50,000');
  await expect(rows.nth(0).getByTestId('lines-cell-line_total')).toContainText('200,000');
  // 250,000 + 13% tax, previewed live
  await expect(form.getByTestId('lines-total-subtotal')).toContainText('250,000');
  await expect(form.getByTestId('lines-total-total')).toContainText('282,500');
  await page.screenshot({ path: 'test-results/lines-quote-1440-zh.png', fullPage: true });

  await page.getByTestId('record-save').click();
  await expect(page.getByTestId('record-form')).toHaveCount(0);
  // the server's totals (authoritative) agree
  const list = await request.get(`/api/v1/apps/${APP}/entities/quote/records`, { headers: { Authorization: `Bearer ${repTok}` } });
  const items = (await list.json()).items as { data: Record<string, unknown> }[];
  expect(items).toHaveLength(1);
  expect(items[0].data.total).toBe(282500);
  expect((items[0].data.items as unknown[]).length).toBe(2);

  // the saved quote in English, and on a phone
  await loginAs(page, REP, 'en');
  await page.goto(`/apps/${APP}/entities/quote`);
  await page.getByTestId('records-table').locator('tbody tr.ant-table-row').first().locator('td:not(.ant-table-selection-column)').first().click();
  await expect(page.getByTestId('lines-items').getByTestId('lines-row')).toHaveCount(2);
  await expect(page.getByTestId('lines-total-total')).toContainText('282,500');
  await expect(page.getByTestId('lines-items')).toContainText('MES 企业版许可证');
  await page.screenshot({ path: 'test-results/lines-quote-1440-en.png', fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: 'test-results/lines-quote-390-en.png', fullPage: true });
  await loginAs(page, REP, 'zh-CN');
  await page.goto(`/apps/${APP}/entities/quote`);
  await page.getByTestId('records-table').locator('tbody tr.ant-table-row').first().locator('td:not(.ant-table-selection-column)').first().click();
  await expect(page.getByTestId('lines-total-total')).toContainText('282,500');
  await page.screenshot({ path: 'test-results/lines-quote-390-zh.png', fullPage: true });
});
