// Applies migrations-pg/ to Postgres with drizzle's node-postgres migrator (runs in Node, not in
// workerd). Records what it applied in drizzle.__drizzle_migrations, so it is idempotent.
//   node scripts/pg-migrate.mjs [connection-string]   (default: $PG_URL, else the local test db)
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';

export const DEFAULT_PG_URL = 'postgresql://app:app@127.0.0.1:5432/app_test';
export const MIGRATIONS_PG = fileURLToPath(new URL('../migrations-pg', import.meta.url));

export async function migratePg(url = process.env.PG_URL ?? DEFAULT_PG_URL) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await migrate(drizzle(client), { migrationsFolder: MIGRATIONS_PG });
  } finally {
    await client.end();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const url = process.argv[2] ?? process.env.PG_URL ?? DEFAULT_PG_URL;
  const t0 = performance.now();
  await migratePg(url);
  console.log(`Postgres migrations applied (${Math.round(performance.now() - t0)} ms): ${url.replace(/:[^:@/]*@/, ':***@')}`);
}
