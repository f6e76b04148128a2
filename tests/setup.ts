import { applyD1Migrations } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import pg from 'pg';
import { afterAll, afterEach } from 'vitest';
import { installLogGuard, takeFindings } from './log-guard';
import { installOfflineFetch } from './offline';

installOfflineFetch();

// No log line of any test may carry a secret (tests/log-guard.ts; SECURITY.md). Checked after each
// test, and once more after the file for lines that came later (a waitUntil, a Durable Object alarm).
installLogGuard();
const failOnFindings = () => {
  const { found } = takeFindings();
  if (found.length > 0) throw new Error(`log lines carry secrets:\n${found.join('\n')}`);
};
afterEach(failOnFindings);
afterAll(failOnFindings);

const vars = env as unknown as Record<string, unknown>;

if (vars.DB_BACKEND === 'postgres') {
  // Postgres (npm run test:pg): this file gets its own copy of the migrated template database
  // (tests/pg-global-setup.ts), as D1 storage is isolated per file. The worker, and the tests' own
  // queries (tests/db.ts), reach it through PG_DATABASE.
  const name = `edge_test_${vars.PG_RUN as string}_f${crypto.randomUUID().replace(/-/g, '').slice(0, 12)}`;
  // CREATE DATABASE … TEMPLATE goes straight to PostgreSQL (PG_ADMIN_URL), not through the HYPERDRIVE
  // binding, which may lead to a transaction-mode pooler (scripts/pgbouncer.sh).
  const admin = new pg.Client({ connectionString: vars.PG_ADMIN_URL as string });
  admin.on('error', () => {}); // see PgConnection
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}" TEMPLATE "edge_test_${vars.PG_RUN as string}_template"`);
  await admin.end();
  vars.PG_DATABASE = name;
} else {
  // Storage is isolated per test file; migrations are applied once per file (idempotent).
  await applyD1Migrations(env.DB, (env as unknown as { TEST_MIGRATIONS: Parameters<typeof applyD1Migrations>[1] }).TEST_MIGRATIONS);
}
