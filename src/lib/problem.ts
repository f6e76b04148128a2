// One way to fail: `throw new ApiError('CODE')`. The app's error handler turns every throw into an
// RFC 9457 problem+json body; route files list the codes they can answer with `errorResponses()`,
// so the OpenAPI document names every error without extra work.
import { z } from '@hono/zod-openapi';
import type { Lang } from '../env';
import type { Texts } from './i18n';

export interface CodeInfo extends Texts {
  status: number;
  title: string;
}

/** The code table. Korean texts of codes the original dashboard service had are its exact strings. */
const CODES: Record<string, CodeInfo> = {};

export function defineCodes(entries: Record<string, CodeInfo>): void {
  Object.assign(CODES, entries);
}

defineCodes({
  INPUT_VALIDATION_ERROR: {
    status: 400,
    title: 'Invalid input',
    en: 'The request is invalid; see errors for each failing field.',
    ko: '유효하지않은 입력입니다.',
    ru: 'Некорректный запрос; подробности по каждому полю в errors.',
  },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    title: 'Unsupported media type',
    en: 'The request body must be JSON (Content-Type: application/json).',
    ko: '요청 본문은 JSON이어야 합니다 (Content-Type: application/json).',
    ru: 'Тело запроса должно быть в формате JSON (Content-Type: application/json).',
  },
  PAYLOAD_TOO_LARGE: {
    status: 413,
    title: 'Payload too large',
    en: 'The request body is too large.',
    ko: '요청 본문이 너무 큽니다.',
    ru: 'Тело запроса слишком большое.',
  },
  TOKEN_NOT_FOUND: {
    status: 401,
    title: 'Token not found',
    en: 'Authentication credentials were not provided.',
    ko: '로그인이 필요합니다.',
    ru: 'Не переданы учётные данные.',
  },
  TOKEN_EXPIRED: {
    status: 401,
    title: 'Token expired',
    en: 'The token has expired.',
    ko: '인증정보가 유효하지 않습니다. 새롭게 로그인 해주세요.',
    ru: 'Срок действия токена истёк.',
  },
  INVALID_TOKEN: {
    status: 401,
    title: 'Invalid token',
    en: 'The token is invalid or has been revoked.',
    ko: '인증정보가 유효하지 않습니다. 새롭게 로그인 해주세요.',
    ru: 'Токен недействителен или отозван.',
  },
  INVALID_CREDENTIALS: {
    status: 401,
    title: 'Invalid credentials',
    en: 'The credentials are incorrect.',
    ko: '이메일 또는 비밀번호가 올바르지 않습니다.',
    ru: 'Неверные учётные данные.',
  },
  PERMISSION_DENIED: {
    status: 403,
    title: 'Permission denied',
    en: 'You do not have permission to perform this action.',
    ko: '권한이 없습니다.',
    ru: 'Недостаточно прав для этого действия.',
  },
  NOT_FOUND: {
    status: 404,
    title: 'Not found',
    en: 'The resource was not found.',
    ko: '요청한 리소스를 찾을 수 없습니다.',
    ru: 'Ресурс не найден.',
  },
  METHOD_NOT_ALLOWED: {
    status: 405,
    title: 'Method not allowed',
    en: 'This method is not allowed on this resource.',
    ko: '허용되지 않은 메서드입니다.',
    ru: 'Метод не разрешён для этого ресурса.',
  },
  RATE_LIMITED: {
    status: 429,
    title: 'Too many requests',
    en: 'Too many attempts; retry after the time in Retry-After.',
    ko: '요청이 너무 많습니다. 잠시 후 다시 시도해주세요.',
    ru: 'Слишком много попыток; повторите позже (см. Retry-After).',
  },
  INTERNAL_ERROR: {
    status: 500,
    title: 'Internal error',
    en: 'An unexpected error occurred; quote the instance id when reporting it.',
    ko: '서버 오류가 발생했습니다.',
    ru: 'Внутренняя ошибка сервера; укажите instance при обращении.',
  },
  SERVICE_UNAVAILABLE: {
    status: 503,
    title: 'Service unavailable',
    en: 'The service is temporarily unavailable.',
    ko: '서비스를 일시적으로 사용할 수 없습니다.',
    ru: 'Сервис временно недоступен.',
  },
});

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
    readonly code: string,
    readonly options: ApiErrorOptions = {},
  ) {
    super(code);
    const info = CODES[code];
    if (!info) throw new Error(`unknown error code ${code}`);
    this.status = info.status;
  }
}

export const ERROR_TYPE_BASE = 'https://errors.example/';

export function problemBody(err: ApiError, lang: Lang, instance?: string): Record<string, unknown> {
  const info = CODES[err.code]!;
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

const ALWAYS = ['INPUT_VALIDATION_ERROR', 'INTERNAL_ERROR'];
const WITH_BODY = ['UNSUPPORTED_MEDIA_TYPE', 'PAYLOAD_TOO_LARGE'];
const AUTHED = ['TOKEN_NOT_FOUND', 'TOKEN_EXPIRED', 'INVALID_TOKEN'];

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
export function errorResponses(codes: string[], opts: { auth?: boolean; body?: boolean } = {}): ErrorResponses {
  const all = new Set([...ALWAYS, ...(opts.auth ? AUTHED : []), ...(opts.body ? WITH_BODY : []), ...codes]);
  const byStatus = new Map<number, [string, ...string[]]>();
  for (const code of all) {
    const info = CODES[code];
    if (!info) throw new Error(`unknown error code ${code}`);
    const list = byStatus.get(info.status);
    if (list) list.push(code);
    else byStatus.set(info.status, [code]);
  }
  const out: Record<number, ErrorResponse> = {};
  for (const [status, list] of [...byStatus].sort((a, b) => a[0] - b[0])) {
    out[status] = {
      description: list.map((c) => `\`${c}\`: ${CODES[c]!.en}`).join('\n\n'),
      content: { 'application/problem+json': { schema: problemWithCodes(list) } },
    };
  }
  return out as ErrorResponses;
}
