// `npm run reset [-- --postgres] [--dry-run]` (`-- --help` lists the options): forgets everything the
// local runs keep between restarts, so the next `npm run dev` starts as on a fresh clone (it applies
// the migrations again). Stop `npm run dev` first: workerd keeps the files open.
//   - .wrangler/state: what `wrangler dev` persists for the D1 runs (Miniflare, one folder per
//     plugin under v3/): d1/ (the database), kv/ (phone codes), do/ (the UserLedger and MachineDO
//     Durable Objects' storage), cache/, r2/ and the rest. Queue messages are not persisted by
//     wrangler dev: they go when it stops.
//   - with --postgres, also .wrangler/state-pg (the same for the Postgres runs, scripts/pg-dev.mjs)
//     and the Postgres dev database (edge_dev on 127.0.0.1, or --pg-url; only on this machine), dropped; `npm run dev -- --backend
//     postgres` creates and migrates it again.
// `npm run seed -- --fresh` empties only the D1 database: the Durable Objects keep their state
// (e.g. MachineDO's statuses of machines that no longer exist).
// Kept: .dev.vars (the local secrets), dist/ (the build), .wrangler/tmp (wrangler's bundles).
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { cli, fail, ROOT, UsageError } from './lib.mjs';

const opts = cli({
  script: 'reset',
  usage: 'npm run reset [-- --postgres] [--dry-run]',
  about: `Removes the local state that npm run dev keeps between restarts: .wrangler/state (D1, KV, the Durable
Objects' storage, cache, …). With --postgres also .wrangler/state-pg and the Postgres dev database.
Stop npm run dev first. Kept: .dev.vars, dist/. Then: npm run dev (or npm run seed) starts afresh.`,
  options: {
    postgres: [false, 'also remove .wrangler/state-pg and drop the Postgres dev database'],
    'pg-url': ['', 'the database --postgres drops, on this machine (default: edge_dev on 127.0.0.1; never $PG_URL unless given here)'],
    'dry-run': [false, 'only print what would go'],
  },
  check: (o) => {
    if (o['pg-url'] && !o.postgres) throw new UsageError('--pg-url goes with --postgres');
  },
});
// Only with --postgres: pg-dev.mjs loads node:sqlite and pg, which --help and the D1 reset need not.
const pgDev = opts.postgres ? await import('./pg-dev.mjs') : null;
// Not $PG_URL by default (as dev and seed take it): it may well name the test database.
const pgUrl = opts['pg-url'] || pgDev?.DEV_PG_URL;
if (pgDev && !['127.0.0.1', 'localhost', '[::1]'].includes(new URL(pgUrl).hostname)) {
  fail('reset', `refusing to drop a database that is not on this machine: ${pgDev.redact(pgUrl)}`);
}

/** Bytes under a path (files only; symlinks not followed). */
function size(path) {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.size;
  return readdirSync(path).reduce((sum, name) => sum + size(join(path, name)), 0);
}
const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

const dirs = ['.wrangler/state', ...(pgDev ? [pgDev.PG_PERSIST_DIR] : [])].map((d) => join(ROOT, d));
for (const dir of dirs) {
  const name = relative(ROOT, dir);
  if (!existsSync(dir)) {
    console.log(`[reset] ${name}: nothing there`);
    continue;
  }
  // Miniflare keeps one folder per plugin under v3/ (d1, kv, do, cache, …).
  const v3 = join(dir, 'v3');
  const what = existsSync(v3) ? readdirSync(v3).join(', ') : readdirSync(dir).join(', ');
  const total = mb(size(dir));
  if (opts['dry-run']) {
    console.log(`[reset] would remove ${name} (${total}: ${what})`);
    continue;
  }
  rmSync(dir, { recursive: true, force: true });
  console.log(`[reset] removed ${name} (${total}: ${what})`);
}

if (pgDev) {
  const { redact } = pgDev;
  const target = new URL(pgUrl);
  const db = decodeURIComponent(target.pathname.slice(1));
  if (opts['dry-run']) {
    console.log(`[reset] would drop the Postgres database ${db} (${redact(pgUrl)})`);
    process.exit(0);
  }
  const { default: pg } = await import('pg');
  target.pathname = '/postgres'; // DROP DATABASE runs from another database
  const admin = new pg.Client({ connectionString: target.toString() });
  try {
    await admin.connect();
  } catch (err) {
    fail('reset', `cannot reach Postgres at ${redact(pgUrl)} (${err.message}); the files are gone, the database stays`, 1);
  }
  try {
    // FORCE: a running `npm run dev -- --backend postgres` would otherwise block the drop.
    await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(db)} WITH (FORCE)`);
    console.log(`[reset] dropped the Postgres database ${db} (npm run dev -- --backend postgres creates it again)`);
  } finally {
    await admin.end();
  }
}
