// Builds the API: cross-cutting middleware, the module routers, the docs and the error handling.
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { HTTPException } from 'hono/http-exception';
import { secureHeaders } from 'hono/secure-headers';
import type { AppEnv } from './context';
import { pickLang } from './lib/i18n';
import { documentApi } from './lib/api-doc';
import { noStoreByDefault } from './lib/cache-control';
import { corsAllows } from './lib/cors';
import { errorText, logLine } from './lib/log';
import { requestLog, routePattern } from './lib/request-log';
import { requestUnitOfWork } from './lib/unit-of-work';
import { docsPage } from './lib/docs-page';
import { router } from './lib/openapi';
import { ApiError, problemResponse } from './lib/problem';
import { accounts, onAccessRevoked } from './modules/accounts';
import { phone } from './modules/phone';
import { referrals } from './modules/referrals';
import { closeRevokedWatchers, machines } from './modules/machines';
import { sales } from './modules/sales';
import { catalog } from './modules/catalog';
import { checkoutPage, payments } from './modules/payments';
import { system } from './modules/system';
import { webhooks } from './modules/webhooks';

const REQUEST_ID = /^[A-Za-z0-9._-]{8,64}$/;
const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

const requestContext: MiddlewareHandler<AppEnv> = async (c, next) => {
  const incoming = c.req.header('x-request-id');
  const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
  c.set('requestId', requestId);
  c.set('lang', pickLang(c.req.header('accept-language')));
  await next();
  c.header('X-Request-Id', requestId);
  c.header('Vary', 'Accept-Language', { append: true });
};

/** Bodies must be JSON (415 otherwise) and at most MAX_BODY_BYTES (413). */
const bodyGuard: MiddlewareHandler<AppEnv> = async (c, next) => {
  const req = c.req.raw;
  const hasBody = req.body !== null && req.headers.get('content-length') !== '0';
  if (!hasBody) return next();
  if (!JSON_TYPE.test(req.headers.get('content-type') ?? '')) throw new ApiError('UNSUPPORTED_MEDIA_TYPE');
  return bodyLimit({
    maxSize: c.var.ctx.config.MAX_BODY_BYTES,
    onError: () => {
      throw new ApiError('PAYLOAD_TOO_LARGE');
    },
  })(c, next);
};

/**
 * Where a NUL character hides in a parsed JSON value (`items.0.name`, as in errors[]), or null.
 * Iterative: a 64 KiB body can nest 30,000 levels deep, far beyond the call stack.
 */
function nulPath(root: unknown): string | null {
  type Node = { key: string; parent: Node | null } | null;
  const stack: { value: unknown; at: Node }[] = [{ value: root, at: null }];
  while (stack.length > 0) {
    const { value, at } = stack.pop()!;
    if (typeof value === 'string') {
      if (value.includes('\0')) return pathOf(at);
    } else if (value !== null && typeof value === 'object') {
      const entries = Object.entries(value);
      // Reversed onto the stack, so the first offending field in document order is reported.
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, child] = entries[i]!;
        if (key.includes('\0')) return pathOf(at);
        stack.push({ value: child, at: { key, parent: at } });
      }
    }
  }
  return null;
}

/** `a.0.b` from a chain of parent links (iterative, like the walk). */
function pathOf(node: { key: string; parent: unknown } | null): string {
  const keys: string[] = [];
  for (let n = node; n; n = n.parent as typeof node) keys.push(n.key);
  return keys.reverse().join('.');
}

const nulRefused = (path: string) =>
  new ApiError('INPUT_VALIDATION_ERROR', { extras: { errors: [{ path, message: 'NUL characters (U+0000) are not allowed' }] } });

/**
 * Text never contains U+0000: Postgres cannot store it, so both backends refuse it alike (400)
 * instead of one storing it and the other failing.
 */
const nulGuard: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (/%00/i.test(c.req.url)) {
    const url = new URL(c.req.url);
    const param = [...url.searchParams].find(([k, v]) => k.includes('\0') || v.includes('\0'));
    throw nulRefused(param ? param[0].replace(/\0/g, '') : 'path');
  }
  if (c.req.method !== 'GET' && c.req.method !== 'HEAD' && c.req.raw.body !== null) {
    const text = await c.req.text();
    if (text.includes('\\u0000')) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        return next(); // malformed: the JSON validator answers it
      }
      const path = nulPath(parsed);
      if (path !== null) throw nulRefused(path);
    }
  }
  return next();
};

function toApiError(err: unknown): ApiError | null {
  // drizzle wraps what a D1 call throws (e.g. a failed deferred auth check) in its own error.
  for (let e: unknown = err; e instanceof Error; e = e.cause) if (e instanceof ApiError) return e;
  if (err instanceof HTTPException) {
    // Hono's JSON validator throws 400 for a body that is not valid JSON.
    if (err.status === 400) {
      return new ApiError('INPUT_VALIDATION_ERROR', { extras: { errors: [{ path: '', message: 'Malformed JSON in request body' }] } });
    }
    if (err.status === 413) return new ApiError('PAYLOAD_TOO_LARGE');
  }
  return null;
}

function onError(err: unknown, c: Context<AppEnv>): Response {
  const requestId = c.get('requestId') ?? crypto.randomUUID();
  const known = toApiError(err);
  if (known) return problemResponse(known, c.get('lang') ?? 'en', requestId);
  // The log line carries the details; the client only gets the request id. The route's pattern, not
  // the path: a path can hold a secret (the phone verification token).
  logLine('error', 'unhandled error', { request_id: requestId, method: c.req.method, route: routePattern(c), error: errorText(err) });
  return problemResponse(new ApiError('INTERNAL_ERROR'), c.get('lang') ?? 'en', requestId);
}

/** Turns a route path (`/api/users/:id`) into a matcher that ignores a trailing slash. */
function pathMatcher(path: string): RegExp {
  const pattern = path
    .replace(/\/+$/, '')
    .split('/')
    .map((seg) => (seg.startsWith(':') ? '[^/]+' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${pattern}/?$`);
}

export function buildApp() {
  const app = router();

  app.use('*', requestContext);
  app.use('*', requestLog);
  app.use('*', noStoreByDefault);
  app.use('*', requestUnitOfWork);
  app.use('*', secureHeaders({ xFrameOptions: 'DENY', referrerPolicy: 'no-referrer' }));
  app.use(
    '*',
    cors({
      origin: (origin, c) => (corsAllows((c as Context<AppEnv>).var.ctx.config, origin) ? origin : null),
      allowHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'Accept-Language', 'X-Request-Id', 'X-D1-Bookmark'],
      exposeHeaders: ['X-Request-Id', 'Location', 'Retry-After', 'RateLimit', 'RateLimit-Policy', 'Idempotent-Replayed', 'X-D1-Bookmark'],
      maxAge: 600,
    }),
  );
  app.use('*', async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD' || c.req.method === 'OPTIONS') return next();
    return bodyGuard(c, next);
  });
  app.use('*', nulGuard);

  app.route('/', system);
  app.route('/', accounts);
  app.route('/', phone);
  app.route('/', referrals);
  app.route('/', machines);
  app.route('/', sales);
  app.route('/', catalog);
  app.route('/', payments);
  app.route('/', webhooks);
  // What modules hold open on a session's behalf closes when accounts revokes it (a port: no import
  // between the two modules).
  onAccessRevoked(closeRevokedWatchers);

  documentApi(app);
  app.get('/swagger', docsPage);
  app.get('/api/docs', docsPage);
  app.get('/api/payments/checkout', checkoutPage);

  // 405 for a known path with another method, 404 otherwise; both as problem+json.
  let matchers: { method: string; re: RegExp }[] | null = null;
  app.notFound((c) => {
    matchers ??= app.routes.filter((r) => r.method !== 'ALL').map((r) => ({ method: r.method, re: pathMatcher(r.path) }));
    const allowed = new Set(matchers.filter((m) => m.re.test(c.req.path)).map((m) => m.method));
    const lang = c.get('lang') ?? 'en';
    if (allowed.size > 0) {
      if (allowed.has('GET')) allowed.add('HEAD');
      const res = problemResponse(new ApiError('METHOD_NOT_ALLOWED'), lang);
      res.headers.set('Allow', [...allowed].join(', '));
      return res;
    }
    return problemResponse(new ApiError('NOT_FOUND'), lang);
  });
  app.onError(onError);
  return app;
}

export const app = buildApp();
