// Phone login with one-time codes. The code is HMAC-hashed in KV with a TTL; attempts and single
// use are conditional updates (repository.ts), so 5 wrong guesses per token and one success hold
// under any concurrency. Sends are limited per phone and per address, wrong codes per phone per day.
import parsePhoneNumber, { type CountryCode } from 'libphonenumber-js/max';
import './codes';
import { store, type Store } from '../../db/store';
import { config, type Bindings } from '../../env';
import type { UserRow } from '../../lib/auth';
import { hex, sha256Hex } from '../../lib/digest';
import { timingSafeEqual } from '../../lib/password';
import { ApiError } from '../../lib/problem';
import { randomDigits, randomToken } from '../../lib/random';
import { consume, hit, peek, rateLimited, type Limit } from '../../lib/rate-limit';
import type { TokenPair } from '../../lib/tokens';
import { userBy } from '../accounts/repository';
import { insertUser, startSession } from '../accounts/service';
import * as repo from './repository';
import { smsProvider } from './sms';

const encoder = new TextEncoder();

export function normalisePhone(input: string, region: string): string {
  let parsed;
  try {
    parsed = parsePhoneNumber(input, { defaultCountry: region as CountryCode });
  } catch {
    parsed = undefined;
  }
  if (!parsed || !parsed.isValid()) throw new ApiError('INVALID_PHONE');
  return parsed.number;
}

/** HMAC of (token, code) with the server secret: KV never holds a code that could be read back. */
async function codeDigest(env: Bindings, tokenHash: string, code: string): Promise<Uint8Array> {
  const secret = env.PHONE_CODE_SECRET || env.JWT_SECRET;
  const key = await crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(`${tokenHash}:${code}`)));
}

const kvKey = (tokenHash: string) => `phone-code:${tokenHash}`;

function failureLimit(env: Bindings, phone: string): Limit {
  return { name: 'phone-failures', key: `phone:fail:${phone}`, max: config(env).PHONE_MAX_FAILURES_PER_DAY, windowSeconds: 86_400 };
}

function sendLimits(env: Bindings, phone: string, address: string): Limit[] {
  const cfg = config(env);
  return [
    { name: 'phone-send-address', key: `phone:send:addr:${address}`, max: cfg.PHONE_SENDS_PER_ADDRESS_PER_HOUR, windowSeconds: 3600 },
    { name: 'phone-send-interval', key: `phone:send:gap:${phone}`, max: 1, windowSeconds: cfg.PHONE_SEND_INTERVAL_SECONDS },
    { name: 'phone-send-hour', key: `phone:send:hour:${phone}`, max: cfg.PHONE_SENDS_PER_HOUR, windowSeconds: 3600 },
  ];
}

export interface CodeRequest {
  phone: string;
  verification_token: string;
  expires_in: number;
  next: string;
  dev_code?: string;
}

export async function requestCode(env: Bindings, input: string, address: string, verifyUrl: (token: string) => string): Promise<CodeRequest> {
  const cfg = config(env);
  const phone = normalisePhone(input, cfg.DEFAULT_PHONE_REGION);
  const provider = smsProvider(env);
  // A phone whose daily wrong-code budget is spent gets no new codes: resending must not
  // turn 5 tries per code into a brute force.
  const failures = failureLimit(env, phone);
  const spent = await peek(env.DB, failures);
  if (spent.count >= failures.max) throw rateLimited(failures, spent.resetAt);
  for (const limit of sendLimits(env, phone, address)) await consume(env.DB, limit);

  const token = randomToken(24);
  const tokenHash = await sha256Hex(token);
  const code = randomDigits(Math.min(8, Math.max(4, cfg.PHONE_CODE_LENGTH)));
  const ttl = Math.max(60, cfg.PHONE_CODE_TTL); // KV's minimum expirationTtl is 60 s
  const now = Date.now();
  await Promise.all([
    env.PHONE_CODES.put(kvKey(tokenHash), hex(await codeDigest(env, tokenHash, code)), { expirationTtl: ttl }),
    repo.insertVerification(store(env), { tokenHash, phone, createdAt: now, expiresAt: now + ttl * 1000 }),
  ]);
  try {
    await provider.send(phone, code);
  } catch (err) {
    await env.PHONE_CODES.delete(kvKey(tokenHash));
    throw err;
  }
  return {
    phone,
    verification_token: token,
    expires_in: ttl,
    next: verifyUrl(token),
    ...(provider.exposesCode ? { dev_code: code } : {}),
  };
}

/** Why a verification could not take another attempt: expired/used, or out of attempts. */
async function refusal(env: Bindings, s: Store, tokenHash: string, now: number): Promise<ApiError> {
  const row = await repo.findVerification(s, tokenHash);
  if (!row || row.usedAt !== null || row.expiresAt <= now) return new ApiError('VERIFICATION_EXPIRED');
  const cfg = config(env);
  const retryAfter = String(Math.max(1, Math.ceil((row.expiresAt - now) / 1000)));
  return new ApiError('TOO_MANY_ATTEMPTS', {
    headers: {
      'Retry-After': retryAfter,
      'RateLimit-Policy': `"phone-verify";q=${cfg.PHONE_MAX_ATTEMPTS};w=${cfg.PHONE_CODE_TTL}`,
      RateLimit: `"phone-verify";r=0;t=${retryAfter}`,
    },
  });
}

export async function verifyCode(
  env: Bindings,
  token: string,
  code: string,
): Promise<{ user: UserRow; token: TokenPair; created: boolean }> {
  const cfg = config(env);
  const s = store(env);
  const now = Date.now();
  const tokenHash = await sha256Hex(token);
  const verification = await repo.findVerification(s, tokenHash);
  if (!verification || verification.usedAt !== null || verification.expiresAt <= now) throw new ApiError('VERIFICATION_EXPIRED');

  const failures = failureLimit(env, verification.phone);
  const spent = await peek(env.DB, failures, now);
  if (spent.count >= failures.max) throw rateLimited(failures, spent.resetAt, now);

  // Claim one attempt: only PHONE_MAX_ATTEMPTS claims can ever succeed per token.
  const attempts = await repo.claimAttempt(s, tokenHash, now, cfg.PHONE_MAX_ATTEMPTS);
  if (attempts === null) throw await refusal(env, s, tokenHash, now);

  const stored = await env.PHONE_CODES.get(kvKey(tokenHash));
  if (!stored) throw new ApiError('VERIFICATION_EXPIRED');
  const given = encoder.encode(hex(await codeDigest(env, tokenHash, code)));
  if (!timingSafeEqual(given, encoder.encode(stored))) {
    await hit(env.DB, failures, 1, now);
    throw new ApiError('INVALID_CONFIRM_CODE', { extras: { remaining_attempts: Math.max(0, cfg.PHONE_MAX_ATTEMPTS - attempts) } });
  }
  // Single use: of two right answers racing, one marks the row used and the other is refused.
  const phone = await repo.markUsed(s, tokenHash, now);
  if (phone === null) throw new ApiError('VERIFICATION_EXPIRED');
  await env.PHONE_CODES.delete(kvKey(tokenHash));

  const { user, created } = await findOrCreatePhoneUser(env, s, phone);
  if (!user.isActive) throw new ApiError('INVALID_CREDENTIALS');
  return { user, token: await startSession(env, user), created };
}

async function findOrCreatePhoneUser(env: Bindings, s: Store, phone: string): Promise<{ user: UserRow; created: boolean }> {
  const existing = await userBy(s, { phone });
  if (existing) return { user: existing, created: false };
  try {
    return { user: await insertUser(env, { phone }), created: true };
  } catch (err) {
    // Two first verifications of one phone at once: the unique index lets one insert win.
    const winner = await userBy(s, { phone });
    if (winner) return { user: winner, created: false };
    throw err;
  }
}
