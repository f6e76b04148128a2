import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

export default defineConfig(async () => {
  const migrations = await readD1Migrations('./migrations');
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: './wrangler.toml' },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            // A test-only secret; real ones come from .dev.vars or `wrangler secret put`.
            JWT_SECRET: 'test-secret-0123456789abcdef0123456789abcdef',
            // Machines: retry an unreachable controller at once and time a hanging one out fast.
            MACHINE_RETRY_BASE_SECONDS: '0',
            MACHINE_CONTROLLER_TIMEOUT_MS: '300',
            // Tests check the production URL policy even where .dev.vars relaxes it for `npm run dev`.
            ALLOW_INSECURE_CONTROLLER_URLS: 'false',
          },
        },
      }),
    ],
    test: {
      setupFiles: ['./tests/setup.ts'],
      include: ['tests/**/*.test.ts'],
      testTimeout: 30_000,
      hookTimeout: 30_000,
    },
  };
});
