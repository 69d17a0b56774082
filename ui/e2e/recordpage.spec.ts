import { expect, test, type APIRequestContext, type Page } from '@playwright/test';
import { RUN, clickSettled, token, loginAs } from './helpers';

// The record page as a sales rep of the sales template: related panels with a quick create, an
// image attachment with a lightbox, the stage bar's gate message before a move, and the moves.
const APP = `rp${RUN}`;
const REP = { email: `rp-rep-${RUN}@example.com`, password: 'rep-password-12345', name: '赵销售' };
// a 2x2 PNG
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAYAAABytg0kAAAAFklEQVR4nGP8z8DwnwEJMDGgAcICAK4+AgO6pJ6CAAAAAElFTkSuQmCC', 'base64');

async function seed(request: APIRequestContext) {
  const auth = { Authorization: `Bearer ${await token(request)}` };
  expect((await request.post('/api/v1/templates/sales/install', { headers: auth, data: { slug: APP } })).status()).toBe(201);
  const u = await request.post('/api/v1/admin/users', { headers: auth, data: { email: REP.email, password: REP.password, name: REP.name } });
  expect(u.status()).toBe(201);
  const repId = (await u.json()).id as string;
  expect((await request.put(`/api/v1/admin/users/${repId}/roles`, { headers: auth, data: { roles: [{ app: APP, role: 'sales_rep' }] } })).ok()).toBeTruthy();
  const login = await request.post('/api/v1/auth/login', { data: { email: REP.email, password: REP.password } });
  const rep = { Authorization: `Bearer ${(await login.json()).token}` };
  const file = await request.post('/api/v1/files', { headers: rep, multipart: { file: { name: '现场照片.png', mimeType: 'image/png', buffer: PNG } } });
  expect(file.status()).toBe(201);
  const acc = await request.post(`/api/v1/apps/${APP}/entities/account/records`, { headers: rep, data: { name: '星河科技' } });
  expect(acc.status()).toBe(201);
  const d = await request.post(`/api/v1/apps/${APP}/entities/deal/records`, {
    headers: rep,
    data: { name: '星河 CRM 项目', account: (await acc.json()).id, amount: 260000, stage: 'proposal', files: [{ id: (await file.json()).id }] },
  });
  expect(d.status()).toBe(201);
  const dealId = (await d.json()).id as string;
  const f = await request.post(`/api/v1/apps/${APP}/entities/followup/records`, { headers: rep, data: { deal: dealId, call_at: '2026-12-01T02:00:00Z', need: '需要移动端', next_step: '安排演示' } });
  expect(f.status()).toBe(201);
  return dealId;
}

/**
 * The stage bar fits its drawer: nothing scrolls sideways, every shown step is inside it. The
 * geometry is read in one go inside the page (one frame), so the drawer's slide-in animation moves
 * the bar and its steps together instead of between two reads.
 */
async function expectBarFits(page: Page) {
  const bar = page.getByTestId('stage-bar');
  await expect.poll(() => bar.evaluate((el) => el.scrollWidth <= el.clientWidth + 1)).toBe(true);
  await expect
    .poll(() =>
      bar.evaluate((el) => {
        const box = el.getBoundingClientRect();
        const steps = Array.from(el.querySelectorAll('[data-testid^=stage-step-], [data-testid^=stage-more-]'));
        const outside = steps
          .map((s) => ({ id: s.getAttribute('data-testid'), r: s.getBoundingClientRect() }))
          .filter(({ r }) => r.left < box.left - 1 || r.right > box.right + 1)
          .map(({ id }) => id);
        return steps.length === 0 ? ['no steps'] : outside;
      }),
    )
    .toEqual([]);
}

async function shot(page: Page, name: string) {
  await page.screenshot({ path: `test-results/recordpage-${name}.png` });
}

test('a rep works a deal on its record page: related records, photo preview, stage gate, stage moves', async ({ page, request }) => {
  test.setTimeout(180_000);
  const dealId = await seed(request);
  await page.setViewportSize({ width: 1440, height: 900 });
  await loginAs(page, REP, 'zh-CN');
  await page.goto(`/apps/${APP}/entities/deal?record=${dealId}`);

  // the stage bar: at 方案报价 (proposal), the next stage's gate message shows before any try
  await expect(page.getByTestId('stage-bar')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('stage-gate-message')).toHaveText('请上传带客户名称的正式报价单');
  await expect(page.getByTestId('stage-step-negotiation')).toHaveAttribute('data-status', 'error');
  await expectBarFits(page);

  // the photo: a thumbnail that opens a lightbox
  const thumb = page.getByTestId('file-image').locator('img').first();
  await expect(thumb).toBeVisible();
  await expect.poll(() => thumb.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(2);
  await shot(page, 'zh-1440');
  await thumb.click();
  await expect(page.locator('.ant-image-preview-img, .ant-image-preview img').first()).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.locator('.ant-image-preview-img, .ant-image-preview img').first()).toBeHidden();

  // related records: the follow-up pointing at the deal, the quotes (none yet), the account
  await page.getByTestId('tab-related').click();
  const followups = page.getByTestId('related-followup-deal');
  await expect(followups.getByTestId('related-count')).toHaveText('1');
  await expect(page.getByTestId('related-panels')).toContainText('安排演示');
  await expect(page.getByTestId('related-quote-deal').getByTestId('related-count')).toHaveText('0');
  await expect(page.getByTestId('related-panels')).toContainText('星河科技');

  // quick create a follow-up: the deal is filled in
  await page.getByTestId('related-create-followup-deal').click();
  const create = page.getByRole('dialog', { name: '新建记录' });
  await expect(create).toContainText('星河 CRM 项目');
  const when = create.locator('.ant-picker input').first();
  await when.click();
  await when.fill('2026-12-08 10:00:00');
  await when.press('Enter');
  await create.getByTestId('input-need').fill('报价确认');
  await create.getByTestId('input-next_step').fill('发送正式报价');
  await create.getByTestId('record-save').click();
  await expect(create).toBeHidden();
  await expect(followups.getByTestId('related-count')).toHaveText('2');
  await expect(page.getByTestId('related-panels')).toContainText('发送正式报价');

  // a move the gate refuses shows its message; an allowed move moves the record
  // (8 stages do not fit the 560 px drawer: contract is in the menu of later stages)
  await page.getByTestId('stage-more-after').click();
  await expect(page.locator('.ant-dropdown').getByTestId('stage-step-contract')).toBeVisible();
  await shot(page, 'zh-1440-stage-menu');
  await clickSettled(page.locator('.ant-dropdown').getByTestId('stage-step-contract'));
  await expect(page.getByTestId('gate-message')).toHaveText('请上传带客户名称的正式报价单');
  await page.getByTestId('stage-step-demo_done').click();
  await expect(page.getByTestId('stage-step-demo_done')).toHaveAttribute('data-status', 'process');
  await expect(page.getByTestId('stage-step-proposal')).toHaveAttribute('data-status', 'wait');
  // the timeline shows who, and the stage change with labels
  await page.getByRole('tab', { name: '时间线' }).click();
  const timeline = page.getByTestId('record-timeline');
  await expect(timeline).toContainText(REP.name);
  await expect(timeline).toContainText(/方案已提交 → 产品演示完成/);
  await shot(page, 'zh-1440-timeline');
  // the move back to proposal passes; the gate message shows again for negotiation
  await page.getByTestId('stage-step-proposal').click();
  await expect(page.getByTestId('stage-step-proposal')).toHaveAttribute('data-status', 'process');
  await expect(page.getByTestId('stage-gate-message')).toBeVisible();

  // the phone, in English
  await page.setViewportSize({ width: 390, height: 844 });
  await loginAs(page, REP, 'en');
  await page.goto(`/apps/${APP}/entities/deal?record=${dealId}`);
  await expect(page.getByTestId('stage-gate-message')).toHaveText("Upload the formal quotation bearing the customer's name", { timeout: 60_000 });
  await expectBarFits(page);
  await expect(page.getByTestId('file-image').locator('img').first()).toBeVisible();
  await shot(page, 'en-390');
  await page.getByTestId('tab-related').click();
  await expect(page.getByTestId('related-followup-deal').getByTestId('related-count')).toHaveText('2');
  await shot(page, 'en-390-related');
  // English at 1440 and Chinese at 390 for the record
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.reload();
  await expect(page.getByTestId('stage-bar')).toBeVisible({ timeout: 60_000 });
  await expectBarFits(page);
  await shot(page, 'en-1440');
  await loginAs(page, REP, 'zh-CN');
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`/apps/${APP}/entities/deal?record=${dealId}`);
  await expect(page.getByTestId('stage-bar')).toBeVisible({ timeout: 60_000 });
  await expectBarFits(page);
  await shot(page, 'zh-390');
});
