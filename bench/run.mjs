// `npm run bench -- [--backend d1|postgres|both] [--pg-url URL] [--only text] [--duration 10]
//   [--connections 10] [--port 8799]`
// Starts `wrangler dev` on the seeded local database (run `npm run seed` first; for postgres
// `npm run seed -- --backend postgres …`, which fills both with the same rows), drives each
// scenario with autocannon and prints p50/p95/p99 latency and requests/s as a Markdown table
// (also written to bench/results/). `both` runs every scenario on D1, then on Postgres, and prints
// one table with a column group per backend. Scenarios live in bench/scenarios/<domain>.mjs:
//   export default async function (ctx) { return [scenario, ...] }
// where a scenario is { name, path, method?, body?, token?, headers?, setupRequest?(req) } for an
// autocannon load, or { name, run: async (ctx) => ({ latencies: number[], errors: number }) } for a
// measurement of its own (e.g. a round trip through a queue).
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import autocannon from 'autocannon';
import pg from 'pg';
import { cli, ensureDevVars, ROOT, UsageError } from '../scripts/lib.mjs';
import { DEV_PG_URL, pgWranglerSetup, preparePg } from '../scripts/pg-dev.mjs';
import { SEED_PASSWORD } from '../scripts/seed/accounts.mjs';

const BACKEND_SETS = { d1: ['d1'], postgres: ['postgres'], both: ['d1', 'postgres'] };
const opts = cli({
  script: 'bench',
  usage: 'npm run bench -- [--backend d1|postgres|both] [--only text] [--duration 10] [--connections 10] [--port 8799]',
  about: `Starts wrangler dev on the seeded local database (npm run seed first), drives every scenario of
bench/scenarios/ with autocannon and prints p50/p95/p99 latency and requests/s (also in bench/results/).`,
  options: {
    backend: ['d1', 'd1, postgres, or both (one table with a column group per backend)'],
    'pg-url': [process.env.PG_URL ?? DEV_PG_URL, 'the Postgres database of --backend postgres|both'],
    only: ['', 'run only the scenarios whose name contains this text'],
    duration: [10, 'seconds per scenario'],
    connections: [10, 'concurrent connections'],
    port: [8799, 'port of the wrangler dev server it starts'],
  },
  check: (o) => {
    if (!BACKEND_SETS[o.backend]) throw new UsageError('--backend is d1, postgres or both');
  },
});
const BACKENDS = BACKEND_SETS[opts.backend];
const LABEL = { d1: 'D1', postgres: 'Postgres' };
const base = `http://127.0.0.1:${opts.port}`;

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const round = (ms) => Math.round(ms * 10) / 10;

async function up() {
  try {
    return (await fetch(`${base}/health`)).ok;
  } catch {
    return false;
  }
}

async function startServer(backend) {
  ensureDevVars();
  if (await up()) throw new Error(`something already answers on port ${opts.port}; pick another with --port`);
  const pgSetup = backend === 'postgres' ? pgWranglerSetup(opts['pg-url']) : { env: {}, args: [] };
  const child = spawn(
    'npx',
    ['wrangler', 'dev', '--port', String(opts.port), '--ip', '127.0.0.1', '--log-level', 'error',
      // The bench logs in many seeded users from one address: lift the login limits for it.
      '--var', 'LOGIN_MAX_FAILURES_PER_ADDRESS:1000000', '--var', 'SIGNUPS_PER_ADDRESS_PER_HOUR:1000000',
      ...pgSetup.args],
    { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'], detached: true, env: { ...process.env, ...pgSetup.env } },
  );
  for (let i = 0; i < 120; i++) {
    if (await up()) return child;
    await new Promise((r) => setTimeout(r, 500));
  }
  process.kill(-child.pid);
  throw new Error('wrangler dev did not start');
}

/** Stops the server's whole process group and waits until the port is free for the next backend. */
async function stopServer(child) {
  const exited = new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r()));
  process.kill(-child.pid, 'SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  for (let i = 0; i < 20 && (await up()); i++) await new Promise((r) => setTimeout(r, 500));
}

async function fetchJson(path, { method = 'GET', body, token } = {}) {
  const res = await fetch(base + path, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function login(email) {
  const res = await fetchJson('/api/users/login', { method: 'POST', body: { email, password: SEED_PASSWORD } });
  if (res.status !== 200) throw new Error(`login ${email} failed (${res.status}); did you run npm run seed (with --backend postgres for Postgres)?`);
  return res.body.token.access;
}

/** Access tokens of seeded users user<from>..user<from+n-1>, logged in a few at a time. */
async function userTokens(n, from = 0) {
  const out = [];
  for (let i = 0; i < n; i += 8) {
    const batch = Array.from({ length: Math.min(8, n - i) }, (_, k) => login(`user${from + i + k}@seed.example`));
    out.push(...(await Promise.all(batch)));
  }
  return out;
}

function load(scenario) {
  return new Promise((resolve, reject) => {
    const latencies = [];
    let errors = 0;
    const headers = { 'content-type': 'application/json', ...scenario.headers };
    if (scenario.token) headers.authorization = `Bearer ${scenario.token}`;
    const instance = autocannon(
      {
        url: base + scenario.path,
        method: scenario.method ?? 'GET',
        headers,
        body: scenario.body === undefined ? undefined : JSON.stringify(scenario.body),
        connections: scenario.connections ?? opts.connections,
        duration: scenario.duration ?? opts.duration,
        amount: scenario.amount,
        requests: scenario.setupRequest ? [{ setupRequest: scenario.setupRequest }] : undefined,
      },
      (err, result) => {
        if (err) return reject(err);
        resolve({ latencies, errors: errors + result.errors + result.timeouts, seconds: result.duration });
      },
    );
    instance.on('response', (_client, status, _bytes, ms) => {
      latencies.push(ms);
      if (status >= 400 && !(scenario.okStatuses ?? []).includes(status)) errors += 1;
    });
  });
}

/** Runs every scenario (filtered by --only) against a server on `backend`; rows in run order. */
async function runAll(backend) {
  if (backend === 'postgres') await preparePg(opts['pg-url']); // creates/migrates only; the seed fills it
  const server = await startServer(backend);
  const rows = [];
  try {
    // A failed staff login fails only the scenario modules that need the token (in their setup).
    const staffToken = await login('staff@seed.example').catch((err) => console.error(`[${backend}] ${err.message}`));
    const ctx = { base, fetchJson, login, userTokens, staffToken, opts, backend };
    const files = readdirSync(new URL('./scenarios/', import.meta.url)).filter((f) => f.endsWith('.mjs')).sort();
    for (const file of files) {
      const make = (await import(new URL(`./scenarios/${file}`, import.meta.url))).default;
      let scenarios;
      try {
        scenarios = await make(ctx);
      } catch (err) {
        // One module's setup failing (e.g. a small seed without the users a scenario logs in) should
        // not lose the other modules' numbers; with --only it is probably not a scenario asked for.
        console.error(`[${backend}] setup of ${file} failed: ${err.message}`);
        if (!opts.only) rows.push({ scenario: `${file}: setup failed`, failed: true });
        continue;
      }
      for (const scenario of scenarios) {
        if (opts.only && !scenario.name.includes(opts.only)) continue;
        const started = Date.now();
        const r = scenario.run ? await scenario.run(ctx) : await load(scenario);
        const seconds = r.seconds ?? (Date.now() - started) / 1000;
        const sorted = [...r.latencies].sort((a, b) => a - b);
        const row = {
          scenario: scenario.name,
          requests: sorted.length,
          p50: round(percentile(sorted, 50)),
          p95: round(percentile(sorted, 95)),
          p99: round(percentile(sorted, 99)),
          rps: sorted.length / seconds,
          errors: r.errors,
        };
        rows.push(row);
        console.log(`[${backend}] ${row.scenario}: p50 ${row.p50} ms, p95 ${row.p95} ms, p99 ${row.p99} ms, ${row.rps.toFixed(0)} req/s, ${row.errors} errors`);
      }
    }
  } finally {
    await stopServer(server);
  }
  return rows;
}

async function pgVersion() {
  const client = new pg.Client({ connectionString: opts['pg-url'] });
  await client.connect();
  try {
    return (await client.query('SHOW server_version')).rows[0].server_version.split(' ')[0];
  } finally {
    await client.end();
  }
}

const results = {};
for (const backend of BACKENDS) {
  try {
    results[backend] = await runAll(backend);
  } catch (err) {
    // With `both`, a backend that cannot run still leaves the other's column.
    console.error(`[${backend}] bench failed: ${err.stack ?? err}`);
    results[backend] = [];
    process.exitCode = 1;
  }
}

const pgVer = BACKENDS.includes('postgres') ? await pgVersion().catch(() => '?') : '';
const runtimes = BACKENDS.map((b) => (b === 'd1' ? 'SQLite D1' : `Postgres ${pgVer} through local Hyperdrive`));
const header = `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ` +
  `wrangler dev (local workerd + ${runtimes.join(' / ')}), ${opts.connections} connections, ${opts.duration} s per scenario.`;
const cells = (r) => (!r ? ['—', '—', '—', '—', '—'] : r.failed ? ['failed', '', '', '', ''] : [r.p50, r.p95, r.p99, r.rps.toFixed(0), r.errors]);
let table;
if (BACKENDS.length === 1) {
  const rows = results[BACKENDS[0]];
  table = [
    '| scenario | requests | p50 ms | p95 ms | p99 ms | req/s | errors |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.scenario} | ${r.failed ? '' : r.requests} | ${cells(r).join(' | ')} |`),
  ].join('\n');
} else {
  // One row per scenario in first-seen order; a scenario one backend did not run shows —.
  const names = [...new Set(BACKENDS.flatMap((b) => results[b].map((r) => r.scenario)))];
  const find = (b, name) => results[b].find((r) => r.scenario === name);
  const cols = ['p50 ms', 'p95 ms', 'p99 ms', 'req/s', 'errors'];
  table = [
    `| scenario | ${BACKENDS.flatMap((b) => cols.map((c) => `${LABEL[b]} ${c}`)).join(' | ')} |`,
    `|---|${BACKENDS.flatMap(() => cols.map(() => '---:')).join('|')}|`,
    ...names.map((n) => `| ${n} | ${BACKENDS.flatMap((b) => cells(find(b, n))).join(' | ')} |`),
  ].join('\n');
}
console.log(`\n${header}\n\n${table}`);
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const suffix = opts.backend === 'd1' ? '' : `-${opts.backend}`; // today's d1 file names stay as they were
writeFileSync(new URL(`./results/${stamp}${suffix}.md`, import.meta.url), `${header}\n\n${table}\n`);
