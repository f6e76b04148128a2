// JWT issue and verification (jose, HS256 from the JWT_SECRET secret). Every claim is checked:
// signature with the one configured algorithm, iss, aud, exp, nbf, typ, and the presence of
// sub/jti/sid. The session (family) behind a token is checked by the callers against D1.
import { errors, jwtVerify, SignJWT } from 'jose';
import type { Config } from '../env';
import type { Ctx } from '../context';
import { BoundedMap } from './memo';
import { ApiError } from './problem';
import { randomToken } from './random';

export type TokenType = 'access' | 'refresh';
const ALGORITHM = 'HS256';
const MAX_TOKEN_LENGTH = 4096;

export interface TokenClaims {
  userId: number;
  sessionId: string;
  jti: string;
  typ: TokenType;
  exp: number;
}

export interface TokenPair {
  access: string;
  refresh: string;
  token_type: 'Bearer';
  expires_in: number;
}

// The imported HMAC key is kept per isolate: importing it on every request is measurable work.
const keys = new Map<string, Promise<CryptoKey>>();

function secretKey(cfg: Config): Promise<CryptoKey> {
  const secret = cfg.JWT_SECRET;
  if (secret.length < 32) {
    // parseConfig refuses it already; a short secret would make every token forgeable, so a Config
    // built by hand is checked too.
    throw new Error('JWT_SECRET is missing or shorter than 32 characters');
  }
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
    keys.set(secret, key);
  }
  return key;
}

export function newJti(): string {
  return randomToken(16);
}

/** What tokens need of a unit of work: the configuration (the secret is part of it). */
type Deps = Pick<Ctx, 'config'>;

export async function signToken(
  { config: cfg }: Deps,
  claims: { userId: number; sessionId: string; typ: TokenType; jti?: string },
): Promise<{ token: string; jti: string; exp: number }> {
  const ttl = claims.typ === 'access' ? cfg.ACCESS_TOKEN_TTL : cfg.REFRESH_TOKEN_TTL;
  const now = Math.floor(Date.now() / 1000);
  const jti = claims.jti ?? newJti();
  const token = await new SignJWT({ typ: claims.typ, sid: claims.sessionId })
    .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
    .setSubject(String(claims.userId))
    .setIssuer(cfg.JWT_ISSUER)
    .setAudience(cfg.JWT_AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + ttl)
    .setJti(jti)
    .sign(await secretKey(cfg));
  return { token, jti, exp: now + ttl };
}

export async function issuePair(deps: Deps, userId: number, sessionId: string, refreshJti: string): Promise<TokenPair> {
  const [access, refresh] = await Promise.all([
    signToken(deps, { userId, sessionId, typ: 'access' }),
    signToken(deps, { userId, sessionId, typ: 'refresh', jti: refreshJti }),
  ]);
  return { access: access.token, refresh: refresh.token, token_type: 'Bearer', expires_in: deps.config.ACCESS_TOKEN_TTL };
}

// Tokens that passed verification, per isolate: a client sends the same access token on every
// request, and checking its signature again is measurable work. Only a success is remembered, under
// the secret, issuer and audience it was checked with; expiry is checked again on every use, and
// the session behind the token is still checked against D1 by the callers.
const verified = new BoundedMap<string, TokenClaims>(10_000);

/**
 * Verifies signature and claims. Throws ApiError TOKEN_EXPIRED for a token that is valid but
 * expired, INVALID_TOKEN for anything else (including the wrong `typ` when `expected` is given).
 */
export async function verifyToken({ config: cfg }: Deps, token: string, expected?: TokenType): Promise<TokenClaims> {
  if (token.length > MAX_TOKEN_LENGTH) throw new ApiError('INVALID_TOKEN');
  const key = await secretKey(cfg); // outside the try: a missing secret is a 500, not a bad token
  const cacheKey = `${cfg.JWT_SECRET}\n${cfg.JWT_ISSUER}\n${cfg.JWT_AUDIENCE}\n${token}`;
  let claims = verified.get(cacheKey);
  if (!claims) {
    claims = await verifyUncached(token, key, cfg.JWT_ISSUER, cfg.JWT_AUDIENCE);
    verified.set(cacheKey, claims);
  } else if (claims.exp <= Math.floor(Date.now() / 1000)) {
    throw new ApiError('TOKEN_EXPIRED'); // the same rule as jose's exp check, without tolerance
  }
  if (expected && claims.typ !== expected) throw new ApiError('INVALID_TOKEN');
  return claims;
}

async function verifyUncached(token: string, key: CryptoKey, issuer: string, audience: string): Promise<TokenClaims> {
  let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
  try {
    ({ payload } = await jwtVerify(token, key, {
      algorithms: [ALGORITHM],
      issuer,
      audience,
      requiredClaims: ['sub', 'jti', 'exp', 'iat'],
    }));
  } catch (err) {
    if (err instanceof errors.JWTExpired) throw new ApiError('TOKEN_EXPIRED');
    throw new ApiError('INVALID_TOKEN');
  }
  const userId = Number(payload.sub);
  const { typ, sid, jti, exp } = payload as Record<string, unknown>;
  if (
    !Number.isSafeInteger(userId) ||
    userId < 1 ||
    (typ !== 'access' && typ !== 'refresh') ||
    typeof sid !== 'string' ||
    typeof jti !== 'string' ||
    typeof exp !== 'number'
  ) {
    throw new ApiError('INVALID_TOKEN');
  }
  return { userId, sessionId: sid, jti, typ, exp };
}
