// Data access of phone login. Attempts and single use are conditional UPDATEs of one row: D1's single
// writer, and on Postgres the row lock with its re-check of the WHERE clause against the row a
// concurrent writer left, make each one atomic, so the WHERE clause alone decides who wins.
import { and, eq, gt, isNull, lt, sql } from 'drizzle-orm';
import type { Store } from '../../db/store';

export interface NewVerification {
  tokenHash: string;
  phone: string;
  createdAt: number;
  expiresAt: number;
}

export async function insertVerification(s: Store, v: NewVerification): Promise<void> {
  await s.run(s.db.insert(s.t.phoneVerifications).values(v));
}

export async function findVerification(s: Store, tokenHash: string) {
  const { phoneVerifications: pv } = s.t;
  return (await s.select(s.db.select().from(pv).where(eq(pv.tokenHash, tokenHash))))[0];
}

/**
 * Takes one attempt of a live, unused verification; the attempt count after it, or null when
 * the token is expired, used or out of attempts.
 */
export async function claimAttempt(s: Store, tokenHash: string, now: number, maxAttempts: number): Promise<number | null> {
  const { phoneVerifications: pv } = s.t;
  const rows = await s.run(
    s.db
      .update(pv)
      .set({ attempts: sql`${pv.attempts} + 1` })
      .where(and(eq(pv.tokenHash, tokenHash), isNull(pv.usedAt), gt(pv.expiresAt, now), lt(pv.attempts, maxAttempts)))
      .returning({ attempts: pv.attempts }),
  );
  return rows[0]?.attempts ?? null;
}

/** Marks the verification used; its phone, or null when another request used it first. */
export async function markUsed(s: Store, tokenHash: string, now: number): Promise<string | null> {
  const { phoneVerifications: pv } = s.t;
  const rows = await s.run(
    s.db
      .update(pv)
      .set({ usedAt: now })
      .where(and(eq(pv.tokenHash, tokenHash), isNull(pv.usedAt)))
      .returning({ phone: pv.phone }),
  );
  return rows[0]?.phone ?? null;
}
