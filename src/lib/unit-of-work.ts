// The context of one request, built once before any route runs: its one store (closed after the
// response, without delaying it), its parsed configuration and its bindings. Handlers pass
// `c.var.ctx` to services; nothing below looks a store or a setting up again. After the handler,
// the tightest rate limit the request consulted is reported in `RateLimit`/`RateLimit-Policy`.
import type { MiddlewareHandler } from 'hono';
import { openStore } from '../db/store';
import { parseConfig, type AppEnv, type Bindings, type Ctx } from '../env';
import { rateLimitHeaders, tightest } from './rate-limit';

/** A context for a unit of work outside a request (a Durable Object call, a queue batch). */
export function unitOfWork(env: Bindings): Ctx {
  return { store: openStore(env), config: parseConfig(env), env };
}

export const requestUnitOfWork: MiddlewareHandler<AppEnv> = async (c, next) => {
  const ctx: Ctx = { ...unitOfWork(c.env), limits: new Map() };
  c.set('ctx', ctx);
  try {
    await next();
  } finally {
    c.executionCtx.waitUntil(ctx.store.close());
  }
  const reported = tightest(ctx.limits!.values());
  if (reported && !c.res.headers.has('RateLimit')) {
    for (const [name, value] of Object.entries(rateLimitHeaders(reported))) c.header(name, value);
  }
};

/** Runs `fn` with a unit of work opened for it and closed after it. */
export async function withUnitOfWork<T>(env: Bindings, fn: (ctx: Ctx) => Promise<T>): Promise<T> {
  const ctx = unitOfWork(env);
  try {
    return await fn(ctx);
  } finally {
    await ctx.store.close();
  }
}
