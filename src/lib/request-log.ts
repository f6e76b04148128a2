// The request log: one JSON line per request, after its response is built, for `wrangler tail` and
// Workers Logs (docs/operations.md shows the filters):
//   {"level":"info","msg":"request","method":"GET","route":"/api/exams/:id","status":200,"ms":12,
//    "request_id":"…","user_id":7,"colo":"ICN","placement":"remote-NRT","sample_rate":1}
// `route` is the pattern of the route that answered, never the path: paths carry ids and, on phone
// verify, the verification token. Nothing from the headers, the query or the body is logged, so no
// token, password, code or phone number can reach a line. A share REQUEST_LOG_SAMPLE_RATE (0..1) of
// requests is logged; responses >= 500 always are. Level: info below 400, warn for 4xx, error for 5xx.
import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { AppEnv } from '../context';
import { logLine, type Level } from './log';

/** Answered by no route (404, or 405 for a known path). */
export const NO_ROUTE = '(no route)';

/** The pattern of the route that answered (`/api/machines/:id`), without any value from the path. */
export function routePattern(c: Context<AppEnv>): string {
  const routes = matchedRoutes(c);
  // Global middleware is registered for every method (ALL); the route's own handler comes last.
  for (let i = routes.length - 1; i >= 0; i--) if (routes[i]!.method !== 'ALL') return routes[i]!.path;
  return NO_ROUTE;
}

/** The cf-placement header when it has Cloudflare's shape (a client's own header value is not logged). */
function placementOf(c: Context<AppEnv>): string | undefined {
  const value = c.req.header('cf-placement');
  return value && /^(local|remote)-[A-Z]{3}$/.test(value) ? value : undefined;
}

const levelOf = (status: number): Level => (status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info');

/** The caller's id once authentication has read it (deferred checks expose only the id). */
function userId(c: Context<AppEnv>): number | undefined {
  return c.get('auth')?.user.id;
}

export const requestLog: MiddlewareHandler<AppEnv> = async (c, next) => {
  const started = performance.now();
  await next();
  const status = c.res.status;
  // Without a context the request failed before its config was parsed (an invalid value: a 500,
  // logged whatever the rate); the config is not parsed again here.
  const rate = c.var.ctx?.config.REQUEST_LOG_SAMPLE_RATE ?? 1;
  if (status < 500 && !(Math.random() < rate)) return;
  const cf = c.req.raw.cf as { colo?: string } | undefined;
  logLine(levelOf(status), 'request', {
    method: c.req.method,
    route: routePattern(c),
    status,
    ms: Math.round(performance.now() - started),
    request_id: c.get('requestId'),
    user_id: userId(c),
    colo: cf?.colo,
    // Smart Placement's routing of this request (`remote-XXX`: run near the database; `local-XXX`:
    // where it arrived), a request header Cloudflare adds while placement is on; absent locally.
    placement: placementOf(c),
    sample_rate: rate,
  });
};
