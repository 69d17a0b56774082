import { defineConfig } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The e2e suite drives Debian's chromium against the real server (../bin/tessera, built by `make build`)
// on a fresh data directory. E2E_BASE_URL points it at an already running UI instead (development).
const PORT = 18931;
const external = process.env.E2E_BASE_URL;
if (!external && !process.env.TESSERA_E2E_DATA_DIR) {
  // set once in the main process; workers inherit it, so everyone agrees on the directory
  process.env.TESSERA_E2E_DATA_DIR = mkdtempSync(join(tmpdir(), 'tessera-e2e-'));
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
        command: `${process.env.TESSERA_BIN ?? '../bin/tessera'} serve`,
        url: `http://127.0.0.1:${PORT}/healthz`,
        timeout: 120_000,
        reuseExistingServer: false,
        stdout: 'ignore',
        stderr: 'pipe',
        env: {
          TESSERA_DATA_DIR: process.env.TESSERA_E2E_DATA_DIR!,
          TESSERA_ADDR: `127.0.0.1:${PORT}`,
          TESSERA_ADMIN_EMAIL: 'admin@example.com',
          TESSERA_ADMIN_PASSWORD: 'admin-password-1',
          DATABASE_URL: '',
        },
      },
});
