// The context of one request, built once before any route runs: its one store (closed after the
// response, without delaying it), its parsed configuration and its bindings. Handlers pass
// `c.var.ctx` to services; nothing below looks a store or a setting up again. After the handler,
// the tightest rate limit the request consulted is reported in `RateLimit`/`RateLimit-Policy`.
//
// Read replication (D1 Sessions API): a request's store is a D1 session. It starts at the bookmark
// the client sent in `X-D1-Bookmark` (its last response's), so it reads at least what the client
// has seen, itself included; without one, a read (GET, HEAD) may start on any replica and a write
// starts on the primary, so the checks before a write see the latest data. The response carries
// the bookmark the request reached, including writes a Durable Object made for it.
import type { Context, MiddlewareHandler } from 'hono';
import { BOOKMARK, newer, openStore, type StoreOptions } from '../db/store';
import { parseConfig, type Bindings } from '../env';
import type { AppEnv, Ctx } from '../context';
import { contain, settle, type Outcome } from './outcome';
import { rateLimitHeaders, tightest } from './rate-limit';

export const BOOKMARK_HEADER = 'X-D1-Bookmark';

/** A context for a unit of work outside a request (a Durable Object call, a queue batch). */
export function unitOfWork(env: Bindings, options?: StoreOptions): Ctx {
  return { store: openStore(env, options), config: parseConfig(env), env };
}

/** Where the request's session starts: the client's bookmark, else any replica for reads only. */
function sessionStart(c: Context<AppEnv>): string {
  const sent = c.req.header(BOOKMARK_HEADER)?.trim().toLowerCase();
  if (sent && BOOKMARK.test(sent)) return sent;
  return c.req.method === 'GET' || c.req.method === 'HEAD' ? 'first-unconstrained' : 'first-primary';
}

export const requestUnitOfWork: MiddlewareHandler<AppEnv> = async (c, next) => {
  const ctx: Ctx = { ...unitOfWork(c.env, { start: sessionStart(c) }), limits: new Map(), after: [] };
  c.set('ctx', ctx);
  try {
    await next();
  } finally {
    c.executionCtx.waitUntil(runAfter(ctx).finally(() => ctx.store.close()));
  }
  const bookmark = ctx.store.bookmark();
  if (bookmark) c.header(BOOKMARK_HEADER, bookmark);
  const reported = tightest(ctx.limits!.values());
  if (reported && !c.res.headers.has('RateLimit')) {
    for (const [name, value] of Object.entries(rateLimitHeaders(reported))) c.header(name, value);
  }
};

/**
 * Runs `task` after the request's response, on its own store (before the store closes). Outside a
 * request (no `after` list) it runs now, awaited. A failure is the task's to handle.
 */
export async function afterResponse(ctx: Ctx, task: (ctx: Ctx) => Promise<unknown>): Promise<void> {
  if (ctx.after) ctx.after.push(task);
  else await task(ctx);
}

/** The request's after-response tasks, one after the other (each sees the store as the last left it). */
async function runAfter(ctx: Ctx): Promise<void> {
  for (const task of ctx.after ?? []) await task(ctx).catch(() => undefined);
}

/** Runs `fn` with a unit of work opened for it and closed after it. */
export async function withUnitOfWork<T>(env: Bindings, fn: (ctx: Ctx) => Promise<T>, options?: StoreOptions): Promise<T> {
  const ctx = unitOfWork(env, options);
  try {
    return await fn(ctx);
  } finally {
    await ctx.store.close();
  }
}

/**
 * The units of work of one Durable Object. Each starts on the primary (an object decides on the
 * latest data), and the newest bookmark any of them reached goes back with every result, so the
 * caller's response carries it and the client's next request reads the object's writes.
 */
export class ObjectUnits {
  private latest: string | null = null;

  constructor(private readonly env: Bindings) {}

  run<T>(fn: (ctx: Ctx) => Promise<T>): Promise<T> {
    return withUnitOfWork(this.env, fn, { start: 'first-primary', onBookmark: (b) => this.seen(b) });
  }

  private seen(bookmark: string): void {
    this.latest = newer(this.latest, bookmark);
  }

  /** `fn`'s outcome (its ApiError, and a fault, as data), with the newest bookmark attached: an RPC result. */
  async outcome<T>(fn: () => Promise<T>): Promise<Outcome<T>> {
    return this.stamp(await contain(() => settle(fn)));
  }

  /** `result` with the newest bookmark attached (to send back over RPC). */
  stamp<T extends object>(result: T): T & { bookmark?: string } {
    return this.latest ? { ...result, bookmark: this.latest } : result;
  }
}
