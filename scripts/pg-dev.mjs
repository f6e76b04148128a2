// The local Postgres dev database behind `npm run dev|seed|bench -- --backend postgres`: create it,
// migrate it, and copy the seeded local D1 (SQLite) file into it so both backends hold the same rows.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';
import { ROOT } from './lib.mjs';
import { migratePg } from './pg-migrate.mjs';

export const DEV_PG_URL = 'postgresql://app:app@127.0.0.1:5432/edge_dev';

// Local Durable Object / KV / queue state of the Postgres runs. MachineDO keeps each machine's status
// in its storage, so sharing .wrangler/state with the D1 runs would mix two databases' machines.
export const PG_PERSIST_DIR = '.wrangler/state-pg';

/** The config `wrangler dev` runs with on Postgres: wrangler.toml plus the HYPERDRIVE binding. */
export const PG_CONFIG = '.wrangler-postgres.toml';

/**
 * The env and extra `wrangler dev` args that make the worker use Postgres at `url`. wrangler.toml
 * declares no Hyperdrive (a D1-only deploy needs none), so this writes a copy of it with the binding
 * (gitignored, beside it so its relative paths hold); a wrangler.toml that has one (a Postgres
 * deploy) is used as it is, with the local connection string from the env.
 */
export function pgWranglerSetup(url, args = [], root = ROOT) {
  const config = readFileSync(join(root, 'wrangler.toml'), 'utf8');
  const configArgs = [];
  if (!/^\[\[hyperdrive\]\]/m.test(config)) {
    const binding = `\n# Added by scripts/pg-dev.mjs for local Postgres runs.\n[[hyperdrive]]\nbinding = "HYPERDRIVE"\nid = "local"\nlocalConnectionString = ${JSON.stringify(url)}\n`;
    writeFileSync(join(root, PG_CONFIG), `# Generated from wrangler.toml by scripts/pg-dev.mjs; do not edit.\n${config}${binding}`);
    configArgs.push('--config', PG_CONFIG);
  }
  return {
    env: { CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE: url },
    args: [...configArgs, '--var', 'DB_BACKEND:postgres', ...(args.includes('--persist-to') ? [] : ['--persist-to', PG_PERSIST_DIR])],
  };
}

/**
 * `url` through the local PgBouncer that stands in for Hyperdrive (scripts/pgbouncer.sh, started or
 * reloaded here; docs/performance.md, "Pooled Postgres"): same role, password and database, the pooler's
 * address. Only for the local server: the pooler forwards to 127.0.0.1.
 */
export function viaPooler(url) {
  const target = new URL(url);
  if (!['127.0.0.1', 'localhost'].includes(target.hostname))
    throw new Error(`the local pooler serves only the local PostgreSQL, not ${redact(url)}; add --pooler=false`);
  const res = spawnSync('bash', [join(ROOT, 'scripts/pgbouncer.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      PG_USER: decodeURIComponent(target.username),
      PG_PASSWORD: decodeURIComponent(target.password),
      PG_PORT: target.port || '5432',
      PG_DB: decodeURIComponent(target.pathname.slice(1)),
    },
  });
  if (res.status !== 0)
    throw new Error('scripts/pgbouncer.sh failed (installing PgBouncer needs root); or connect straight to PostgreSQL with --pooler=false');
  const pooler = new URL(res.stdout.trim().split('\n').pop());
  target.hostname = pooler.hostname;
  target.port = pooler.port;
  return target.toString();
}

export const redact = (url) => url.replace(/:[^:@/]*@/, ':***@');

/** Creates the database of `url` if missing (drops it first with fresh), then applies migrations-pg/. */
export async function preparePg(url, { fresh = false } = {}) {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  target.pathname = '/postgres'; // CREATE/DROP DATABASE run from another database
  const admin = new pg.Client({ connectionString: target.toString() });
  try {
    await admin.connect();
  } catch (err) {
    throw new Error(`cannot reach Postgres at ${redact(url)} (${err.message}); start it with: sudo bash scripts/pg-local.sh`);
  }
  try {
    const ident = pg.escapeIdentifier(name);
    // FORCE: a running `npm run dev -- --backend postgres` would otherwise block the drop.
    if (fresh) await admin.query(`DROP DATABASE IF EXISTS ${ident} WITH (FORCE)`);
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) {
      await admin.query(`CREATE DATABASE ${ident}`);
      console.log(`[pg] created database ${name}`);
    }
  } finally {
    await admin.end();
  }
  await migratePg(url);
}

const SKIP = /^(sqlite_|_cf_|d1_migrations$)|_fts($|_)/;
const CHUNK = 10_000;
const INTEGER_TYPES = new Set(['int2', 'int4', 'int8']);

/**
 * Copies every application table of the SQLite file into Postgres (tables and columns as the
 * Postgres schema lists them), in one transaction: truncate, drop secondary indexes, bulk-load in
 * chunks through unnest(), rebuild the indexes, reset identity sequences, VACUUM (ANALYZE).
 */
export async function copySqliteToPg(file, url, log = console.log) {
  const lite = new DatabaseSync(file, { readOnly: true });
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const started = performance.now();
  try {
    const cols = (
      await client.query(
        `SELECT table_name, column_name, udt_name, is_identity FROM information_schema.columns
         WHERE table_schema = 'public' ORDER BY table_name, ordinal_position`,
      )
    ).rows;
    const tables = new Map();
    for (const c of cols) {
      if (!tables.has(c.table_name)) tables.set(c.table_name, []);
      tables.get(c.table_name).push(c);
    }
    const liteTables = lite
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
      .all()
      .map((r) => r.name);
    for (const t of liteTables) if (!SKIP.test(t) && !tables.has(t)) log(`[pg] warning: SQLite table ${t} has no Postgres table; not copied`);
    const order = await fkOrder(client, [...tables.keys()]);

    await client.query('BEGIN');
    await client.query("SET LOCAL maintenance_work_mem = '256MB'");
    await client.query(`TRUNCATE ${order.map((t) => pg.escapeIdentifier(t)).join(', ')}`);
    // Building an index once after the load is several times faster than maintaining it per chunk
    // (above all the GIN full-text ones). Constraint indexes (primary keys, unique) stay.
    const indexes = (
      await client.query(
        `SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def
         FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
         WHERE n.nspname = 'public' AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)`,
      )
    ).rows;
    for (const ix of indexes) await client.query(`DROP INDEX ${ix.name}`);

    const counts = [];
    for (const table of order) {
      const t0 = performance.now();
      const n = await copyTable(lite, client, table, tables.get(table));
      counts.push({ table, n, ms: performance.now() - t0 });
      log(`[pg] ${table}: ${n} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
    const t1 = performance.now();
    for (const ix of indexes) await client.query(ix.def);
    log(`[pg] ${indexes.length} indexes rebuilt in ${((performance.now() - t1) / 1000).toFixed(1)} s`);
    for (const c of cols.filter((c) => c.is_identity === 'YES')) {
      const [t, col] = [pg.escapeIdentifier(c.table_name), pg.escapeIdentifier(c.column_name)];
      // is_called = false: the next id handed out is exactly max(id) + 1 (1 on an empty table).
      await client.query(`SELECT setval(pg_get_serial_sequence($1, $2), COALESCE((SELECT max(${col}) FROM ${t}), 0) + 1, false)`, [
        c.table_name,
        c.column_name,
      ]);
    }
    await client.query('COMMIT');
    // The Durable Objects' state (e.g. MachineDO's status) described the rows just replaced.
    rmSync(join(ROOT, PG_PERSIST_DIR), { recursive: true, force: true });
    const t2 = performance.now();
    // VACUUM, not only ANALYZE: it sets the visibility map, without which Postgres's index-only scans
    // (deep pages, counts) still read every heap page (31 ms instead of 1.4 ms for a page at offset 10k).
    await client.query('VACUUM (ANALYZE)');
    log(`[pg] VACUUM (ANALYZE) in ${((performance.now() - t2) / 1000).toFixed(1)} s`);

    // Cheap proof that both backends hold the same data.
    for (const c of counts) {
      const pgN = Number((await client.query(`SELECT count(*) AS n FROM ${pg.escapeIdentifier(c.table)}`)).rows[0].n);
      if (pgN !== c.n) throw new Error(`${c.table}: ${c.n} rows in SQLite but ${pgN} in Postgres`);
    }
    log(`[pg] copied ${counts.reduce((s, c) => s + c.n, 0)} rows into ${redact(url)} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return counts;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    await client.end();
    lite.close();
  }
}

/** Tables ordered so that a table comes after the tables its foreign keys reference. */
async function fkOrder(client, names) {
  const deps = new Map(names.map((n) => [n, new Set()]));
  const { rows } = await client.query(
    `SELECT c.conrelid::regclass::text AS child, c.confrelid::regclass::text AS parent
     FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
     WHERE c.contype = 'f' AND n.nspname = 'public'`,
  );
  for (const r of rows) if (r.child !== r.parent) deps.get(r.child.replace(/"/g, ''))?.add(r.parent.replace(/"/g, ''));
  const out = [];
  const visit = (n, path = new Set()) => {
    if (out.includes(n)) return;
    if (path.has(n)) throw new Error(`foreign key cycle through ${n}`);
    path.add(n);
    for (const d of deps.get(n) ?? []) visit(d, path);
    path.delete(n);
    out.push(n);
  };
  for (const n of names) visit(n);
  return out;
}

async function copyTable(lite, client, table, cols) {
  const names = cols.map((c) => c.column_name);
  const list = names.map((n) => pg.escapeIdentifier(n)).join(', ');
  // SQLite scans in primary-key order, so Postgres gets the rows in id order like D1 has them.
  const rows = lite.prepare(`SELECT ${names.map((n) => `"${n}"`).join(', ')} FROM "${table}"`).iterate();
  const sql = `INSERT INTO ${pg.escapeIdentifier(table)} (${list}) SELECT * FROM unnest(${cols
    .map((c, i) => `$${i + 1}::${c.udt_name}[]`)
    .join(', ')})`;
  let n = 0;
  let pending = null; // the previous chunk's INSERT runs in Postgres while the next chunk is read
  for (;;) {
    const arrays = names.map(() => []);
    let k = 0;
    // next(), not for…of: leaving a for…of with break would close the statement's iterator.
    while (k < CHUNK) {
      const r = rows.next();
      if (r.done) break;
      for (let i = 0; i < names.length; i++) arrays[i].push(r.value[names[i]]);
      k++;
    }
    await pending;
    if (k === 0) break;
    pending = client.query(
      sql,
      arrays.map((a, i) => arrayLiteral(a, INTEGER_TYPES.has(cols[i].udt_name))),
    );
    n += k;
    if (k < CHUNK) {
      await pending;
      break;
    }
  }
  return n;
}

/**
 * The Postgres array literal of one column chunk: pg's generic array serialiser costs more than
 * Postgres spends inserting the rows. Integers go bare; anything else (text) quoted and escaped.
 */
function arrayLiteral(values, bare) {
  const item = bare ? (v) => v : (v) => `"${String(v).replace(/[\\"]/g, '\\$&')}"`;
  return `{${values.map((v) => (v === null ? 'NULL' : item(v))).join(',')}}`;
}
