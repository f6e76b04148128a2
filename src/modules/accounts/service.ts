// Accounts: signup, password login, sessions (refresh-token families), profile and user admin.
// Services take the unit of work's context (store, config, bindings) and plain values, never the
// Hono context.
import { uniqueViolation } from '../../db/errors';
import type { Ctx } from '../../context';
import type { AuthContext, UserRow } from './auth';
import { isoOrNull } from '../../lib/openapi';
import { hashPassword, verifyPasswordOrDummy } from '../../lib/password';
import { ApiError } from '../../lib/problem';
import { randomString, randomToken } from '../../lib/random';
import { clear, consume, hit, mark, peek, rateLimited, type Limit } from '../../lib/rate-limit';
import { issuePair, newJti, verifyToken, type TokenClaims, type TokenPair } from '../../lib/tokens';
import * as repo from './repository';
import { accessRevoked } from './revocations';

export function userView(u: UserRow) {
  return {
    id: u.id,
    email: u.email,
    username: u.username,
    name: u.name,
    nickname: u.nickname,
    first_name: u.firstName,
    last_name: u.lastName,
    phone: u.phone,
    is_active: u.isActive,
    is_staff: u.isStaff,
    is_superuser: u.isSuperuser,
    invite_referral_code: u.inviteReferralCode,
    created_at: new Date(u.createdAt).toISOString(),
    last_login: isoOrNull(u.lastLogin),
  };
}

export const usernameKey = (username: string) => username.normalize('NFKC').toLowerCase();

type NewUser = Omit<repo.NewUserRow, 'inviteReferralCode' | 'createdAt'>;

/**
 * Inserts a user with a fresh 6-character invite code; a code collision (unique index) retries.
 * Other unique violations are mapped to their domain codes.
 */
export async function insertUser(ctx: Ctx, values: NewUser): Promise<UserRow> {
  for (let attempt = 0; attempt < 8; attempt++) {
    try {
      return await repo.insertUser(ctx.store, { ...values, inviteReferralCode: randomString(6), createdAt: Date.now() });
    } catch (err) {
      const column = uniqueViolation(err)?.[0];
      if (column === 'invite_referral_code') continue;
      if (column === 'email') throw new ApiError('ALREADY_SIGNED_UP_EMAIL');
      if (column === 'username_key') throw new ApiError('USER_ALREADY_EXISTS');
      throw err;
    }
  }
  throw new Error('could not allocate a unique invite code');
}

export interface SignupInput {
  email?: string;
  username?: string;
  password: string;
  password_check?: string;
  name?: string;
  nickname?: string;
  first_name?: string;
  last_name?: string;
}

export async function signup(ctx: Ctx, input: SignupInput, address: string): Promise<UserRow> {
  if (input.password_check !== undefined && input.password_check !== input.password) {
    throw new ApiError('PASSWORD_NOT_MATCHED');
  }
  const cfg = ctx.config;
  await consume(ctx, {
    name: 'signup-address',
    key: `signup:addr:${address}`,
    max: cfg.SIGNUPS_PER_ADDRESS_PER_HOUR,
    windowSeconds: 3600,
  });
  const s = ctx.store;
  // Friendly checks first; the unique indexes still decide a race (mapped in insertUser).
  if (input.email && (await repo.userIdBy(s, { email: input.email })) !== null) {
    throw new ApiError('ALREADY_SIGNED_UP_EMAIL');
  }
  const key = input.username ? usernameKey(input.username) : null;
  if (key && (await repo.userIdBy(s, { usernameKey: key })) !== null) {
    throw new ApiError('USER_ALREADY_EXISTS');
  }
  const user = await insertUser(ctx, {
    email: input.email ?? null,
    username: input.username ?? null,
    usernameKey: key,
    passwordHash: await hashPassword(input.password),
    name: input.name ?? null,
    nickname: input.nickname ?? null,
    firstName: input.first_name ?? null,
    lastName: input.last_name ?? null,
  });
  // The account's first address counts as a login from it: guesses from elsewhere cannot lock a new
  // account out of the address it signed up from.
  await rememberAddress(ctx, user.id, address);
  return user;
}

/** Starts a session (refresh-token family) and returns its first token pair. */
export async function startSession(ctx: Ctx, user: UserRow): Promise<TokenPair> {
  const now = Date.now();
  const sessionId = randomToken(16);
  const jti = newJti();
  await repo.createSession(ctx.store, { id: sessionId, userId: user.id, refreshJti: jti, now, expiresAt: now + ctx.config.REFRESH_TOKEN_TTL * 1000 });
  user.lastLogin = now;
  return issuePair(ctx, user.id, sessionId, jti);
}

/**
 * Login limits (SECURITY.md, "Login limits without a lockout button"). Every attempt is counted
 * before the password is checked, so concurrent guesses cannot slip past a limit:
 * - per client address (all accounts): LOGIN_MAX_FAILURES_PER_ADDRESS;
 * - per account and address: LOGIN_MAX_FAILURES_PER_ACCOUNT, the limit a known address lives by;
 * - per account (all addresses): LOGIN_MAX_FAILURES_PER_ACCOUNT too, but once it is spent only
 *   addresses that logged into this account within LOGIN_KNOWN_ADDRESS_DAYS may still try. Guesses
 *   spread over many addresses stay capped, and they cannot lock the owner out of its usual address.
 * Accounts are keyed by id (email and username share one budget); an unknown identifier by itself.
 */
function addressLimit(ctx: Ctx, address: string): Limit {
  const cfg = ctx.config;
  return { name: 'login-address', key: `login:addr:${address}`, max: cfg.LOGIN_MAX_FAILURES_PER_ADDRESS, windowSeconds: cfg.LOGIN_WINDOW_SECONDS };
}

function accountLimits(ctx: Ctx, account: string, address: string) {
  const cfg = ctx.config;
  const window = cfg.LOGIN_WINDOW_SECONDS;
  return {
    pair: { name: 'login-account-address', key: `login:pair:${account}:${address}`, max: cfg.LOGIN_MAX_FAILURES_PER_ACCOUNT, windowSeconds: window },
    account: { name: 'login-account', key: `login:acct:${account}`, max: cfg.LOGIN_MAX_FAILURES_PER_ACCOUNT, windowSeconds: window },
    known: knownLimit(ctx, account, address),
  } satisfies Record<string, Limit>;
}

/** The mark of an address that logged into an account, for LOGIN_KNOWN_ADDRESS_DAYS from its last login. */
function knownLimit(ctx: Ctx, account: string, address: string): Limit {
  return { name: 'login-known', key: `login:known:${account}:${address}`, max: 1, windowSeconds: ctx.config.LOGIN_KNOWN_ADDRESS_DAYS * 86_400 };
}

/**
 * Remembers `address` as the user's own (a login, a signup, a phone verify from it): it may still try
 * passwords past the account's limit, and it requests the phone's codes from the owner's budget.
 */
export async function rememberAddress(ctx: Ctx, userId: number, address: string): Promise<void> {
  await mark(ctx, knownLimit(ctx, `u${userId}`, address));
}

/** Whether the user logged in from `address` within LOGIN_KNOWN_ADDRESS_DAYS. */
export async function isKnownAddress(ctx: Ctx, userId: number, address: string): Promise<boolean> {
  return (await peek(ctx, knownLimit(ctx, `u${userId}`, address))).count > 0;
}

/**
 * Takes one attempt of every password budget of `account` from `address` before a password is
 * checked (a login, or the current password of a password change): 429 once one is spent.
 */
async function takePasswordAttempt(ctx: Ctx, account: string, address: string): Promise<void> {
  await consume(ctx, addressLimit(ctx, address));
  const limits = accountLimits(ctx, account, address);
  await consume(ctx, limits.pair);
  const spent = await hit(ctx, limits.account);
  if (spent.count > limits.account.max && (await peek(ctx, limits.known)).count === 0) throw rateLimited(limits.account, spent.resetAt);
}

/**
 * A right password takes its attempt back, clears this address's failures for the account and
 * remembers the address. The account's failures from elsewhere keep counting: the owner's login
 * must not refill an attacker's budget.
 */
async function passwordAccepted(ctx: Ctx, account: string, address: string): Promise<void> {
  const limits = accountLimits(ctx, account, address);
  await Promise.all([hit(ctx, addressLimit(ctx, address), -1), hit(ctx, limits.account, -1), clear(ctx, limits.pair), mark(ctx, limits.known)]);
}

export async function login(
  ctx: Ctx,
  input: { email?: string; username?: string; password: string },
  address: string,
): Promise<{ user: UserRow; token: TokenPair }> {
  const user = await repo.userBy(ctx.store, input.email ? { email: input.email.toLowerCase() } : { usernameKey: usernameKey(input.username!) });
  const account = user ? `u${user.id}` : input.email ? `e:${input.email.toLowerCase()}` : `n:${usernameKey(input.username ?? '')}`;
  await takePasswordAttempt(ctx, account, address);
  const ok = await verifyPasswordOrDummy(input.password, user?.passwordHash);
  if (!ok || !user?.isActive) throw new ApiError('INVALID_CREDENTIALS');
  await passwordAccepted(ctx, account, address);
  return { user, token: await startSession(ctx, user) };
}

/**
 * Rotates a refresh token. The conditional update succeeds for exactly one caller per token; any
 * other presentation of a token of a live family is reuse, and revokes the whole family.
 */
export async function refresh(ctx: Ctx, token: string): Promise<TokenPair> {
  const claims = await verifyToken(ctx, token, 'refresh');
  const s = ctx.store;
  const now = Date.now();
  const next = newJti();
  if (!(await repo.rotateRefresh(s, claims, next, now, now + ctx.config.REFRESH_TOKEN_TTL * 1000))) {
    if (await repo.revokeOnReuse(s, claims, now)) await accessRevoked(ctx, { userId: claims.userId, sessionId: claims.sessionId });
    throw new ApiError('INVALID_TOKEN');
  }
  return issuePair(ctx, claims.userId, claims.sessionId, next);
}

/** Revokes the family of `token`, which must be a live refresh token of the caller. */
export async function logout(ctx: Ctx, caller: AuthContext, token: string): Promise<void> {
  let claims: TokenClaims;
  try {
    claims = await verifyToken(ctx, token, 'refresh');
  } catch {
    throw new ApiError('INVALID_TOKEN');
  }
  if (claims.userId !== caller.user.id) throw new ApiError('INVALID_TOKEN');
  if (!(await repo.revokeSession(ctx.store, claims.sessionId, caller.user.id, Date.now(), 'logout'))) throw new ApiError('INVALID_TOKEN');
  await accessRevoked(ctx, { userId: caller.user.id, sessionId: claims.sessionId });
}

export interface PatchMe {
  name?: string | null;
  nickname?: string | null;
  first_name?: string | null;
  last_name?: string | null;
  password?: string;
  current_password?: string;
}

export async function updateMe(ctx: Ctx, caller: AuthContext, patch: PatchMe, address: string): Promise<UserRow> {
  const set: repo.UserPatch = {};
  if (patch.name !== undefined) set.name = patch.name;
  if (patch.nickname !== undefined) set.nickname = patch.nickname;
  if (patch.first_name !== undefined) set.firstName = patch.first_name;
  if (patch.last_name !== undefined) set.lastName = patch.last_name;
  let revokeOthers: Parameters<typeof repo.updateUser>[3];
  if (patch.password !== undefined) {
    const current = caller.user.passwordHash;
    if (current) {
      if (patch.current_password === undefined) {
        throw new ApiError('INPUT_VALIDATION_ERROR', {
          extras: { errors: [{ path: 'current_password', message: 'required to change the password' }] },
        });
      }
      // A guess like a login's (a stolen access token must not guess without limit): the same budgets.
      const account = `u${caller.user.id}`;
      await takePasswordAttempt(ctx, account, address);
      if (!(await verifyPasswordOrDummy(patch.current_password, current))) throw new ApiError('INVALID_CREDENTIALS');
      await passwordAccepted(ctx, account, address);
    }
    set.passwordHash = await hashPassword(patch.password);
    // A new password signs out every other session (a thief's included).
    revokeOthers = { keepSessionId: caller.sessionId, now: Date.now(), reason: 'password_change' };
  }
  if (Object.keys(set).length === 0) return caller.user;
  const user = await repo.updateUser(ctx.store, caller.user.id, set, revokeOthers);
  if (revokeOthers) await accessRevoked(ctx, { userId: caller.user.id });
  return user;
}

export async function adminUpdateUser(ctx: Ctx, caller: UserRow, id: number, patch: { is_active?: boolean; is_staff?: boolean }): Promise<UserRow> {
  const s = ctx.store;
  const target = await repo.userBy(s, { id });
  if (!target) throw new ApiError('NOT_FOUND');
  if (patch.is_staff !== undefined && !caller.isSuperuser) throw new ApiError('PERMISSION_DENIED');
  if (target.isSuperuser && !caller.isSuperuser) throw new ApiError('PERMISSION_DENIED');
  const set: repo.UserPatch = {};
  if (patch.is_active !== undefined) set.isActive = patch.is_active;
  if (patch.is_staff !== undefined) set.isStaff = patch.is_staff;
  if (Object.keys(set).length === 0) return target;
  // Deactivation ends every session in the same write, so a later reactivation revives no token.
  const revoke = patch.is_active === false ? { keepSessionId: null, now: Date.now(), reason: 'deactivated' } : undefined;
  const user = await repo.updateUser(s, id, set, revoke);
  // Sessions ended, or staff rights withdrawn: what they opened (sockets on machines) closes now.
  if (revoke || (patch.is_staff === false && target.isStaff)) await accessRevoked(ctx, { userId: id });
  return user;
}
