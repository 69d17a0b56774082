import { expect, test, type Page } from '@playwright/test';
import { login } from './helpers';

// The server's Content-Security-Policy (server/api/secheaders.go) allows no inline script: the
// app must still load and run under it, with no violation reported by the browser.
function watchViolations(page: Page): string[] {
  const violations: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
  });
  return violations;
}

test('the app runs under its Content-Security-Policy', async ({ page, request }) => {
  const violations = watchViolations(page);
  const res = await request.get('/');
  const csp = res.headers()['content-security-policy'] ?? '';
  expect(csp).toContain("script-src 'self'");
  expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
  expect(res.headers()['x-frame-options']).toBe('DENY');
  expect(res.headers()['x-content-type-options']).toBe('nosniff');

  await login(page);
  for (const path of ['/apps', '/tasks', '/admin/users', '/admin/roles', '/admin/audit']) {
    await page.goto(path);
    await expect(page.getByTestId('side-nav')).toBeVisible();
  }
  expect(violations).toEqual([]);

  // the policy is enforced: an injected inline script does not run, and the browser says so
  await page.evaluate(() => {
    const s = document.createElement('script');
    s.textContent = 'window.__injected = 1';
    document.head.appendChild(s);
  });
  expect(await page.evaluate(() => (window as unknown as { __injected?: number }).__injected)).toBeUndefined();
  await expect.poll(() => violations.length).toBeGreaterThan(0);
});
