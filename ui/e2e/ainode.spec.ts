import { expect, test, type Page } from '@playwright/test';
import { login, RUN, seedLeadApp } from './helpers';

/** Picks an option of the antd select (or auto-complete) with this test id by its visible text. */
async function choose(page: Page, testId: string, text: string | RegExp) {
  await page.getByTestId(testId).click();
  await page.locator('.ant-select-dropdown:visible .ant-select-item-option').filter({ hasText: text }).first().click();
}

// An analyst sets up the three AI steps of a flow with pickers only: the app's AI credential,
// a model from the provider's list, the extract schema from checked fields of the lead, the
// classify labels as tags and the summarised record from the trigger; then publishes.
test('AI node: credential, model, extract fields, classify labels and the summarised record are picked, not typed as JSON', async ({ page, request }) => {
  const app = `ai${RUN}`;
  const auth = await seedLeadApp(request, app);
  // the provider's address is not reachable (loopback is not allow-listed): the model list is
  // DeepSeek's known models
  const cred = await request.post(`/api/v1/apps/${app}/credentials`, { headers: auth, data: { name: 'deepseek', connector: 'ai', values: { provider: 'deepseek', base_url: 'http://127.0.0.1:9/v1', api_key: 'sk-e2e' } } });
  expect(cred.status()).toBe(201);
  const flow = {
    slug: 'triage',
    trigger: { type: 'record.created', entity: 'lead' },
    nodes: [
      { id: 'extract', type: 'connector', params: { connector: 'ai', operation: 'extract' } },
      { id: 'classify', type: 'connector', params: { connector: 'ai', operation: 'classify' } },
      { id: 'brief', type: 'connector', params: { connector: 'ai', operation: 'summarise_record' } },
    ],
    edges: [{ from: 'extract', to: 'classify' }, { from: 'classify', to: 'brief' }],
  };
  expect((await request.put(`/api/v1/apps/${app}/flows/triage`, { headers: auth, data: flow })).ok()).toBeTruthy();

  await login(page, 'zh-CN');
  await page.goto(`/apps/${app}/flows/triage/design`);

  // extract: credential, model, entity, fields
  await page.getByTestId('flow-node-extract').click();
  await expect(page.getByTestId('ai-node-form')).toBeVisible();
  await choose(page, 'ai-credential', 'deepseek');
  await page.getByTestId('ai-model').click();
  await page.locator('.ant-select-dropdown:visible').getByText(/deepseek-reasoner/).first().click();
  await choose(page, 'ai-entity', '线索');
  await expect(page.getByTestId('ai-field-type-amount')).toHaveText('数字');
  await expect(page.getByTestId('ai-field-type-stage')).toHaveText('4 个选项之一');
  await expect(page.getByTestId('ai-field-files').locator('input')).toBeDisabled();
  await page.getByTestId('ai-field-name').locator('input').check();
  await page.getByTestId('ai-field-amount').locator('input').check();
  await page.getByText('发送给模型的 JSON 模式').click();
  await expect(page.getByTestId('ai-schema')).toContainText('"amount"');
  await expect(page.getByTestId('ai-schema')).not.toContainText('"stage"');
  await page.getByTestId('param-text').locator('textarea').fill('{{ trigger.record.name }}');

  // classify: labels as tags
  await page.getByTestId('flow-node-classify').click();
  await choose(page, 'ai-credential', 'deepseek');
  const tags = page.getByTestId('ai-labels').locator('input');
  await tags.fill('购买意向');
  await tags.press('Enter');
  await tags.fill('售后');
  await tags.press('Enter');
  await page.getByTestId('param-text').locator('textarea').fill('{{ trigger.record.name }}');

  // summarise: the trigger's record is preset, the credential is optional
  await page.getByTestId('flow-node-brief').click();
  await choose(page, 'ai-credential', 'deepseek');
  await page.getByTestId('ai-optional').click();
  await expect(page.getByTestId('ai-record')).toContainText('触发记录');

  await page.getByTestId('def-publish').click();
  await expect(page.getByText(/已发布版本 1/)).toBeVisible();
  const got = await (await request.get(`/api/v1/apps/${app}/flows/triage`, { headers: auth })).json();
  const nodes = (got.def ?? got.definition ?? got).nodes as { id: string; params: Record<string, unknown> }[];
  const byId = Object.fromEntries(nodes.map((n) => [n.id, n.params]));
  expect(byId.extract).toMatchObject({ credential: 'deepseek', input: { model: 'deepseek-reasoner', entity: 'lead', fields: ['name', 'amount'], text: '{{ trigger.record.name }}' } });
  expect(byId.classify).toMatchObject({ credential: 'deepseek', input: { labels: ['购买意向', '售后'] } });
  expect(byId.brief).toMatchObject({ credential: 'deepseek', optional: true, input: { entity: 'lead', record_id: '{{ trigger.record.id }}' } });
});
