import { expect, test } from '@playwright/test';
import { RUN, hasRoute, login, seedLeadApp } from './helpers';

test('a 422 from saving a definition is shown next to the field it names', async ({ page, request }) => {
  test.skip(!(await hasRoute(request, '/api/v1/apps/{app}/entities/{slug}')), 'definitions API not available');
  test.setTimeout(120_000);
  const app = `err${RUN}`;
  await seedLeadApp(request, app);
  await login(page);
  await page.goto(`/apps/${app}/entities/broken/design`);
  await page.getByRole('tab', { name: 'JSON' }).click();
  await page.getByTestId('entity-json').fill(JSON.stringify({ slug: 'broken', fields: [{ key: 'name', type: 'text' }, { key: 'x', type: 'nope' }] }));
  await page.getByRole('button', { name: '应用 JSON' }).click();
  await page.getByTestId('def-save').click();
  await expect(page.getByTestId('def-errors')).toContainText('fields[1].type');
  await page.getByRole('tab', { name: /字段/ }).click();
  await expect(page.getByTestId('field-error-1')).toContainText('nope');
  await expect(page.getByTestId('field-row-x')).toHaveClass(/error/);
});

test('saving a record someone else changed meanwhile shows the conflict message', async ({ page, request }) => {
  test.skip(!(await hasRoute(request, '/api/v1/apps/{app}/entities/{entity}/records')), 'records API not available');
  test.setTimeout(120_000);
  const app = `cfl${RUN}`;
  const auth = await seedLeadApp(request, app);
  const rec = await (await request.post(`/api/v1/apps/${app}/entities/lead/records`, { headers: auth, data: { name: '赵六', amount: 1 } })).json();
  await login(page);
  await page.goto(`/apps/${app}/entities/lead`);
  await page.getByText('赵六').click();
  await expect(page.getByTestId('input-amount')).toBeVisible();
  // another user edits the record while the drawer is open
  const other = await request.patch(`/api/v1/apps/${app}/entities/lead/records/${rec.id}`, { headers: auth, data: { amount: 2 } });
  expect(other.ok()).toBeTruthy();
  await page.getByTestId('input-amount').fill('3');
  await page.getByTestId('record-save').click();
  await expect(page.getByTestId('record-error')).toHaveText('该记录已被他人修改，请刷新后重试。');
});
