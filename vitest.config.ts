import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configDefaults, defineConfig } from 'vitest/config';
import { DEFAULT_PG_URL } from './scripts/pg-migrate.mjs';

// DB_BACKEND=postgres (npm run test:pg) runs the same suite against the local Postgres through the
// Hyperdrive binding; each test file gets its own database (tests/pg-global-setup.ts, tests/setup.ts).
const backend = process.env.DB_BACKEND === 'postgres' ? 'postgres' : 'd1';
// This run's database names start with edge_test_<PG_RUN>_ (its start time in base 36).
process.env.PG_RUN ??= Date.now().toString(36);
// PostgreSQL itself (never a pooler), for creating and dropping the test databases.
process.env.PG_URL ??= DEFAULT_PG_URL;

/** Import specifiers of the .ts/.tsx files below `dir` that name a package (not a relative path). */
function packageImports(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.tsx?$/.test(f))
    .flatMap((f) => [...readFileSync(join(dir, f), 'utf8').matchAll(/\bfrom '([^.'][^']*)'/g)].map((m) => m[1]!));
}
const packageOf = (specifier: string) =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');
// Every import path (in src/ and tests/) of every package the worker imports, read from the files
// so a new one cannot be forgotten: a path left out would be a second, unbundled copy of its package.
const workerPackages = new Set(
  packageImports('src')
    .map(packageOf)
    .filter((p) => !p.includes(':') && p !== 'pg'),
);
const PREBUNDLED = [...new Set([...packageImports('src'), ...packageImports('tests')])].filter((s) => workerPackages.has(packageOf(s))).sort();

export default defineConfig(async () => {
  const migrations = await readD1Migrations('./migrations');
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: './wrangler.toml' },
        miniflare: {
          // wrangler.toml declares no Hyperdrive (a D1-only deploy needs none): the Postgres run adds it,
          // on the server that tests/pg-global-setup.ts prepares (PG_URL), or on the pooler in front of
          // it (`npm run test:pg:pooled` sets wrangler's local-connection variable, scripts/pgbouncer.sh).
          ...(backend === 'postgres'
            ? { hyperdrives: { HYPERDRIVE: process.env.CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE ?? process.env.PG_URL! } }
            : {}),
          bindings: {
            TEST_MIGRATIONS: migrations,
            DB_BACKEND: backend,
            PG_RUN: process.env.PG_RUN!,
            // Straight to PostgreSQL, never through a pooler: tests/setup.ts copies the template
            // database with it, while the worker's HYPERDRIVE may point at PgBouncer.
            PG_ADMIN_URL: backend === 'postgres' ? process.env.PG_URL! : '',
            // A test-only secret; real ones come from .dev.vars or `wrangler secret put`.
            JWT_SECRET: 'test-secret-0123456789abcdef0123456789abcdef',
            PHONE_CODE_SECRET: 'test-phone-secret-0123456789abcdef',
            // The key that seals stored signing secrets (32 bytes, base64): a test-only value.
            SECRETS_KEY: 'dGVzdC1zZWNyZXRzLWtleS0wMTIzNDU2Nzg5YWJjZGU=',
            // Pinned so a developer's .dev.vars (which wrangler also loads) cannot change test behaviour.
            ALLOW_INSECURE_CONTROLLER_URLS: 'false',
            // The tests run locally: the console SMS provider answers codes as dev_code
            // (tests/phone.test.ts checks that it is refused without LOCAL_DEVELOPMENT).
            LOCAL_DEVELOPMENT: 'true',
            SMS_PROVIDER: 'console',
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
      // Every test file loads the whole worker (cloudflare:test imports it) into a fresh module graph:
      // unbundled, that was ~5 s of module loading per file (@portone/server-sdk alone is 1,772 files).
      // Pre-bundled once per run, ~2 s. Every import path of a package the worker uses is listed
      // (PREBUNDLED), so each package has exactly one copy (a second hono or drizzle would break
      // instanceof); pg stays outside (it needs Node's built-ins, which workerd provides through nodejs_compat).
      deps: { optimizer: { ssr: { enabled: true, include: PREBUNDLED, exclude: ['pg'] } } },
      setupFiles: ['./tests/setup.ts'],
      // Every run fails on a promise rejection nobody handled (tests/runtime-guard.ts).
      // The Twilio fake is a real local HTTP server (tests/fakes/twilio-server.ts).
      globalSetup: ['./tests/runtime-guard.ts', './tests/fakes/twilio-server.ts', ...(backend === 'postgres' ? ['./tests/pg-global-setup.ts'] : [])],
      include: ['tests/**/*.test.ts'],
      // Browser tests run in Node against wrangler dev: npm run test:browser (tests/browser/vitest.config.ts).
      exclude: [...configDefaults.exclude, 'tests/browser/**'],
      testTimeout: 30_000,
      // The console SMS provider logs every code, the request log every request: keep test output
      // readable (tests/log-guard.ts still checks every line).
      onConsoleLog: (log: string) => !log.includes('sms (console provider)') && !log.includes('"msg":"request"'),
      hookTimeout: 30_000,
    },
  };
});
