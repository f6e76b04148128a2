// One way to fail: `throw new ApiError('CODE')`. The app's error handler turns every throw into an
// RFC 9457 problem+json body; route files list the codes they can answer with `errorResponses()`,
// so the OpenAPI document names every error without extra work.
import { z } from '@hono/zod-openapi';
import { CODES, type ErrorCode } from '../errors';
import type { Lang } from './i18n';

export interface FieldError {
  path: string;
  message: string;
}

export interface ApiErrorOptions {
  /** Extra members of the problem body (e.g. `errors`, `remaining_attempts`). */
  extras?: Record<string, unknown>;
  /** Extra response headers (e.g. `Retry-After`). */
  headers?: Record<string, string>;
  /** Overrides the localised detail (English only; for developer-facing specifics). */
  detail?: string;
}

export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    readonly options: ApiErrorOptions = {},
  ) {
    super(code);
    this.status = CODES[code].status;
  }
}

export const ERROR_TYPE_BASE = 'https://errors.example/';

export function problemBody(err: ApiError, lang: Lang, instance?: string): Record<string, unknown> {
  const info = CODES[err.code];
  return {
    type: ERROR_TYPE_BASE + err.code,
    title: info.title,
    status: info.status,
    code: err.code,
    detail: err.options.detail && lang === 'en' ? err.options.detail : info[lang],
    ...(instance ? { instance } : {}),
    ...err.options.extras,
  };
}

export function problemResponse(err: ApiError, lang: Lang, requestId?: string): Response {
  // Server errors name the request so a report can be matched with the log line.
  const instance = err.status >= 500 ? requestId : undefined;
  const headers = new Headers({ 'content-type': 'application/problem+json' });
  for (const [k, v] of Object.entries(err.options.headers ?? {})) headers.set(k, v);
  if (err.status === 401) {
    headers.set('WWW-Authenticate', err.code === 'TOKEN_NOT_FOUND' ? 'Bearer' : 'Bearer error="invalid_token"');
  }
  return new Response(JSON.stringify(problemBody(err, lang, instance)), { status: err.status, headers });
}

// ---- OpenAPI -------------------------------------------------------------------------------

export const ProblemSchema = z
  .object({
    type: z.string().url(),
    title: z.string(),
    status: z.number().int(),
    code: z.string(),
    detail: z.string(),
    instance: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .passthrough()
  .openapi('Problem');

const ALWAYS: ErrorCode[] = ['INPUT_VALIDATION_ERROR', 'INTERNAL_ERROR'];
const WITH_BODY: ErrorCode[] = ['UNSUPPORTED_MEDIA_TYPE', 'PAYLOAD_TOO_LARGE'];
const AUTHED: ErrorCode[] = ['TOKEN_NOT_FOUND', 'TOKEN_EXPIRED', 'INVALID_TOKEN'];

/** Problem with `code` narrowed to the codes one status of one route can carry (an enum in OpenAPI). */
function problemWithCodes(codes: [string, ...string[]]) {
  return ProblemSchema.extend({ code: z.enum(codes) });
}

export interface ErrorResponse {
  description: string;
  content: { 'application/problem+json': { schema: ReturnType<typeof problemWithCodes> } };
}

/** Every status a code of the table has. */
type ErrorStatus = 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 422 | 426 | 429 | 500 | 502 | 503;
/**
 * Typed as if every error status were present (at run time only the route's are): a route's
 * responses spread this into a literal, and a `Record<number, …>` would vanish in the spread, leaving
 * the typed client (AppType) without any error responses.
 */
type ErrorResponses = Record<ErrorStatus, ErrorResponse>;

/**
 * The error part of a route's `responses`: one entry per status, describing every code that
 * status can carry, with `code` as an enum of them. `auth` adds the bearer errors, `body` the
 * media-type/size errors. A route that can answer 429 lists `RATE_LIMITED` and wraps its responses
 * in `rateLimitedResponses()` (src/lib/openapi.ts) for the headers.
 */
export function errorResponses(codes: ErrorCode[], opts: { auth?: boolean; body?: boolean } = {}): ErrorResponses {
  const all = new Set([...ALWAYS, ...(opts.auth ? AUTHED : []), ...(opts.body ? WITH_BODY : []), ...codes]);
  const byStatus = new Map<number, [string, ...string[]]>();
  for (const code of all) {
    const info = CODES[code];
    const list = byStatus.get(info.status);
    if (list) list.push(code);
    else byStatus.set(info.status, [code]);
  }
  const out: Record<number, ErrorResponse> = {};
  for (const [status, list] of [...byStatus].sort((a, b) => a[0] - b[0])) {
    out[status] = {
      description: list.map((c) => `\`${c}\`: ${CODES[c as ErrorCode].en}`).join('\n\n'),
      content: { 'application/problem+json': { schema: problemWithCodes(list) } },
    };
  }
  return out as ErrorResponses;
}
