import { expect, test, type Locator, type Page, type TestInfo } from '@playwright/test';
import { RUN, clickSettled, login, token } from './helpers';

/** Opens the antd Select under testId (or the locator) and clicks the option titled text. */
async function pick(page: Page, target: string | Locator, text: string | RegExp, multiple = false) {
  const sel = typeof target === 'string' ? page.getByTestId(target) : target;
  await sel.click();
  const dd = page.locator('.ant-select-dropdown:not(.ant-select-dropdown-hidden)').last();
  await expect(dd).toBeVisible();
  const opt = dd.locator('.ant-select-item-option').filter({ hasText: text }).first();
  await opt.scrollIntoViewIfNeeded();
  await opt.click();
  if (multiple) await page.keyboard.press('Escape');
  await expect(dd).toBeHidden();
}

async function shot(page: Page, info: TestInfo, name: string) {
  await page.screenshot({ path: info.outputPath(`${name}.png`), fullPage: true });
}

/** The canvas keeps every node in view (fitView on resize). */
async function expectInView(page: Page, testId: string) {
  const canvas = await page.getByTestId('flow-canvas').boundingBox();
  const node = await page.getByTestId(testId).boundingBox();
  expect(canvas && node).toBeTruthy();
  expect(node!.x).toBeGreaterThanOrEqual(canvas!.x - 1);
  expect(node!.x + node!.width).toBeLessThanOrEqual(canvas!.x + canvas!.width + 1);
}

// An analyst builds "record created (contract) -> amount > 500,000 -> approval (director, then
// legal) -> status = approved" from an empty canvas with the mouse and pickers only (typing a number
// or searching a name is fine; no braces, brackets or ids), test-runs it on a contract chosen by
// name, fast-forwards the approval's 7-day timeout, deletes a node and undoes it, and publishes.
test('flow builder: an analyst builds, tests and publishes a flow from an empty canvas', async ({ page, request }, info) => {
  test.setTimeout(240_000);
  const app = `fb${RUN}`;
  const auth = { Authorization: `Bearer ${await token(request)}` };
  expect((await request.post('/api/v1/apps', { headers: auth, data: { slug: app, name: 'Contracts' } })).status()).toBe(201);
  const contract = {
    slug: 'contract', label: { en: 'Contract', 'zh-CN': '合同' },
    fields: [
      { key: 'name', type: 'text', required: true, label: { en: 'Name', 'zh-CN': '名称' } },
      { key: 'amount', type: 'money', label: { en: 'Amount', 'zh-CN': '金额' } },
      { key: 'status', type: 'select', options: ['draft', 'approved', 'rejected'], label: { en: 'Status', 'zh-CN': '状态' } },
    ],
  };
  expect((await request.put(`/api/v1/apps/${app}/entities/contract`, { headers: auth, data: contract })).ok()).toBeTruthy();
  expect((await request.post(`/api/v1/apps/${app}/entities/contract/publish`, { headers: auth })).ok()).toBeTruthy();
  expect((await request.post(`/api/v1/apps/${app}/entities/contract/records`, { headers: auth, data: { name: '华东大单', amount: 800000, status: 'draft' } })).status()).toBe(201);
  // the two approver roles, each with a member
  for (const role of ['director', 'legal']) {
    expect((await request.put('/api/v1/admin/roles', { headers: auth, data: { app, name: role, permissions: [{ resource: 'entity:contract', actions: ['read'], scope: 'all' }] } })).ok()).toBeTruthy();
    const u = await request.post('/api/v1/admin/users', { headers: auth, data: { email: `${role}-${RUN}@example.com`, password: 'Qw7#contract-2026', name: `${role} ${RUN}` } });
    expect(u.status(), await u.text()).toBe(201);
    const id = (await u.json()).id;
    expect((await request.put(`/api/v1/admin/users/${id}/roles`, { headers: auth, data: { roles: [{ app, role }] } })).ok()).toBeTruthy();
  }

  await page.setViewportSize({ width: 1440, height: 1000 });
  await login(page, 'zh-CN');
  await page.goto(`/apps/${app}`);
  await page.getByTestId('new-flows').click();
  await page.getByTestId('new-def-slug').fill('big-deal');
  await clickSettled(page.getByTestId('new-def-ok'));
  await expect(page).toHaveURL(new RegExp(`/apps/${app}/flows/big-deal/design$`));
  await expect(page.getByTestId('flow-node-trigger')).toBeVisible();
  await shot(page, info, 'flowbuilder-empty-zh-CN-1440');

  // trigger: a contract is created
  await pick(page, 'trigger-type', '记录创建');
  await pick(page, 'trigger-entity', '合同');
  await expect(page.getByTestId('flow-node-trigger')).toContainText('合同');

  // condition: amount > 500000, built as a row
  await page.getByTestId('node-palette-condition').click();
  await expect(page.getByTestId('flow-node-condition_1')).toBeVisible();
  const cond = page.getByTestId('param-expr-condition');
  if (!(await cond.getByTestId('cond-row').count())) await cond.getByTestId('cond-add').click();
  await pick(page, cond.getByTestId('cond-field'), '金额');
  await pick(page, cond.getByTestId('cond-op'), '>');
  await cond.getByTestId('cond-value').locator('input').fill('500000');
  await cond.getByTestId('cond-value').locator('input').blur();
  await shot(page, info, 'flowbuilder-condition-zh-CN-1440');

  // approval after the condition's Yes branch: director, then legal; 7-day limit, approve on timeout
  await page.getByTestId('node-palette-approval').click();
  await expect(page.getByTestId('flow-node-approval_1')).toBeVisible();
  await page.getByTestId('param-title-expr').locator('input').fill('大额合同审批');
  for (const [i, [name, role]] of [['总监', 'director'], ['法务', 'legal']].entries()) {
    await page.getByTestId('approval-add-level').click();
    await page.getByTestId(`approval-level-name-${i}`).fill(name);
    await pick(page, page.getByTestId(`approval-level-people-${i}`), `“${role}”`, true);
    await expect(page.getByTestId(`approval-level-people-${i}`)).toContainText(role);
  }
  await page.getByTestId('param-timeout-duration').getByRole('spinbutton').fill('7');
  await pick(page, page.getByTestId('param-timeout-duration').locator('.ant-select'), '天');
  await pick(page, page.getByTestId('param-on_timeout').locator('.ant-select'), '自动通过');
  await shot(page, info, 'flowbuilder-approval-zh-CN-1440');

  // update after the approval's Approved branch: the trigger's contract, status = approved
  await page.getByTestId('node-palette-record.update').click();
  await expect(page.getByTestId('flow-node-record_update_1')).toBeVisible();
  await pick(page, 'param-entity-entity', '合同');
  await expect(page.getByTestId('param-id-record')).toContainText('触发记录');
  await pick(page, page.getByTestId('fvm-row-status').locator('.ant-select'), 'approved');
  await shot(page, info, 'flowbuilder-update-zh-CN-1440');

  // the edges follow the branches
  await expect(page.locator('.react-flow__edge')).toHaveCount(3);

  // delete the update node, then Ctrl+Z brings it back with its values
  await page.getByTestId('flow-node-record_update_1').click();
  await page.getByTestId('node-delete').click();
  await expect(page.getByTestId('flow-node-record_update_1')).toHaveCount(0);
  await page.getByTestId('flow-canvas').click({ position: { x: 10, y: 10 } });
  await page.keyboard.press('Control+z');
  await expect(page.getByTestId('flow-node-record_update_1')).toBeVisible();
  await expect(page.locator('.react-flow__edge')).toHaveCount(3);
  await page.getByTestId('flow-node-record_update_1').click();
  await expect(page.getByTestId('fvm-row-status')).toContainText('approved');

  // publish
  await page.getByTestId('def-publish').click();
  await expect(page.getByText(/已发布版本 1/)).toBeVisible();
  await expect(page.getByTestId('unsaved')).toHaveCount(0);
  const def = await (await request.get(`/api/v1/apps/${app}/flows/big-deal`, { headers: auth })).json();
  const body = def.def ?? def.definition ?? def;
  expect(body.trigger).toMatchObject({ type: 'record.created', entity: 'contract' });
  const byType = Object.fromEntries(body.nodes.map((n: { type: string }) => [n.type, n]));
  expect(byType.condition.params.expr).toContain('trigger.record.amount > 500000');
  expect(byType.approval.params.levels).toEqual([
    { name: '总监', assignees: ['role:director'], mode: 'any' },
    { name: '法务', assignees: ['role:legal'], mode: 'any' },
  ]);
  expect(byType['record.update'].params.values).toEqual({ status: 'approved' });
  expect(body.edges).toEqual(expect.arrayContaining([
    expect.objectContaining({ from: byType.condition.id, to: byType.approval.id, port: 'true' }),
    expect.objectContaining({ from: byType.approval.id, to: byType['record.update'].id, port: 'approved' }),
  ]));

  // test run on the contract chosen by name: the condition passes, the approval waits
  await page.getByTestId('flow-run').click();
  await page.getByTestId('test-record').click();
  await page.keyboard.type('华东');
  await page.locator('.ant-select-dropdown:not(.ant-select-dropdown-hidden) .ant-select-item-option').filter({ hasText: '华东大单' }).click();
  await clickSettled(page.getByTestId('flow-run-ok'));
  await expect(page.getByTestId('test-run-banner')).toHaveAttribute('data-status', 'waiting', { timeout: 60_000 });
  await expect(page.getByTestId('flow-node-condition_1')).toHaveAttribute('data-status', 'succeeded');
  await expect(page.getByTestId('flow-node-approval_1')).toHaveAttribute('data-status', 'waiting');
  await page.getByTestId('flow-node-condition_1').click();
  await expect(page.getByTestId('node-last-run')).toContainText('是');
  await shot(page, info, 'flowbuilder-testrun-zh-CN-1440');
  // the 7-day limit of each level, fast-forwarded: both levels approve on timeout, the update runs
  const banner = page.getByTestId('test-run-banner');
  const ff = page.getByTestId('fast-forward');
  let forwarded = 0;
  await expect(async () => {
    if ((await banner.getAttribute('data-status')) === 'waiting' && (await ff.isVisible()) && (await ff.isEnabled())) {
      await ff.click();
      forwarded++;
    }
    expect(await banner.getAttribute('data-status')).toBe('succeeded');
  }).toPass({ timeout: 90_000, intervals: [3_000] });
  expect(forwarded).toBeGreaterThanOrEqual(2);
  await expect(page.getByTestId('flow-node-approval_1')).toHaveAttribute('data-status', 'succeeded');
  await expect(page.getByTestId('flow-node-record_update_1')).toHaveAttribute('data-status', 'succeeded');
  await page.getByTestId('flow-node-record_update_1').click();
  await expect(page.getByTestId('node-run-output')).toContainText('approved');
  await shot(page, info, 'flowbuilder-fastforward-zh-CN-1440');

  // both languages, desktop and phone: the canvas refits when the window shrinks
  for (const lang of ['zh-CN', 'en'] as const) {
    if (lang === 'en') {
      await page.evaluate(() => localStorage.setItem('tessera.lang', 'en'));
      await page.setViewportSize({ width: 1440, height: 1000 });
      await page.reload();
      await expect(page.getByTestId('flow-node-approval_1')).toBeVisible();
      await page.getByTestId('flow-node-approval_1').click();
      await expect(page.getByTestId('approval-level-1')).toBeVisible();
      await expect(page.getByTestId('node-panel')).toContainText('Approval levels');
      await shot(page, info, `flowbuilder-approval-${lang}-1440`);
    }
    await page.setViewportSize({ width: 390, height: 844 });
    await expect(async () => {
      await expectInView(page, 'flow-node-trigger');
      await expectInView(page, 'flow-node-record_update_1');
    }).toPass({ timeout: 10_000 });
    await shot(page, info, `flowbuilder-designer-${lang}-390`);
    await page.setViewportSize({ width: 1440, height: 1000 });
  }
});

// A run that fails tells the flow's builder: a notification under the bell, linking to the run.
test('flow builder: a failed run notifies the builder with a link to the run', async ({ page, request }, info) => {
  const app = `fbf${RUN}`;
  const auth = { Authorization: `Bearer ${await token(request)}` };
  expect((await request.post('/api/v1/apps', { headers: auth, data: { slug: app, name: 'Failing' } })).status()).toBe(201);
  const flow = { slug: 'breaks', trigger: { type: 'manual' }, nodes: [{ id: 'boom', type: 'script', params: { code: `throw new Error("boom ${RUN}");` } }], edges: [] };
  expect((await request.put(`/api/v1/apps/${app}/flows/breaks`, { headers: auth, data: flow })).ok()).toBeTruthy();
  expect((await request.post(`/api/v1/apps/${app}/flows/breaks/publish`, { headers: auth })).ok()).toBeTruthy();
  const run = await (await request.post(`/api/v1/apps/${app}/flows/breaks/run`, { headers: auth, data: {} })).json();
  const runId = run.run_id ?? run.id;
  await expect(async () => {
    const r = await (await request.get(`/api/v1/runs/${runId}`, { headers: auth })).json();
    expect(r.status).toBe('failed');
  }).toPass({ timeout: 60_000 });
  // the notification is written when the run fails: wait for it before opening the bell
  await expect(async () => {
    const n = await (await request.get('/api/v1/notifications?limit=50', { headers: auth })).json();
    expect(JSON.stringify(n.items ?? [])).toContain(`boom ${RUN}`);
  }).toPass({ timeout: 60_000 });

  for (const lang of ['zh-CN', 'en'] as const) {
    // sign in on a desktop width (the side menu is what login waits for), then narrow the window
    await page.setViewportSize({ width: 1440, height: 900 });
    await login(page, lang);
    await page.setViewportSize({ width: lang === 'en' ? 390 : 1440, height: 900 });
    const bell = page.getByTestId('notification-bell');
    await expect(bell).toBeVisible();
    await bell.click();
    const item = page.getByTestId('notification-list').locator('[data-testid^="notification-"][role="button"]').filter({ hasText: 'breaks' }).first();
    await expect(item).toBeVisible({ timeout: 30_000 });
    await expect(item).toContainText(`boom ${RUN}`);
    await shot(page, info, `flowbuilder-failed-notification-${lang}-${lang === 'en' ? 390 : 1440}`);
    if (lang === 'en') {
      await item.click();
      await expect(page).toHaveURL(new RegExp(`/runs/${runId}$`));
      await expect(page.getByTestId('run-status').first()).toHaveText('Failed', { timeout: 30_000 });
    }
  }
});

// The runs of all flows of an app, by name and in words, open on the canvas; an approver who may not
// open the flow follows the run link of their task and sees the task's record and decisions, not a 404.
test('flow builder: the app runs list and an approver\'s run link', async ({ page, request }, info) => {
  test.setTimeout(240_000);
  const app = `fbr${RUN}`;
  const auth = { Authorization: `Bearer ${await token(request)}` };
  expect((await request.post('/api/v1/apps', { headers: auth, data: { slug: app, name: 'Runs' } })).status()).toBe(201);
  const deal = { slug: 'deal', label: { en: 'Deal', 'zh-CN': '商机' }, fields: [{ key: 'name', type: 'text', required: true, label: { en: 'Name', 'zh-CN': '名称' } }] };
  expect((await request.put(`/api/v1/apps/${app}/entities/deal`, { headers: auth, data: deal })).ok()).toBeTruthy();
  expect((await request.post(`/api/v1/apps/${app}/entities/deal/publish`, { headers: auth })).ok()).toBeTruthy();
  const role = { app, name: 'approver', permissions: [{ resource: 'app', actions: ['read'], scope: 'all' }, { resource: 'entity:deal', actions: ['read'], scope: 'all' }] };
  expect((await request.put('/api/v1/admin/roles', { headers: auth, data: role })).ok()).toBeTruthy();
  const approver = { email: `approver-${RUN}@example.com`, password: 'approver-password-1', name: `审批人 ${RUN}` };
  const u = await request.post('/api/v1/admin/users', { headers: auth, data: approver });
  expect(u.status()).toBe(201);
  const uid = (await u.json()).id;
  expect((await request.put(`/api/v1/admin/users/${uid}/roles`, { headers: auth, data: { roles: [{ app, role: 'approver' }] } })).ok()).toBeTruthy();
  const flow = {
    slug: 'deal-approval', label: { en: 'Deal approval', 'zh-CN': '商机审批' }, trigger: { type: 'record.created', entity: 'deal' },
    nodes: [{ id: 'approve', type: 'approval', params: { title: '审批 {{ trigger.record.name }}', record: '{{ trigger.record.id }}', levels: [{ name: '总监', assignee: uid }] } }],
    edges: [],
  };
  expect((await request.put(`/api/v1/apps/${app}/flows/deal-approval`, { headers: auth, data: flow })).ok()).toBeTruthy();
  expect((await request.post(`/api/v1/apps/${app}/flows/deal-approval/publish`, { headers: auth })).ok()).toBeTruthy();
  expect((await request.post(`/api/v1/apps/${app}/entities/deal/records`, { headers: auth, data: { name: `大单 ${RUN}` } })).status()).toBe(201);

  for (const lang of ['zh-CN', 'en'] as const) {
    await page.setViewportSize({ width: 1440, height: 900 });
    await login(page, lang);
    await page.goto(`/apps/${app}`);
    await page.getByTestId('app-runs-link').click();
    const row = page.getByTestId('app-runs-table').locator('tr', { hasText: `大单 ${RUN}` });
    await expect(row).toBeVisible({ timeout: 60_000 });
    await expect(row.getByTestId('run-flow')).toHaveText(lang === 'en' ? 'Deal approval' : '商机审批');
    await expect(row.getByTestId('run-started-by')).toContainText(lang === 'en' ? 'Record created' : '');
    await expect(row.getByTestId('run-status')).toHaveText(lang === 'en' ? 'Waiting' : '等待中', { timeout: 60_000 });
    await pick(page, 'runs-filter-status', lang === 'en' ? 'Failed' : '失败', true);
    await expect(row).toBeHidden();
    await page.getByTestId('runs-filter-status').locator('.ant-select-clear').click({ force: true });
    await expect(row).toBeVisible();
    await shot(page, info, `flowbuilder-app-runs-${lang}-1440`);
    await page.setViewportSize({ width: 390, height: 900 });
    // phones: a card a run; the trigger in words is on screen, not cut off by a sideways-scrolling table
    const card = page.getByTestId('app-runs-cards').locator('.app-run-card', { hasText: `大单 ${RUN}` });
    await expect(card).toBeVisible();
    await expect(page.getByTestId('app-runs-table')).toHaveCount(0);
    const by = card.getByTestId('run-started-by');
    await expect(by).toBeInViewport({ ratio: 1 });
    await expect(by).toContainText(lang === 'en' ? 'Record created' : '记录创建');
    await expect(by).toContainText('Administrator');
    await expect(card.getByTestId('run-canvas-link')).toBeInViewport();
    await shot(page, info, `flowbuilder-app-runs-${lang}-390`);
    await page.setViewportSize({ width: 1440, height: 900 });
    await row.getByTestId('run-canvas-link').click();
    await expect(page.getByTestId('test-run-banner')).toBeVisible();
    await expect(page.getByTestId('test-run-status')).toHaveText(lang === 'en' ? 'Waiting' : '等待中');
    await shot(page, info, `flowbuilder-run-on-canvas-${lang}-1440`);
  }

  // the approver: the run link of the task shows the task's record, never "run not found"
  let runRequests = 0;
  page.on('request', (r) => { if (/\/api\/v1\/runs\//.test(r.url())) runRequests++; });
  for (const [lang, width] of [['en', 390], ['zh-CN', 1440]] as const) {
    await page.setViewportSize({ width, height: 900 });
    await page.context().clearCookies();
    await page.goto('/login');
    await page.evaluate((l) => localStorage.setItem('tessera.lang', l), lang);
    await page.reload();
    await page.getByTestId('login-email').fill(approver.email);
    await page.getByTestId('login-password').fill(approver.password);
    await page.getByTestId('login-submit').click();
    await expect(page).not.toHaveURL(/\/login/);
    // the inbox's run link (/runs/{id} of the task's run)
    const atok = (await (await request.post('/api/v1/auth/login', { data: { email: approver.email, password: approver.password } })).json()).token;
    const tasks = (await (await request.get('/api/v1/tasks?status=open', { headers: { Authorization: `Bearer ${atok}` } })).json()).items;
    await page.goto(`/runs/${tasks[0].run_id}`);
    const view = page.getByTestId('run-task-view');
    await expect(view).toBeVisible();
    await expect(view).toContainText(lang === 'en' ? 'Deal approval' : '商机审批');
    await expect(view.getByTestId('summary-name')).toHaveText(`大单 ${RUN}`);
    await expect(page.getByTestId('run-hidden')).toHaveCount(0);
    await shot(page, info, `flowbuilder-approver-run-${lang}-${width}`);
  }
  // the approver's view is not polled
  const seen = runRequests;
  await expect(page.getByTestId('run-task-view')).toBeVisible();
  await page.waitForLoadState('networkidle');
  expect(runRequests - seen).toBeLessThanOrEqual(1);
});
