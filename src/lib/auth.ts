// Bearer authentication. One D1 query per request reads the user and the token's session together,
// so a logout, a revoked family or a deactivated user refuses the access token at once.
import { and, eq } from 'drizzle-orm';
import { createMiddleware } from 'hono/factory';
import { getDb } from '../db/client';
import { sessions, users } from '../db/schema';
import type { AppEnv, Bindings } from '../env';
import { ApiError } from './problem';
import { verifyToken, type TokenType } from './tokens';

export type UserRow = typeof users.$inferSelect;

export interface AuthContext {
  user: UserRow;
  sessionId: string;
}

export function bearerToken(header: string | undefined | null): string | null {
  if (!header) return null;
  // Any non-empty credential after "Bearer" is a token attempt: a malformed one is INVALID_TOKEN.
  const match = /^Bearer\s+(.*)$/i.exec(header.trim());
  return match ? match[1]!.trim() || null : null;
}

/**
 * Resolves a token to its live user and session. Used by the middleware and by /verify.
 * A revoked or expired session, or a missing or inactive user, is INVALID_TOKEN.
 */
export async function authenticate(env: Bindings, token: string, expected?: TokenType): Promise<AuthContext & { claims: Awaited<ReturnType<typeof verifyToken>> }> {
  const claims = await verifyToken(env, token, expected);
  const row = await getDb(env.DB)
    .select({ user: users, revokedAt: sessions.revokedAt, expiresAt: sessions.expiresAt, refreshJti: sessions.refreshJti })
    .from(users)
    .innerJoin(sessions, eq(sessions.userId, users.id))
    .where(and(eq(users.id, claims.userId), eq(sessions.id, claims.sessionId)))
    .get();
  if (!row || row.revokedAt !== null || row.expiresAt <= Date.now() || !row.user.isActive) {
    throw new ApiError('INVALID_TOKEN');
  }
  // Only the newest refresh token of a family is valid; older ones are spent.
  if (claims.typ === 'refresh' && row.refreshJti !== claims.jti) throw new ApiError('INVALID_TOKEN');
  return { user: row.user, sessionId: claims.sessionId, claims };
}

/** Requires a valid access token. `allowQueryToken` also reads `?access_token=` (WebSockets). */
export function requireAuth(opts: { allowQueryToken?: boolean } = {}) {
  return createMiddleware<AppEnv>(async (c, next) => {
    let token = bearerToken(c.req.header('authorization'));
    if (!token && opts.allowQueryToken) token = c.req.query('access_token') ?? null;
    if (!token) throw new ApiError('TOKEN_NOT_FOUND');
    const { user, sessionId } = await authenticate(c.env, token, 'access');
    c.set('auth', { user, sessionId });
    await next();
  });
}

export const auth = requireAuth();

/** Staff only: authenticates, then 403 for everyone else. */
export const staffOnly = createMiddleware<AppEnv>(async (c, next) => {
  await auth(c, async () => {
    if (!c.get('auth').user.isStaff) throw new ApiError('PERMISSION_DENIED');
    await next();
  });
});
