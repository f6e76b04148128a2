// Fixed-window rate limits in the database (strongly consistent: KV could let concurrent attempts
// through). Each count is one atomic upsert (./repository.ts), so concurrent hits are counted exactly.
// Every limit a request consults is noted on its context, so the response can carry the IETF
// `RateLimit-Policy` and `RateLimit` headers of the tightest one, on success as on a 429.
import type { Ctx } from '../../context';
import { ApiError } from '../problem';
import * as repo from './repository';
import type { Hit, Limit, Observation } from './types';

export type { Hit, Limit, Observation } from './types';

function note(ctx: Ctx, limit: Limit, hit: Hit): Hit {
  ctx.limits?.set(limit.name, { limit, hit });
  return hit;
}

/** Adds `amount` (1, or −1 to take an attempt back) to the limit's window. */
export async function hit(ctx: Ctx, limit: Limit, amount = 1, now = Date.now()): Promise<Hit> {
  const windowMs = limit.windowSeconds * 1000;
  const row = await repo.add(ctx.store, limit.key, amount, now, windowMs);
  return note(ctx, limit, { count: row.count, resetAt: row.windowStart + windowMs });
}

/** Current count without changing it. */
export async function peek(ctx: Ctx, limit: Limit, now = Date.now()): Promise<Hit> {
  const windowMs = limit.windowSeconds * 1000;
  const row = await repo.read(ctx.store, limit.key);
  if (!row || row.windowStart <= now - windowMs) return { count: 0, resetAt: now + windowMs };
  return { count: row.count, resetAt: row.windowStart + windowMs };
}

/** Starts the limit's window now with count 1 (a mark that lasts one window, e.g. "known address"). */
export async function mark(ctx: Ctx, limit: Limit, now = Date.now()): Promise<void> {
  await repo.mark(ctx.store, limit.key, now, limit.windowSeconds * 1000);
}

export async function clear(ctx: Ctx, limit: Limit): Promise<void> {
  await repo.remove(ctx.store, limit.key);
  note(ctx, limit, { count: 0, resetAt: Date.now() + limit.windowSeconds * 1000 });
}

/** Counts one attempt and throws 429 when it is over the limit. */
export async function consume(ctx: Ctx, limit: Limit, now = Date.now()): Promise<Hit> {
  const h = await hit(ctx, limit, 1, now);
  if (h.count > limit.max) throw rateLimited(limit, h.resetAt, now);
  return h;
}

/** The 429 for a limit: Retry-After plus the IETF RateLimit-Policy / RateLimit headers. */
export function rateLimited(limit: Limit, resetAt: number, now = Date.now()): ApiError {
  const retryAfter = Math.max(1, Math.ceil((resetAt - now) / 1000));
  return new ApiError('RATE_LIMITED', {
    headers: { 'Retry-After': String(retryAfter), ...rateLimitHeaders({ limit, hit: { count: limit.max + 1, resetAt } }, now) },
    extras: { retry_after: retryAfter },
  });
}

/** `RateLimit-Policy` and `RateLimit` (draft-ietf-httpapi-ratelimit-headers) for one observation. */
export function rateLimitHeaders({ limit, hit }: Observation, now = Date.now()): Record<string, string> {
  const remaining = Math.max(0, limit.max - hit.count);
  const reset = Math.max(0, Math.ceil((hit.resetAt - now) / 1000));
  return {
    'RateLimit-Policy': `"${limit.name}";q=${limit.max};w=${limit.windowSeconds}`,
    RateLimit: `"${limit.name}";r=${remaining};t=${reset}`,
  };
}

/** The observation closest to its limit (fewest remaining), the one a client should heed. */
export function tightest(observations: Iterable<Observation>): Observation | null {
  let best: Observation | null = null;
  for (const o of observations) {
    if (!best || o.limit.max - o.hit.count < best.limit.max - best.hit.count) best = o;
  }
  return best;
}
