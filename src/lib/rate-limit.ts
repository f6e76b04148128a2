// Fixed-window counters in the database (strongly consistent: KV could let concurrent attempts through).
// Each call is a single conditional upsert, so concurrent hits are counted exactly.
import { ApiError } from './problem';

export interface Limit {
  /** Policy name shown in the RateLimit headers, e.g. "login-account". */
  name: string;
  key: string;
  max: number;
  windowSeconds: number;
}

export interface Hit {
  count: number;
  resetAt: number;
}

/** Adds one to the limit's window (starting a new window when the old one ended). */
export async function hit(db: D1Database, limit: Limit, amount = 1, now = Date.now()): Promise<Hit> {
  const windowMs = limit.windowSeconds * 1000;
  const row = await db
    .prepare(
      // Columns qualified and parameters cast: the same statement is valid SQLite and Postgres.
      `INSERT INTO rate_limits (key, window_start, count) VALUES (?1, ?2, ?3)
       ON CONFLICT (key) DO UPDATE SET
         count = CASE WHEN rate_limits.window_start <= CAST(?2 AS BIGINT) - CAST(?4 AS BIGINT) THEN CAST(?3 AS BIGINT)
                      ELSE rate_limits.count + CAST(?3 AS BIGINT) END,
         window_start = CASE WHEN rate_limits.window_start <= CAST(?2 AS BIGINT) - CAST(?4 AS BIGINT) THEN CAST(?2 AS BIGINT)
                      ELSE rate_limits.window_start END
       RETURNING count, window_start`,
    )
    .bind(limit.key, now, amount, windowMs)
    .first<{ count: number; window_start: number }>();
  return { count: row!.count, resetAt: row!.window_start + windowMs };
}

/** Current count without changing it. */
export async function peek(db: D1Database, limit: Limit, now = Date.now()): Promise<Hit> {
  const row = await db
    .prepare('SELECT count, window_start FROM rate_limits WHERE key = ?')
    .bind(limit.key)
    .first<{ count: number; window_start: number }>();
  const windowMs = limit.windowSeconds * 1000;
  if (!row || row.window_start <= now - windowMs) return { count: 0, resetAt: now + windowMs };
  return { count: row.count, resetAt: row.window_start + windowMs };
}

/** Starts (or restarts) the window of `key` now, with count 1: a mark that lasts one window. */
export async function mark(db: D1Database, key: string, now = Date.now()): Promise<void> {
  await db
    .prepare(
      `INSERT INTO rate_limits (key, window_start, count) VALUES (?1, ?2, 1)
       ON CONFLICT (key) DO UPDATE SET window_start = CAST(?2 AS BIGINT), count = 1`,
    )
    .bind(key, now)
    .run();
}

export async function clear(db: D1Database, key: string): Promise<void> {
  await db.prepare('DELETE FROM rate_limits WHERE key = ?').bind(key).run();
}

/** The 429 for a limit: Retry-After plus the IETF RateLimit-Policy / RateLimit headers. */
export function rateLimited(limit: Limit, resetAt: number, now = Date.now()): ApiError {
  const retryAfter = Math.max(1, Math.ceil((resetAt - now) / 1000));
  return new ApiError('RATE_LIMITED', {
    headers: {
      'Retry-After': String(retryAfter),
      'RateLimit-Policy': `"${limit.name}";q=${limit.max};w=${limit.windowSeconds}`,
      RateLimit: `"${limit.name}";r=0;t=${retryAfter}`,
    },
    extras: { retry_after: retryAfter },
  });
}

/** Counts one attempt and throws 429 when it is over the limit. */
export async function consume(db: D1Database, limit: Limit, now = Date.now()): Promise<Hit> {
  const h = await hit(db, limit, 1, now);
  if (h.count > limit.max) throw rateLimited(limit, h.resetAt, now);
  return h;
}
