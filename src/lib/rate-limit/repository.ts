// The counters behind every rate limit: one row per key in `rate_limits`, a fixed window each.
// Every change is one upsert (ON CONFLICT on the key), atomic on both backends, so concurrent hits
// are counted exactly without any lock. Each write stamps `expires_at`, the end of the window it
// leaves, with the window length of its own limit: the scheduled purge deletes a row only past it
// (a 30-day "known address" mark lives 30 days, a 15-minute login counter 15 minutes).
import { eq, sql } from 'drizzle-orm';
import type { Store } from '../../db/store';

export interface Window {
  count: number;
  windowStart: number;
}

/** Adds `amount` to the key's window, starting a new window when the old one ended; the new state. */
export async function add(s: Store, key: string, amount: number, now: number, windowMs: number): Promise<Window> {
  const { rateLimits: r } = s.t;
  const expired = sql`${r.windowStart} <= ${now - windowMs}`;
  const [row] = await s.run(
    s.db
      .insert(r)
      .values({ key, windowStart: now, count: amount, expiresAt: now + windowMs })
      .onConflictDoUpdate({
        target: r.key,
        set: {
          count: sql`CASE WHEN ${expired} THEN ${amount} ELSE ${r.count} + ${amount} END`,
          windowStart: sql`CASE WHEN ${expired} THEN ${now} ELSE ${r.windowStart} END`,
          expiresAt: sql`CASE WHEN ${expired} THEN ${now + windowMs} ELSE ${r.windowStart} + ${windowMs} END`,
        },
      })
      .returning({ count: r.count, windowStart: r.windowStart }),
  );
  return row!;
}

export async function read(s: Store, key: string): Promise<Window | undefined> {
  const { rateLimits: r } = s.t;
  const [row] = await s.select(s.db.select({ count: r.count, windowStart: r.windowStart }).from(r).where(eq(r.key, key)));
  return row;
}

/** Starts (or restarts) the key's window now with count 1: a mark that lasts one window. */
export async function mark(s: Store, key: string, now: number, windowMs: number): Promise<void> {
  const { rateLimits: r } = s.t;
  await s.run(
    s.db
      .insert(r)
      .values({ key, windowStart: now, count: 1, expiresAt: now + windowMs })
      .onConflictDoUpdate({ target: r.key, set: { windowStart: now, count: 1, expiresAt: now + windowMs } }),
  );
}

export async function remove(s: Store, key: string): Promise<void> {
  const { rateLimits: r } = s.t;
  await s.run(s.db.delete(r).where(eq(r.key, key)));
}
