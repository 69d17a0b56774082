import { expect, test } from '@playwright/test';
import { login } from './helpers';

// First-page timings (issue #19's figures): the login form and the app list, with a cold cache,
// at full speed and at 4x CPU slowdown (Chrome DevTools' throttling). Printed, not asserted
// against a time: `make bench-ui` runs it (TESSERA_BENCH_UI=1); the suite skips it.
test.skip(!process.env.TESSERA_BENCH_UI, 'a measurement: make bench-ui');

for (const rate of [1, 4]) {
  test(`first page at ${rate}x CPU slowdown`, async ({ browser }) => {
    test.setTimeout(600_000);
    const times: Record<string, number[]> = { login: [], apps: [] };
    for (let i = 0; i < 3; i++) {
      const ctx = await browser.newContext(); // a cold cache every time
      const page = await ctx.newPage();
      const cdp = await ctx.newCDPSession(page);
      await cdp.send('Emulation.setCPUThrottlingRate', { rate });
      let t0 = Date.now();
      await page.goto('/login');
      await expect(page.getByTestId('login-submit')).toBeVisible({ timeout: 120_000 });
      times.login.push(Date.now() - t0);
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
      await login(page);
      // the app list after a fresh load (what a returning user opens)
      const fresh = await ctx.newPage();
      const cdp2 = await ctx.newCDPSession(fresh);
      await cdp2.send('Emulation.setCPUThrottlingRate', { rate });
      t0 = Date.now();
      await fresh.goto('/');
      await expect(fresh.getByTestId('side-nav')).toBeVisible({ timeout: 120_000 });
      times.apps.push(Date.now() - t0);
      await ctx.close();
    }
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    console.log(`first page at ${rate}x CPU: login form visible median ${med(times.login)} ms (${times.login.join(', ')}); app list median ${med(times.apps)} ms (${times.apps.join(', ')})`);
  });
}
