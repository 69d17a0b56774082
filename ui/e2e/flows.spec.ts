import { expect, test } from '@playwright/test';
import { RUN, clickSettled, hasRoute, login, seedLeadApp } from './helpers';

test.describe.configure({ mode: 'serial' });

test('design a script flow, publish it, run it and read the run steps', async ({ page, request }) => {
  test.skip(!(await hasRoute(request, '/api/v1/apps/{app}/flows/{flow}/run')) || !(await hasRoute(request, '/api/v1/catalog')), 'flows API not available');
  test.setTimeout(180_000);
  const app = `flow${RUN}`;
  await seedLeadApp(request, app);
  await login(page);
  await page.goto(`/apps/${app}`);
  await page.getByTestId('new-flows').click();
  await page.getByTestId('new-def-slug').fill('hello');
  await clickSettled(page.getByTestId('new-def-ok'));
  await expect(page).toHaveURL(new RegExp(`/apps/${app}/flows/hello/design$`));
  await expect(page.getByTestId('trigger-form')).toBeVisible();

  // a script node from the catalog palette, edited in CodeMirror
  await page.getByTestId('node-palette-script').click();
  await expect(page.getByTestId('flow-node-script_1')).toBeVisible();
  const editor = page.getByTestId('code-editor').locator('.cm-content');
  await editor.click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.keyboard.type('return { greeting: "你好 " + input.trigger.body.name };');
  await page.getByTestId('def-publish').click();
  await expect(page.getByText(/已发布版本 1/)).toBeVisible();

  await page.getByTestId('flow-run').click();
  const input = page.locator('.ant-modal textarea');
  await input.fill('{"name": "张三"}');
  await clickSettled(page.getByTestId('flow-run-ok'));
  // A test run stays on the canvas: the banner shows its state, the node its output.
  await expect(page.getByTestId('test-run-banner')).toHaveAttribute('data-status', 'succeeded', { timeout: 30_000 });
  await expect(page.getByTestId('node-status-script_1')).toHaveText('成功');
  await page.getByTestId('test-run-banner').getByRole('link', { name: '运行详情' }).click();
  await expect(page).toHaveURL(/\/runs\/[0-9a-f-]+$/);
  await expect(page.getByTestId('run-status').first()).toHaveText('成功', { timeout: 30_000 });
  await expect(page.getByTestId('run-steps')).toContainText('script_1');
  await expect(page.getByTestId('run-steps')).toContainText('你好 张三');
});

test('an approval task appears in my tasks and approving it finishes the run', async ({ page, request }) => {
  test.skip(!(await hasRoute(request, '/api/v1/tasks')) || !(await hasRoute(request, '/api/v1/apps/{app}/flows/{flow}/run')), 'tasks API not available');
  test.setTimeout(180_000);
  const app = `appr${RUN}`;
  const auth = await seedLeadApp(request, app);
  const me = await (await request.get('/api/v1/me', { headers: auth })).json();
  const flow = {
    slug: 'big-deal',
    trigger: { type: 'manual' },
    nodes: [
      { id: 'approve', type: 'approval', params: { title: `大单审批 ${RUN}`, levels: [{ name: 'director', assignees: [me.id ?? me.user?.id] }] } },
      { id: 'done', type: 'script', params: { code: 'return { approved: true };' } },
    ],
    edges: [{ from: 'approve', to: 'done', port: 'approved' }],
  };
  expect((await request.put(`/api/v1/apps/${app}/flows/big-deal`, { headers: auth, data: flow })).ok()).toBeTruthy();
  expect((await request.post(`/api/v1/apps/${app}/flows/big-deal/publish`, { headers: auth })).ok()).toBeTruthy();
  const run = await (await request.post(`/api/v1/apps/${app}/flows/big-deal/run`, { headers: auth, data: { amount: 600000 } })).json();
  const runId = run.run_id ?? run.id;

  await login(page);
  await page.goto('/tasks');
  const row = page.getByTestId('tasks-table').locator('tr', { hasText: `大单审批 ${RUN}` });
  await expect(row).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId('notification-bell')).toBeVisible();
  await row.getByRole('button', { name: /同\s*意/ }).click();
  await page.getByTestId('task-comment').fill('同意，价格合理');
  // Click OK once the dialog has finished its opening animation; a click during it was lost once
  // in CI, so click again while the dialog stays open (OK is disabled while the request runs).
  await expect(page.locator('.ant-modal[class*="zoom-appear"], .ant-modal[class*="zoom-enter"]')).toHaveCount(0);
  const confirm = page.getByTestId('task-confirm');
  await expect(async () => {
    if (await confirm.isVisible()) await confirm.click({ timeout: 2_000 });
    await expect(page.getByRole('dialog')).toBeHidden({ timeout: 2_000 });
  }).toPass({ timeout: 20_000 });
  await expect(page.getByText('任务已完成')).toBeVisible();
  await expect(row).toBeHidden();

  await page.goto(`/runs/${runId}`);
  await expect(page.getByTestId('run-status').first()).toHaveText('成功', { timeout: 30_000 });
  await expect(page.getByTestId('run-steps')).toContainText('done');
});

test('a notify node reaches the bell with its body, and the notification opens the record', async ({ page, request }) => {
  test.setTimeout(120_000);
  const app = `note${RUN}`;
  const auth = await seedLeadApp(request, app);
  const me = await (await request.get('/api/v1/me', { headers: auth })).json();
  const rec = await (await request.post(`/api/v1/apps/${app}/entities/lead/records`, { headers: auth, data: { name: `回访客户 ${RUN}` } })).json();
  const flow = {
    slug: 'tell',
    trigger: { type: 'manual' },
    nodes: [{ id: 'n', type: 'notify', params: { to: me.id ?? me.user?.id, title: `请跟进 ${RUN}`, body: '客户想要报价', record: '{{ trigger.input.id }}' } }],
  };
  expect((await request.put(`/api/v1/apps/${app}/flows/tell`, { headers: auth, data: flow })).ok()).toBeTruthy();
  expect((await request.post(`/api/v1/apps/${app}/flows/tell/publish`, { headers: auth })).ok()).toBeTruthy();
  expect((await request.post(`/api/v1/apps/${app}/flows/tell/run`, { headers: auth, data: { input: { id: rec.id } } })).ok()).toBeTruthy();

  await login(page);
  await page.goto('/apps');
  const note = page.getByTestId('notification-list').getByText(`请跟进 ${RUN}`);
  await expect(async () => {
    await page.reload();
    await page.getByTestId('notification-bell').click();
    await expect(note).toBeVisible({ timeout: 2_000 });
  }).toPass({ timeout: 30_000 });
  await expect(page.getByTestId('notification-list')).toContainText('客户想要报价');
  await note.click();
  await expect(page).toHaveURL(new RegExp(`/apps/${app}/entities/lead\\?record=${rec.id}$`));
  await expect(page.locator('.ant-drawer input').first()).toHaveValue(`回访客户 ${RUN}`);
});
