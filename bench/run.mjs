// `npm run bench -- [--only text] [--duration 10] [--connections 10] [--port 8799]`
// Starts `wrangler dev` on the seeded local database (run `npm run seed` first), drives each
// scenario with autocannon and prints p50/p95/p99 latency and requests/s as a Markdown table
// (also written to bench/results/). Scenarios live in bench/scenarios/<domain>.mjs:
//   export default async function (ctx) { return [scenario, ...] }
// where a scenario is { name, path, method?, body?, token?, headers?, setupRequest?(req) } for an
// autocannon load, or { name, run: async (ctx) => ({ latencies: number[], errors: number }) } for a
// measurement of its own (e.g. a round trip through a queue).
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import autocannon from 'autocannon';
import { ensureDevVars, parseArgs, ROOT } from '../scripts/lib.mjs';
import { SEED_PASSWORD } from '../scripts/seed/accounts.mjs';

const opts = parseArgs(process.argv.slice(2), { only: '', duration: 10, connections: 10, port: 8799 });
const base = `http://127.0.0.1:${opts.port}`;

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const round = (ms) => Math.round(ms * 10) / 10;

async function startServer() {
  ensureDevVars();
  const child = spawn(
    'npx',
    ['wrangler', 'dev', '--port', String(opts.port), '--ip', '127.0.0.1', '--log-level', 'error',
      // The bench logs in many seeded users from one address: lift the login limits for it.
      '--var', 'LOGIN_MAX_FAILURES_PER_ADDRESS:1000000', '--var', 'SIGNUPS_PER_ADDRESS_PER_HOUR:1000000'],
    { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'], detached: true },
  );
  for (let i = 0; i < 120; i++) {
    try {
      if ((await fetch(`${base}/health`)).ok) return child;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  process.kill(-child.pid);
  throw new Error('wrangler dev did not start');
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
  if (res.status !== 200) throw new Error(`login ${email} failed (${res.status}); did you run npm run seed?`);
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

const server = await startServer();
const rows = [];
try {
  const ctx = { base, fetchJson, login, userTokens, staffToken: await login('staff@seed.example'), opts };
  const files = readdirSync(new URL('./scenarios/', import.meta.url)).filter((f) => f.endsWith('.mjs')).sort();
  for (const file of files) {
    const make = (await import(new URL(`./scenarios/${file}`, import.meta.url))).default;
    for (const scenario of await make(ctx)) {
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
      console.log(`${row.scenario}: p50 ${row.p50} ms, p95 ${row.p95} ms, p99 ${row.p99} ms, ${row.rps.toFixed(0)} req/s, ${row.errors} errors`);
    }
  }
} finally {
  process.kill(-server.pid, 'SIGTERM');
}

const header = `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ` +
  `wrangler dev (local workerd + SQLite D1), ${opts.connections} connections, ${opts.duration} s per scenario.`;
const table = [
  '| scenario | requests | p50 ms | p95 ms | p99 ms | req/s | errors |',
  '|---|---:|---:|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.scenario} | ${r.requests} | ${r.p50} | ${r.p95} | ${r.p99} | ${r.rps.toFixed(0)} | ${r.errors} |`),
].join('\n');
console.log(`\n${header}\n\n${table}`);
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL(`./results/${new Date().toISOString().replace(/[:.]/g, '-')}.md`, import.meta.url), `${header}\n\n${table}\n`);
