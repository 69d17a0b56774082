import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';

// The dev server proxies the API to a locally running `tessera serve` (TESSERA_DEV_API overrides it).
const api = process.env.TESSERA_DEV_API ?? 'http://127.0.0.1:18932';

export default defineConfig({
  plugins: [
    react(),
    {
      // dist/.gitkeep is tracked so that the Go embed always has a directory; recreate it after each build.
      name: 'keep-dist-gitkeep',
      apply: 'build',
      closeBundle() {
        writeFileSync('dist/.gitkeep', '');
      },
    },
    {
      // Precompressed copies (.br, .gz) of every text asset, which the server sends by
      // Accept-Encoding negotiation (server/api/assets.go): nothing is compressed per request.
      name: 'precompress-assets',
      apply: 'build',
      closeBundle() {
        const dir = 'dist/assets';
        for (const f of readdirSync(dir)) {
          if (!/\.(js|css|svg|json|txt|map)$/.test(f)) continue;
          const raw = readFileSync(join(dir, f));
          if (raw.length < 1024) continue;
          writeFileSync(join(dir, f + '.gz'), gzipSync(raw, { level: 9 }));
          writeFileSync(join(dir, f + '.br'), brotliCompressSync(raw, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_SIZE_HINT]: raw.length } }));
        }
      },
    },
  ],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 4000,
    manifest: true,
    rolldownOptions: {
      treeshake: {
        // The rc-component packages antd builds on declare no `sideEffects`, so a single import of
        // a context (antd's Input imports the form context) kept the whole form and validator in
        // the first page. They have none: let the bundler drop what is unused.
        moduleSideEffects: [{ test: /[\\/]node_modules[\\/]@rc-component[\\/]/, sideEffects: false }],
      },
    },
  },
  server: {
    proxy: {
      '/api': api,
      '/f/': api,
      '/healthz': api,
    },
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['src/test/setup.ts'],
    // The antd component suites (flowsUi, RecordDrawer, ...) render whole pages in jsdom: a few
    // seconds alone, many times that on a loaded machine. Generous limits keep them from flaking;
    // a hung test still fails.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
