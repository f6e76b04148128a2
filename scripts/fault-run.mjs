// `npm run fault-run [-- options]` (`-- --help` lists them): the fault run of issue 22, as a script.
// A throwaway `wrangler dev` (its own port, its own --persist-to temp dir, its own env file: the
// developer's .dev.vars and .wrangler/state are never read or written) gets a burst of machine
// commands and exam applies/cancels with Idempotency-Keys from concurrent clients; during the burst
// its whole process tree is killed with SIGKILL at random moments and restarted on the same state.
// Afterwards it waits until no operation is PENDING and checks, in the local D1 SQLite file, that
// every accepted request left its trace and that the money invariants hold. Prints a JSON summary;
// exit code 1 when a check fails (the temp dir, with the server log, is kept then).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { cli, fail, localD1File, ROOT, UsageError } from './lib.mjs';
import { throwawaySchemaSql } from './throwaway-schema.mjs';

const opts = cli({
  script: 'fault-run',
  usage: 'npm run fault-run [-- --duration 25 --clients 10 --kills 3 …]',
  about: `Starts wrangler dev on its own port with throwaway local state, creates users, machines (simulated, and
some behind a fake controller that fails now and then) and exams, then runs a burst of machine commands and
applies/cancels with Idempotency-Keys from concurrent clients while killing the server's whole process group
with SIGKILL at random moments (restarting it on the same state each time). Afterwards it waits until no
operation is PENDING and checks that every accepted request left its trace and the money invariants hold.
Prints a JSON summary; exits 1 when a check fails (keeping the temp dir with the server log).`,
  options: {
    port: [8861, 'port of the throwaway wrangler dev (127.0.0.1)'],
    'controller-port': [8862, 'port of the in-process fake device controller (127.0.0.1)'],
    duration: [25, 'seconds of burst (it runs on until 6 s of load have followed the last restart)'],
    clients: [10, 'concurrent clients'],
    kills: [3, 'SIGKILLs of the server during the burst'],
    users: [5, 'users (each client acts as one of them)'],
    machines: [4, 'machines (owned by the first users; every other one behind the fake controller)'],
    exams: [3, 'exams'],
    'sim-delay': [300, 'MACHINE_SIM_DELAY_MS: how long a simulated command runs'],
    backlog: [8, 'no new command for a machine while it has this many PENDING (so the wait measures recovery, not a queue)'],
    'controller-fail': [0.1, 'share of commands the fake controller answers 500 (REMOTEFAILED)'],
    settle: [90, 'seconds to wait, after the burst, for no operation to be PENDING'],
    seed: [0, 'seed of the random choices and kill moments (0: a random seed, printed)'],
    keep: [false, 'keep the temp dir (state and server log) even when every check passes'],
  },
  check: (o) => {
    for (const k of ['port', 'controller-port', 'clients', 'users', 'machines', 'exams', 'duration']) {
      if (!Number.isInteger(o[k]) || o[k] < 1) throw new UsageError(`--${k} must be a whole number ≥ 1`);
    }
    if (o['controller-fail'] > 1) throw new UsageError('--controller-fail is a share between 0 and 1');
    if (o.machines > o.users) throw new UsageError('--machines must not exceed --users (one machine per owner)');
    if (o.duration > 600 || o.settle > 600 || o.kills > 20) throw new UsageError('bounded: --duration and --settle ≤ 600, --kills ≤ 20');
  },
});

const STARTUP_MS = 120_000;
const REQUEST_TIMEOUT_MS = 15_000;
const BASE = `http://127.0.0.1:${opts.port}`;
const WRANGLER = join(ROOT, 'node_modules/wrangler/bin/wrangler.js');
const PASSWORD = 'fault run password 1';
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
const log = (msg) => console.error(`[fault-run ${elapsed()}] ${msg}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- seeded randomness (so a run's choices and kill moments can be repeated) ---------------------
const seed = opts.seed || randomBytes(4).readUInt32LE(0) >>> 0 || 1;
let rngState = seed >>> 0;
function rand() {
  rngState = (rngState + 0x6d2b79f5) >>> 0;
  let t = rngState;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (list) => list[Math.floor(rand() * list.length)];

// ---- the throwaway server -----------------------------------------------------------------------
const dir = mkdtempSync(join(tmpdir(), 'fault-run-'));
const persist = join(dir, 'state');
const serverLog = join(dir, 'wrangler.log');
const envFile = join(dir, 'vars.env');

const wranglerEnv = { ...process.env, CI: 'true', WRANGLER_SEND_METRICS: 'false' };

function applySchema() {
  const schema = join(dir, 'schema.sql');
  writeFileSync(schema, throwawaySchemaSql());
  const res = spawnSync(process.execPath, [WRANGLER, 'd1', 'execute', 'DB', '--local', '--persist-to', persist, '--file', schema], {
    cwd: ROOT,
    encoding: 'utf8',
    env: wranglerEnv,
    timeout: STARTUP_MS,
  });
  if (res.status !== 0) throw new Error(`wrangler d1 execute failed:\n${res.stdout}\n${res.stderr}`);
}

// Its own env file: with --env-file, wrangler dev reads neither .dev.vars nor .env.
writeFileSync(
  envFile,
  `${Object.entries({
    JWT_SECRET: randomBytes(32).toString('base64url'),
    PHONE_CODE_SECRET: randomBytes(32).toString('base64url'),
    SECRETS_KEY: randomBytes(32).toString('base64'),
    DB_BACKEND: 'd1',
    LOCAL_DEVELOPMENT: 'true',
    SMS_PROVIDER: 'console',
    ALLOW_INSECURE_CONTROLLER_URLS: 'true',
    MACHINE_SIM_DELAY_MS: String(opts['sim-delay']),
    MACHINE_RETRY_BASE_SECONDS: '1',
    MACHINE_CONTROLLER_TIMEOUT_MS: '3000',
    SIGNUPS_PER_ADDRESS_PER_HOUR: '10000',
    REQUEST_LOG_SAMPLE_RATE: '0',
  })
    .map(([k, v]) => `${k}=${v}`)
    .join('\n')}\n`,
  { mode: 0o600 },
);

let server = null; // the detached wrangler dev: its pid is the process group id

async function startServer() {
  const t0 = Date.now();
  const out = openSync(serverLog, 'a');
  const args = [WRANGLER, 'dev', '--port', String(opts.port), '--ip', '127.0.0.1', '--persist-to', persist, '--env-file', envFile];
  args.push('--show-interactive-dev-session=false');
  const child = spawn(process.execPath, args, { cwd: ROOT, detached: true, stdio: ['ignore', out, out], env: wranglerEnv });
  child.exited = new Promise((r) => child.on('exit', r));
  server = child;
  const deadline = Date.now() + STARTUP_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      if ((await fetch(`${BASE}/health`, { signal: AbortSignal.timeout(2000) })).ok) return Date.now() - t0;
    } catch {
      // not listening yet
    }
    await sleep(300);
  }
  throw new Error(`wrangler dev did not become healthy on ${BASE}:\n${readFileSync(serverLog, 'utf8').slice(-3000)}`);
}

/** Pids whose process group is pgid (read from /proc; Linux only). */
function groupMembers(pgid) {
  const pids = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') pids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

async function killServer(signal = 'SIGKILL') {
  const child = server;
  if (!child?.pid) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
  await Promise.race([child.exited, sleep(10_000)]);
  // Every process of the group, workerd included, must be gone before the restart.
  for (let i = 0; i < 50 && groupMembers(child.pid).length > 0; i++) await sleep(100);
  const left = groupMembers(child.pid);
  if (left.length > 0) throw new Error(`processes of the killed group ${child.pid} still alive: ${left.join(', ')}`);
}

// ---- a fake device controller (in this process, so the kills never touch it) -------------------
// A device that honours Idempotency-Key as docs/machines.md asks of one: the first delivery of a
// command decides (200, or 500 for a share of them) and a repeat gets the same answer without acting
// again. It keeps its own status per machine (what it did), to compare with the database at the end.
const deliveries = new Map(); // operation id → answers given
const deviceStatus = new Map(); // machine id → the status the device is in
const deviceAnswers = new Map(); // Idempotency-Key → the first answer
const controller = createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    let cmd = null;
    try {
      cmd = JSON.parse(body);
    } catch {
      // not a command
    }
    const key = req.headers['idempotency-key'];
    const repeat = key !== undefined && deviceAnswers.has(key);
    const status = repeat ? deviceAnswers.get(key) : rand() < opts['controller-fail'] ? 500 : 200;
    if (key !== undefined) deviceAnswers.set(key, status);
    if (!repeat && cmd?.machine_id !== undefined) deviceStatus.set(cmd.machine_id, status === 200 ? TARGET[cmd.command] : 'ERROR');
    setTimeout(
      () => {
        const answer = { answer: status, at_s: Number(((Date.now() - started) / 1000).toFixed(1)) };
        if (cmd?.operation_id !== undefined) deliveries.set(cmd.operation_id, [...(deliveries.get(cmd.operation_id) ?? []), answer]);
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: status === 200 }));
      },
      Math.round(opts['sim-delay'] * (0.5 + rand())),
    );
  });
});

// ---- HTTP ---------------------------------------------------------------------------------------
async function call(path, { method, body, token, key } = {}) {
  const headers = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  if (key) headers['idempotency-key'] = key;
  try {
    const res = await fetch(BASE + path, {
      method: method ?? (body === undefined ? 'GET' : 'POST'),
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await res.text();
    let json;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = { raw: text.slice(0, 200) };
    }
    return { status: res.status, body: json, replayed: res.headers.get('idempotent-replayed') === 'true' };
  } catch (err) {
    return { status: 0, error: err.name === 'TimeoutError' ? 'timeout' : (err.cause?.code ?? err.name) };
  }
}

async function must(label, res, expected) {
  const r = await res;
  if (r.status !== expected) throw new Error(`${label}: HTTP ${r.status} ${JSON.stringify(r.body ?? r.error)}`);
  return r.body;
}

async function signup(email) {
  await must(`signup ${email}`, call('/api/users/signup', { body: { email, password: PASSWORD, password_check: PASSWORD } }), 201);
  const body = await must(`login ${email}`, call('/api/users/login', { body: { email, password: PASSWORD } }), 200);
  return { email, id: body.user.id, token: body.token.access };
}

// ---- the burst ----------------------------------------------------------------------------------
const TARGET = { POWER_ON: 'READY', START: 'RUNNING', PAUSE: 'PAUSE', STOP: 'READY', POWER_OFF: 'POWEROFF', RESET: 'READY' };
const FROM = {
  POWER_ON: ['POWEROFF'],
  START: ['READY', 'PAUSE'],
  PAUSE: ['RUNNING'],
  STOP: ['RUNNING', 'PAUSE'],
  POWER_OFF: ['READY'],
  RESET: ['ERROR'],
};
const COMMANDS = Object.keys(TARGET);
const validFor = (status) => COMMANDS.filter((c) => FROM[c].includes(status));

const tally = { requests: 0, by_kind: {} };
const accepted = { commands: [], applies: [], cancels: [] };
const keyPayments = new Map(); // idempotency key → payment ids seen in its 2xx answers
const unresolved = new Map(); // key → the request whose outcome no answer told (network error, 5xx, in progress)
const replayMismatches = [];
const cancelAttempts = new Set(); // payment ids a cancel was sent for (accepted or not)
let serverUp = false;
let burstOver = false;
let lastRestartAt = 0;
let lastKillAt = 0;
const touchedAfterLastRestart = new Set();

function count(res, kind) {
  tally.requests++;
  const k = res.status === 0 ? `error:${res.error}` : String(res.status);
  const mine = (tally.by_kind[kind] ??= {});
  mine[k] = (mine[k] ?? 0) + 1;
}

/** Sends one idempotent money request, retrying the same key after a failure that tells nothing. */
async function idempotentCall(user, path, body, key) {
  for (let attempt = 0; attempt < 5; attempt++) {
    const res = await call(path, { body, token: user.token, key });
    count(res, path.endsWith('/apply') ? 'apply' : 'cancel');
    const unknown = res.status === 0 || res.status >= 500 || res.body?.code === 'IDEMPOTENCY_IN_PROGRESS';
    if (!unknown) {
      unresolved.delete(key);
      return res;
    }
    unresolved.set(key, { user, path, body });
    if (burstOver) return res;
    await sleep(500 + 1000 * rand());
  }
  return null;
}

function notePayment(key, paymentId) {
  const set = keyPayments.get(key) ?? new Set();
  set.add(paymentId);
  keyPayments.set(key, set);
}

function recordMoney(kind, user, key, res, extra) {
  if (![200, 201].includes(res.status)) return;
  const payment = kind === 'apply' ? res.body.payment : res.body;
  notePayment(key, payment.id);
  const entry = { user: user.id, key, payment_id: payment.id, status: res.status, replayed: res.replayed, ...extra };
  if (kind === 'apply') {
    accepted.applies.push(entry);
    if (!res.replayed) user.paid.add(payment.id);
  } else {
    accepted.cancels.push(entry);
    user.paid.delete(payment.id);
  }
}

async function moneyStep(user, exams) {
  const paid = [...user.paid];
  if (paid.length > 0 && rand() < 0.45) {
    const paymentId = pick(paid);
    const key = `cancel-${randomBytes(8).toString('hex')}`;
    const path = `/api/payments/${paymentId}/cancel`;
    const body = { reason: 'fault run' };
    cancelAttempts.add(paymentId);
    const res = await idempotentCall(user, path, body, key);
    if (!res) return;
    if (res.status === 200) {
      recordMoney('cancel', user, key, res, { path });
    } else if (res.status === 409 && res.body?.code === 'PAYMENT_ALREADY_CANCELLED') user.paid.delete(paymentId);
    return;
  }
  const exam = pick(exams);
  const key = `apply-${randomBytes(8).toString('hex')}`;
  const path = `/api/exams/${exam.id}/apply`;
  const body = { amount: exam.price, payment_method: 'card' };
  const res = await idempotentCall(user, path, body, key);
  if (!res) return;
  recordMoney('apply', user, key, res, { exam_id: exam.id, path });
  if (res.status === 409 && res.body?.code === 'ALREADY_REGISTERED') {
    // Paid by a request whose answer was lost: learn the user's paid payments, to cancel them too.
    const list = await call('/api/me/payments?status=paid&page_size=50', { token: user.token });
    count(list, 'payments list');
    if (list.status === 200) user.paid = new Set(list.body.results.map((p) => p.id));
  }
  // Now and then the same key again: it must replay the same payment, not pay again.
  if (res.status === 201 && rand() < 0.2) {
    const again = await call(path, { body, token: user.token, key });
    count(again, 'apply again');
    if (again.status === 201) {
      recordMoney('apply', user, key, again, { exam_id: exam.id, path });
      if (!again.replayed || again.body.payment.id !== res.body.payment.id) {
        replayMismatches.push({ key, first: res.body.payment.id, again: again.body.payment.id, replayed: again.replayed });
      }
    }
  }
}

async function commandStep(user, machine) {
  // Mostly a command that fits the status the machine will have; now and then any command (a 409).
  const fits = validFor(machine.projected);
  const command = fits.length > 0 && rand() < 0.92 ? pick(fits) : pick(COMMANDS);
  const res = await call(`/api/machines/${machine.id}/operation`, { body: { command }, token: user.token });
  count(res, 'command');
  if (res.status !== 0) touchedAfterLastRestart.add(machine.id);
  if (res.status === 202) {
    accepted.commands.push({ machine_id: machine.id, operation_id: res.body.id, command, user: user.id, at: Date.now() - started });
    machine.projected = TARGET[command];
  } else if (res.status === 409 && res.body?.machine_status) {
    machine.projected = res.body.machine_status;
  }
}

async function client(i, users, machines, exams, until) {
  const user = users[i % users.length];
  const machine = machines.find((m) => m.owner === user.id);
  while (!burstOver && Date.now() < until()) {
    if (!serverUp) {
      await sleep(200);
      continue;
    }
    if (machine && machine.pending < opts.backlog && rand() < 0.55) await commandStep(user, machine);
    else await moneyStep(user, exams);
    await sleep(20 + 60 * rand());
  }
}

// ---- the checks ---------------------------------------------------------------------------------
function withDb(fn) {
  const file = localD1File(persist);
  if (!file) throw new Error(`no local D1 file under ${persist}`);
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    db.exec('PRAGMA busy_timeout = 5000'); // the server writes the same file
    db.exec('BEGIN'); // one snapshot for every query
    try {
      return fn(db);
    } finally {
      db.exec('COMMIT');
    }
  } finally {
    db.close();
  }
}

const pendingIds = () =>
  withDb((db) =>
    db
      .prepare(`SELECT id FROM machine_operations WHERE result = 'PENDING'`)
      .all()
      .map((r) => r.id),
  );

function normaliseDetail(detail) {
  return String(detail ?? '(none)')
    .replace(/\d+/g, 'N')
    .slice(0, 160);
}

function checks(machines, { unresolvedAfterBurst, resolvedAfterBurst, pendingAtBurstEnd, finishedAfter }) {
  return withDb((db) => {
    const failures = [];
    const ops = db.prepare('SELECT id, machine_id, command, result, detail, completed_at FROM machine_operations ORDER BY id').all();
    const opById = new Map(ops.map((o) => [o.id, o]));

    // Machines: every accepted command is in the database and finished, with its reason.
    const byResult = {};
    const missing = [];
    for (const a of accepted.commands) {
      const op = opById.get(a.operation_id);
      if (!op || op.machine_id !== a.machine_id || op.command !== a.command) {
        missing.push(a);
        continue;
      }
      const r = (byResult[op.result] ??= { count: 0, reasons: {} });
      r.count++;
      if (op.result !== 'SUCCESS') r.reasons[normaliseDetail(op.detail)] = (r.reasons[normaliseDetail(op.detail)] ?? 0) + 1;
    }
    const pending = ops.filter((o) => o.result === 'PENDING');
    if (missing.length) failures.push(`accepted commands missing from machine_operations: ${JSON.stringify(missing.slice(0, 10))}`);
    if (pending.length) failures.push(`operations still PENDING: ${JSON.stringify(pending.slice(0, 20))}`);

    // Each machine's status is what its finished operations lead to, in the order they finished, and
    // every SUCCESS was a valid transition from the status before it.
    const statusMismatches = [];
    const invalidTransitions = [];
    for (const m of db.prepare('SELECT id, status FROM machines ORDER BY id').all()) {
      const mine = ops.filter((o) => o.machine_id === m.id && o.result !== 'PENDING').sort((a, b) => a.completed_at - b.completed_at || a.id - b.id);
      let status = 'POWEROFF';
      for (const o of mine) {
        if (o.result === 'SUCCESS') {
          if (!FROM[o.command].includes(status)) invalidTransitions.push({ machine_id: m.id, operation_id: o.id, command: o.command, from: status });
          status = TARGET[o.command];
        } else if (o.result === 'REMOTEFAILED') status = 'ERROR';
      }
      if (status !== m.status) statusMismatches.push({ machine_id: m.id, status: m.status, replayed: status });
    }
    // The devices behind the fake controller are in the status the database says.
    const deviceMismatches = machines
      .filter((m) => m.controller && deviceStatus.has(m.id))
      .map((m) => ({
        machine_id: m.id,
        device: deviceStatus.get(m.id),
        database: db.prepare('SELECT status FROM machines WHERE id = ?').get(m.id)?.status,
      }))
      .filter((m) => m.device !== m.database);
    if (deviceMismatches.length) failures.push(`a device is not in the status the database says: ${JSON.stringify(deviceMismatches)}`);
    if (statusMismatches.length) failures.push(`machine status is not what its operations lead to: ${JSON.stringify(statusMismatches)}`);
    if (invalidTransitions.length)
      failures.push(`SUCCESS from a status the command does not apply to: ${JSON.stringify(invalidTransitions.slice(0, 10))}`);

    // Money.
    const payments = db.prepare('SELECT id, user_id, payment_type, target_id, amount, status, cancelled_at, refund_reason FROM payments').all();
    const regs = db.prepare('SELECT id, user_id, kind, item_id, status, payment_id FROM registrations').all();
    const exams = db.prepare('SELECT id, price, registration_count FROM exams').all();
    const keys = db.prepare('SELECT user_id, key, response_status, response_body, payment_id FROM idempotency_keys').all();
    const payById = new Map(payments.map((p) => [p.id, p]));
    const regByItem = new Map(regs.map((r) => [`${r.user_id}/${r.kind}/${r.item_id}`, r]));
    const ACTIVE = new Set(['applied', 'enrolled', 'completed']);

    const paidWithoutRegistration = payments
      .filter((p) => p.status === 'paid')
      .filter((p) => {
        const r = regByItem.get(`${p.user_id}/${p.payment_type}/${p.target_id}`);
        return !r || !ACTIVE.has(r.status) || r.payment_id !== p.id;
      });
    const activeWithoutPaid = regs.filter((r) => ACTIVE.has(r.status) && payById.get(r.payment_id)?.status !== 'paid');
    const paidTwice = Object.entries(
      Object.groupBy(
        payments.filter((p) => p.status === 'paid'),
        (p) => `${p.user_id}/${p.payment_type}/${p.target_id}`,
      ),
    )
      .filter(([, list]) => list.length > 1)
      .map(([item, list]) => ({ item, payments: list.map((p) => p.id) }));
    const countMismatches = exams
      .map((e) => ({
        exam_id: e.id,
        registration_count: e.registration_count,
        active: regs.filter((r) => r.kind === 'exam' && r.item_id === e.id && ACTIVE.has(r.status)).length,
      }))
      .filter((e) => e.registration_count !== e.active);
    const wrongAmount = payments.filter((p) => p.amount !== exams.find((e) => e.id === p.target_id)?.price);
    const refundNotCancelled = payments.filter(
      (p) =>
        (p.status !== 'cancelled' && (p.cancelled_at !== null || p.refund_reason !== null)) || (p.status === 'cancelled' && p.cancelled_at === null),
    );
    const cancelledUnasked = payments.filter((p) => p.status === 'cancelled' && !cancelAttempts.has(p.id));
    const keyTwoPayments = [...keyPayments].filter(([, set]) => set.size > 1).map(([key, set]) => ({ key, payments: [...set] }));
    const keyRowMismatch = keys.filter((k) => {
      if (k.payment_id === null) return false;
      const p = payById.get(k.payment_id);
      if (!p || p.user_id !== k.user_id) return true;
      if (k.response_body === null) return false;
      const stored = JSON.parse(k.response_body);
      const id = stored.ok ? (stored.value.payment?.id ?? stored.value.id) : null;
      return id !== null && id !== k.payment_id;
    });
    // Every request carried a key, and a write records its payment on its key in the same
    // transaction: each payment has exactly one apply key, and one cancel key once cancelled.
    const keysOf = (prefix, id) => keys.filter((k) => k.payment_id === id && k.key.startsWith(prefix)).length;
    const paymentKeyMismatch = payments
      .map((p) => ({ payment_id: p.id, status: p.status, apply_keys: keysOf('apply-', p.id), cancel_keys: keysOf('cancel-', p.id) }))
      .filter((p) => p.apply_keys !== 1 || p.cancel_keys !== (p.status === 'cancelled' ? 1 : 0));
    const appliesMissing = accepted.applies.filter((a) => !payById.has(a.payment_id) || payById.get(a.payment_id).user_id !== a.user);
    const cancelsNotCancelled = accepted.cancels.filter((c) => payById.get(c.payment_id)?.status !== 'cancelled');

    const money = {
      paid_payments: payments.filter((p) => p.status === 'paid').length,
      cancelled_payments: payments.filter((p) => p.status === 'cancelled').length,
      active_registrations: regs.filter((r) => ACTIVE.has(r.status)).length,
      idempotency_keys: keys.length,
      violations: {
        paid_without_its_active_registration: paidWithoutRegistration.map((p) => p.id),
        active_registration_without_paid_payment: activeWithoutPaid.map((r) => r.id),
        item_paid_twice: paidTwice,
        registration_count_mismatch: countMismatches,
        amount_not_price: wrongAmount.map((p) => p.id),
        refund_fields_not_cancelled: refundNotCancelled.map((p) => p.id),
        cancelled_without_a_cancel_request: cancelledUnasked.map((p) => p.id),
        key_answered_two_payments: keyTwoPayments,
        payment_without_exactly_its_keys: paymentKeyMismatch,
        key_row_payment_mismatch: keys.length ? keyRowMismatch.map((k) => `${k.user_id}/${k.key}`) : [],
        replay_not_the_same_payment: replayMismatches,
        accepted_apply_missing: appliesMissing.map((a) => a.payment_id),
        accepted_cancel_not_cancelled: cancelsNotCancelled.map((c) => c.payment_id),
      },
    };
    if (unresolved.size)
      failures.push(
        `keys still without an answer (5xx or in progress) long after the last kill: ${JSON.stringify([...unresolved.keys()].slice(0, 10))}`,
      );
    for (const [name, list] of Object.entries(money.violations))
      if (list.length) failures.push(`money: ${name}: ${JSON.stringify(list.slice(0, 10))}`);

    return {
      machines: {
        operations_in_db: ops.length,
        accepted: accepted.commands.length,
        accepted_by_final_status: byResult,
        all_operations_by_result: Object.fromEntries(Object.entries(Object.groupBy(ops, (o) => o.result)).map(([k, v]) => [k, v.length])),
        not_acknowledged: (() => {
          // Rows of commands whose request got no answer (a kill cut it): each must have finished too.
          const acked = new Set(accepted.commands.map((a) => a.operation_id));
          const rows = ops.filter((o) => !acked.has(o.id));
          return {
            count: rows.length,
            by_result: Object.fromEntries(
              Object.entries(Object.groupBy(rows, (o) => `${o.result}: ${normaliseDetail(o.detail)}`)).map(([k, v]) => [k, v.length]),
            ),
          };
        })(),
        pending_when_the_burst_ended: pendingAtBurstEnd.length,
        // The slowest of those to finish: how long after the burst, and how.
        slowest_to_finish: [...finishedAfter]
          .sort((a, b) => b[1] - a[1] || a[0] - b[0])
          .slice(0, 5)
          .map(([id, s]) => ({
            operation_id: id,
            machine_id: opById.get(id)?.machine_id,
            after_s: s,
            result: opById.get(id)?.result,
            detail: opById.get(id)?.detail,
          })),
        pending: pending.length,
        pending_operations: Object.fromEntries(pending.map((o) => [o.id, o.machine_id])),
        accepted_but_missing: missing.length,
        status_matches_history: statusMismatches.length === 0,
        devices_match_database: deviceMismatches.length === 0,
        invalid_transitions: invalidTransitions.length,
        final_status: Object.fromEntries(
          db
            .prepare('SELECT id, status FROM machines')
            .all()
            .map((m) => [m.id, m.status]),
        ),
        touched_after_last_restart: machines.map((m) => m.id).filter((id) => touchedAfterLastRestart.has(id)),
        controller: {
          machines: machines.filter((m) => m.controller).map((m) => m.id),
          deliveries: [...deliveries.values()].reduce((n, l) => n + l.length, 0),
          // A device may see a command twice when the object died between its answer and recording it
          // (docs/machines.md, Idempotency): expected only right after a kill.
          operations_delivered_more_than_once: [...deliveries]
            .filter(([, l]) => l.length > 1)
            .map(([id, l]) => ({ operation_id: id, answers: l.map((a) => `${a.answer} at ${a.at_s} s`), result: opById.get(id)?.result })),
        },
      },
      money: {
        accepted_applies: accepted.applies.length,
        accepted_replays: accepted.applies.filter((a) => a.replayed).length + accepted.cancels.filter((c) => c.replayed).length,
        accepted_cancels: accepted.cancels.length,
        keys_unanswered_after_burst: unresolvedAfterBurst,
        their_answers_on_retry: resolvedAfterBurst,
        keys_never_answered: unresolved.size,
        ...money,
      },
      failures,
    };
  });
}

// ---- the run ------------------------------------------------------------------------------------
let ok = false;
let cleaned = false;
async function cleanup() {
  if (cleaned) return;
  cleaned = true;
  await killServer('SIGTERM').catch(() => killServer('SIGKILL').catch(() => {}));
  controller.close();
  if (ok && !opts.keep) rmSync(dir, { recursive: true, force: true });
  else console.error(`fault-run: state and server log kept in ${dir}`);
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    cleanup().finally(() => process.exit(130));
  });
}

try {
  log(`seed ${seed}; temp dir ${dir}`);
  // Another server on the port would answer the health checks for ours.
  const taken = await fetch(`${BASE}/health`, { signal: AbortSignal.timeout(2000) }).then(
    () => true,
    () => false,
  );
  if (taken) throw new UsageError(`port ${opts.port} is in use (choose another with --port)`);
  await new Promise((resolve, reject) => {
    controller.once('error', reject);
    controller.listen(opts['controller-port'], '127.0.0.1', resolve);
  });
  applySchema();
  log('schema applied');
  const firstStart = await startServer();
  serverUp = true;
  log(`wrangler dev healthy on ${BASE} after ${(firstStart / 1000).toFixed(1)} s`);

  const staff = await signup(`staff-${randomBytes(4).toString('hex')}@example.com`);
  const users = [];
  for (let i = 0; i < opts.users; i++) {
    const u = await signup(`fault-${i}-${randomBytes(4).toString('hex')}@example.com`);
    users.push({ ...u, paid: new Set() });
  }
  const machines = [];
  for (let i = 0; i < opts.machines; i++) {
    const behind = i % 2 === 1;
    const body = { name: `fault press ${i}`, location: 'fault run' };
    if (behind) body.controller_url = `http://127.0.0.1:${opts['controller-port']}/press-${i}`;
    const m = await must('create machine', call('/api/machines', { body, token: users[i].token }), 201);
    machines.push({ id: m.id, owner: users[i].id, projected: m.status, controller: behind, pending: 0 });
  }
  const day = 86_400_000;
  const exams = [];
  for (let i = 0; i < opts.exams; i++) {
    const body = {
      title: `fault exam ${i}`,
      description: '',
      price: 10_000 * (i + 1),
      start_at: new Date(Date.now() - day).toISOString(),
      end_at: new Date(Date.now() + 30 * day).toISOString(),
    };
    exams.push(await must('create exam', call('/api/exams', { body, token: staff.token }), 201));
  }
  log(
    `${users.length} users, ${machines.length} machines (${machines.filter((m) => m.controller).length} behind the fake controller), ${exams.length} exams`,
  );

  // Kill moments: one in each slice of the burst, at a random point of it, but never before the
  // server has served 2 s since its last restart. The burst goes on until 6 s after the last restart.
  const burstStart = Date.now();
  const burstMs = opts.duration * 1000;
  let burstEnd = burstStart + burstMs;
  const hardEnd = burstStart + burstMs + opts.kills * STARTUP_MS;
  const kills = [];
  const killer = (async () => {
    for (let i = 0; i < opts.kills; i++) {
      const slice = burstMs / opts.kills;
      const at = Math.max(burstStart + slice * (i + 0.15 + 0.7 * rand()), lastRestartAt + 2000);
      while (Date.now() < at) await sleep(Math.min(100, at - Date.now()));
      const inFlight = tally.requests;
      serverUp = false;
      const t = Date.now();
      lastKillAt = t;
      await killServer('SIGKILL');
      log(`kill ${i + 1}: SIGKILL to process group ${server.pid} (${inFlight} requests sent so far)`);
      const restartMs = await startServer();
      lastRestartAt = Date.now();
      touchedAfterLastRestart.clear();
      serverUp = true;
      kills.push({ at_s: Number(((t - started) / 1000).toFixed(1)), restart_s: Number((restartMs / 1000).toFixed(1)) });
      log(`restart ${i + 1}: healthy again after ${(restartMs / 1000).toFixed(1)} s`);
      burstEnd = Math.max(burstEnd, lastRestartAt + 6000);
    }
  })();
  // Each machine's PENDING count, from the database file every 500 ms (the clients' backlog cap).
  const backlog = (async () => {
    while (!burstOver) {
      try {
        const counts = withDb((db) =>
          db.prepare(`SELECT machine_id, count(*) AS n FROM machine_operations WHERE result = 'PENDING' GROUP BY machine_id`).all(),
        );
        for (const m of machines) m.pending = counts.find((c) => c.machine_id === m.id)?.n ?? 0;
      } catch {
        // busy: the next round
      }
      await sleep(500);
    }
  })();
  const clients = Array.from({ length: opts.clients }, (_, i) => client(i, users, machines, exams, () => Math.min(burstEnd, hardEnd)));
  await killer;
  await Promise.all(clients);
  burstOver = true;
  await backlog;
  const burstSeconds = (Date.now() - burstStart) / 1000;
  log(`burst over after ${burstSeconds.toFixed(1)} s: ${tally.requests} requests, ${accepted.commands.length} commands accepted`);

  // Two things at once, both bounded. (1) Wait until no operation is PENDING, touching no machine.
  const settleStart = Date.now();
  const pendingAtBurstEnd = pendingIds();
  const finishedAfter = new Map(); // operation id → seconds after the burst it stopped being PENDING
  let pending = pendingAtBurstEnd.length;
  let settledSeconds = 0;
  const settle = (async () => {
    let still = new Set(pendingAtBurstEnd);
    while (pending > 0 && Date.now() - settleStart < opts.settle * 1000) {
      await sleep(1000);
      const now = new Set(pendingIds());
      for (const id of still) if (!now.has(id)) finishedAfter.set(id, Math.round((Date.now() - settleStart) / 1000));
      still = now;
      pending = now.size;
    }
    settledSeconds = (Date.now() - settleStart) / 1000;
    log(`${pending} operations PENDING after ${settledSeconds.toFixed(1)} s of waiting`);
  })();
  // (2) Requests whose outcome no answer told: their key again, as a client would, until it answers.
  // A claim the kill left behind is taken over 60 s after it was made (ABANDONED_MS in
  // src/modules/payments/idempotency.ts): the retry then replays what committed or runs afresh.
  const unresolvedAfterBurst = unresolved.size;
  const resolvedAfterBurst = {};
  const resolve = (async () => {
    const until = Math.max(Date.now() + 5000, lastKillAt + 70_000);
    while (unresolved.size > 0 && Date.now() < until) {
      for (const [key, r] of [...unresolved]) {
        const res = await call(r.path, { body: r.body, token: r.user.token, key });
        if (res.status === 0 || res.status >= 500 || res.body?.code === 'IDEMPOTENCY_IN_PROGRESS') continue;
        unresolved.delete(key);
        const answer = `${res.status}${res.body?.code ? ` ${res.body.code}` : ''}${res.replayed ? ' replayed' : ''}`;
        resolvedAfterBurst[answer] = (resolvedAfterBurst[answer] ?? 0) + 1;
        if ([200, 201].includes(res.status)) {
          const kind = r.path.endsWith('/apply') ? 'apply' : 'cancel';
          recordMoney(kind, r.user, key, res, { path: r.path, resolved_after_burst: true });
        }
      }
      if (unresolved.size > 0) await sleep(3000);
    }
    log(`${unresolvedAfterBurst} keys without an answer after the burst; ${unresolved.size} still without one`);
  })();
  await Promise.all([settle, resolve]);

  const result = checks(machines, { unresolvedAfterBurst, resolvedAfterBurst, pendingAtBurstEnd, finishedAfter });
  result.machines.pending_when_the_wait_ended = pending;
  if (pending > 0) {
    const stuck = [
      ...new Set(
        pendingIds()
          .map((id) => result.machines.pending_operations?.[id])
          .filter(Boolean),
      ),
    ];
    result.failures.unshift(
      `${pending} operations still PENDING when the wait of --settle ${opts.settle} s ended, on machines ${JSON.stringify(stuck)}` +
        ` (touched by a request since the last restart: ${JSON.stringify(stuck.filter((id) => touchedAfterLastRestart.has(id)))})`,
    );
  }
  ok = result.failures.length === 0;
  const summary = {
    ok,
    seed,
    options: { duration: opts.duration, clients: opts.clients, kills: opts.kills, users: opts.users, machines: opts.machines, exams: opts.exams },
    kills,
    burst_s: Number(burstSeconds.toFixed(1)),
    settle_s: Number(settledSeconds.toFixed(1)),
    requests: tally,
    ...result,
    run_s: Number(((Date.now() - started) / 1000).toFixed(1)),
  };
  console.log(JSON.stringify(summary, null, 2));
} catch (err) {
  if (!(err instanceof UsageError)) console.error(err.stack ?? String(err));
  if (server === null) ok = true; // nothing ran: no state worth keeping
  await cleanup();
  fail('fault-run', err.message.split('\n')[0], err instanceof UsageError ? 2 : 1);
}
await cleanup();
process.exit(ok ? 0 : 1);
