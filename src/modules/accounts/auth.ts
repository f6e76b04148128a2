// Bearer authentication. One query per request reads the user and the token's session together
// (repository.sessionCheck), so a logout, a revoked family or a deactivated user refuses the access
// token at once. Read routes send that check in the same D1 batch as their first read.
import { createMiddleware } from 'hono/factory';
import type { AppEnv, AuthContext, Ctx } from '../../context';
import { ApiError } from '../../lib/problem';
import { verifyToken, type TokenClaims, type TokenType } from '../../lib/tokens';
import { sessionCheck, userFromRow, type AuthRow, type UserRow } from './repository';

export type { UserRow } from './repository';

export type { AuthContext } from '../../context';

export function bearerToken(header: string | undefined | null): string | null {
  if (!header) return null;
  // Any non-empty credential after "Bearer" is a token attempt: a malformed one is INVALID_TOKEN.
  const match = /^Bearer\s+(.*)$/i.exec(header.trim());
  return match ? match[1]!.trim() || null : null;
}

/**
 * Checks the row of the session check: a revoked or expired session, or a missing or inactive
 * user, is INVALID_TOKEN; only the newest refresh token of a family is valid (older ones are spent).
 */
function userFromAuthRow(ctx: Ctx, row: AuthRow | undefined, claims: TokenClaims): UserRow {
  if (!row || row.s_revoked_at !== null || (row.s_expires_at as number) <= Date.now() || !row.is_active) {
    throw new ApiError('INVALID_TOKEN');
  }
  if (claims.typ === 'refresh' && row.s_refresh_jti !== claims.jti) throw new ApiError('INVALID_TOKEN');
  return userFromRow(ctx.store, row);
}

/** Resolves a token to its live user and session. Used by the middleware and by /verify. */
export async function authenticate(ctx: Ctx, token: string, expected?: TokenType): Promise<AuthContext & { claims: TokenClaims }> {
  const claims = await verifyToken(ctx, token, expected);
  const [row] = await ctx.store.rows<AuthRow>(sessionCheck(ctx.store, claims.userId, claims.sessionId).query);
  const user = userFromAuthRow(ctx, row, claims);
  return { user, sessionId: claims.sessionId, claims };
}

/**
 * The user id of a live access token in `header`, or null (none, or one that is not valid). For
 * public routes that only treat a signed-in caller better: a bad token is the same as none there.
 */
export async function optionalUserId(ctx: Ctx, header: string | undefined): Promise<number | null> {
  const token = bearerToken(header);
  if (!token) return null;
  try {
    return (await authenticate(ctx, token, 'access')).user.id;
  } catch (err) {
    if (err instanceof ApiError) return null;
    throw err;
  }
}

/** Requires a valid access token. `allowQueryToken` also reads `?access_token=` (WebSockets). */
export function requireAuth(opts: { allowQueryToken?: boolean } = {}) {
  return createMiddleware<AppEnv>(async (c, next) => {
    let token = bearerToken(c.req.header('authorization'));
    if (!token && opts.allowQueryToken) token = c.req.query('access_token') ?? null;
    if (!token) throw new ApiError('TOKEN_NOT_FOUND');
    const { user, sessionId, claims } = await authenticate(c.var.ctx, token, 'access');
    c.set('auth', { user, sessionId, tokenExp: claims.exp });
    await next();
  });
}

export const auth = requireAuth();

/**
 * For read-only routes whose handler needs only the caller's id before its first query: the token
 * is verified at once, and the user/session check rides in the same D1 batch as the handler's
 * first read (one round trip instead of two; the store does it, see Store.defer). Until that check
 * has passed, `auth.user` holds only the id from the token; nothing is answered before it passes
 * (a handler without any read gets the check after it ran, before its response leaves). Not for
 * staff-only routes: their validation and work would run for any token before the 403 (staffOnly).
 */
export function deferredAuth(opts: { staff?: boolean } = {}) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const token = bearerToken(c.req.header('authorization'));
    if (!token) throw new ApiError('TOKEN_NOT_FOUND');
    const ctx = c.var.ctx;
    const claims = await verifyToken(ctx, token, 'access');
    // Until the check has passed only the id (from the signed token) may be read.
    const provisional = new Proxy({ id: claims.userId } as UserRow, {
      get(target, key) {
        if (key === 'id') return target.id;
        throw new Error(`auth.user.${String(key)} read before the session check`);
      },
    });
    c.set('auth', { user: provisional, sessionId: claims.sessionId });
    ctx.store.defer(sessionCheck(ctx.store, claims.userId, claims.sessionId), (rows) => {
      const user = userFromAuthRow(ctx, rows[0], claims);
      if (opts.staff && !user.isStaff) throw new ApiError('PERMISSION_DENIED');
      c.set('auth', { user, sessionId: claims.sessionId });
    });
    await next();
    await ctx.store.settled();
  });
}

/** Staff only: authenticates, then 403 for everyone else. */
export const staffOnly = createMiddleware<AppEnv>(async (c, next) => {
  await auth(c, async () => {
    if (!c.get('auth').user.isStaff) throw new ApiError('PERMISSION_DENIED');
    await next();
  });
});

/** The deferred check for the hot read routes (see deferredAuth). */
export const readAuth = deferredAuth();

/**
 * The deferred check for staff-only reads whose work is one bounded read (the order list, an order,
 * the products): the session check and the staff test ride with that read (one round trip instead
 * of two) and a non-staff caller gets 403 with nothing read out. Their query is validated before the
 * check has run, but no answer leaves before it (a malformed query from a non-staff caller is still
 * a 403); the dashboards keep staffOnly, whose 403 comes before their validation builds cached
 * time-zone formatters.
 */
export const staffReadAuth = deferredAuth({ staff: true });
