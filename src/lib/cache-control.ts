// Caching rules of the whole API. Responses carry tokens (login, refresh, phone verify: RFC 6749
// §5.1 requires no-store), the caller's data (everything behind a bearer token, including the
// catalog, whose items carry the caller's `is_registered`), or errors that must not outlive the
// request (401, 429): none may be kept by a browser or a shared cache. So `no-store` is the
// default; a route that sets its own Cache-Control (the OpenAPI document) keeps it.
import type { MiddlewareHandler } from 'hono';

export const noStoreByDefault: MiddlewareHandler = async (c, next) => {
  await next();
  // A 101 belongs to the WebSocket now; its headers are the handshake's.
  if (c.res.status !== 101 && !c.res.headers.has('cache-control')) c.header('Cache-Control', 'no-store');
};

/**
 * For public documents that change only with a deploy: clients keep a copy but revalidate it on
 * every use, and an unchanged one costs a 304 without a body (`etag()` answers If-None-Match).
 */
export const revalidate: MiddlewareHandler = async (c, next) => {
  await next();
  if (c.res.ok || c.res.status === 304) c.header('Cache-Control', 'no-cache');
};
