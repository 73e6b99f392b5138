/// <reference types="vitest/config" />
import { svelte } from '@sveltejs/vite-plugin-svelte'
import { defineConfig } from 'vite'

export default defineConfig({
  plugins: [svelte()],
  // Tests mount components, which needs Svelte's browser build rather than its server one.
  resolve: process.env.VITEST ? { conditions: ['browser'] } : undefined,
  test: {
    // The renderer needs a DOM (DOMPurify parses into one); jsdom is closest to a browser.
    environment: 'jsdom',
    include: ['src/**/*.test.ts'],
    setupFiles: ['src/test/setup.ts'],
    // `npm run bench`: timings live in benchmarks, never in tests.
    benchmark: { include: ['bench/**/*.bench.ts'] },
  },
})
