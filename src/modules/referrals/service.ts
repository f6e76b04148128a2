// Referral profiles. Setting a code is one conditional UPDATE, so of two concurrent POSTs exactly
// one sets a code; when it changes nothing, the reason is read back in the contract's order.
import type { Ctx } from '../../context';
import { offsetOf, type PageArgs } from '../../lib/pagination';
import { ApiError } from '../../lib/problem';
import { consume, hit, type Limit } from '../../lib/rate-limit';
import { userBy, type UserRow } from '../accounts';
import * as repo from './repository';

const REFERRED_USERS_IN_PROFILE = 100;

export async function profile(ctx: Ctx, user: UserRow) {
  const recent = await repo.referredPage(ctx.store, user.id, REFERRED_USERS_IN_PROFILE, 0);
  return {
    id: user.id,
    phone: user.phone,
    email: user.email,
    username: user.username,
    invite_referral_code: user.inviteReferralCode,
    used_referral_code: user.usedReferralCode,
    referred_by_id: user.referredById,
    referred_users: recent.rows.map((u) => u.phone ?? u.email ?? u.username ?? ''),
    referred_count: recent.total,
  };
}

/** Unknown codes tried per user: 6 case-sensitive characters are guessable without a limit. */
function guessLimit(ctx: Ctx, me: number): Limit {
  return { name: 'referral-guesses', key: `referral:guess:${me}`, max: ctx.config.REFERRAL_GUESSES_PER_HOUR, windowSeconds: 3600 };
}

export async function setReferralCode(ctx: Ctx, me: number, code: string): Promise<UserRow> {
  // Counted before the lookup (exact under concurrency), taken back unless the code was unknown.
  const guesses = guessLimit(ctx, me);
  await consume(ctx, guesses);
  const set = await repo.setReferralCode(ctx.store, me, code, Date.now());
  const user = await userBy(ctx.store, { id: me });
  if (!user) throw new ApiError('NOT_FOUND');
  const known = set || user.usedReferralCode !== null || user.inviteReferralCode === code;
  if (known) await hit(ctx, guesses, -1);
  if (set) return user;
  if (user.usedReferralCode !== null) throw new ApiError('REFERRAL_CODE_ALREADY_SET');
  if (user.inviteReferralCode === code) throw new ApiError('OWN_REFERRAL_CODE');
  throw new ApiError('REFERRAL_CODE_NOT_FOUND');
}

export async function referredUsers(ctx: Ctx, me: number, page: PageArgs) {
  const { total, rows } = await repo.referredPage(ctx.store, me, page.page_size, offsetOf(page));
  return {
    count: total,
    results: rows.map((r) => ({
      id: r.id,
      phone: r.phone,
      email: r.email,
      username: r.username,
      referred_at: new Date(r.referredAt ?? 0).toISOString(),
    })),
  };
}
