// Referral profiles. Setting a code is one conditional UPDATE, so of two concurrent POSTs exactly
// one sets a code; when it changes nothing, the reason is read back in the contract's order.
import { count, desc, eq } from 'drizzle-orm';
import './codes';
import { getDb } from '../../db/client';
import { users } from '../../db/schema';
import { config, type Bindings } from '../../env';
import type { UserRow } from '../../lib/auth';
import { offsetOf, type PageArgs } from '../../lib/pagination';
import { ApiError } from '../../lib/problem';
import { consume, hit, type Limit } from '../../lib/rate-limit';

const REFERRED_USERS_IN_PROFILE = 100;

const byReferrer = (id: number) => eq(users.referredById, id);
const newestReferred = [desc(users.referredAt), desc(users.id)];

export async function profile(env: Bindings, user: UserRow) {
  const db = getDb(env.DB);
  const [recent, total] = await db.batch([
    db
      .select({ phone: users.phone, email: users.email, username: users.username })
      .from(users)
      .where(byReferrer(user.id))
      .orderBy(...newestReferred)
      .limit(REFERRED_USERS_IN_PROFILE),
    db.select({ n: count() }).from(users).where(byReferrer(user.id)),
  ]);
  return {
    id: user.id,
    phone: user.phone,
    email: user.email,
    username: user.username,
    invite_referral_code: user.inviteReferralCode,
    used_referral_code: user.usedReferralCode,
    referred_by_id: user.referredById,
    referred_users: recent.map((u) => u.phone ?? u.email ?? u.username ?? ''),
    referred_count: total[0]?.n ?? 0,
  };
}

/** Unknown codes tried per user: 6 case-sensitive characters are guessable without a limit. */
function guessLimit(env: Bindings, me: number): Limit {
  return { name: 'referral-guesses', key: `referral:guess:${me}`, max: config(env).REFERRAL_GUESSES_PER_HOUR, windowSeconds: 3600 };
}

export async function setReferralCode(env: Bindings, me: number, code: string): Promise<UserRow> {
  // Counted before the lookup (exact under concurrency), taken back unless the code was unknown.
  const guesses = guessLimit(env, me);
  await consume(env.DB, guesses);
  const updated = await env.DB.prepare(
    `UPDATE users
        SET used_referral_code = ?1,
            referred_by_id = (SELECT id FROM users WHERE invite_referral_code = ?1),
            referred_at = ?3
      WHERE id = ?2
        AND used_referral_code IS NULL
        AND EXISTS (SELECT 1 FROM users WHERE invite_referral_code = ?1 AND id <> ?2)`,
  )
    .bind(code, me, Date.now())
    .run();
  const user = await getDb(env.DB).select().from(users).where(eq(users.id, me)).get();
  if (!user) throw new ApiError('NOT_FOUND');
  const known = updated.meta.changes === 1 || user.usedReferralCode !== null || user.inviteReferralCode === code;
  if (known) await hit(env.DB, guesses, -1);
  if (updated.meta.changes === 1) return user;
  if (user.usedReferralCode !== null) throw new ApiError('REFERRAL_CODE_ALREADY_SET');
  if (user.inviteReferralCode === code) throw new ApiError('OWN_REFERRAL_CODE');
  throw new ApiError('REFERRAL_CODE_NOT_FOUND');
}

export async function referredUsers(env: Bindings, me: number, page: PageArgs) {
  const db = getDb(env.DB);
  const [rows, total] = await db.batch([
    db
      .select({ id: users.id, phone: users.phone, email: users.email, username: users.username, referredAt: users.referredAt })
      .from(users)
      .where(byReferrer(me))
      .orderBy(...newestReferred)
      .limit(page.page_size)
      .offset(offsetOf(page)),
    db.select({ n: count() }).from(users).where(byReferrer(me)),
  ]);
  return {
    count: total[0]?.n ?? 0,
    results: rows.map((r) => ({
      id: r.id,
      phone: r.phone,
      email: r.email,
      username: r.username,
      referred_at: new Date(r.referredAt ?? 0).toISOString(),
    })),
  };
}
