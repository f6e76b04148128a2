import { defineConfig } from 'vitest/config';

// `npm run test:browser`: the console and the docs in headless Chromium (Debian's /usr/bin/chromium,
// driven by playwright-core) against a real `wrangler dev` that server.ts starts with a throwaway
// local state. One file at a time: the machine has two cores and the server is shared.
export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['tests/browser/**/*.test.ts'],
    environment: 'node',
    globalSetup: ['tests/browser/server.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
