// Applies migrations-pg/ to Postgres with drizzle's node-postgres migrator (runs in Node, not in
// workerd). Records what it applied in drizzle.__drizzle_migrations, so it is idempotent.
//   npm run db:migrate:pg [-- [--url] connection-string]   (default: $PG_URL, else the local test db;
//   -- --help says so)
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { cli, UsageError } from './lib.mjs';

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
  const argv = process.argv.slice(2);
  // The connection string may come bare, as before (`npm run db:migrate:pg -- postgresql://…`).
  const bare = argv[0] !== undefined && !argv[0].startsWith('-') ? argv.shift() : undefined;
  const opts = cli({
    script: 'db:migrate:pg',
    usage: 'npm run db:migrate:pg [-- [--url] postgresql://user:pass@host:5432/db]',
    about: `Applies migrations-pg/ to a Postgres database with drizzle's migrator (in Node), recording what it
applied in drizzle.__drizzle_migrations: running it again applies only what is new.`,
    options: { url: [bare ?? '', `the database (default: $PG_URL, else ${DEFAULT_PG_URL.replace(/:[^:@/]*@/, ':***@')})`] },
    argv,
    check: (o) => {
      o.url ||= process.env.PG_URL ?? DEFAULT_PG_URL;
      if (!/^postgres(ql)?:\/\//.test(o.url)) throw new UsageError(`--url is a postgresql:// connection string, not "${o.url}"`);
    },
  });
  const url = opts.url;
  const t0 = performance.now();
  const shown = url.replace(/:[^:@/]*@/, ':***@');
  try {
    await migratePg(url);
  } catch (err) {
    // Not reachable, or the role or database is wrong: one line. Anything else (a migration) keeps its trace.
    const unreachable = /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|28P01|3D000)$/;
    if (!(err instanceof Error) || !unreachable.test(String(/** @type {any} */ (err).code))) throw err;
    console.error(`npm run db:migrate:pg: cannot reach Postgres at ${shown}: ${err.message || err.code}`);
    process.exit(1);
  }
  console.log(`Postgres migrations applied (${Math.round(performance.now() - t0)} ms): ${shown}`);
}
