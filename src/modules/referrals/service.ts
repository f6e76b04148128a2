// Referral profiles. Setting a code is one conditional UPDATE, so of two concurrent POSTs exactly
// one sets a code; when it changes nothing, the reason is read back in the contract's order.
import './codes';
import { store } from '../../db/store';
import { config, type Bindings } from '../../env';
import type { UserRow } from '../../lib/auth';
import { offsetOf, type PageArgs } from '../../lib/pagination';
import { ApiError } from '../../lib/problem';
import { consume, hit, type Limit } from '../../lib/rate-limit';
import { userBy } from '../accounts/repository';
import * as repo from './repository';

const REFERRED_USERS_IN_PROFILE = 100;

export async function profile(env: Bindings, user: UserRow) {
  const recent = await repo.referredPage(store(env), user.id, REFERRED_USERS_IN_PROFILE, 0);
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
function guessLimit(env: Bindings, me: number): Limit {
  return { name: 'referral-guesses', key: `referral:guess:${me}`, max: config(env).REFERRAL_GUESSES_PER_HOUR, windowSeconds: 3600 };
}

export async function setReferralCode(env: Bindings, me: number, code: string): Promise<UserRow> {
  // Counted before the lookup (exact under concurrency), taken back unless the code was unknown.
  const guesses = guessLimit(env, me);
  await consume(env.DB, guesses);
  const s = store(env);
  const set = await repo.setReferralCode(s, me, code, Date.now());
  const user = await userBy(s, { id: me });
  if (!user) throw new ApiError('NOT_FOUND');
  const known = set || user.usedReferralCode !== null || user.inviteReferralCode === code;
  if (known) await hit(env.DB, guesses, -1);
  if (set) return user;
  if (user.usedReferralCode !== null) throw new ApiError('REFERRAL_CODE_ALREADY_SET');
  if (user.inviteReferralCode === code) throw new ApiError('OWN_REFERRAL_CODE');
  throw new ApiError('REFERRAL_CODE_NOT_FOUND');
}

export async function referredUsers(env: Bindings, me: number, page: PageArgs) {
  const { total, rows } = await repo.referredPage(store(env), me, page.page_size, offsetOf(page));
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
