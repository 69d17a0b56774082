import { expect, test, type APIRequestContext, type Locator, type Page, type TestInfo } from '@playwright/test';
import { RUN, clickSettled, login, token } from './helpers';

// Everything this spec creates carries the rfn prefix plus RUN.

/**
 * Selects a node on the canvas: clicks it until its panel is the one shown (under load a click
 * can land while the canvas still moves, selecting nothing or the node that was there).
 */
async function selectNode(page: Page, id: string, name: string) {
  await expect(async () => {
    await page.getByTestId(`flow-node-${id}`).click();
    await expect(page.getByTestId('node-name')).toHaveValue(name, { timeout: 3_000 });
  }).toPass({ timeout: 30_000 });
}

/** Opens the antd Select under the locator and clicks the option titled text. */
async function pick(page: Page, sel: Locator, text: string | RegExp) {
  await sel.click();
  const dd = page.locator('.ant-select-dropdown:not(.ant-select-dropdown-hidden)').last();
  await expect(dd).toBeVisible();
  const opt = dd.locator('.ant-select-item-option').filter({ hasText: text }).first();
  await opt.scrollIntoViewIfNeeded();
  await opt.click();
  await expect(dd).toBeHidden();
}

async function shot(page: Page, info: TestInfo, name: string) {
  await page.screenshot({ path: info.outputPath(`${name}.png`), fullPage: true });
}

const contract = {
  slug: 'contract', label: { en: 'Contract', 'zh-CN': '合同' },
  fields: [
    { key: 'name', type: 'text', required: true, label: { en: 'Name', 'zh-CN': '名称' } },
    { key: 'amount', type: 'money', label: { en: 'Amount', 'zh-CN': '金额' } },
    { key: 'status', type: 'select', options: ['draft', 'approved', 'checked'], label: { en: 'Status', 'zh-CN': '状态' } },
  ],
};

async function seed(request: APIRequestContext, app: string, flows: unknown[]) {
  const auth = { Authorization: `Bearer ${await token(request)}` };
  expect((await request.post('/api/v1/apps', { headers: auth, data: { slug: app, name: `RFN ${RUN}` } })).status()).toBe(201);
  expect((await request.put(`/api/v1/apps/${app}/entities/contract`, { headers: auth, data: contract })).ok()).toBeTruthy();
  expect((await request.post(`/api/v1/apps/${app}/entities/contract/publish`, { headers: auth })).ok()).toBeTruthy();
  for (const f of flows as { slug: string }[]) {
    const r = await request.put(`/api/v1/apps/${app}/flows/${f.slug}`, { headers: auth, data: f });
    expect(r.ok(), await r.text()).toBeTruthy();
    expect((await request.post(`/api/v1/apps/${app}/flows/${f.slug}/publish`, { headers: auth })).ok()).toBeTruthy();
  }
  return auth;
}

// An analyst test-runs a flow on a contract picked by name, pins it as the sample, reloads (the
// sample is still chosen), opens the update node of the run, changes its value with a picker
// and runs that node again: the panel shows the new output, and the record holds it.
test('rfn: pin a test sample, reload, run a node again from its panel', async ({ page, request }, info) => {
  test.setTimeout(240_000);
  const app = `rfn${RUN}`;
  const auth = await seed(request, app, [{
    slug: 'rfn-deal', label: { en: 'Big deal check', 'zh-CN': '大单检查' }, trigger: { type: 'record.created', entity: 'contract' },
    nodes: [
      { id: 'big', type: 'condition', name: '金额大于 50 万', params: { expr: 'trigger.record.amount > 500000' }, position: { x: 80, y: 160 } },
      { id: 'mark', type: 'record.update', name: '标记状态', params: { entity: 'contract', id: '{{ trigger.record.id }}', values: { status: 'approved' } }, position: { x: 80, y: 290 } },
    ],
    edges: [{ from: 'big', to: 'mark', port: 'true' }],
  }]);
  const rec = await request.post(`/api/v1/apps/${app}/entities/contract/records`, { headers: auth, data: { name: '华东大单', amount: 800000, status: 'draft' } });
  expect(rec.status()).toBe(201);
  const recId = (await rec.json()).id as string;
  expect((await request.post(`/api/v1/apps/${app}/entities/contract/records`, { headers: auth, data: { name: '华南小单', amount: 1000 } })).status()).toBe(201);

  await page.setViewportSize({ width: 1440, height: 1000 });
  await login(page, 'zh-CN');
  await page.goto(`/apps/${app}/flows/rfn-deal/design`);
  await expect(page.getByTestId('flow-node-mark')).toBeVisible();

  // pick the contract by name and pin it
  await page.getByTestId('flow-run').click();
  const dialog = page.getByRole('dialog');
  await page.getByTestId('test-record').click();
  await page.keyboard.type('华东');
  await page.locator('.ant-select-dropdown:not(.ant-select-dropdown-hidden) .ant-select-item-option').filter({ hasText: '华东大单' }).click();
  await dialog.getByTestId('test-sample-pin').click();
  await expect(dialog.getByTestId('test-sample-pinned')).toBeVisible();
  await shot(page, info, 'rfn-pinned-zh-CN-1440');
  await dialog.getByRole('button', { name: /^取\s*消$/ }).click();
  await expect(dialog).toBeHidden();

  // after a reload the pinned contract is chosen already; the test runs on it
  await page.reload();
  await expect(page.getByTestId('flow-node-mark')).toBeVisible();
  await page.getByTestId('flow-run').click();
  await expect(dialog.getByTestId('test-record')).toContainText('华东大单');
  await expect(dialog.getByTestId('test-sample-pinned')).toBeVisible();
  await clickSettled(dialog.getByTestId('flow-run-ok'));
  await expect(page.getByTestId('test-run-banner')).toHaveAttribute('data-status', 'succeeded', { timeout: 60_000 });
  await expect(page.getByTestId('flow-node-mark')).toHaveAttribute('data-status', 'succeeded');

  // open the update node of the run: its output; change the value with the picker, run it again
  await selectNode(page, 'mark', '标记状态');
  await expect(page.getByTestId('node-run-output')).toContainText('approved');
  await pick(page, page.getByTestId('fvm-row-status').locator('.ant-select'), 'checked');
  await page.getByTestId('node-rerun').click();
  const result = page.getByTestId('node-rerun-result');
  await expect(result).toHaveAttribute('data-status', 'succeeded', { timeout: 30_000 });
  await expect(page.getByTestId('node-rerun-output')).toContainText('checked');
  await expect(page.getByTestId('node-run-output')).toContainText('approved'); // the run's own output stays
  await expect(page.getByTestId('unsaved')).toHaveCount(0); // the change was saved first
  const got = await (await request.get(`/api/v1/apps/${app}/entities/contract/records/${recId}`, { headers: auth })).json();
  expect(got.data.status).toBe('checked');
  await result.scrollIntoViewIfNeeded();
  await page.mouse.move(0, 0); // the button's help tooltip closes
  await expect(page.locator('.ant-tooltip:not(.ant-tooltip-hidden)')).toHaveCount(0);
  await shot(page, info, 'rfn-rerun-zh-CN-1440');

  // the draft keeps the sample; the published version does not
  const def = await (await request.get(`/api/v1/apps/${app}/flows/rfn-deal`, { headers: auth })).json();
  expect(def.test_sample).toMatchObject({ record: recId, label: '华东大单' });
  const versions = await (await request.get(`/api/v1/apps/${app}/flows/rfn-deal/versions`, { headers: auth })).json();
  for (const v of versions.items ?? versions) expect((v.body ?? {}).test_sample).toBeUndefined();

  // English, desktop and phone: the run on the canvas, the node run again
  const runId = (await page.getByTestId('test-run-banner').getByRole('link').getAttribute('href'))!.split('/').pop()!;
  await page.evaluate(() => localStorage.setItem('tessera.lang', 'en'));
  for (const width of [1440, 390]) {
    await page.setViewportSize({ width, height: width === 390 ? 844 : 1000 });
    await page.goto(`/apps/${app}/flows/rfn-deal/design?run=${runId}`);
    await expect(page.getByTestId('flow-node-mark')).toHaveAttribute('data-status', 'succeeded');
    await selectNode(page, 'mark', '标记状态');
    await expect(page.getByTestId('node-rerun')).toHaveText('Run from this node');
    await page.getByTestId('node-rerun').click();
    await expect(page.getByTestId('node-rerun-result')).toHaveAttribute('data-status', 'succeeded', { timeout: 30_000 });
    await expect(page.getByTestId('node-rerun-output')).toContainText('checked');
    await page.getByTestId('node-rerun-result').scrollIntoViewIfNeeded();
    await page.mouse.move(0, 0);
    await expect(page.locator('.ant-tooltip:not(.ant-tooltip-hidden)')).toHaveCount(0);
    await shot(page, info, `rfn-rerun-en-${width}`);
  }
  const rerunRun = (await page.getByTestId('node-rerun-result').getByRole('link').getAttribute('href'))!;
  // the pinned sample in English on the phone
  await page.getByTestId('flow-run').click();
  await expect(dialog.getByTestId('test-sample-pinned')).toHaveText('Pinned sample');
  await shot(page, info, 'rfn-pinned-en-390');
  await dialog.getByTestId('test-sample-unpin').click();
  await expect(dialog.getByTestId('test-sample-pin')).toBeVisible();
  await expect.poll(async () => (await (await request.get(`/api/v1/apps/${app}/flows/rfn-deal`, { headers: auth })).json()).test_sample).toBeUndefined();
  // zh-CN on the phone
  await page.evaluate(() => localStorage.setItem('tessera.lang', 'zh-CN'));
  await page.goto(`/apps/${app}/flows/rfn-deal/design?run=${runId}`);
  await selectNode(page, 'mark', '标记状态');
  await expect(page.getByTestId('node-rerun')).toHaveText('从此节点运行');
  await page.getByTestId('node-rerun').scrollIntoViewIfNeeded();
  await shot(page, info, 'rfn-rerun-zh-CN-390');
  // the re-run's own page says where its input came from
  await page.goto(rerunRun);
  await expect(page.getByTestId('run-rerun-of')).toContainText('mark');
  await page.getByTestId('run-rerun-of').getByRole('link').click();
  await expect(page).toHaveURL(new RegExp(`/runs/${runId}$`));
  await page.goBack();
  await expect(page.getByTestId('run-rerun-of')).toBeVisible();
  await shot(page, info, 'rfn-rerun-run-zh-CN-390');
});

// On a phone, a task card links to its run, and the run page's long title wraps instead of
// being cut off.
test('rfn phone: a task card links to its run; the run title wraps', async ({ page, request }, info) => {
  test.setTimeout(120_000);
  const app = `rfnp${RUN}`;
  const auth = await seed(request, app, [{
    slug: 'rfn-approve', label: { en: 'Approval of large contracts for the East China sales team', 'zh-CN': '华东区域销售部大额合同审批流程（需总监与法务两级审批）' },
    trigger: { type: 'manual' },
    nodes: [{ id: 'ok', type: 'approval', params: { title: `rfn 审批 ${RUN}`, levels: [{ name: 'me', assignees: ['starter'] }] } }],
  }]);
  const start = await request.post(`/api/v1/apps/${app}/flows/rfn-approve/run`, { headers: auth, data: {} });
  expect(start.status()).toBe(202);
  const runId = (await start.json()).run_id as string;
  let taskId = '';
  await expect.poll(async () => {
    const items = (await (await request.get('/api/v1/tasks?status=open', { headers: auth })).json()).items as { id: string; run_id?: string }[];
    taskId = items.find((t) => t.run_id === runId)?.id ?? '';
    return taskId;
  }, { timeout: 30_000 }).not.toBe('');

  for (const lang of ['zh-CN', 'en'] as const) {
    await page.setViewportSize({ width: 390, height: 844 });
    await login(page, lang);
    await page.goto('/tasks');
    const link = page.getByTestId(`task-card-run-${taskId}`);
    await expect(link).toBeVisible();
    await expect(link).toHaveText(lang === 'en' ? 'Run' : '运行');
    await page.getByTestId(`task-card-${taskId}`).scrollIntoViewIfNeeded();
    await shot(page, info, `rfn-tasks-${lang}-390`);
    await link.click();
    await expect(page).toHaveURL(new RegExp(`/runs/${runId}$`));
    const title = page.getByTestId('run-title');
    await expect(title).toContainText(lang === 'en' ? 'East China sales team' : '两级审批');
    // nothing of the title is cut off: it fits the phone's width
    const box = await title.boundingBox();
    expect(box!.x).toBeGreaterThanOrEqual(0);
    expect(box!.x + box!.width).toBeLessThanOrEqual(390 + 0.5);
    const cut = await title.evaluate((el) => {
      for (let e: Element | null = el; e && !e.classList.contains("ant-card"); e = e.parentElement) if (e.scrollWidth > e.clientWidth + 1) return true;
      return false;
    });
    expect(cut).toBe(false);
    await shot(page, info, `rfn-run-title-${lang}-390`);
    await page.context().clearCookies();
    await page.evaluate(() => localStorage.clear());
  }
});
