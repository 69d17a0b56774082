import { expect, test, type Locator, type Page } from '@playwright/test';
import { RUN, hasRoute, login, seedLeadApp } from './helpers';

async function drag(page: Page, from: Locator, to: Locator) {
  const a = (await from.boundingBox())!;
  const b = (await to.boundingBox())!;
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move(a.x + a.width / 2 + 10, a.y + a.height / 2, { steps: 3 });
  await page.mouse.move(b.x + b.width / 2, b.y + 40, { steps: 12 });
  await page.mouse.up();
}

test('pipeline drag is blocked by a stage gate until the quote is attached', async ({ page, request }) => {
  test.skip(!(await hasRoute(request, '/api/v1/apps/{app}/entities/{entity}/records')) || !(await hasRoute(request, '/api/v1/files')), 'records/files API not available');
  test.setTimeout(240_000);
  const app = `gate${RUN}`;
  const auth = await seedLeadApp(request, app);
  const created = await request.post(`/api/v1/apps/${app}/entities/lead/records`, { headers: auth, data: { name: '李四', phone: '139 0013 9000', amount: 80000, stage: 'proposal' } });
  expect(created.status()).toBe(201);
  const rec = await created.json();

  await login(page);
  await page.goto(`/apps/${app}/entities/lead`);
  await expect(page.getByTestId('records-table')).toContainText('李四');
  await expect(page.getByTestId('records-table')).toContainText('+8613900139000'); // phone normalised by the server
  await page.getByTestId('view-switch').getByText('阶段看板').click();
  const card = page.getByTestId(`kanban-card-${rec.id}`);
  await expect(page.getByTestId('kanban-col-proposal')).toContainText('李四');

  // gate: no quote attached yet
  await drag(page, card, page.getByTestId('kanban-col-negotiation'));
  await expect(page.getByTestId('gate-message')).toHaveText('请上传带客户名称的正式报价单');
  await page.getByRole('button', { name: /知道了|OK/ }).click();
  await expect(page.getByTestId('kanban-col-proposal')).toContainText('李四');

  // attach 报价单.pdf through the record drawer (POST /files, then PATCH {"files":[{"id"}]})
  await card.click(); // one click opens a card
  await page.getByTestId('attachment-upload').locator('..').locator('input[type=file]').setInputFiles({ name: '报价单-上海某科技.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4\n%%EOF\n') });
  await expect(page.getByText('报价单-上海某科技.pdf')).toBeVisible();
  await page.getByTestId('record-save').click();
  await expect(page.getByText('记录已保存')).toBeVisible();
  await expect(page.getByTestId('record-form')).toBeHidden();

  // now the move passes
  await drag(page, page.getByTestId(`kanban-card-${rec.id}`), page.getByTestId('kanban-col-negotiation'));
  await expect(page.getByTestId('kanban-col-negotiation')).toContainText('李四');
  await expect(page.getByText(/已移至 negotiation/)).toBeVisible();

  // the timeline lists the changes
  await page.getByTestId(`kanban-card-${rec.id}`).click();
  await page.getByRole('tab', { name: '时间线' }).click();
  await expect(page.getByTestId('record-timeline')).toContainText('negotiation');
});
