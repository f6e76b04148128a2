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
            PHONE_CODE_SECRET: 'test-phone-secret-0123456789abcdef',
            // Pinned so a developer's .dev.vars (which wrangler also loads) cannot change test behaviour.
            ALLOW_INSECURE_CONTROLLER_URLS: 'false',
            // Size and seed of the generated-request run (npm run test:fuzz raises FUZZ_RUNS).
            FUZZ_RUNS: process.env.FUZZ_RUNS ?? '',
            FUZZ_SEED: process.env.FUZZ_SEED ?? '',
            // Machines: retry an unreachable controller at once and time a hanging one out fast.
            MACHINE_RETRY_BASE_SECONDS: '0',
            MACHINE_CONTROLLER_TIMEOUT_MS: '300',
          },
        },
      }),
    ],
    test: {
      setupFiles: ['./tests/setup.ts'],
      include: ['tests/**/*.test.ts'],
      testTimeout: 30_000,
      // The console SMS provider logs every code; keep test output readable.
      onConsoleLog: (log: string) => !log.includes('sms (console provider)'),
      hookTimeout: 30_000,
    },
  };
});
