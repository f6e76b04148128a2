// Phone login with one-time codes. The code is HMAC-hashed in KV with a TTL; attempts and single
// use are conditional updates (repository.ts), so 5 wrong guesses per token and one success hold
// under any concurrency. Sends are limited per phone and per address, wrong codes per phone per day.
import parsePhoneNumber, { type CountryCode } from 'libphonenumber-js/max';
import type { Ctx } from '../../context';
import { hex, sha256Hex } from '../../lib/digest';
import { timingSafeEqual } from '../../lib/password';
import { ApiError } from '../../lib/problem';
import { randomDigits, randomToken } from '../../lib/random';
import { consume, hit, peek, rateLimitHeaders, rateLimited, type Limit } from '../../lib/rate-limit';
import type { TokenPair } from '../../lib/tokens';
import { insertUser, isKnownAddress, rememberAddress, startSession, userBy, type UserRow } from '../accounts';
import * as repo from './repository';
import { smsProvider } from './sms';

const encoder = new TextEncoder();

export function normalisePhone(input: string, region: string): string {
  let parsed: ReturnType<typeof parsePhoneNumber> | undefined;
  try {
    parsed = parsePhoneNumber(input, { defaultCountry: region as CountryCode });
  } catch {
    parsed = undefined;
  }
  if (!parsed?.isValid()) throw new ApiError('INVALID_PHONE');
  return parsed.number;
}

/** HMAC of (token, code) with the server secret: KV never holds a code that could be read back. */
async function codeDigest(ctx: Ctx, tokenHash: string, code: string): Promise<Uint8Array> {
  const secret = ctx.config.PHONE_CODE_SECRET || ctx.config.JWT_SECRET;
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
function failureLimits(ctx: Ctx, phone: string, address: string) {
  const max = ctx.config.PHONE_MAX_FAILURES_PER_DAY;
  return {
    phone: { name: 'phone-failures', key: `phone:fail:${phone}`, max, windowSeconds: 86_400 },
    address: { name: 'phone-failures-address', key: `phone:fail:addr:${phone}:${address}`, max, windowSeconds: 86_400 },
  } satisfies Record<string, Limit>;
}

/**
 * Send budgets: per client address, and per phone in two pools of the same size. Strangers share
 * one; the owner (see isOwner) has the other, which nothing a stranger does can spend, so flooding a
 * phone with requests never keeps its owner from a code. SMS pumping stays bounded: a phone gets at
 * most twice PHONE_SENDS_PER_HOUR an hour, and only its owner can use the second half.
 */
function sendLimits(ctx: Ctx, phone: string, address: string, owner: boolean): Limit[] {
  const cfg = ctx.config;
  const [suffix, pool] = owner ? ['-owner', 'owner:'] : ['', ''];
  return [
    { name: 'phone-send-address', key: `phone:send:addr:${address}`, max: cfg.PHONE_SENDS_PER_ADDRESS_PER_HOUR, windowSeconds: 3600 },
    { name: `phone-send-interval${suffix}`, key: `phone:send:gap:${pool}${phone}`, max: 1, windowSeconds: cfg.PHONE_SEND_INTERVAL_SECONDS },
    { name: `phone-send-hour${suffix}`, key: `phone:send:hour:${pool}${phone}`, max: cfg.PHONE_SENDS_PER_HOUR, windowSeconds: 3600 },
  ];
}

/**
 * The phone's owner asks: signed in as the phone's user (`callerId`), or from an address that
 * logged into that user within LOGIN_KNOWN_ADDRESS_DAYS (a phone verify counts). A phone with no
 * user yet has no owner.
 */
async function isOwner(ctx: Ctx, phone: string, address: string, callerId: number | null): Promise<boolean> {
  const user = await userBy(ctx.store, { phone });
  if (!user) return false;
  return user.id === callerId || isKnownAddress(ctx, user.id, address);
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

export async function requestCode(
  ctx: Ctx,
  input: string,
  requester: { address: string; callerId: number | null },
  /** Where to post the code (with the token in the body: the URL carries none). */
  verifyUrl: string,
): Promise<CodeRequest> {
  const { address } = requester;
  const cfg = ctx.config;
  const phone = normalisePhone(input, cfg.DEFAULT_PHONE_REGION);
  const provider = smsProvider(ctx);
  const failures = failureLimits(ctx, phone, address);
  const [byAddress, byPhone] = await Promise.all([peek(ctx, failures.address), peek(ctx, failures.phone)]);
  if (byAddress.count >= failures.address.max) throw rateLimited(failures.address, byAddress.resetAt);
  const owner = await isOwner(ctx, phone, address, requester.callerId);
  for (const limit of sendLimits(ctx, phone, address, owner)) await consume(ctx, limit);

  const token = randomToken(24);
  const tokenHash = await sha256Hex(token);
  const short = Math.min(8, Math.max(4, cfg.PHONE_CODE_LENGTH));
  const length = byPhone.count >= failures.phone.max ? Math.max(short, Math.min(8, cfg.PHONE_ESCALATED_CODE_LENGTH)) : short;
  const code = randomDigits(length);
  const ttl = Math.max(60, cfg.PHONE_CODE_TTL); // KV's minimum expirationTtl is 60 s
  const now = Date.now();
  await Promise.all([
    ctx.env.PHONE_CODES.put(kvKey(tokenHash), stored(length, await codeDigest(ctx, tokenHash, code)), { expirationTtl: ttl }),
    repo.insertVerification(ctx.store, { tokenHash, phone, createdAt: now, expiresAt: now + ttl * 1000 }),
  ]);
  try {
    await provider.send(phone, code);
  } catch (err) {
    await ctx.env.PHONE_CODES.delete(kvKey(tokenHash));
    throw err;
  }
  return {
    phone,
    verification_token: token,
    expires_in: ttl,
    next: verifyUrl,
    ...(provider.exposesCode ? { dev_code: code } : {}),
  };
}

/** Why a verification could not take another attempt: expired/used, or out of attempts. */
async function refusal(ctx: Ctx, tokenHash: string, now: number): Promise<ApiError> {
  const row = await repo.findVerification(ctx.store, tokenHash);
  if (!row || row.usedAt !== null || row.expiresAt <= now) return new ApiError('VERIFICATION_EXPIRED');
  const cfg = ctx.config;
  // The verification's attempts are its limit, and its expiry is when that limit resets.
  const limit: Limit = { name: 'phone-verify', key: tokenHash, max: cfg.PHONE_MAX_ATTEMPTS, windowSeconds: cfg.PHONE_CODE_TTL };
  const retryAfter = String(Math.max(1, Math.ceil((row.expiresAt - now) / 1000)));
  return new ApiError('TOO_MANY_ATTEMPTS', {
    headers: { 'Retry-After': retryAfter, ...rateLimitHeaders({ limit, hit: { count: limit.max, resetAt: row.expiresAt } }, now) },
  });
}

export async function verifyCode(
  ctx: Ctx,
  token: string,
  code: string,
  address: string,
): Promise<{ user: UserRow; token: TokenPair; created: boolean }> {
  const cfg = ctx.config;
  const now = Date.now();
  const tokenHash = await sha256Hex(token);
  const verification = await repo.findVerification(ctx.store, tokenHash);
  if (!verification || verification.usedAt !== null || verification.expiresAt <= now) throw new ApiError('VERIFICATION_EXPIRED');

  // Claim one attempt: only PHONE_MAX_ATTEMPTS claims can ever succeed per token.
  const attempts = await repo.claimAttempt(ctx.store, tokenHash, now, cfg.PHONE_MAX_ATTEMPTS);
  if (attempts === null) throw await refusal(ctx, tokenHash, now);

  const value = await ctx.env.PHONE_CODES.get(kvKey(tokenHash));
  if (!value) throw new ApiError('VERIFICATION_EXPIRED');
  const sent = parseStored(value);
  const budgets = await takeBudgets(ctx, verification.phone, address, sent.length, now);
  const given = encoder.encode(hex(await codeDigest(ctx, tokenHash, code)));
  if (!timingSafeEqual(given, encoder.encode(sent.digest))) {
    throw new ApiError('INVALID_CONFIRM_CODE', { extras: { remaining_attempts: Math.max(0, cfg.PHONE_MAX_ATTEMPTS - attempts) } });
  }
  await Promise.all(budgets.map((limit) => hit(ctx, limit, -1, now)));
  // Single use: of two right answers racing, one marks the row used and the other is refused.
  const phone = await repo.markUsed(ctx.store, tokenHash, now);
  if (phone === null) throw new ApiError('VERIFICATION_EXPIRED');
  await ctx.env.PHONE_CODES.delete(kvKey(tokenHash));

  const { user, created } = await findOrCreatePhoneUser(ctx, phone);
  if (!user.isActive) throw new ApiError('INVALID_CREDENTIALS');
  // A login from this address: the owner's own from now on (password limits, the phone's send budget).
  await rememberAddress(ctx, user.id, address);
  return { user, token: await startSession(ctx, user), created };
}

/**
 * Takes one wrong-code slot from each budget that applies (see failureLimits) before the code is
 * judged; a spent budget refuses the attempt. Returns the budgets taken, to give back on a success.
 */
async function takeBudgets(ctx: Ctx, phone: string, address: string, codeLength: number, now: number): Promise<Limit[]> {
  const failures = failureLimits(ctx, phone, address);
  const short = codeLength < Math.min(8, ctx.config.PHONE_ESCALATED_CODE_LENGTH);
  const limits = short ? [failures.address, failures.phone] : [failures.address];
  const taken: Limit[] = [];
  try {
    for (const limit of limits) {
      await consume(ctx, limit, now);
      taken.push(limit);
    }
  } catch (err) {
    // The refused slot is spent (it counts); slots taken before it go back, as no code was judged.
    await Promise.all(taken.map((limit) => hit(ctx, limit, -1, now)));
    throw err;
  }
  return taken;
}

async function findOrCreatePhoneUser(ctx: Ctx, phone: string): Promise<{ user: UserRow; created: boolean }> {
  const existing = await userBy(ctx.store, { phone });
  if (existing) return { user: existing, created: false };
  try {
    return { user: await insertUser(ctx, { phone }), created: true };
  } catch (err) {
    // Two first verifications of one phone at once: the unique index lets one insert win.
    const winner = await userBy(ctx.store, { phone });
    if (winner) return { user: winner, created: false };
    throw err;
  }
}
