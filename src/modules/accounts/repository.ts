// Data access of accounts (users and sessions), the same drizzle queries on D1 and Postgres.
//
// Consistency on Postgres (no lock needed here): every write is one statement on one row whose
// WHERE clause decides it (a refresh token's rotation, a revocation), or a batch whose statements
// commute; Postgres re-checks a conditional UPDATE's WHERE against the row a concurrent writer left,
// so exactly one of two rotations of a token wins, as on D1. Unique indexes decide signups.
import { and, eq, isNull, ne, sql } from 'drizzle-orm';
import { fromRow } from '../../db/rows';
import type { UserRow } from '../../db/schema';
import { raw, type Raw, type Row, type Store } from '../../db/store';

export type { UserRow } from '../../db/schema';
export type NewUserRow = Omit<Store['t']['users']['$inferInsert'], 'id'>;
export type UserPatch = Partial<Store['t']['users']['$inferInsert']>;

export async function userIdBy(s: Store, by: { email: string } | { usernameKey: string }): Promise<number | null> {
  const { users } = s.t;
  const where = 'email' in by ? eq(users.email, by.email) : eq(users.usernameKey, by.usernameKey);
  const [row] = await s.select(s.db.select({ id: users.id }).from(users).where(where).limit(1));
  return row?.id ?? null;
}

export type UserKey = { id: number } | { email: string } | { usernameKey: string } | { phone: string };

/** The user with this id or unique sign-in field (each has a unique index). */
export async function userExists(s: Store, id: number): Promise<boolean> {
  const { users } = s.t;
  return (await s.select(s.db.select({ id: users.id }).from(users).where(eq(users.id, id)))).length > 0;
}

export async function userBy(s: Store, by: UserKey): Promise<UserRow | null> {
  const { users } = s.t;
  const where =
    'id' in by
      ? eq(users.id, by.id)
      : 'email' in by
        ? eq(users.email, by.email)
        : 'phone' in by
          ? eq(users.phone, by.phone)
          : eq(users.usernameKey, by.usernameKey);
  const [row] = await s.select(s.db.select().from(users).where(where).limit(1));
  return row ?? null;
}

/** Throws the driver's error on a unique violation (see db/errors.ts). */
export async function insertUser(s: Store, values: NewUserRow): Promise<UserRow> {
  const [row] = await s.run(s.db.insert(s.t.users).values(values).returning());
  return row!;
}

/** A new session and the user's last_login, together. */
export async function createSession(
  s: Store,
  session: { id: string; userId: number; refreshJti: string; now: number; expiresAt: number },
): Promise<void> {
  const { sessions, users } = s.t;
  await s.write([
    s.db
      .insert(sessions)
      .values({ id: session.id, userId: session.userId, refreshJti: session.refreshJti, createdAt: session.now, expiresAt: session.expiresAt }),
    s.db.update(users).set({ lastLogin: session.now }).where(eq(users.id, session.userId)),
  ]);
}

// ---- the per-request session check ---------------------------------------------------------------

/** The row of the session check: the user's columns, and the session's prefixed `s_`. */
export type AuthRow = Row;

/**
 * The user and the token's session in one row (session columns prefixed so no name collides): a
 * raw statement, so a read route can send it in the same D1 batch as its first read.
 */
export function sessionCheck(s: Store, userId: number, sessionId: string): Raw<AuthRow> {
  const { users, sessions } = s.t;
  return raw(sql`SELECT ${users}.*, ${sessions.revokedAt} AS s_revoked_at, ${sessions.expiresAt} AS s_expires_at,
      ${sessions.refreshJti} AS s_refresh_jti
    FROM ${users} JOIN ${sessions} ON ${sessions.userId} = ${users.id}
    WHERE ${users.id} = ${userId} AND ${sessions.id} = ${sessionId}`);
}

/** A user row of the session check, mapped by the table's own column definitions. */
export const userFromRow = (s: Store, row: Row): UserRow => fromRow(s.t.users, row);

// ---- refresh-token families ----------------------------------------------------------------------

export interface RefreshClaims {
  userId: number;
  sessionId: string;
  jti: string;
}

/** Moves the family to `next` if `claims.jti` is its live refresh token (exactly one caller wins). */
export async function rotateRefresh(s: Store, claims: RefreshClaims, next: string, now: number, expiresAt: number): Promise<boolean> {
  const { sessions, users } = s.t;
  const rotated = await s.run(
    s.db
      .update(sessions)
      .set({ refreshJti: next, expiresAt })
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
      .returning({ id: sessions.id }),
  );
  return rotated.length === 1;
}

/** A spent token of a live family was presented again: the family is revoked. Whether it was live. */
export async function revokeOnReuse(s: Store, claims: RefreshClaims, now: number): Promise<boolean> {
  const { sessions } = s.t;
  const revoked = await s.run(
    s.db
      .update(sessions)
      .set({ revokedAt: now, revokeReason: 'refresh_reuse' })
      .where(and(eq(sessions.id, claims.sessionId), isNull(sessions.revokedAt), ne(sessions.refreshJti, claims.jti)))
      .returning({ id: sessions.id }),
  );
  return revoked.length === 1;
}

/** Revokes a live session of this user; false when there was none. */
export async function revokeSession(s: Store, sessionId: string, userId: number, now: number, reason: string): Promise<boolean> {
  const { sessions } = s.t;
  const revoked = await s.run(
    s.db
      .update(sessions)
      .set({ revokedAt: now, revokeReason: reason })
      .where(and(eq(sessions.id, sessionId), eq(sessions.userId, userId), isNull(sessions.revokedAt)))
      .returning({ id: sessions.id }),
  );
  return revoked.length === 1;
}

/**
 * Updates a user; `revokeOthers` also revokes every other live session of theirs (all of them when
 * `keepSessionId` is null) in the same atomic write: a password change signs a thief out, a
 * deactivation signs everyone out.
 */
export async function updateUser(
  s: Store,
  id: number,
  set: UserPatch,
  revokeOthers?: { keepSessionId: string | null; now: number; reason: string },
): Promise<UserRow> {
  const { sessions, users } = s.t;
  const update = s.db.update(users).set(set).where(eq(users.id, id)).returning();
  if (!revokeOthers) return (await s.run(update))[0]!;
  const [updated] = await s.write([
    update,
    s.db
      .update(sessions)
      .set({ revokedAt: revokeOthers.now, revokeReason: revokeOthers.reason })
      .where(
        and(
          eq(sessions.userId, id),
          revokeOthers.keepSessionId === null ? undefined : ne(sessions.id, revokeOthers.keepSessionId),
          isNull(sessions.revokedAt),
        ),
      ),
  ]);
  return updated[0]!;
}
