// `npm run seed -- [--users N] [--<domain option> N ...] [--fresh]` (--fresh: empty the local D1 first)
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
import { applyMigrations, ensureDevVars, localD1File, parseArgs, ROOT } from './lib.mjs';
import { copySqliteToPg, DEV_PG_URL, preparePg } from './pg-dev.mjs';

const modules = await Promise.all(
  readdirSync(new URL('./seed/', import.meta.url))
    .filter((f) => f.endsWith('.mjs'))
    .map((f) => import(new URL(`./seed/${f}`, import.meta.url))),
);
modules.sort((a, b) => a.order - b.order);

const spec = { fresh: false, seed: 42, backend: 'd1', 'pg-url': process.env.PG_URL ?? DEV_PG_URL, 'copy-only': false };
for (const m of modules) Object.assign(spec, m.options);
const opts = parseArgs(process.argv.slice(2), spec);
if (!['d1', 'postgres'].includes(opts.backend)) throw new Error('--backend is d1 or postgres');
if (opts['copy-only'] && opts.backend !== 'postgres') throw new Error('--copy-only needs --backend postgres');

if (opts['copy-only']) {
  const file = localD1File();
  if (!file) throw new Error('no local D1 file: run npm run seed first');
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
db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -262144;');

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

const ctx = { random: rng(opts.seed), tx, root: ROOT, log: (msg) => console.log(`[seed] ${msg}`) };
const started = Date.now();
for (const m of modules) {
  const t0 = Date.now();
  const did = await m.seed(db, opts, ctx);
  if (did) ctx.log(`${m.name}: ${did} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
db.exec('PRAGMA optimize; ANALYZE;');
db.close();
ctx.log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s → ${file}`);

if (opts.backend === 'postgres') {
  await preparePg(opts['pg-url'], { fresh: opts.fresh });
  await copySqliteToPg(file, opts['pg-url']);
}
