// The system module's SQL: the health check's round trip, the readiness view's migration count, and
// the scheduled purge's bounded deletes. The purge reads other modules' tables on purpose: it is
// the one maintenance job over all of them, and each target below names the condition under which a
// row is dead for its owner (src/modules/system/purge.ts says why each is safe).
import { and, lte, sql, type SQL } from 'drizzle-orm';
import type { SQLiteColumn, SQLiteTable } from 'drizzle-orm/sqlite-core';
import { appliedMigrations } from '../../db/dialect/sql';
import type { Store } from '../../db/store';

export async function ping(s: Store): Promise<void> {
  await s.rows(sql`SELECT 1 AS ok`);
}

/** The identifiers of the migrations this database has applied (see appliedMigrations). */
export async function migrationsApplied(s: Store): Promise<string[]> {
  const rows = await s.rows<{ id: string | number }>(appliedMigrations(s.dialect));
  return rows.map((r) => String(r.id));
}

// ---- the purge -----------------------------------------------------------------------------------

/** What the purge deletes, each by one index range (migrations 0009 and 0011 / pg 0004 and 0006 add the indexes). */
export const PURGE_TARGETS = [
  'sessions_expired',
  'sessions_revoked',
  'rate_limits',
  'idempotency_keys',
  'phone_verifications',
  'machine_operations',
  'live_watchers',
  'webhook_events',
] as const;
export type PurgeTarget = (typeof PURGE_TARGETS)[number];

interface Dead {
  table: SQLiteTable;
  /** The primary key's columns. */
  key: SQLiteColumn[];
  /** The row is dead: a range of one indexed column (`column <= cutoff`; NULL never matches). */
  where: SQL;
}

function dead(s: Store, target: PurgeTarget, cutoff: number): Dead {
  const { sessions, rateLimits, idempotencyKeys, phoneVerifications, machineOperations, liveWatchers, webhookEvents } = s.t;
  switch (target) {
    case 'sessions_expired':
      return { table: sessions, key: [sessions.id], where: lte(sessions.expiresAt, cutoff) };
    case 'sessions_revoked':
      return { table: sessions, key: [sessions.id], where: lte(sessions.revokedAt, cutoff) };
    case 'rate_limits':
      return { table: rateLimits, key: [rateLimits.key], where: lte(rateLimits.expiresAt, cutoff) };
    case 'idempotency_keys':
      return { table: idempotencyKeys, key: [idempotencyKeys.userId, idempotencyKeys.key], where: lte(idempotencyKeys.expiresAt, cutoff) };
    case 'phone_verifications':
      return { table: phoneVerifications, key: [phoneVerifications.tokenHash], where: lte(phoneVerifications.expiresAt, cutoff) };
    case 'machine_operations':
      // completed_at is NULL while PENDING: an unfinished command never matches.
      return { table: machineOperations, key: [machineOperations.id], where: lte(machineOperations.completedAt, cutoff) };
    case 'live_watchers':
      return { table: liveWatchers, key: [liveWatchers.sessionId, liveWatchers.machineId], where: lte(liveWatchers.expiresAt, cutoff) };
    case 'webhook_events':
      // dispatched_at is NULL until fanned out: an event not delivered yet never matches. Its
      // deliveries (the log) go with it (ON DELETE CASCADE).
      return { table: webhookEvents, key: [webhookEvents.id], where: lte(webhookEvents.dispatchedAt, cutoff) };
  }
}

/**
 * Deletes at most `limit` dead rows of one target; the number deleted. Neither D1 nor Postgres has
 * DELETE … LIMIT, so the statement deletes the keys of a bounded SELECT. The condition is repeated on
 * the DELETE itself: on Postgres a row that a concurrent write revived (a rotated session, a
 * restarted rate-limit window) after the SELECT saw it is re-checked and kept.
 */
export async function deleteDeadChunk(s: Store, target: PurgeTarget, cutoff: number, limit: number): Promise<number> {
  const { table, key, where } = dead(s, target, cutoff);
  const keys = Object.fromEntries(key.map((column) => [column.name, column]));
  const chosen = s.db.select(keys).from(table).where(where).limit(limit);
  const columns = sql.join(key, sql`, `);
  return s.changes(s.db.delete(table).where(and(where, sql`(${columns}) IN (${chosen})`)));
}
