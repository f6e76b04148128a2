// GET /health/ready: ready or not for anyone, the checks only for staff or the operator key, and a
// 503 for each thing that can be missing (database, KV, queue binding, a migration).
import { env } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import d1Journal from '../migrations/meta/_journal.json';
import pgJournal from '../migrations-pg/meta/_journal.json';
import type { ClientRequestOptions } from 'hono/client';
import type { z } from 'zod';
import type { ReadinessSchema } from '../src/modules/system/routes';
import { db, sql } from './db';
import { authed, bodyOf, createUser, expectProblem, health, withDatabaseDown, withVars } from './helpers';
import { scanOnly } from './log-guard';

const postgres = env.DB_BACKEND === 'postgres';
const OPERATOR_KEY = 'operator-key-for-tests-0123456789abcdef';
const operator = { 'x-operator-key': OPERATOR_KEY };
/** GET /health/ready, with the given request options (a token, an operator key). */
const ready = (options?: ClientRequestOptions) => health.ready.$get(undefined, options);
const bindings = env as unknown as Record<string, unknown>;

/** Runs fn with the operator key configured (a secret in production). */
const withOperatorKey = <T>(fn: () => Promise<T>) => withVars({ OPERATOR_KEY }, fn);

/** Runs fn with a binding replaced (or removed), restoring it after. */
async function withBinding<T>(name: string, value: unknown, fn: () => Promise<T>): Promise<T> {
  const saved = bindings[name];
  bindings[name] = value;
  try {
    return await fn();
  } finally {
    bindings[name] = saved;
  }
}

/** Runs fn with the newest migration unrecorded in the database's migrations table. */
async function withoutNewestMigration<T>(fn: (missing: string) => Promise<T>): Promise<T> {
  if (postgres) {
    const when = pgJournal.entries.at(-1)!.when;
    const [row] = await db.rows<{ id: number; hash: string; created_at: number }>(
      sql`DELETE FROM drizzle.__drizzle_migrations WHERE created_at = ${when} RETURNING id, hash, created_at`,
    );
    try {
      return await fn(String(when));
    } finally {
      await db.run(sql`INSERT INTO drizzle.__drizzle_migrations (id, hash, created_at) VALUES (${row!.id}, ${row!.hash}, ${row!.created_at})`);
    }
  }
  const name = `${d1Journal.entries.at(-1)!.tag}.sql`;
  const [row] = await db.rows<{ id: number; name: string; applied_at: string }>(
    sql`DELETE FROM d1_migrations WHERE name = ${name} RETURNING id, name, applied_at`,
  );
  try {
    return await fn(name);
  } finally {
    await db.run(sql`INSERT INTO d1_migrations (id, name, applied_at) VALUES (${row!.id}, ${row!.name}, ${row!.applied_at})`);
  }
}

/** A 503 whose problem has (or, publicly, has not) the checks; the checks. */
async function notReady(res: { status: number; headers: Headers; json(): Promise<unknown> }, detailed: boolean): Promise<Checks> {
  const body = await expectProblem(res, 503, 'SERVICE_UNAVAILABLE');
  if (!detailed) expect(body.checks).toBeUndefined();
  // The 503 problem carries the same checks as the 200 (a member the Problem schema passes through).
  return body.checks as Checks;
}
type Checks = NonNullable<z.infer<typeof ReadinessSchema>['checks']>;

describe('GET /health/ready', () => {
  it('tells anyone only whether the service is ready', async () => {
    expect(await bodyOf(await ready(), 200)).toEqual({ status: 'ready' });
    // /health stays the cheap liveness check it was.
    expect(await bodyOf(await health.$get(), 200)).toEqual({ status: 'ok', database: 'ok' });
  });

  it('shows staff every check: database, KV, queue binding, migrations of this build', async () => {
    const staff = await createUser({ staff: true });
    const body = await bodyOf(await ready(authed(staff.access)), 200);
    const expected = postgres ? pgJournal.entries.length : d1Journal.entries.length;
    expect(body).toEqual({
      status: 'ready',
      checks: {
        database: { ok: true, ms: expect.any(Number), backend: postgres ? 'postgres' : 'd1' },
        kv: { ok: true, ms: expect.any(Number) },
        queue: { ok: true },
        migrations: { ok: true, ms: expect.any(Number), expected, applied: expected, missing: [] },
      },
    });
  });

  it('refuses a non-staff token (403) and a bad one (401); a wrong operator key gets the public answer', async () => {
    const user = await createUser();
    await expectProblem(await ready(authed(user.access)), 403, 'PERMISSION_DENIED');
    await expectProblem(await ready(authed('not-a-token')), 401, 'INVALID_TOKEN');
    await withOperatorKey(async () => {
      expect(await bodyOf(await ready({ headers: { 'x-operator-key': `${OPERATOR_KEY}x` } }), 200)).toEqual({ status: 'ready' });
      expect((await bodyOf(await ready({ headers: operator }), 200)).checks?.database.ok).toBe(true);
    });
    // Without OPERATOR_KEY configured no header value unlocks the checks, not even an empty one.
    expect(await bodyOf(await ready({ headers: { 'x-operator-key': '' } }), 200)).toEqual({ status: 'ready' });
    expect(await bodyOf(await ready({ headers: operator }), 200)).toEqual({ status: 'ready' });
  });

  it('is not ready when KV fails: the problem tells the public nothing, the operator why', async () => {
    const get = vi.spyOn(env.PHONE_CODES, 'get').mockRejectedValue(new Error('KV unreachable'));
    const warn = vi.spyOn(console, 'warn').mockImplementation(scanOnly);
    try {
      await notReady(await ready(), false);
      const checks = await withOperatorKey(async () => notReady(await ready({ headers: operator }), true));
      expect(checks.kv).toMatchObject({ ok: false, error: 'Error: KV unreachable' });
      expect(checks.database.ok).toBe(true);
    } finally {
      get.mockRestore();
      warn.mockRestore();
    }
  });

  it('is not ready without the queue binding', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(scanOnly);
    try {
      const checks = await withBinding('MACHINE_QUEUE', undefined, () =>
        withOperatorKey(async () => notReady(await ready({ headers: operator }), true)),
      );
      expect(checks.queue).toEqual({ ok: false });
    } finally {
      warn.mockRestore();
    }
  });

  it('is not ready while a migration of this build is not applied, and names it to the operator', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(scanOnly);
    try {
      await withoutNewestMigration(async (missing) => {
        await notReady(await ready(), false);
        const checks = await withOperatorKey(async () => notReady(await ready({ headers: operator }), true));
        expect(checks.migrations).toMatchObject({ ok: false, missing: [missing] });
        expect(checks.migrations.applied).toBe(checks.migrations.expected - 1);
      });
    } finally {
      warn.mockRestore();
    }
    expect((await ready()).status).toBe(200);
  });

  it('is not ready when the database does not answer; the operator key still shows why', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(scanOnly);
    const warn = vi.spyOn(console, 'warn').mockImplementation(scanOnly);
    try {
      const down = async () => {
        await notReady(await ready(), false);
        const checks = await withOperatorKey(async () => notReady(await ready({ headers: operator }), true));
        expect(checks.database.ok).toBe(false);
        expect(checks.migrations.ok).toBe(false);
      };
      await withDatabaseDown(down);
    } finally {
      log.mockRestore();
      warn.mockRestore();
    }
  });
});
