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

/**
 * Wrong-code budgets (SECURITY.md, "Phone codes without a lockout button"), each taken before a code
 * is judged and given back when it was right, so concurrent guesses cannot pass them:
 * - per phone and client address, PHONE_MAX_FAILURES_PER_DAY: spent, that address gets no code and
 *   no verdict for that phone for the rest of the day;
 * - per phone, PHONE_MAX_FAILURES_PER_DAY wrong SHORT codes: spent, a short code is not judged any
 *   more and the phone's next codes have PHONE_ESCALATED_CODE_LENGTH digits. The owner still logs in;
 *   an attacker's odds stay what 20 short guesses give (0.2 %), as each long guess is 10^-8.
 */
function failureLimits(env: Bindings, phone: string, address: string) {
  const max = config(env).PHONE_MAX_FAILURES_PER_DAY;
  return {
    phone: { name: 'phone-failures', key: `phone:fail:${phone}`, max, windowSeconds: 86_400 },
    address: { name: 'phone-failures-address', key: `phone:fail:addr:${phone}:${address}`, max, windowSeconds: 86_400 },
  } satisfies Record<string, Limit>;
}

function sendLimits(env: Bindings, phone: string, address: string): Limit[] {
  const cfg = config(env);
  return [
    { name: 'phone-send-address', key: `phone:send:addr:${address}`, max: cfg.PHONE_SENDS_PER_ADDRESS_PER_HOUR, windowSeconds: 3600 },
    { name: 'phone-send-interval', key: `phone:send:gap:${phone}`, max: 1, windowSeconds: cfg.PHONE_SEND_INTERVAL_SECONDS },
    { name: 'phone-send-hour', key: `phone:send:hour:${phone}`, max: cfg.PHONE_SENDS_PER_HOUR, windowSeconds: 3600 },
  ];
}

/** The stored value of a code: its length (what the phone was sent) and its HMAC. */
const stored = (length: number, digest: Uint8Array) => `${length}:${hex(digest)}`;

function parseStored(value: string): { length: number; digest: string } {
  const [length, digest] = value.split(':');
  return { length: Number(length), digest: digest! };
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
  const failures = failureLimits(env, phone, address);
  const [byAddress, byPhone] = await Promise.all([peek(env.DB, failures.address), peek(env.DB, failures.phone)]);
  if (byAddress.count >= failures.address.max) throw rateLimited(failures.address, byAddress.resetAt);
  for (const limit of sendLimits(env, phone, address)) await consume(env.DB, limit);

  const token = randomToken(24);
  const tokenHash = await sha256Hex(token);
  const short = Math.min(8, Math.max(4, cfg.PHONE_CODE_LENGTH));
  const length = byPhone.count >= failures.phone.max ? Math.max(short, Math.min(8, cfg.PHONE_ESCALATED_CODE_LENGTH)) : short;
  const code = randomDigits(length);
  const ttl = Math.max(60, cfg.PHONE_CODE_TTL); // KV's minimum expirationTtl is 60 s
  const now = Date.now();
  await Promise.all([
    env.PHONE_CODES.put(kvKey(tokenHash), stored(length, await codeDigest(env, tokenHash, code)), { expirationTtl: ttl }),
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
  address: string,
): Promise<{ user: UserRow; token: TokenPair; created: boolean }> {
  const cfg = config(env);
  const s = store(env);
  const now = Date.now();
  const tokenHash = await sha256Hex(token);
  const verification = await repo.findVerification(s, tokenHash);
  if (!verification || verification.usedAt !== null || verification.expiresAt <= now) throw new ApiError('VERIFICATION_EXPIRED');

  // Claim one attempt: only PHONE_MAX_ATTEMPTS claims can ever succeed per token.
  const attempts = await repo.claimAttempt(s, tokenHash, now, cfg.PHONE_MAX_ATTEMPTS);
  if (attempts === null) throw await refusal(env, s, tokenHash, now);

  const value = await env.PHONE_CODES.get(kvKey(tokenHash));
  if (!value) throw new ApiError('VERIFICATION_EXPIRED');
  const sent = parseStored(value);
  const budgets = await takeBudgets(env, verification.phone, address, sent.length, now);
  const given = encoder.encode(hex(await codeDigest(env, tokenHash, code)));
  if (!timingSafeEqual(given, encoder.encode(sent.digest))) {
    throw new ApiError('INVALID_CONFIRM_CODE', { extras: { remaining_attempts: Math.max(0, cfg.PHONE_MAX_ATTEMPTS - attempts) } });
  }
  await Promise.all(budgets.map((limit) => hit(env.DB, limit, -1, now)));
  // Single use: of two right answers racing, one marks the row used and the other is refused.
  const phone = await repo.markUsed(s, tokenHash, now);
  if (phone === null) throw new ApiError('VERIFICATION_EXPIRED');
  await env.PHONE_CODES.delete(kvKey(tokenHash));

  const { user, created } = await findOrCreatePhoneUser(env, s, phone);
  if (!user.isActive) throw new ApiError('INVALID_CREDENTIALS');
  return { user, token: await startSession(env, user), created };
}

/**
 * Takes one wrong-code slot from each budget that applies (see failureLimits) before the code is
 * judged; a spent budget refuses the attempt. Returns the budgets taken, to give back on a success.
 */
async function takeBudgets(env: Bindings, phone: string, address: string, codeLength: number, now: number): Promise<Limit[]> {
  const failures = failureLimits(env, phone, address);
  const short = codeLength < Math.min(8, config(env).PHONE_ESCALATED_CODE_LENGTH);
  const limits = short ? [failures.address, failures.phone] : [failures.address];
  const taken: Limit[] = [];
  try {
    for (const limit of limits) {
      await consume(env.DB, limit, now);
      taken.push(limit);
    }
  } catch (err) {
    // The refused slot is spent (it counts); slots taken before it go back, as no code was judged.
    await Promise.all(taken.map((limit) => hit(env.DB, limit, -1, now)));
    throw err;
  }
  return taken;
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
