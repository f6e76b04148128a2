// `npm run seed -- [--users N] [--<domain option> N ...] [--fresh]` (--fresh: empty the local D1 first;
// `-- --help` lists every option)
// Bare `npm run seed` seeds a small demo set (DEMO below: a few hundred rows of each kind, seconds);
// any volume option seeds exactly the volumes given instead (the bench's million-row runs).
// Fills the local D1 that `npm run dev` uses, writing its SQLite file directly with node:sqlite
// (orders of magnitude faster than SQL through wrangler). Each domain lives in scripts/seed/<name>.mjs
// and exports { order, options, seed(db, opts, ctx) }; options of every module become flags here.
// Stop `npm run dev` first: the dev server caches pages of the file.
// --backend postgres: then copy every table of that file into the Postgres dev database (--pg-url,
// else $PG_URL, else edge_dev on localhost; --fresh recreates it), so both backends hold the same
// rows. --copy-only skips the D1 seed and copies the local D1 file as it is.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { applyMigrations, cli, ensureDevVars, fail, localD1File, ROOT, UsageError } from './lib.mjs';
import { copySqliteToPg, DEV_PG_URL, preparePg } from './pg-dev.mjs';

const modules = await Promise.all(
  readdirSync(new URL('./seed/', import.meta.url))
    .filter((f) => f.endsWith('.mjs'))
    .map((f) => import(new URL(`./seed/${f}`, import.meta.url))),
);
modules.sort((a, b) => a.order - b.order);

const options = {};
for (const m of modules) Object.assign(options, m.options);
// The volume options: every module option that seeds nothing by default (--users, --exams, …).
const VOLUMES = Object.keys(options).filter((k) => options[k][0] === 0);
// What bare `npm run seed` seeds: something to look at in every page of the console, in seconds.
const DEMO = { users: 300, exams: 300, courses: 300, payments: 600, products: 50, orders: 1000, machines: 50, operations: 600 };
for (const k of VOLUMES) if (!Object.hasOwn(DEMO, k)) throw new Error(`seed: DEMO has no volume for --${k}`);
Object.assign(options, {
  fresh: [false, 'empty the local database first (and recreate the Postgres one with --backend postgres)'],
  seed: [42, 'seed of the random generator: the same seed gives the same rows'],
  backend: ['d1', 'd1, or postgres: seed D1, then copy every table into Postgres'],
  'pg-url': [process.env.PG_URL ?? DEV_PG_URL, 'the Postgres database of --backend postgres'],
  'copy-only': [false, 'with --backend postgres: copy the local D1 as it is, without seeding'],
});
const opts = cli({
  script: 'seed',
  usage: 'npm run seed -- [--users N] [--exams N …] [--fresh] [--backend d1|postgres]',
  about: `Fills the local D1 of npm run dev with realistic volumes, writing its SQLite file directly
(stop npm run dev first: it caches pages of the file). Every run adds staff@seed.example (staff and
superuser); seeded users log in as user<N>@seed.example; all with the password seed-password-123.

Without any volume option it seeds a small demo set, when the database holds no seeded users yet:
  ${VOLUMES.map((k) => `--${k} ${DEMO[k]}`).join(' ')}
With any volume option it seeds exactly the volumes given (the others 0), e.g. for the bench:
  npm run seed -- --users 1000 --exams 10000 --courses 10000 --payments 20000 --products 100 --orders 50000
Start over with --fresh; npm run seed -- --users 0 seeds only staff@seed.example.`,
  options,
  check: (o) => {
    if (!['d1', 'postgres'].includes(o.backend)) throw new UsageError('--backend is d1 or postgres');
    if (o['copy-only'] && o.backend !== 'postgres') throw new UsageError('--copy-only needs --backend postgres');
  },
});
// What a seed module finds wrong with the options (e.g. orders without users) is one line too.
process.on('uncaughtException', (err) => {
  if (err instanceof UsageError) fail('seed', err.message);
  if (/cannot reach Postgres/.test(err.message)) fail('seed', err.message, 1);
  console.error(err);
  process.exit(1);
});

if (opts['copy-only']) {
  const file = localD1File();
  if (!file) fail('seed', 'no local D1 database yet: run npm run seed without --copy-only first');
  await preparePg(opts['pg-url'], { fresh: opts.fresh });
  await copySqliteToPg(file, opts['pg-url']);
  process.exit(0);
}

ensureDevVars();
// --fresh starts from an empty local database (every domain's data goes).
if (opts.fresh) rmSync(join(ROOT, '.wrangler/state/v3/d1'), { recursive: true, force: true });
applyMigrations();
const file = localD1File();
if (!file) throw new Error('local D1 file not found after applying migrations');
const db = new DatabaseSync(file);
// Bare `npm run seed`: the demo volumes, once (a second run would add exams and courses again and
// stop at the existing orders); any volume option means exactly the volumes given.
const given = process.argv.slice(2).some((a) => VOLUMES.includes(a.replace(/^--/, '').split('=')[0]));
if (!given) {
  const seeded = db.prepare("SELECT count(*) AS n FROM users WHERE email LIKE 'user%@seed.example'").get().n;
  if (seeded > 0) {
    db.close();
    console.log(`[seed] the local database holds ${seeded} seeded users already: nothing to add (npm run seed -- --fresh starts over).`);
    if (opts.backend === 'postgres') {
      await preparePg(opts['pg-url'], { fresh: opts.fresh });
      await copySqliteToPg(file, opts['pg-url']);
    }
    process.exit(0);
  } else {
    Object.assign(opts, DEMO);
    console.log(`[seed] no volume options: seeding the demo set (${VOLUMES.map((k) => `${DEMO[k]} ${k}`).join(', ')}); --help for more.`);
  }
}
// temp_store FILE: an index build sorts through temporary files beyond the page cache, so the seed's
// memory does not grow with the table (MEMORY held the whole sort: +600 MB for 10M payments).
db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF; PRAGMA temp_store = FILE; PRAGMA cache_size = -262144;');

/** Deterministic PRNG (mulberry32) so a seed reproduces the same data. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs fn inside one transaction; inserts in a transaction are ~100x faster. */
function tx(fn) {
  db.exec('BEGIN');
  try {
    const out = fn();
    db.exec('COMMIT');
    return out;
  } catch (err) {
    db.exec('ROLLBACK');
    throw err;
  }
}

/**
 * Progress of a long phase, which modules report before each chunk: on a terminal one line
 * rewritten in place, otherwise a line per tenth.
 */
const lastTenth = new Map();
function progress(label, done, total) {
  if (total < 200_000) return;
  const line = `[seed] ${label}: ${Math.floor((100 * done) / total)}% (${done.toLocaleString('en')} of ${total.toLocaleString('en')})`;
  if (process.stdout.isTTY) return void process.stdout.write(`\r${line}\x1b[K`);
  const tenth = Math.floor((10 * done) / total);
  if (lastTenth.get(label) === tenth) return;
  lastTenth.set(label, tenth);
  console.log(line);
}

const log = (msg) => {
  if (process.stdout.isTTY) process.stdout.write('\r\x1b[K');
  console.log(`[seed] ${msg}`);
};
const ctx = { random: rng(opts.seed), tx, root: ROOT, log, progress };
const started = Date.now();
for (const m of modules) {
  const t0 = Date.now();
  const did = await m.seed(db, opts, ctx);
  if (did) ctx.log(`${m.name}: ${did} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
// Merge every FTS5 index into one segment: bulk inserts leave many, and each query (the catalog
// search's walk plan probes once per row) seeks every segment (migrations/0010_search_indexes.sql).
for (const { name } of db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%USING fts5%'").all()) {
  db.exec(`INSERT INTO "${name}"("${name}") VALUES ('optimize')`);
}
db.exec('PRAGMA optimize; ANALYZE;');
db.close();
ctx.log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s → ${file}`);

if (opts.backend === 'postgres') {
  await preparePg(opts['pg-url'], { fresh: opts.fresh });
  await copySqliteToPg(file, opts['pg-url']);
}
