// `npm run test:pg` only (vitest.config.ts adds it when DB_BACKEND=postgres). Runs in Node once per
// run: builds the template database from migrations-pg/; each test file then gets its own copy
// (tests/setup.ts), the Postgres counterpart of the per-file D1 storage. Teardown drops the copies.
import pg from 'pg';
import { DEFAULT_PG_URL, migratePg } from '../scripts/pg-migrate.mjs';

export const ADMIN_URL = process.env.PG_URL ?? DEFAULT_PG_URL;
// Names carry this run's id (vitest.config.ts sets PG_RUN), so runs side by side never touch each
// other's databases; leftovers of runs that crashed more than two hours ago are dropped.
const RUN = process.env.PG_RUN!;
export const TEMPLATE = `edge_test_${RUN}_template`;
const STALE_MS = 2 * 3600_000;

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Drops this run's databases, or (`stale`) those of runs started more than two hours ago. */
async function drop(client: pg.Client, which: 'mine' | 'stale'): Promise<void> {
  const { rows } = await client.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE 'edge\\_test\\_%'`);
  for (const { datname } of rows) {
    const run = datname.split('_')[2]!;
    const started = parseInt(run, 36);
    const doomed = which === 'mine' ? run === RUN : Number.isFinite(started) && Date.now() - started > STALE_MS;
    if (doomed) await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  }
}

export async function setup(): Promise<void> {
  await admin(async (client) => {
    await drop(client, 'stale');
    await client.query(`CREATE DATABASE "${TEMPLATE}"`);
  });
  const url = new URL(ADMIN_URL);
  url.pathname = `/${TEMPLATE}`;
  await migratePg(url.toString());
}

export async function teardown(): Promise<void> {
  await admin((client) => drop(client, 'mine'));
}
