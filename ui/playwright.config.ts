import { defineConfig } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The e2e suite drives Debian's chromium against the real server (../bin/tessera, built by `make build`)
// on a fresh data directory. E2E_BASE_URL points it at an already running UI instead (development).
// The server's log (one JSON line per request) goes to e2e-server.log (TESSERA_E2E_LOG), not the console.
const PORT = Number(process.env.TESSERA_E2E_PORT ?? 18931);
const external = process.env.E2E_BASE_URL;
const serverLog = process.env.TESSERA_E2E_LOG ?? join(import.meta.dirname, 'e2e-server.log');
if (!external && !process.env.TESSERA_E2E_DATA_DIR) {
  // set once in the main process; workers inherit it, so everyone agrees on the directory
  const dir = mkdtempSync(join(tmpdir(), 'tessera-e2e-'));
  process.env.TESSERA_E2E_DATA_DIR = dir;
  // Removed when the run ends. Not in a globalTeardown: that runs while the web server (and its
  // private PostgreSQL in this directory) is still up; the main process exits only after the
  // server has shut down (gracefulShutdown below).
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
}

export default defineConfig({
  testDir: './e2e',
  timeout: 120_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: process.env.CI ? [['list']] : [['list']],
  use: {
    baseURL: external ?? `http://127.0.0.1:${PORT}`,
    locale: 'zh-CN',
    viewport: { width: 1400, height: 900 },
    screenshot: 'only-on-failure',
    trace: 'off',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage'],
    },
  },
  projects: [{ name: 'chromium', use: { browserName: 'chromium' } }],
  webServer: external
    ? undefined
    : {
        command: `exec "${process.env.TESSERA_BIN ?? '../bin/tessera'}" serve 2>"${serverLog}"`,
        url: `http://127.0.0.1:${PORT}/healthz`,
        timeout: 120_000,
        reuseExistingServer: false,
        stdout: 'ignore',
        stderr: 'pipe',
        // SIGTERM lets the server stop its private PostgreSQL before the data directory is removed.
        gracefulShutdown: { signal: 'SIGTERM', timeout: 30_000 },
        env: {
          TESSERA_DATA_DIR: process.env.TESSERA_E2E_DATA_DIR!,
          TESSERA_ADDR: `127.0.0.1:${PORT}`,
          TESSERA_ADMIN_EMAIL: 'admin@example.com',
          TESSERA_ADMIN_PASSWORD: 'admin-password-1',
          DATABASE_URL: '',
        },
      },
});
