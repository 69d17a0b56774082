import { expect, type APIRequestContext, type Locator, type Page } from '@playwright/test';

export const ADMIN = { email: 'admin@example.com', password: 'admin-password-1' };

/** A short suffix that keeps slugs unique when the suite runs against a reused server. */
export const RUN = Date.now().toString(36).slice(-5);

let paths: string[] | null = null;

/** The server's documented routes (from /api/v1/openapi.json), to skip checks of routes that do not exist yet. */
export async function routes(request: APIRequestContext): Promise<string[]> {
  if (paths) return paths;
  const res = await request.get('/api/v1/openapi.json');
  const doc = res.ok() ? await res.json() : { paths: {} };
  paths = Object.keys(doc.paths ?? {}).map((p) => p.replace(/\{[^}]+\}/g, ':p').replace(/:[a-z_]+/g, ':p'));
  return paths;
}

export async function hasRoute(request: APIRequestContext, path: string): Promise<boolean> {
  const norm = path.replace(/\{[^}]+\}/g, ':p').replace(/:[a-z_]+/g, ':p');
  return (await routes(request)).includes(norm);
}

/** A user to sign in as: the seeded admin or a user a spec created. */
export type Who = { email: string; password: string };

/** Logs the admin in through the login page (zh-CN by default). */
export async function login(page: Page, lang: 'zh-CN' | 'en' = 'zh-CN') {
  await loginAs(page, ADMIN, lang);
}

/** Logs a user in through the login page, in the given language, and waits until the app shell is there. */
export async function loginAs(page: Page, who: Who, lang: 'zh-CN' | 'en' = 'zh-CN') {
  await page.goto('/login');
  await page.evaluate((l) => localStorage.setItem('tessera.lang', l), lang);
  await page.reload();
  await page.getByTestId('login-email').fill(who.email);
  await page.getByTestId('login-password').fill(who.password);
  await page.getByTestId('login-submit').click();
  await expect(page).not.toHaveURL(/\/login/, { timeout: 30_000 });
  await expect(page.getByTestId('user-menu')).toBeVisible(); // signed in (the side nav is a drawer on phones)
}

/** A bearer token for API set-up steps. */
export async function token(request: APIRequestContext): Promise<string> {
  const res = await request.post('/api/v1/auth/login', { data: ADMIN });
  expect(res.ok()).toBeTruthy();
  return (await res.json()).token;
}

/** Creates (or reuses) an app and publishes a lead entity with a stage gate through the API. */
export async function seedLeadApp(request: APIRequestContext, slug: string) {
  const auth = { Authorization: `Bearer ${await token(request)}` };
  const r = await request.post('/api/v1/apps', { headers: auth, data: { slug, name: `Seed ${slug}` } });
  expect([201, 409]).toContain(r.status());
  const lead = {
    slug: 'lead',
    label: { en: 'Lead', 'zh-CN': '线索' },
    fields: [
      { key: 'name', type: 'text', required: true, label: { en: 'Name', 'zh-CN': '姓名' } },
      { key: 'phone', type: 'phone' },
      { key: 'amount', type: 'money' },
      { key: 'stage', type: 'select', options: ['new', 'proposal', 'negotiation', 'won'] },
      { key: 'files', type: 'attachment', multiple: true },
    ],
    stages: {
      field: 'stage',
      order: ['new', 'proposal', 'negotiation', 'won'],
      transitions: [{ from: 'proposal', to: 'negotiation', require: 'any(record.files, {.name contains "报价单"})', message: '请上传带客户名称的正式报价单' }],
    },
  };
  expect((await request.put(`/api/v1/apps/${slug}/entities/lead`, { headers: auth, data: lead })).ok()).toBeTruthy();
  expect((await request.post(`/api/v1/apps/${slug}/entities/lead/publish`, { headers: auth })).ok()).toBeTruthy();
  return auth;
}

/**
 * Clicks a control inside an antd Modal, Popover or Dropdown once the overlay has finished moving
 * in. A click sent while the overlay still moves lands where the control was a frame earlier:
 * under CPU load the OK click of "new entity" hit the dialog body, a column toggle in the list's
 * column chooser missed its checkbox, and a stage in the record page's "later stages" menu was
 * never chosen. Waits on the overlay's motion classes (state), not on time.
 */
export async function clickSettled(control: Locator) {
  await expect(control).toBeVisible();
  const overlay = control.locator("xpath=ancestor::div[contains(concat(' ', normalize-space(@class), ' '), ' ant-modal ') or contains(concat(' ', normalize-space(@class), ' '), ' ant-popover ') or contains(concat(' ', normalize-space(@class), ' '), ' ant-dropdown ')][1]");
  if (await overlay.count()) await expect(overlay).not.toHaveClass(/ant-(zoom(-big)?|slide-(up|down))-(appear|enter)/);
  await control.click();
}
