import { expect, test } from '@playwright/test';
import { RUN, login, token } from './helpers';

// The flow builder as an analyst sees it: pickers for every parameter, a test run on a contract
// chosen by name with each node's state on the canvas, and a fast-forwarded approval timeout.
test('flow builder: pickers, test run on a record, fast-forward', async ({ page, request }) => {
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
  const flow = {
    slug: 'big-deal', trigger: { type: 'record.created', entity: 'contract' },
    nodes: [
      { id: 'condition_1', type: 'condition', name: '金额大于 50 万', params: { expr: 'trigger.record.amount > 500000' }, position: { x: 80, y: 160 } },
      { id: 'approval_1', type: 'approval', name: '总监与法务审批', position: { x: 80, y: 280 },
        params: { title: '{{ trigger.record.name }}', levels: [{ name: '总监', assignees: ['starter'], mode: 'any' }, { name: '法务', assignees: ['starter'], mode: 'any' }], timeout: '7d', on_timeout: 'reject' } },
      { id: 'record_update_1', type: 'record.update', name: '标记为已批准', position: { x: 80, y: 400 }, params: { entity: 'contract', id: '{{ trigger.record.id }}', values: { status: 'approved' } } },
    ],
    edges: [{ from: 'condition_1', to: 'approval_1', port: 'true' }, { from: 'approval_1', to: 'record_update_1', port: 'approved' }],
  };
  expect((await request.put(`/api/v1/apps/${app}/flows/big-deal`, { headers: auth, data: flow })).ok()).toBeTruthy();

  for (const lang of ['zh-CN', 'en'] as const) {
    await page.setViewportSize({ width: 1440, height: 1000 });
    await login(page, lang);
    await page.goto(`/apps/${app}/flows/big-deal/design`);
    await expect(page.getByTestId('flow-node-trigger')).toBeVisible();
    await page.getByTestId('flow-node-approval_1').click();
    await expect(page.getByTestId('approval-level-0')).toBeVisible();
    await expect(page.getByTestId('approval-level-1')).toBeVisible();
    await page.screenshot({ path: `test-results/flowbuilder-approval-${lang}-1440.png`, fullPage: true });
    await page.getByTestId('flow-node-record_update_1').click();
    await expect(page.getByTestId('fvm-row-status')).toBeVisible();
    await page.screenshot({ path: `test-results/flowbuilder-mapper-${lang}-1440.png`, fullPage: true });
    await page.getByTestId('flow-node-condition_1').click();
    await expect(page.getByTestId('param-expr-condition')).toBeVisible();
    await page.screenshot({ path: `test-results/flowbuilder-condition-${lang}-1440.png`, fullPage: true });
    await page.setViewportSize({ width: 390, height: 900 });
    await page.screenshot({ path: `test-results/flowbuilder-designer-${lang}-390.png`, fullPage: true });
  }

  // test run on the contract chosen by name (publishes the draft first)
  await page.setViewportSize({ width: 1440, height: 1000 });
  await page.getByTestId('flow-run').click();
  await page.getByTestId('test-record').click();
  await page.getByTitle('华东大单').click();
  await page.getByTestId('flow-run-ok').click();
  await expect(page.getByTestId('test-run-banner')).toHaveAttribute('data-status', 'waiting', { timeout: 60_000 });
  await expect(page.getByTestId('flow-node-condition_1')).toHaveAttribute('data-status', 'succeeded');
  await expect(page.getByTestId('flow-node-approval_1')).toHaveAttribute('data-status', 'waiting');
  await page.getByTestId('flow-node-condition_1').click();
  await expect(page.getByTestId('node-last-run')).toBeVisible();
  await page.screenshot({ path: 'test-results/flowbuilder-testrun-en-1440.png', fullPage: true });
  // a 7-day approval timeout, fast-forwarded: the approval rejects, the run succeeds
  await page.getByTestId('fast-forward').click();
  await expect(page.getByTestId('test-run-banner')).toHaveAttribute('data-status', 'succeeded', { timeout: 60_000 });
  await expect(page.getByTestId('flow-node-approval_1')).toHaveAttribute('data-status', 'succeeded');
  await page.screenshot({ path: 'test-results/flowbuilder-fastforward-en-1440.png', fullPage: true });
});
