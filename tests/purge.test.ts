// The scheduled purge, run through the worker's exported `scheduled` handler as the cron would run
// it: rows past their expiry go, live ones stay, a session in use is never removed, each key's rate
// limit row lives by its own window, and a backlog of 100,000 rows goes in bounded chunks over the
// runs the schedule makes.
import { createScheduledController } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import worker from '../src/index';
import { db, sql } from './db';
import { api, authed, bodyOf, createUser, fromIp, login, PASSWORD, randomPhone, requestPhoneCode, withVars } from './helpers';
import { newMachine } from './machines-helpers';
import { quietExpectedLogs } from './log-guard';

const DAY = 86_400_000;

interface Report {
  level: string;
  msg: string;
  removed: Record<
    'sessions' | 'rate_limits' | 'idempotency_keys' | 'phone_verifications' | 'machine_operations' | 'live_watchers' | 'webhook_events',
    number
  >;
  statements: number;
  batch: number;
  largest_chunk: number;
  complete: boolean;
  ms: number;
  error?: string;
}

/** One cron run through the worker's `scheduled`; its one purge log line. */
async function cron(): Promise<Report> {
  const spy = vi.spyOn(console, 'log');
  try {
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: '17 * * * *' }), env);
    const lines = spy.mock.calls.map((args) => String(args[0])).filter((line) => line.includes('"msg":"purge'));
    expect(lines).toHaveLength(1);
    return JSON.parse(lines[0]!) as Report;
  } finally {
    spy.mockRestore();
  }
}

const count = async (query: ReturnType<typeof sql>) => Number(await db.value(query, 'n'));
const exists = async (table: string, where: ReturnType<typeof sql>) =>
  (await count(sql`SELECT count(*) AS n FROM ${sql.raw(table)} WHERE ${where}`)) > 0;

async function insertSession(id: string, userId: number, expiresAt: number, revokedAt: number | null = null) {
  await db.run(sql`INSERT INTO sessions (id, user_id, refresh_jti, created_at, expires_at, revoked_at)
    VALUES (${id}, ${userId}, ${'jti'}, ${expiresAt - 14 * DAY}, ${expiresAt}, ${revokedAt})`);
}

describe('scheduled purge', () => {
  quietExpectedLogs(['log', 'error']);
  it('deletes what is past its expiry and keeps what is live', async () => {
    const u = await createUser();
    const now = Date.now();
    // Sessions: ended beyond SESSION_RETENTION_DAYS (30) go; ended within it, and the one in use, stay.
    await insertSession('s-expired-long-ago', u.id, now - 31 * DAY);
    await insertSession('s-expired-recently', u.id, now - DAY);
    await insertSession('s-revoked-long-ago', u.id, now + DAY, now - 31 * DAY);
    await insertSession('s-revoked-recently', u.id, now + DAY, now - DAY);
    // Idempotency records: expired go (IDEMPOTENCY_RETENTION_DAYS 0), live stay.
    await db.run(sql`INSERT INTO idempotency_keys (user_id, key, request_hash, created_at, expires_at)
      VALUES (${u.id}, ${'idem-old'}, ${'h'}, ${now - 2 * DAY}, ${now - DAY}), (${u.id}, ${'idem-live'}, ${'h'}, ${now}, ${now + DAY})`);
    // Phone verifications: expired beyond PHONE_VERIFICATION_RETENTION_DAYS (1) go.
    await db.run(sql`INSERT INTO phone_verifications (token_hash, phone, attempts, created_at, expires_at)
      VALUES (${'pv-old'}, ${'+820000000001'}, 0, ${now - 3 * DAY}, ${now - 2 * DAY}),
             (${'pv-recent'}, ${'+820000000002'}, 0, ${now - 2 * 3600_000}, ${now - 3600_000})`);
    const live = await requestPhoneCode(randomPhone());
    // Rate limits: a row past its window goes, one inside it stays.
    await db.run(sql`INSERT INTO rate_limits (key, window_start, count, expires_at)
      VALUES (${'test:ended'}, ${now - 2 * 3600_000}, 3, ${now - 3600_000}), (${'test:open'}, ${now}, 3, ${now + 3600_000})`);
    // Webhook events: fanned out beyond WEBHOOK_RETENTION_DAYS (30) go with their deliveries; recent or not fanned out stay.
    await db.run(sql`INSERT INTO webhook_events (event_id, type, user_id, payload, created_at, dispatched_at)
      VALUES (${'evt_purge_old'}, 'payment.paid', ${u.id}, '{}', ${now - 40 * DAY}, ${now - 31 * DAY}),
             (${'evt_purge_recent'}, 'payment.paid', ${u.id}, '{}', ${now - 2 * DAY}, ${now - 2 * DAY}),
             (${'evt_purge_undispatched'}, 'payment.paid', ${u.id}, '{}', ${now - 40 * DAY}, NULL)`);
    const ep = await db.first<{ id: number }>(sql`INSERT INTO webhook_endpoints (owner_id, url, events, secret, disabled, created_at, updated_at)
      VALUES (${u.id}, 'https://hooks.example.com/p', '["*"]', 'v1.x.y', 0, ${now}, ${now}) RETURNING id`);
    await db.run(sql`INSERT INTO webhook_deliveries (endpoint_id, event_row_id, event_id, event_type, status, attempts, created_at)
      SELECT ${ep!.id}, id, event_id, type, 'succeeded', 1, created_at FROM webhook_events WHERE event_id IN ('evt_purge_old', 'evt_purge_recent')`);
    // /live watcher records: one past its token's expiry goes, a live one stays.
    const m = await newMachine(u.access);
    await db.run(sql`INSERT INTO live_watchers (session_id, machine_id, user_id, expires_at)
      VALUES (${'s-expired-recently'}, ${m.id}, ${u.id}, ${now - 1}), (${'s-revoked-recently'}, ${m.id}, ${u.id}, ${now + 3600_000})`);

    const report = await cron();
    expect(report).toMatchObject({
      level: 'info',
      removed: {
        sessions: 2,
        idempotency_keys: 1,
        phone_verifications: 1,
        rate_limits: 1,
        machine_operations: 0,
        live_watchers: 1,
      },
      complete: true,
    });
    // One event (D1's count of changed rows includes its delivery, deleted by the cascade: 2 there).
    expect(report.removed.webhook_events).toBe(env.DB_BACKEND === 'postgres' ? 1 : 2);
    expect(await exists('webhook_events', sql`event_id = 'evt_purge_old'`)).toBe(false);
    expect(await exists('webhook_deliveries', sql`event_id = 'evt_purge_old'`)).toBe(false);
    expect(await exists('webhook_events', sql`event_id IN ('evt_purge_recent')`)).toBe(true);
    expect(await exists('webhook_deliveries', sql`event_id = 'evt_purge_recent'`)).toBe(true);
    expect(await exists('webhook_events', sql`event_id = 'evt_purge_undispatched'`)).toBe(true);
    expect(await exists('live_watchers', sql`session_id = 's-expired-recently'`)).toBe(false);
    expect(await exists('live_watchers', sql`session_id = 's-revoked-recently'`)).toBe(true);
    expect(await exists('sessions', sql`id IN ('s-expired-long-ago', 's-revoked-long-ago')`)).toBe(false);
    expect(await count(sql`SELECT count(*) AS n FROM sessions WHERE id IN ('s-expired-recently', 's-revoked-recently')`)).toBe(2);
    expect(await exists('idempotency_keys', sql`key = 'idem-old'`)).toBe(false);
    expect(await exists('idempotency_keys', sql`key = 'idem-live'`)).toBe(true);
    expect(await exists('phone_verifications', sql`token_hash = 'pv-old'`)).toBe(false);
    expect(await exists('phone_verifications', sql`token_hash = 'pv-recent'`)).toBe(true);
    expect(await exists('rate_limits', sql`key = 'test:ended'`)).toBe(false);
    expect(await exists('rate_limits', sql`key = 'test:open'`)).toBe(true);

    // What is live still works: the session in use, and the phone code just sent.
    expect((await api.users.me.$get(undefined, authed(u.access))).status).toBe(200);
    const refreshed = await api.users.refresh.$post({ json: { refresh: u.refresh } });
    expect(refreshed.status).toBe(200);
    const verified = await api.users.phone.verify[':verification_token'].$post({
      param: { verification_token: live.verification_token },
      json: { confirm_code: live.dev_code },
    });
    expect(verified.status).toBe(200);
  });

  it('never removes a session in use, even with no retention; ended ones go at once', async () => {
    const u = await createUser();
    const other = await bodyOf(await login({ email: u.email, password: PASSWORD }), 200);
    const logout = await api.users.logout.$post({ json: { refresh: other.token.refresh } }, authed(other.token.access));
    expect(logout.status).toBe(204);
    await insertSession('s-just-expired', u.id, Date.now() - 1);
    const report = await withVars({ SESSION_RETENTION_DAYS: '0' }, cron);
    expect(report.removed.sessions).toBeGreaterThanOrEqual(2);
    expect(await count(sql`SELECT count(*) AS n FROM sessions WHERE user_id = ${u.id}`)).toBe(1);
    expect(await count(sql`SELECT count(*) AS n FROM sessions WHERE revoked_at IS NOT NULL OR expires_at <= ${Date.now()}`)).toBe(0);
    expect((await api.users.me.$get(undefined, authed(u.access))).status).toBe(200);
    expect((await api.users.refresh.$post({ json: { refresh: u.refresh } })).status).toBe(200);
  });

  it('purges each rate-limit key by its own window: a 30-day known-address mark outlives a 15-minute login counter', async () => {
    const u = await createUser();
    const ip = '10.200.0.1';
    expect((await api.users.login.$post({ json: { email: u.email, password: 'wrong password' } }, fromIp(ip))).status).toBe(401);
    expect((await api.users.login.$post({ json: { email: u.email, password: PASSWORD } }, fromIp(ip))).status).toBe(200);
    const known = `login:known:u${u.id}:${ip}`;
    const counter = `login:addr:${ip}`;
    const rows = await db.rows<{ key: string; window_start: number; expires_at: number }>(
      sql`SELECT key, window_start, expires_at FROM rate_limits WHERE key IN (${known}, ${counter}) ORDER BY key`,
    );
    // Each write stamped the end of its own window.
    const window = Object.fromEntries(rows.map((r) => [r.key, Number(r.expires_at) - Number(r.window_start)]));
    expect(window).toEqual({ [known]: 30 * DAY, [counter]: 900_000 });

    // An hour later (both rows moved back an hour): the counter's window has ended, the mark's has not.
    await db.run(
      sql`UPDATE rate_limits SET window_start = window_start - 3600000, expires_at = expires_at - 3600000 WHERE key IN (${known}, ${counter})`,
    );
    await cron();
    expect(await exists('rate_limits', sql`key = ${counter}`)).toBe(false);
    expect(await exists('rate_limits', sql`key = ${known}`)).toBe(true);
  });

  it('keeps machine history unless MACHINE_HISTORY_RETENTION_DAYS is set, and never a pending command', async () => {
    const u = await createUser();
    const machine = await newMachine(u.access);
    const now = Date.now();
    const op = (command: string, result: string, completedAt: number | null) =>
      sql`INSERT INTO machine_operations (machine_id, machine_owner_id, worker_id, command, result, request_datetime, completed_at)
        VALUES (${machine.id}, ${u.id}, ${u.id}, ${command}, ${result}, ${now - 60 * DAY}, ${completedAt})`;
    await db.batch([
      op('POWER_ON', 'SUCCESS', now - 30 * DAY),
      op('START', 'REMOTEFAILED', now - 8 * DAY),
      op('STOP', 'SUCCESS', now - 6 * DAY),
      op('PAUSE', 'PENDING', null),
    ]);
    const history = sql`SELECT count(*) AS n FROM machine_operations WHERE machine_id = ${machine.id}`;

    expect((await cron()).removed.machine_operations).toBe(0);
    expect(await count(history)).toBe(4);

    const report = await withVars({ MACHINE_HISTORY_RETENTION_DAYS: '7' }, cron);
    expect(report.removed.machine_operations).toBe(2);
    const left = await db.rows<{ command: string }>(sql`SELECT command FROM machine_operations WHERE machine_id = ${machine.id} ORDER BY command`);
    expect(left.map((r) => r.command)).toEqual(['PAUSE', 'STOP']);
  });

  it('a failing run logs one error line with what it removed before the failure', async () => {
    await db.run(sql`INSERT INTO rate_limits (key, window_start, count, expires_at) VALUES (${'test:before-failure'}, 0, 1, 1)`);
    // idempotency_keys is purged after rate_limits in a round: take it away for this run.
    await db.run(sql`ALTER TABLE idempotency_keys RENAME TO idempotency_keys_away`);
    const spy = vi.spyOn(console, 'error');
    try {
      await expect(worker.scheduled(createScheduledController({ cron: '17 * * * *' }), env)).rejects.toThrow();
      const lines = spy.mock.calls.map((args) => String(args[0])).filter((line) => line.includes('"msg":"purge failed"'));
      expect(lines).toHaveLength(1);
      const report = JSON.parse(lines[0]!) as Report;
      expect(report).toMatchObject({ level: 'error', complete: false, removed: { rate_limits: 1 } });
      expect(report.error).toMatch(/idempotency_keys/);
    } finally {
      spy.mockRestore();
      await db.run(sql`ALTER TABLE idempotency_keys_away RENAME TO idempotency_keys`);
    }
  });

  it('works through 100,000 expired rows in bounded chunks over the runs the schedule makes', { timeout: 120_000 }, async () => {
    const u = await createUser();
    const now = Date.now();
    const series = (n: number) => sql`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${sql.raw(String(n))})`;
    await db.run(sql`${series(60_000)} INSERT INTO sessions (id, user_id, refresh_jti, created_at, expires_at)
      SELECT 'bulk-' || i, CAST(${u.id} AS BIGINT), 'jti', CAST(${now - 60 * DAY} AS BIGINT), CAST(${now - 40 * DAY} AS BIGINT) FROM n`);
    await db.run(sql`${series(40_000)} INSERT INTO rate_limits (key, window_start, count, expires_at)
      SELECT 'bulk:' || i, CAST(${now - 2 * DAY} AS BIGINT), 1, CAST(${now - DAY} AS BIGINT) FROM n`);
    const bulk = sql`SELECT (SELECT count(*) FROM sessions WHERE id LIKE 'bulk-%') + (SELECT count(*) FROM rate_limits WHERE key LIKE 'bulk:%') AS n`;
    expect(await count(bulk)).toBe(100_000);

    const vars = { PURGE_BATCH_SIZE: '1000', PURGE_MAX_STATEMENTS: '40', PURGE_TIME_BUDGET_MS: '60000' };
    const runs: Report[] = [];
    await withVars(vars, async () => {
      // Hourly runs until one reports it drained everything (bounded: 10 runs at most).
      while (runs.length < 10 && !runs.at(-1)?.complete) runs.push(await cron());
    });
    // 40 statements of at most 1,000 rows a run: 37,000 rows in each full run (3 of the first
    // round's 5 statements find nothing), so 100,000 rows take 3 runs.
    expect(runs.map((r) => r.complete)).toEqual([false, false, true]);
    for (const r of runs) {
      expect(r.statements).toBeLessThanOrEqual(40);
      expect(r.largest_chunk).toBe(1000);
      expect(r.removed.sessions + r.removed.rate_limits).toBeLessThanOrEqual(r.statements * 1000);
    }
    expect(runs.slice(0, 2).map((r) => r.statements)).toEqual([40, 40]);
    expect(runs.reduce((sum, r) => sum + r.removed.sessions, 0)).toBe(60_000);
    expect(runs.reduce((sum, r) => sum + r.removed.rate_limits, 0)).toBe(40_000);
    expect(await count(bulk)).toBe(0);
    // The user's own session survived all of it.
    expect((await api.users.me.$get(undefined, authed(u.access))).status).toBe(200);
  });
});
