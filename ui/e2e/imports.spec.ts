import { expect, test, type APIRequestContext, type Page, type Route } from '@playwright/test';
import { RUN, token, loginAs } from './helpers';

// The import wizard follows a large import: a CSV of a few thousand rows chosen with the file
// picker is checked and imported in one request each, and the progress bar shows rows done of
// the total from GET /api/v1/imports/{id} while the server works; then the per-row errors.
const APP = `imp${RUN}`;
const REP = { email: `imp-rep-${RUN}@example.com`, password: 'rep-password-12345', name: '导入员' };
const ROWS = 3000;

const deal = {
  slug: 'deal',
  label: { en: 'Deal', 'zh-CN': '商机' },
  title_field: 'name',
  fields: [
    { key: 'name', type: 'text', required: true, label: { en: 'Name', 'zh-CN': '名称' } },
    { key: 'amount', type: 'money', label: { en: 'Amount', 'zh-CN': '金额' } },
  ],
};

async function seed(request: APIRequestContext) {
  const auth = { Authorization: `Bearer ${await token(request)}` };
  expect((await request.post('/api/v1/apps', { headers: auth, data: { slug: APP, name: `Imports ${RUN}` } })).status()).toBe(201);
  expect((await request.put(`/api/v1/apps/${APP}/entities/deal`, { headers: auth, data: deal })).ok()).toBeTruthy();
  expect((await request.post(`/api/v1/apps/${APP}/entities/deal/publish`, { headers: auth })).ok()).toBeTruthy();
  const role = await request.put('/api/v1/admin/roles', {
    headers: auth,
    data: { app: APP, name: 'importer', permissions: [{ resource: 'app', actions: ['read'], scope: 'all' }, { resource: 'entity:deal', actions: ['read', 'create'], scope: 'all' }] },
  });
  expect(role.ok()).toBeTruthy();
  const r = await request.post('/api/v1/admin/users', { headers: auth, data: { email: REP.email, password: REP.password, name: REP.name } });
  expect(r.status()).toBe(201);
  expect((await request.put(`/api/v1/admin/users/${(await r.json()).id}/roles`, { headers: auth, data: { roles: [{ app: APP, role: 'importer' }] } })).ok()).toBeTruthy();
}

/** A CSV of n deals named `<tag> 00001` …; the row at bad has no name (its file line is bad + 2). */
function csv(tag: string, n: number, bad: number): Buffer {
  const lines = ['名称,Amount'];
  for (let i = 0; i < n; i++) lines.push(i === bad ? `,${i}` : `${tag} ${String(i).padStart(5, '0')},${i * 10}`);
  return Buffer.from(lines.join('\n') + '\n');
}

/**
 * Holds the answer of each import request (the server has finished it) until the progress bar
 * shows what the server reported for it, takes the screenshot, then lets the answer through: the
 * bar is seen however fast the machine imports.
 */
function holdImports(page: Page, want: () => { text: string | RegExp; shot?: string }) {
  return page.route(
    (url) => url.pathname.endsWith(`/apps/${APP}/entities/deal/import`),
    async (route: Route) => {
      if (route.request().method() !== 'POST') return route.continue();
      const url = new URL(route.request().url());
      expect(url.searchParams.get('progress')).toMatch(/^[A-Za-z0-9_-]{8,64}$/);
      const res = await route.fetch();
      const w = want();
      await expect(page.getByTestId('import-progress')).toBeVisible();
      await expect(page.getByTestId('import-progress-text')).toHaveText(w.text);
      if (w.shot) {
        // the bar's width is a CSS transition: shoot it when it has arrived
        await page.waitForFunction(() => document.querySelector('[data-testid=import-progress]')?.getAnimations({ subtree: true }).every((a) => a.playState !== 'running'));
        await page.screenshot({ path: w.shot });
      }
      await route.fulfill({ response: res });
    },
  );
}

/** Records the texts the progress line shows (a MutationObserver), to report the steps seen. */
async function watchProgress(page: Page) {
  await page.evaluate(() => {
    const w = window as unknown as { __seen: string[] };
    w.__seen = [];
    new MutationObserver(() => {
      const t = document.querySelector('[data-testid=import-progress-text]')?.textContent;
      if (t && w.__seen[w.__seen.length - 1] !== t) w.__seen.push(t);
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
}

test('the import wizard shows the progress of a 3,000-row CSV, then the per-row errors and the result', async ({ page, request }) => {
  test.setTimeout(240_000);
  await seed(request);

  // 1440, zh-CN: check (dry run) and import of the good rows, each followed by the bar.
  await page.setViewportSize({ width: 1440, height: 900 });
  await loginAs(page, REP, 'zh-CN');
  await page.goto(`/apps/${APP}/entities/deal`);
  await expect(page.getByTestId('import-open')).toBeVisible();
  let step = { text: '已处理 3,000 / 3,000 行', shot: 'test-results/imports-progress-check-1440-zh.png' };
  await holdImports(page, () => step);
  await page.getByTestId('import-open').click();
  await page.locator('.ant-modal input[type=file]').setInputFiles({ name: 'deals.csv', mimeType: 'text/csv', buffer: csv(`impz${RUN}`, ROWS, 41) });
  await expect(page.getByTestId('import-mapping')).toBeVisible();
  await expect(page.getByTestId('import-map-0')).toContainText('名称');
  await expect(page.getByTestId('import-map-1')).toContainText('金额');
  await watchProgress(page);
  await page.getByTestId('import-check').click();
  await expect(page.getByTestId('import-preview')).toBeVisible();
  await expect(page.getByTestId('import-bad')).toHaveText('1 行有错误');
  await expect(page.getByTestId('import-good')).toHaveText('2999 行可导入');
  await expect(page.getByTestId('import-errors')).toContainText('43'); // file line of the row without a name
  await expect(page.getByTestId('import-progress')).toHaveCount(0);
  await page.screenshot({ path: 'test-results/imports-check-1440-zh.png' });

  step = { text: '已处理 3,000 / 3,000 行', shot: 'test-results/imports-progress-run-1440-zh.png' };
  await page.getByTestId('import-partial').click();
  await expect(page.getByTestId('import-result')).toContainText('新建 2999 条');
  await expect(page.getByTestId('import-result')).toContainText('已跳过 1 行');
  await expect(page.getByTestId('import-errors')).toContainText('43');
  await page.screenshot({ path: 'test-results/imports-result-1440-zh.png' });
  console.log('progress lines seen (zh):', JSON.stringify(await page.evaluate(() => (window as unknown as { __seen: string[] }).__seen)));
  await page.getByTestId('import-close').click();
  await expect(page.getByTestId('records-table').locator('tbody tr', { hasText: `impz${RUN} ` }).first()).toBeVisible();

  // 390, en: another file, imported whole after the check.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.evaluate(() => localStorage.setItem('tessera.lang', 'en'));
  await page.goto(`/apps/${APP}/entities/deal`);
  await expect(page.getByTestId('import-open')).toBeVisible();
  step = { text: '2,000 of 2,000 rows', shot: 'test-results/imports-progress-check-390-en.png' };
  await page.getByTestId('import-open').click();
  await page.locator('.ant-modal input[type=file]').setInputFiles({ name: 'more-deals.csv', mimeType: 'text/csv', buffer: csv(`impe${RUN}`, 2000, -1) });
  await expect(page.getByTestId('import-mapping')).toBeVisible();
  await watchProgress(page);
  await page.getByTestId('import-check').click();
  await expect(page.getByTestId('import-good')).toHaveText('2000 rows ready');
  await expect(page.getByTestId('import-bad')).toHaveCount(0);
  step = { text: '2,000 of 2,000 rows', shot: 'test-results/imports-progress-run-390-en.png' };
  await page.getByTestId('import-all').click();
  await expect(page.getByTestId('import-result')).toContainText('2000 created, 0 merged');
  await page.screenshot({ path: 'test-results/imports-result-390-en.png' });
  console.log('progress lines seen (en):', JSON.stringify(await page.evaluate(() => (window as unknown as { __seen: string[] }).__seen)));
});
