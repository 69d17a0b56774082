import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';
import { writeFileSync } from 'node:fs';

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
  ],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 4000,
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
  },
});
