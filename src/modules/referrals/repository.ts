// Data access of referral profiles. Every function is one statement, so each reads one snapshot
// and each write is atomic on both backends without a batch or transaction.
import { count, desc, eq, sql } from 'drizzle-orm';
import type { Store } from '../../db/store';

/**
 * Sets the caller's referral code if it has none and the code is another user's: one
 * conditional UPDATE, so of concurrent requests exactly one changes the row. Whether it did.
 */
export async function setReferralCode(s: Store, me: number, code: string, now: number): Promise<boolean> {
  // The subqueries' unqualified `users` is the inner scope on both dialects (the referrer).
  const result = await s.sql
    .prepare(
      `UPDATE users
          SET used_referral_code = ?1,
              referred_by_id = (SELECT id FROM users WHERE invite_referral_code = ?1),
              referred_at = ?3
        WHERE id = ?2
          AND used_referral_code IS NULL
          AND EXISTS (SELECT 1 FROM users WHERE invite_referral_code = ?1 AND id <> ?2)`,
    )
    .bind(code, me, now)
    .run();
  return result.meta.changes === 1;
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
  const total = s.orm.select({ n: count().as('n') }).from(users).where(eq(users.referredById, referrerId)).as('total');
  const page = s.orm
    .select({ id: users.id, phone: users.phone, email: users.email, username: users.username, referredAt: users.referredAt })
    .from(users)
    .where(eq(users.referredById, referrerId))
    .orderBy(desc(users.referredAt), desc(users.id))
    .limit(limit)
    .offset(offset)
    .as('page');
  const rows = await s.orm
    .select({ total: total.n, id: page.id, phone: page.phone, email: page.email, username: page.username, referredAt: page.referredAt })
    .from(total)
    .leftJoin(page, sql`1 = 1`)
    .orderBy(desc(page.referredAt), desc(page.id));
  return {
    total: Number(rows[0]?.total ?? 0),
    rows: rows.filter((r): r is typeof r & { id: number } => r.id !== null).map(({ total: _, ...r }) => r),
  };
}
