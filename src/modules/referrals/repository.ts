// Data access of referral profiles. Every function is one statement, so each reads one snapshot
// and each write is atomic on both backends without a batch or transaction.
import { and, count, desc, eq, isNull, sql } from 'drizzle-orm';
import type { Store } from '../../db/store';

/**
 * Sets the caller's referral code if it has none and the code is another user's: one
 * conditional UPDATE, so of concurrent requests exactly one changes the row. Whether it did.
 */
export async function setReferralCode(s: Store, me: number, code: string, now: number): Promise<boolean> {
  const { users } = s.t;
  // `r` is the referrer: the same table under another name inside the subqueries.
  const updated = await s.run(
    s.db
      .update(users)
      .set({
        usedReferralCode: code,
        referredById: sql`(SELECT r.id FROM ${users} AS r WHERE r.invite_referral_code = ${code})`,
        referredAt: now,
      })
      .where(
        and(
          eq(users.id, me),
          isNull(users.usedReferralCode),
          sql`EXISTS (SELECT 1 FROM ${users} AS r WHERE r.invite_referral_code = ${code} AND r.id <> ${me})`,
        ),
      )
      .returning({ id: users.id }),
  );
  return updated.length === 1;
}

export interface ReferredUser {
  id: number;
  phone: string | null;
  email: string | null;
  username: string | null;
  referredAt: number | null;
}

/**
 * One page of the users `referrerId` referred, newest first, with the total. One statement (the
 * count LEFT JOINed to the page) so both come from one snapshot, and a page past the end still
 * carries the total.
 */
export async function referredPage(s: Store, referrerId: number, limit: number, offset: number): Promise<{ total: number; rows: ReferredUser[] }> {
  const { users } = s.t;
  const total = s.db
    .select({ n: count().as('n') })
    .from(users)
    .where(eq(users.referredById, referrerId))
    .as('total');
  const page = s.db
    .select({ id: users.id, phone: users.phone, email: users.email, username: users.username, referredAt: users.referredAt })
    .from(users)
    .where(eq(users.referredById, referrerId))
    .orderBy(desc(users.referredAt), desc(users.id))
    .limit(limit)
    .offset(offset)
    .as('page');
  const rows = await s.select(
    s.db
      .select({ total: total.n, id: page.id, phone: page.phone, email: page.email, username: page.username, referredAt: page.referredAt })
      .from(total)
      .leftJoin(page, sql`1 = 1`)
      .orderBy(desc(page.referredAt), desc(page.id)),
  );
  return {
    total: Number(rows[0]?.total ?? 0),
    rows: rows.filter((r): r is typeof r & { id: number } => r.id !== null).map(({ total: _, ...r }) => r),
  };
}
