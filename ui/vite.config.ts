/// <reference types="vitest/config" />
import { svelte } from '@sveltejs/vite-plugin-svelte'
import { defineConfig } from 'vite'

export default defineConfig({
  plugins: [svelte()],
  test: {
    // The renderer needs a DOM (DOMPurify parses into one); jsdom is closest to a browser.
    environment: 'jsdom',
    include: ['src/**/*.test.ts'],
  },
})
