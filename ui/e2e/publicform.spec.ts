import { expect, test, type APIRequestContext } from '@playwright/test';
import { RUN, token } from './helpers';

// A 1×1 PNG (the anonymous visitor's photo).
const PHOTO = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

/** An app with a repair entity and a public form: a section with a photo, a conditional field. */
async function seed(request: APIRequestContext, app: string): Promise<{ pid: string; auth: Record<string, string> }> {
  const auth = { Authorization: `Bearer ${await token(request)}` };
  expect((await request.post('/api/v1/apps', { headers: auth, data: { slug: app, name: `Public ${app}` } })).status()).toBe(201);
  const ent = {
    slug: 'repair',
    label: { en: 'Repair', 'zh-CN': '报修' },
    fields: [
      { key: 'issue', type: 'text', label: { en: 'Issue', 'zh-CN': '问题描述' } },
      { key: 'kind', type: 'select', label: { en: 'Kind', 'zh-CN': '类型' }, options: [{ value: 'device', label: { en: 'Device', 'zh-CN': '设备' } }, { value: 'other', label: { en: 'Other', 'zh-CN': '其他' } }] },
      { key: 'other_detail', type: 'text', label: { en: 'Please specify', 'zh-CN': '请说明' } },
      { key: 'photo', type: 'attachment', label: { en: 'Photo', 'zh-CN': '照片' }, accept: ['image/*'], multiple: true },
      { key: 'visits', type: 'number', label: { en: 'Visits', 'zh-CN': '次数' } },
      { key: 'day', type: 'date', label: { en: 'Day', 'zh-CN': '日期' } },
    ],
  };
  expect((await request.put(`/api/v1/apps/${app}/entities/repair`, { headers: auth, data: ent })).status()).toBeLessThan(300);
  expect((await request.post(`/api/v1/apps/${app}/entities/repair/publish`, { headers: auth })).status()).toBe(200);
  const form = {
    slug: 'fix',
    entity: 'repair',
    public: true,
    title: { en: 'Report a repair', 'zh-CN': '在线报修' },
    success: { message: { en: 'Thanks, we are on it.', 'zh-CN': '已收到，我们会尽快处理。' } },
    layout: [
      { field: 'issue', required: true },
      { field: 'kind', required: true },
      { field: 'other_detail', required: true, visible: 'record.kind == "other"' },
      { section: { en: 'Details', 'zh-CN': '详细信息' }, columns: 2, items: [{ field: 'photo', required: true }, { field: 'visits' }, { field: 'day' }] },
    ],
  };
  expect((await request.put(`/api/v1/apps/${app}/forms/fix`, { headers: auth, data: form })).status()).toBeLessThan(300);
  expect((await request.post(`/api/v1/apps/${app}/forms/fix/publish`, { headers: auth })).status()).toBe(200);
  const pid = (await (await request.get(`/api/v1/apps/${app}/forms/fix`, { headers: auth })).json()).public_id as string;
  expect(pid).toBeTruthy();
  return { pid, auth };
}

test('anonymous at 390 px submits a public form with a photo, a section and a conditional field; the record holds the file', async ({ browser, request }) => {
  test.setTimeout(120_000);
  const app = `pf${RUN}`;
  const { pid, auth } = await seed(request, app);

  // the page at desktop width in both languages (screenshots)
  for (const lang of ['zh-CN', 'en'] as const) {
    const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: lang });
    const p = await ctx.newPage();
    await p.goto(`/f/${pid}?lang=${lang}`);
    await expect(p.locator('h1')).toHaveText(lang === 'en' ? 'Report a repair' : '在线报修');
    await expect(p.locator('#f-other_detail')).toBeHidden();
    await p.screenshot({ path: `test-results/publicform-1440-${lang}.png`, fullPage: true });
    await ctx.close();
  }

  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN', isMobile: true, hasTouch: true });
  const page = await ctx.newPage();
  await page.goto(`/f/${pid}`);
  await expect(page.getByRole('heading', { name: '详细信息' })).toBeVisible();
  await expect(page.locator('#f-other_detail')).toBeHidden();

  // a submission without the required values answers in Chinese only, with the form's labels
  await page.locator('#send').click();
  await expect(page.locator('#e-issue')).toHaveText('问题描述为必填项');
  await expect(page.locator('#e-photo')).toContainText('照片');
  await expect(page.locator('#e-photo')).not.toContainText(/[A-Za-z]{3,}/);

  await page.locator('#i-issue').fill('打印机卡纸');
  // fixing a field clears its error at once, before the next submit
  await expect(page.locator('#e-issue')).toHaveText('');
  // the conditional field appears live once "other" is chosen
  await page.locator('#i-kind').selectOption('other');
  await expect(page.locator('#f-other_detail')).toBeVisible();
  await page.locator('#i-other_detail').fill('三楼打印机');
  await page.locator('#i-visits').fill('2');
  await page.locator('#i-day').fill('2026-12-01');

  // a file type the field does not accept is refused in Chinese; the photo uploads
  await page.locator('#u-photo').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
  await expect(page.locator('#e-photo')).toContainText('不支持此文件类型');
  await page.locator('#u-photo').setInputFiles({ name: 'jam.png', mimeType: 'image/png', buffer: PHOTO });
  await expect(page.locator('#l-photo li', { hasText: 'jam.png' })).toBeVisible();
  await expect(page.locator('#e-photo')).toHaveText('');
  await page.screenshot({ path: 'test-results/publicform-390-zh-CN.png', fullPage: true });

  await page.locator('#send').click();
  await expect(page.locator('#done')).toHaveText('已收到，我们会尽快处理。');
  await page.screenshot({ path: 'test-results/publicform-390-zh-CN-done.png', fullPage: true });

  // the English page at 390 px
  const en = await ctx.newPage();
  await en.goto(`/f/${pid}?lang=en`);
  await expect(en.getByRole('heading', { name: 'Details' })).toBeVisible();
  await en.locator('#send').click();
  await expect(en.locator('#e-issue')).toHaveText('Issue is required');
  await expect(en.locator('#formerr')).not.toContainText(/\p{Script=Han}/u);
  await en.screenshot({ path: 'test-results/publicform-390-en.png', fullPage: true });
  await ctx.close();

  // as admin: the record holds the photo, the section's values and the conditional field
  const list = await (await request.get(`/api/v1/apps/${app}/entities/repair/records`, { headers: auth })).json();
  const rec = (list.items ?? list.records ?? list.data ?? []).find((r: { data: Record<string, unknown> }) => r.data.issue === '打印机卡纸');
  expect(rec).toBeTruthy();
  expect(rec.data.other_detail).toBe('三楼打印机');
  expect(rec.data.visits).toBe(2);
  const photos = rec.data.photo as { id: string; name: string; type: string }[];
  expect(photos.map((p) => p.name)).toEqual(['jam.png']);
  expect(photos[0].type).toBe('image/png');
  const file = await request.get(`/api/v1/files/${photos[0].id}`, { headers: auth });
  expect(file.status()).toBe(200);
  expect((await file.body()).equals(PHOTO)).toBeTruthy();
  // an anonymous caller (no cookies, no token) cannot read it back
  const anon = await browser.newContext();
  expect((await anon.request.get(`/api/v1/files/${photos[0].id}`)).status()).toBe(401);
  await anon.close();
});
