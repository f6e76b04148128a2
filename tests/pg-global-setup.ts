// `npm run test:pg` only (vitest.config.ts adds it when DB_BACKEND=postgres). Runs in Node once per
// run: builds the template database from migrations-pg/; each test file then gets its own copy
// (tests/setup.ts), the Postgres counterpart of the per-file D1 storage. Teardown drops the copies.
import pg from 'pg';
import { migratePg } from '../scripts/pg-migrate.mjs';

export const ADMIN_URL = process.env.PG_URL ?? 'postgresql://app:app@127.0.0.1:5432/app_test';
export const TEMPLATE = 'edge_test_template';
export const COPY_PREFIX = 'edge_test_f_';

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function dropCopies(client: pg.Client): Promise<void> {
  const { rows } = await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [`${COPY_PREFIX}%`]);
  for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
}

export async function setup(): Promise<void> {
  await admin(async (client) => {
    await dropCopies(client);
    await client.query(`DROP DATABASE IF EXISTS "${TEMPLATE}" WITH (FORCE)`);
    await client.query(`CREATE DATABASE "${TEMPLATE}"`);
  });
  const url = new URL(ADMIN_URL);
  url.pathname = `/${TEMPLATE}`;
  await migratePg(url.toString());
}

export async function teardown(): Promise<void> {
  await admin(dropCopies);
}
