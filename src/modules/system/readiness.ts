// Readiness: can this deployment serve? The database answers, KV answers, the queue binding is
// there, and the database has every migration this build was made with (their list is baked into
// the bundle from the migration journals). Publicly only ready / not ready is told; the checks
// themselves (timings, errors, missing migrations) only to staff or to the holder of OPERATOR_KEY
// (docs/operations.md, "Readiness"). Each check is bounded in time, so the view never hangs.
import d1Journal from '../../../migrations/meta/_journal.json';
import pgJournal from '../../../migrations-pg/meta/_journal.json';
import type { Ctx } from '../../context';
import { sha256Hex } from '../../lib/digest';
import { errorSummary } from '../../lib/log';
import { timingSafeEqual } from '../../lib/password';
import { withTimeout } from '../../lib/timeout';
import { migrationsApplied, ping } from './repository';

/** The longest one check may take before it counts as failed. */
const CHECK_TIMEOUT_MS = 3_000;
/** The KV key read by the check (never written: a miss is the expected answer). */
const KV_PROBE_KEY = 'readiness-probe';

export interface Check {
  ok: boolean;
  ms: number;
  error?: string;
}

export interface Readiness {
  ready: boolean;
  checks: {
    database: Check & { backend: 'd1' | 'postgres' };
    kv: Check;
    queue: { ok: boolean };
    migrations: Check & { expected: number; applied: number; missing: string[] };
  };
}

/** The migrations this build expects, as each backend records them (see appliedMigrations). */
export function expectedMigrations(backend: 'd1' | 'postgres'): string[] {
  return backend === 'postgres' ? pgJournal.entries.map((e) => String(e.when)) : d1Journal.entries.map((e) => `${e.tag}.sql`);
}

async function timed<T>(probe: () => Promise<T>): Promise<Check & { value?: T }> {
  const started = performance.now();
  try {
    const value = await withTimeout(probe(), CHECK_TIMEOUT_MS);
    return { ok: true, ms: Math.round(performance.now() - started), value };
  } catch (err) {
    return { ok: false, ms: Math.round(performance.now() - started), error: errorSummary(err).slice(0, 300) };
  }
}

export async function readiness(ctx: Ctx): Promise<Readiness> {
  const backend = ctx.config.DB_BACKEND;
  const expected = expectedMigrations(backend);
  const [database, kv, applied] = await Promise.all([
    timed(() => ping(ctx.store)),
    timed(() => ctx.env.PHONE_CODES.get(KV_PROBE_KEY)),
    timed(() => migrationsApplied(ctx.store)),
  ]);
  const have = new Set(applied.value ?? []);
  const missing = applied.ok ? expected.filter((id) => !have.has(id)) : expected;
  const migrations = {
    ok: applied.ok && missing.length === 0,
    ms: applied.ms,
    error: applied.error,
    expected: expected.length,
    applied: have.size,
    missing,
  };
  const queue = { ok: typeof ctx.env.MACHINE_QUEUE?.send === 'function' };
  const checks = {
    database: { ok: database.ok, ms: database.ms, error: database.error, backend },
    kv: { ok: kv.ok, ms: kv.ms, error: kv.error },
    queue,
    migrations,
  };
  return { ready: database.ok && kv.ok && queue.ok && migrations.ok, checks };
}

/** Whether `given` is the operator key (compared as digests, in constant time); never without one set. */
export async function isOperatorKey(ctx: Ctx, given: string | undefined): Promise<boolean> {
  const key = ctx.config.OPERATOR_KEY;
  if (!key || !given) return false;
  const [a, b] = await Promise.all([sha256Hex(given), sha256Hex(key)]);
  return timingSafeEqual(new TextEncoder().encode(a), new TextEncoder().encode(b));
}
