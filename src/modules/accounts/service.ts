// Accounts: signup, password login, sessions (refresh-token families), profile and user admin.
// Services take the bindings and plain values, never the Hono context.
import { and, eq, ne, isNull, sql } from 'drizzle-orm';
import './codes';
import { getDb } from '../../db/client';
import { sessions, users } from '../../db/schema';
import { config, type Bindings } from '../../env';
import type { AuthContext, UserRow } from '../../lib/auth';
import { isoOrNull } from '../../lib/openapi';
import { hashPassword, verifyPasswordOrDummy } from '../../lib/password';
import { ApiError } from '../../lib/problem';
import { randomString, randomToken } from '../../lib/random';
import { clear, consume, hit, type Limit } from '../../lib/rate-limit';
import { issuePair, newJti, verifyToken, type TokenPair } from '../../lib/tokens';

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

/** Which unique index a failed insert hit, from the D1 error text (drizzle wraps it in `cause`). */
function uniqueViolation(err: unknown): string | null {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const m = /UNIQUE constraint failed: users\.(\w+)/.exec(e.message);
    if (m) return m[1]!;
  }
  return null;
}

type NewUser = Omit<typeof users.$inferInsert, 'id' | 'inviteReferralCode' | 'createdAt'>;

/**
 * Inserts a user with a fresh 6-character invite code; a code collision (unique index) retries.
 * Other unique violations are mapped to their domain codes.
 */
export async function insertUser(env: Bindings, values: NewUser): Promise<UserRow> {
  const db = getDb(env.DB);
  for (let attempt = 0; attempt < 8; attempt++) {
    try {
      return await db
        .insert(users)
        .values({ ...values, inviteReferralCode: randomString(6), createdAt: Date.now() })
        .returning()
        .get();
    } catch (err) {
      const column = uniqueViolation(err);
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

export async function signup(env: Bindings, input: SignupInput, address: string): Promise<UserRow> {
  if (input.password_check !== undefined && input.password_check !== input.password) {
    throw new ApiError('PASSWORD_NOT_MATCHED');
  }
  const cfg = config(env);
  await consume(env.DB, {
    name: 'signup-address',
    key: `signup:addr:${address}`,
    max: cfg.SIGNUPS_PER_ADDRESS_PER_HOUR,
    windowSeconds: 3600,
  });
  const db = getDb(env.DB);
  // Friendly checks first; the unique indexes still decide a race (mapped in insertUser).
  if (input.email && (await db.select({ id: users.id }).from(users).where(eq(users.email, input.email)).get())) {
    throw new ApiError('ALREADY_SIGNED_UP_EMAIL');
  }
  const key = input.username ? usernameKey(input.username) : null;
  if (key && (await db.select({ id: users.id }).from(users).where(eq(users.usernameKey, key)).get())) {
    throw new ApiError('USER_ALREADY_EXISTS');
  }
  return insertUser(env, {
    email: input.email ?? null,
    username: input.username ?? null,
    usernameKey: key,
    passwordHash: await hashPassword(input.password),
    name: input.name ?? null,
    nickname: input.nickname ?? null,
    firstName: input.first_name ?? null,
    lastName: input.last_name ?? null,
  });
}

/** Starts a session (refresh-token family) and returns its first token pair. */
export async function startSession(env: Bindings, user: UserRow): Promise<TokenPair> {
  const now = Date.now();
  const sessionId = randomToken(16);
  const jti = newJti();
  await getDb(env.DB).batch([
    getDb(env.DB)
      .insert(sessions)
      .values({ id: sessionId, userId: user.id, refreshJti: jti, createdAt: now, expiresAt: now + config(env).REFRESH_TOKEN_TTL * 1000 }),
    getDb(env.DB).update(users).set({ lastLogin: now }).where(eq(users.id, user.id)),
  ]);
  user.lastLogin = now;
  return issuePair(env, user.id, sessionId, jti);
}

function loginLimits(env: Bindings, identifier: string, address: string): Limit[] {
  const cfg = config(env);
  return [
    { name: 'login-address', key: `login:addr:${address}`, max: cfg.LOGIN_MAX_FAILURES_PER_ADDRESS, windowSeconds: cfg.LOGIN_WINDOW_SECONDS },
    { name: 'login-account', key: `login:acct:${identifier}`, max: cfg.LOGIN_MAX_FAILURES_PER_ACCOUNT, windowSeconds: cfg.LOGIN_WINDOW_SECONDS },
  ];
}

export async function login(
  env: Bindings,
  input: { email?: string; username?: string; password: string },
  address: string,
): Promise<{ user: UserRow; token: TokenPair }> {
  const identifier = input.email ? `e:${input.email.toLowerCase()}` : `u:${usernameKey(input.username ?? '')}`;
  const [addressLimit, accountLimit] = loginLimits(env, identifier, address);
  // Every attempt is counted before the password is checked, so concurrent guesses cannot slip
  // past the limit; a success then takes its attempt back.
  await consume(env.DB, addressLimit!);
  await consume(env.DB, accountLimit!);
  const db = getDb(env.DB);
  const user = await db
    .select()
    .from(users)
    .where(input.email ? eq(users.email, input.email.toLowerCase()) : eq(users.usernameKey, usernameKey(input.username!)))
    .get();
  const ok = await verifyPasswordOrDummy(input.password, user?.passwordHash);
  if (!ok || !user || !user.isActive) throw new ApiError('INVALID_CREDENTIALS');
  await Promise.all([clear(env.DB, accountLimit!.key), hit(env.DB, addressLimit!, -1)]);
  return { user, token: await startSession(env, user) };
}

/**
 * Rotates a refresh token. The conditional update succeeds for exactly one caller per token; any
 * other presentation of a token of a live family is reuse, and revokes the whole family.
 */
export async function refresh(env: Bindings, token: string): Promise<TokenPair> {
  const claims = await verifyToken(env, token, 'refresh');
  const db = getDb(env.DB);
  const now = Date.now();
  const next = newJti();
  const rotated = await db
    .update(sessions)
    .set({ refreshJti: next, expiresAt: now + config(env).REFRESH_TOKEN_TTL * 1000 })
    .where(
      and(
        eq(sessions.id, claims.sessionId),
        eq(sessions.userId, claims.userId),
        eq(sessions.refreshJti, claims.jti),
        isNull(sessions.revokedAt),
        sql`${sessions.expiresAt} > ${now}`,
        sql`exists (select 1 from ${users} where ${users.id} = ${claims.userId} and ${users.isActive} = 1)`,
      ),
    )
    .returning({ id: sessions.id })
    .get();
  if (!rotated) {
    await db
      .update(sessions)
      .set({ revokedAt: now, revokeReason: 'refresh_reuse' })
      .where(and(eq(sessions.id, claims.sessionId), isNull(sessions.revokedAt), ne(sessions.refreshJti, claims.jti)));
    throw new ApiError('INVALID_TOKEN');
  }
  return issuePair(env, claims.userId, claims.sessionId, next);
}

/** Revokes the family of `token`, which must be a live refresh token of the caller. */
export async function logout(env: Bindings, caller: AuthContext, token: string): Promise<void> {
  let claims;
  try {
    claims = await verifyToken(env, token, 'refresh');
  } catch {
    throw new ApiError('INVALID_TOKEN');
  }
  if (claims.userId !== caller.user.id) throw new ApiError('INVALID_TOKEN');
  const revoked = await getDb(env.DB)
    .update(sessions)
    .set({ revokedAt: Date.now(), revokeReason: 'logout' })
    .where(and(eq(sessions.id, claims.sessionId), eq(sessions.userId, caller.user.id), isNull(sessions.revokedAt)))
    .returning({ id: sessions.id })
    .get();
  if (!revoked) throw new ApiError('INVALID_TOKEN');
}

export interface PatchMe {
  name?: string | null;
  nickname?: string | null;
  first_name?: string | null;
  last_name?: string | null;
  password?: string;
  current_password?: string;
}

export async function updateMe(env: Bindings, caller: AuthContext, patch: PatchMe): Promise<UserRow> {
  const db = getDb(env.DB);
  const set: Partial<typeof users.$inferInsert> = {};
  if (patch.name !== undefined) set.name = patch.name;
  if (patch.nickname !== undefined) set.nickname = patch.nickname;
  if (patch.first_name !== undefined) set.firstName = patch.first_name;
  if (patch.last_name !== undefined) set.lastName = patch.last_name;
  const statements = [];
  if (patch.password !== undefined) {
    const current = caller.user.passwordHash;
    if (current) {
      if (patch.current_password === undefined) {
        throw new ApiError('INPUT_VALIDATION_ERROR', {
          extras: { errors: [{ path: 'current_password', message: 'required to change the password' }] },
        });
      }
      if (!(await verifyPasswordOrDummy(patch.current_password, current))) throw new ApiError('INVALID_CREDENTIALS');
    }
    set.passwordHash = await hashPassword(patch.password);
    // A new password signs out every other session (a thief's included).
    statements.push(
      db
        .update(sessions)
        .set({ revokedAt: Date.now(), revokeReason: 'password_change' })
        .where(and(eq(sessions.userId, caller.user.id), ne(sessions.id, caller.sessionId), isNull(sessions.revokedAt))),
    );
  }
  if (Object.keys(set).length === 0) return caller.user;
  const [updated] = await db.batch([db.update(users).set(set).where(eq(users.id, caller.user.id)).returning(), ...statements]);
  return updated[0]!;
}

export async function adminUpdateUser(
  env: Bindings,
  caller: UserRow,
  id: number,
  patch: { is_active?: boolean; is_staff?: boolean },
): Promise<UserRow> {
  const db = getDb(env.DB);
  const target = await db.select().from(users).where(eq(users.id, id)).get();
  if (!target) throw new ApiError('NOT_FOUND');
  if (patch.is_staff !== undefined && !caller.isSuperuser) throw new ApiError('PERMISSION_DENIED');
  if (target.isSuperuser && !caller.isSuperuser) throw new ApiError('PERMISSION_DENIED');
  const set: Partial<typeof users.$inferInsert> = {};
  if (patch.is_active !== undefined) set.isActive = patch.is_active;
  if (patch.is_staff !== undefined) set.isStaff = patch.is_staff;
  if (Object.keys(set).length === 0) return target;
  return db.update(users).set(set).where(eq(users.id, id)).returning().get();
}
