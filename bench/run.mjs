// `npm run bench -- [--backend d1|postgres|both] [--pg-url URL] [--pooler=false] [--only text] [--rtt 0,5,20]
//   [--duration 10] [--connections 10] [--port 8799]`
// Starts `wrangler dev` on the seeded local database (run `npm run seed` first; for postgres
// `npm run seed -- --backend postgres …`, which fills both with the same rows), drives each
// scenario with autocannon and prints p50/p95/p99 latency and requests/s as a Markdown table
// (also written to bench/results/). `both` runs every scenario on D1, then on Postgres, and prints
// one table with a column group per backend. Postgres is reached through the local PgBouncer in
// transaction mode that stands in for Hyperdrive (scripts/pgbouncer.sh; --pooler=false connects the
// worker straight to PostgreSQL). Every scenario's requests/s is also given as a percentage of the
// `/health` floor of the same backend in the same run (the floor rows always run, --only or not: at the start and again at the end),
// and with `both` Postgres's requests/s as a percentage of D1's; scenarios under the targets of a
// scenario's `target` (% of the floor) are listed after the table.
// Scenarios live in bench/scenarios/<domain>.mjs:
//   export default async function (ctx) { return [scenario, ...] }
// where a scenario is { name, path, method?, body?, token?, headers?, setupRequest?(req), target? } for
// an autocannon load, or { name, run: async (ctx) => ({ latencies: number[], errors: number }), target? }
// for a measurement of its own (e.g. a round trip through a queue). `target` defaults to 70 (% of
// the floor) for GET loads and to none otherwise; null means none.
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import autocannon from 'autocannon';
import pg from 'pg';
import { cli, ensureDevVars, ROOT, UsageError } from '../scripts/lib.mjs';
import { DEV_PG_URL, pgWranglerSetup, preparePg, viaPooler } from '../scripts/pg-dev.mjs';
import { SEED_PASSWORD } from '../scripts/seed/accounts.mjs';
import { startDelayProxy } from './rtt-proxy.mjs';

const BACKEND_SETS = { d1: ['d1'], postgres: ['postgres'], both: ['d1', 'postgres'] };
const opts = cli({
  script: 'bench',
  usage:
    'npm run bench -- [--backend d1|postgres|both] [--only text] [--duration 10] [--connections 10] [--port 8799] [--pooler=false] [--rtt 0,5,20]',
  about: `Starts wrangler dev on the seeded local database (npm run seed first), drives every scenario of
bench/scenarios/ with autocannon and prints p50/p95/p99 latency, requests/s and requests/s as a
percentage of the /health floor of the same run (also in bench/results/).`,
  options: {
    backend: ['d1', 'd1, postgres, or both (one table with a column group per backend)'],
    'pg-url': [process.env.PG_URL ?? DEV_PG_URL, 'the Postgres database of --backend postgres|both'],
    pooler: [true, 'reach Postgres through the local PgBouncer (Hyperdrive stand-in); --pooler=false: directly'],
    only: ['', 'run only the scenarios whose name contains this text, or one of several separated by | (the floor rows always run)'],
    rtt: [
      '',
      'round-trip times in ms, e.g. 0,5,20: Postgres only, through a delaying TCP proxy (loopback) between the worker and the pooler; one column group per delay',
    ],
    duration: [10, 'seconds per scenario'],
    connections: [10, 'concurrent connections'],
    port: [8799, 'port of the wrangler dev server it starts'],
    payments: [
      'simulated',
      'simulated, or stripe: the worker runs with PAYMENT_PROVIDER=stripe against a local fake Stripe (tests/fakes/stripe.ts), for the payments: rows (use with --only payments:)',
    ],
    against: [
      '',
      'another checkout (e.g. a git worktree of an older commit, seeded the same): bench both, interleaved scenario by scenario, and print before/after',
    ],
  },
  check: (o) => {
    if (!BACKEND_SETS[o.backend]) throw new UsageError('--backend is d1, postgres or both');
    if (!['simulated', 'stripe'].includes(o.payments)) throw new UsageError('--payments is simulated or stripe');
  },
});
const BACKENDS = BACKEND_SETS[opts.backend];
const LABEL = { d1: 'D1', postgres: 'Postgres' };
/** A server to bench: this checkout, or (--against) another one on the next port. */
const HERE = { root: ROOT, port: opts.port, base: `http://127.0.0.1:${opts.port}` };
const THERE = opts.against ? { root: opts.against, port: opts.port + 1, base: `http://127.0.0.1:${opts.port + 1}` } : null;
/** The floor the percentages are of, and the targets of the issue (docs/performance.md). */
const FLOOR = 'floor: GET /health (one trivial database query)';
const FLOOR_AGAIN = 'floor: GET /health again, after the scenarios';
const READ_TARGET = 70;
const PG_OF_D1_TARGET = 50;

/**
 * --payments stripe: the local fake Stripe of the tests (tests/browser/fake-provider-servers.ts, bundled
 * by esbuild next to node_modules so it resolves the stripe package), on the port after the servers'.
 */
const STRIPE = opts.payments === 'stripe' ? await fakeStripe(opts.port + 3) : null;

async function fakeStripe(port) {
  const { build } = await import('esbuild');
  const out = `${ROOT}/node_modules/.cache/edge-bench/fake-provider-servers.mjs`;
  await build({
    entryPoints: [`${ROOT}/tests/browser/fake-provider-servers.ts`],
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    logLevel: 'warning',
  });
  const { startFakeStripe, STRIPE_SECRET, STRIPE_PUBLISHABLE, STRIPE_WEBHOOK_SECRET } = await import(out);
  const server = await startFakeStripe(port);
  return {
    fake: server.fake,
    close: server.close,
    vars: {
      PAYMENT_PROVIDER: 'stripe',
      STRIPE_API_BASE: server.base,
      STRIPE_SECRET_KEY: STRIPE_SECRET,
      STRIPE_PUBLISHABLE_KEY: STRIPE_PUBLISHABLE,
      STRIPE_WEBHOOK_SECRET: STRIPE_WEBHOOK_SECRET,
    },
  };
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const round = (ms) => Math.round(ms * 10) / 10;

async function up(t) {
  try {
    return (await fetch(`${t.base}/health`)).ok;
  } catch {
    return false;
  }
}

async function startServer(backend, t, workerPgUrl) {
  ensureDevVars();
  if (await up(t)) throw new Error(`something already answers on port ${t.port}; pick another with --port`);
  // The worker's Hyperdrive binding leads to the pooler; seeding and migrations use PostgreSQL itself.
  const pgUrl = workerPgUrl ?? (backend === 'postgres' ? (opts.pooler ? viaPooler(opts['pg-url']) : opts['pg-url']) : null);
  const pgSetup = backend === 'postgres' ? pgWranglerSetup(pgUrl, [], t.root) : { env: {}, args: [] };
  const child = spawn(
    'npx',
    [
      'wrangler',
      'dev',
      '--port',
      String(t.port),
      '--ip',
      '127.0.0.1',
      '--log-level',
      'error',
      // The bench logs in many seeded users from one address: lift the login limits for it.
      '--var',
      'LOGIN_MAX_FAILURES_PER_ADDRESS:1000000',
      '--var',
      'SIGNUPS_PER_ADDRESS_PER_HOUR:1000000',
      // The request log goes to wrangler's terminal here (in production, to Workers Logs): one line
      // per request would measure the terminal, so the bench runs with it off.
      '--var',
      'REQUEST_LOG_SAMPLE_RATE:0',
      // The webhooks scenario's receiver listens on 127.0.0.1 (http): local only, like .dev.vars.
      '--var',
      'ALLOW_INSECURE_CONTROLLER_URLS:true',
      ...pgSetup.args,
      ...(STRIPE ? Object.entries(STRIPE.vars).flatMap(([k, v]) => ['--var', `${k}:${v}`]) : []),
    ],
    { cwd: t.root, stdio: ['ignore', 'inherit', 'inherit'], detached: true, env: { ...process.env, ...pgSetup.env } },
  );
  for (let i = 0; i < 120; i++) {
    if (await up(t)) return child;
    await new Promise((r) => setTimeout(r, 500));
  }
  process.kill(-child.pid);
  throw new Error('wrangler dev did not start');
}

/** Stops the server's whole process group and waits until the port is free for the next backend. */
async function stopServer(child, t) {
  const exited = new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r()));
  process.kill(-child.pid, 'SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  for (let i = 0; i < 20 && (await up(t)); i++) await new Promise((r) => setTimeout(r, 500));
}

/** What scenarios use to talk to one server. */
function client(t) {
  const fetchJson = (path, o) => fetchJsonAt(t, path, o);
  const login = (email) => loginAt(fetchJson, email);
  const userTokens = (n, from) => userTokensAt(login, n, from);
  return { base: t.base, fetchJson, login, userTokens };
}

async function fetchJsonAt(t, path, { method = 'GET', body, token } = {}) {
  const res = await fetch(t.base + path, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function loginAt(fetchJson, email) {
  const res = await fetchJson('/api/users/login', { method: 'POST', body: { email, password: SEED_PASSWORD } });
  if (res.status !== 200) throw new Error(`login ${email} failed (${res.status}); did you run npm run seed (with --backend postgres for Postgres)?`);
  return res.body.token.access;
}

/** Access tokens of seeded users user<from>..user<from+n-1>, logged in a few at a time. */
async function userTokensAt(login, n, from = 0) {
  const out = [];
  for (let i = 0; i < n; i += 8) {
    const batch = Array.from({ length: Math.min(8, n - i) }, (_, k) => login(`user${from + i + k}@seed.example`));
    out.push(...(await Promise.all(batch)));
  }
  return out;
}

function load(scenario, base) {
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

/** Runs one scenario and returns its row. */
async function measure(backend, scenario, ctx) {
  const started = Date.now();
  const r = scenario.run ? await scenario.run(ctx) : await load(scenario, ctx.base);
  const seconds = r.seconds ?? (Date.now() - started) / 1000;
  const sorted = [...r.latencies].sort((a, b) => a - b);
  const isFloor = scenario.name.startsWith('floor:');
  const row = {
    scenario: scenario.name,
    requests: sorted.length,
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
    rps: sorted.length / seconds,
    errors: r.errors,
    target: scenario.target !== undefined ? scenario.target : !scenario.run && (scenario.method ?? 'GET') === 'GET' && !isFloor ? READ_TARGET : null,
  };
  console.log(
    `[${backend}] ${row.scenario}: p50 ${row.p50} ms, p95 ${row.p95} ms, p99 ${row.p99} ms, ${row.rps.toFixed(0)} req/s, ${row.errors} errors`,
  );
  return row;
}

/** The scenario modules' scenarios for one server, in file order (a module whose setup fails is skipped). */
async function scenariosFor(backend, ctx, rows) {
  const out = [];
  const files = readdirSync(new URL('./scenarios/', import.meta.url))
    .filter((f) => f.endsWith('.mjs'))
    .sort();
  for (const file of files) {
    const make = (await import(new URL(`./scenarios/${file}`, import.meta.url))).default;
    try {
      out.push(...(await make(ctx)));
    } catch (err) {
      // One module's setup failing (e.g. a small seed without the users a scenario logs in) should
      // not lose the other modules' numbers; with --only it is probably not a scenario asked for.
      console.error(`[${backend}] setup of ${file} failed: ${err.message}`);
      if (!opts.only) rows.push({ scenario: `${file}: setup failed`, failed: true });
    }
  }
  const wanted = opts.only ? String(opts.only).split('|') : [];
  return out.filter((sc) => wanted.length === 0 || wanted.some((w) => sc.name.includes(w)) || sc.name.startsWith('floor:'));
}

/** A server on `backend` for `t`, ready for scenarios: its context, and how to stop it. */
async function serve(backend, t, workerPgUrl) {
  const server = await startServer(backend, t, workerPgUrl);
  const c = client(t);
  // A failed staff login fails only the scenario modules that need the token (in their setup).
  const staffToken = await c.login('staff@seed.example').catch((err) => console.error(`[${backend}] ${err.message}`));
  return { ctx: { ...c, staffToken, opts, backend, stripe: STRIPE }, stop: () => stopServer(server, t) };
}

/** Runs every scenario (filtered by --only) against a server on `backend`; rows in run order. */
async function runAll(backend) {
  if (backend === 'postgres') await preparePg(opts['pg-url']); // creates/migrates only; the seed fills it
  const here = await serve(backend, HERE);
  const rows = [];
  try {
    for (const scenario of await scenariosFor(backend, here.ctx, rows)) rows.push(await measure(backend, scenario, here.ctx));
    // The floor once more at the end: the percentages use the mean of both (a shared machine's load
    // drifts over a run; the two rows show by how much).
    rows.push(await measure(backend, { name: FLOOR_AGAIN, path: '/health' }, here.ctx));
  } finally {
    await here.stop();
  }
  return rows;
}

/**
 * --against: this checkout and another one side by side, every scenario measured on both back to
 * back (alternating which goes first), so a drifting machine load falls on both alike.
 */
async function compareAll(backend) {
  if (backend === 'postgres') await preparePg(opts['pg-url']);
  const [here, there] = [await serve(backend, HERE), await serve(backend, THERE)];
  const rows = [];
  try {
    const mine = await scenariosFor(backend, here.ctx, rows);
    const theirs = await scenariosFor(backend, there.ctx, []);
    for (const [i, scenario] of mine.entries()) {
      const other = theirs.find((sc) => sc.name === scenario.name);
      if (!other) continue;
      const pair =
        i % 2 === 0
          ? [
              ['before', other, there],
              ['after', scenario, here],
            ]
          : [
              ['after', scenario, here],
              ['before', other, there],
            ];
      const row = { scenario: scenario.name };
      for (const [side, sc, srv] of pair) row[side] = await measure(`${backend} ${side}`, sc, srv.ctx);
      rows.push(row);
    }
  } finally {
    await Promise.all([here.stop(), there.stop()]);
  }
  return rows;
}

/** The before/after table of --against. */
function comparison(results) {
  const lines = [];
  for (const b of BACKENDS) {
    lines.push(
      `### ${LABEL[b]}\n`,
      '| scenario | before p50 ms | before p95 ms | before req/s | after p50 ms | after p95 ms | after req/s | after / before req/s |',
      '|---|---:|---:|---:|---:|---:|---:|---:|',
      ...results[b]
        .filter((r) => r.before)
        .map(
          (r) =>
            `| ${r.scenario} | ${r.before.p50} | ${r.before.p95} | ${r.before.rps.toFixed(0)} | ${r.after.p50} | ${r.after.p95} | ${r.after.rps.toFixed(0)} | ${(r.after.rps / r.before.rps).toFixed(2)} |`,
        ),
      '',
    );
  }
  return lines.join('\n');
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

/**
 * --rtt: every scenario on Postgres once per round-trip time, through a delaying proxy between the
 * worker and the pooler (bench/rtt-proxy.mjs), and one table: p50 / p95 per delay, and at the largest
 * delay each scenario's p50 over the /health p50 against the goals of issue 26 (reads + 25 ms,
 * applies + 50 ms).
 */
async function rttRun(delays) {
  await preparePg(opts['pg-url']);
  const direct = new URL(opts.pooler ? viaPooler(opts['pg-url']) : opts['pg-url']);
  const byDelay = new Map();
  for (const rtt of delays) {
    const proxy = await startDelayProxy({ target: { host: direct.hostname, port: Number(direct.port || 5432) }, rttMs: rtt });
    const url = new URL(direct);
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    const rows = [];
    try {
      const here = await serve('postgres', HERE, url.toString());
      try {
        for (const scenario of await scenariosFor(`postgres +${rtt} ms`, here.ctx, rows))
          rows.push(await measure(`postgres +${rtt} ms`, scenario, here.ctx));
      } finally {
        await here.stop();
      }
    } finally {
      await proxy.close();
    }
    byDelay.set(rtt, rows);
  }
  const last = delays[delays.length - 1];
  const health = (rtt) => byDelay.get(rtt).find((r) => r.scenario === FLOOR)?.p50;
  const names = [...new Set([...byDelay.values()].flatMap((rows) => rows.map((r) => r.scenario)))];
  const goal = (name) => (name.startsWith('floor:') ? null : /apply|enroll/.test(name) ? 50 : /^GET |live-sales|sales-chart/.test(name) ? 25 : null);
  const lines = [
    `| scenario | ${delays.map((d) => `+${d} ms p50 / p95`).join(' | ')} | p50 − /health p50 at +${last} ms | goal |`,
    `|---|${delays.map(() => '---:').join('|')}|---:|---|`,
  ];
  const missed = [];
  for (const name of names) {
    const cellsOf = delays.map((d) => {
      const r = byDelay.get(d).find((x) => x.scenario === name);
      return r && !r.failed ? `${r.p50} / ${r.p95}` : '—';
    });
    const r = byDelay.get(last).find((x) => x.scenario === name);
    const over = r && !r.failed ? round(r.p50 - health(last)) : NaN;
    const g = goal(name);
    const verdict = g === null ? '' : over <= g ? `≤ ${g} ms: met` : `≤ ${g} ms: missed`;
    if (g !== null && !(over <= g)) missed.push(`- ${name}: p50 ${r?.p50} ms, /health ${health(last)} ms (+${over} ms, goal +${g} ms)`);
    lines.push(`| ${name} | ${cellsOf.join(' | ')} | ${Number.isNaN(over) ? '—' : over} | ${verdict} |`);
  }
  const header =
    `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}: wrangler dev on Postgres ` +
    `${opts.pooler ? 'through PgBouncer' : 'directly'}, with a delaying proxy adding ${delays.join(', ')} ms per round trip between the worker and it; ` +
    `${opts.connections} connections, ${opts.duration} s per scenario; 1-minute load average ${loadAtStart.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end.`;
  const report = `${header}\n\n${lines.join('\n')}\n\n${missed.length ? `Goals missed at +${last} ms:\n\n${missed.join('\n')}` : 'Every goal met.'}\n`;
  console.log(`\n${report}`);
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL(`./results/${new Date().toISOString().replace(/[:.]/g, '-')}-rtt.md`, import.meta.url), report);
}

const loadAtStart = loadavg()[0];
if (opts.rtt) {
  const delays = String(opts.rtt)
    .split(',')
    .map((d) => Number(d.trim()));
  if (delays.some((d) => !Number.isFinite(d) || d < 0 || d > 1000)) throw new UsageError('--rtt is a list of delays in ms, e.g. 0,5,20');
  await rttRun(delays);
  process.exit(process.exitCode ?? 0);
}
const results = {};
for (const backend of BACKENDS) {
  try {
    results[backend] = THERE ? await compareAll(backend) : await runAll(backend);
  } catch (err) {
    // With `both`, a backend that cannot run still leaves the other's column.
    console.error(`[${backend}] bench failed: ${err.stack ?? err}`);
    results[backend] = [];
    process.exitCode = 1;
  }
}

if (THERE) {
  const report = `Before: ${THERE.root}; after: ${HERE.root}. Measured ${new Date().toISOString().slice(0, 10)}, ${opts.connections} connections, ${opts.duration} s per scenario, each scenario on both back to back; 1-minute load average ${loadAtStart.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end.\n\n${comparison(results)}`;
  console.log(`\n${report}`);
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL(`./results/${new Date().toISOString().replace(/[:.]/g, '-')}-compare.md`, import.meta.url), report);
  process.exit(process.exitCode ?? 0);
}

const pgVer = BACKENDS.includes('postgres') ? await pgVersion().catch(() => '?') : '';
const pgPath = opts.pooler ? 'through PgBouncer (transaction mode) as local Hyperdrive' : 'straight through local Hyperdrive (no pooler)';
const runtimes = BACKENDS.map((b) => (b === 'd1' ? 'SQLite D1' : `Postgres ${pgVer} ${pgPath}`));
const header =
  `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ` +
  `wrangler dev (local workerd + ${runtimes.join(' / ')}), ${opts.connections} connections, ${opts.duration} s per scenario; ` +
  `1-minute load average ${loadAtStart.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end. ` +
  '"% floor": requests/s as a percentage of the same backend\'s `/health` floor in this run (the mean of its two floor rows).';

const find = (b, name) => results[b].find((r) => r.scenario === name);
const floorRps = Object.fromEntries(BACKENDS.map((b) => [b, ((find(b, FLOOR)?.rps ?? NaN) + (find(b, FLOOR_AGAIN)?.rps ?? NaN)) / 2]));
const pct = (n, of) => (n > 0 && of > 0 ? Math.round((100 * n) / of) : NaN);
const ofFloor = (b, r) => pct(r.rps, floorRps[b]);
const pgOfD1 = (name) => pct(find('postgres', name)?.rps, find('d1', name)?.rps);
const show = (n) => (Number.isNaN(n) ? '—' : `${n}%`);
const cells = (b, r) =>
  !r
    ? ['—', '—', '—', '—', '—', '—']
    : r.failed
      ? ['failed', '', '', '', '', '']
      : [r.p50, r.p95, r.p99, r.rps.toFixed(0), show(ofFloor(b, r)), r.errors];
const cols = ['p50 ms', 'p95 ms', 'p99 ms', 'req/s', '% floor', 'errors'];
// One row per scenario in first-seen order; a scenario one backend did not run shows —.
const names = [...new Set(BACKENDS.flatMap((b) => results[b].map((r) => r.scenario)))];
let table;
if (BACKENDS.length === 1) {
  const b = BACKENDS[0];
  table = [
    `| scenario | requests | ${cols.join(' | ')} |`,
    `|---|---:|${cols.map(() => '---:').join('|')}|`,
    ...results[b].map((r) => `| ${r.scenario} | ${r.failed ? '' : r.requests} | ${cells(b, r).join(' | ')} |`),
  ].join('\n');
} else {
  table = [
    `| scenario | ${BACKENDS.flatMap((b) => cols.map((c) => `${LABEL[b]} ${c}`)).join(' | ')} | Postgres % of D1 req/s |`,
    `|---|${BACKENDS.flatMap(() => cols.map(() => '---:')).join('|')}|---:|`,
    ...names.map((n) => `| ${n} | ${BACKENDS.flatMap((b) => cells(b, find(b, n))).join(' | ')} | ${show(pgOfD1(n))} |`),
  ].join('\n');
}

/** The scenarios under the issue's targets: % of the floor per backend, and Postgres against D1. */
function misses() {
  const out = [];
  for (const b of BACKENDS) {
    for (const r of results[b]) {
      if (r.failed || r.target == null) continue;
      const p = ofFloor(b, r);
      if (!(p >= r.target)) out.push(`- ${LABEL[b]}: ${r.scenario}: ${show(p)} of the floor (target ${r.target}%)`);
      if (r.errors > 0) out.push(`- ${LABEL[b]}: ${r.scenario}: ${r.errors} errors (target 0)`);
    }
  }
  if (BACKENDS.length === 2) {
    for (const n of names) {
      const p = pgOfD1(n);
      if (!n.startsWith('floor:') && !(p >= PG_OF_D1_TARGET)) out.push(`- Postgres/D1: ${n}: ${show(p)} (target ${PG_OF_D1_TARGET}%)`);
    }
  }
  return out.length ? `Below target:\n\n${out.join('\n')}` : 'Every scenario meets its target.';
}

await STRIPE?.close();

const report = `${header}\n\n${table}\n\n${misses()}\n`;
console.log(`\n${report}`);
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const suffix = opts.backend === 'd1' ? '' : `-${opts.backend}`; // today's d1 file names stay as they were
writeFileSync(new URL(`./results/${stamp}${suffix}.md`, import.meta.url), report);
