import { expect, test } from '@playwright/test';
import { RUN, login, seedLeadApp, token } from './helpers';

// An admin adds the app's DingTalk robot as a connection in the browser (fields from the
// connector's spec, values never shown again), changes its secret, and deletes it.
test('connections: a DingTalk robot is added, changed and deleted without the API', async ({ page, request }) => {
  test.setTimeout(180_000);
  const app = `con${RUN}`;
  await seedLeadApp(request, app);
  await login(page);
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.goto(`/apps/${app}`);
  await page.getByTestId('app-credentials-link').click();
  await expect(page.getByTestId('credentials-page')).toContainText('连接凭据');

  await page.getByTestId('credential-new').click();
  await page.getByTestId('credential-connector').click();
  await page.locator('.ant-select-item-option', { hasText: '钉钉' }).first().click();
  await expect(page.getByTestId('credential-name')).toHaveValue('dingtalk');
  await page.getByTestId('param-webhook_url').locator('input').fill('https://oapi.dingtalk.com/robot/send?access_token=e2e');
  await page.getByTestId('param-secret').locator('input').fill('SECe2e-1');
  await page.screenshot({ path: 'test-results/connections-add-1440-zh.png' });
  await page.getByTestId('credential-save').click();
  const table = page.getByTestId('credentials-table');
  await expect(table).toContainText('dingtalk');
  await expect(table).toContainText('Webhook 地址');

  // the values are stored, never sent back
  const auth = { Authorization: `Bearer ${await token(request)}` };
  const listed = await (await request.get(`/api/v1/apps/${app}/credentials`, { headers: auth })).json();
  expect(listed.items).toHaveLength(1);
  expect(listed.items[0].fields.sort()).toEqual(['secret', 'webhook_url']);
  expect(JSON.stringify(listed)).not.toContain('SECe2e-1');

  // change the secret only: the URL is kept
  await page.getByTestId('credential-edit-dingtalk').click();
  await page.getByTestId('param-secret').locator('input').fill('SECe2e-2');
  await page.getByTestId('credential-save').click();
  await expect(page.getByText('连接已保存').first()).toBeVisible();
  const after = await (await request.get(`/api/v1/apps/${app}/credentials`, { headers: auth })).json();
  expect(after.items[0].fields.sort()).toEqual(['secret', 'webhook_url']);

  // English, on a phone
  await page.evaluate(() => localStorage.setItem('tessera.lang', 'en'));
  await page.setViewportSize({ width: 390, height: 844 });
  await page.reload();
  await expect(page.getByTestId('credentials-page')).toContainText('Connections');
  await page.screenshot({ path: 'test-results/connections-390-en.png', fullPage: true });

  // delete (only the pop-up's OK is tried again while the pop-up stays open, when a click during
  // its opening animation missed; the deletion is waited for, never repeated)
  const ok = page.getByTestId('credential-delete-ok');
  await page.getByTestId('credential-delete-dingtalk').click();
  await expect(ok).toBeVisible();
  await ok.click();
  await expect(async () => {
    try {
      await expect(ok).toBeHidden({ timeout: 2000 });
    } catch (e) {
      await ok.click({ timeout: 1000 }); // still open after 2 s: the click missed
      throw e;
    }
  }).toPass({ timeout: 15_000 });
  await expect(table).not.toContainText('dingtalk', { timeout: 20_000 });
  await expect(table).toContainText('No connections yet');
});
