import { defineConfig } from 'vitest/config';

// The itbm binary embeds dist/ (see README.md). In development, `npm run dev`
// serves the UI with hot reload and forwards the API to a running server.
const api = process.env.ITBM_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Small enough to embed; no source maps in the binary.
    sourcemap: false,
    chunkSizeWarningLimit: 400,
  },
  server: {
    proxy: { '/api': api, '/openapi.json': api, '/healthz': api },
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
    globals: true,
    setupFiles: ['src/test-setup.ts'],
  },
});
