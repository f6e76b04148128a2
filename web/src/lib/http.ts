// One HTTP round trip to the API: same origin, JSON, Accept-Language from the browser, and every
// failure as an ApiProblem (the API's RFC 9457 body, or one made here when the network fails).
import { acceptLanguage, apiLang, message, type Lang } from './i18n';

export interface FieldError {
  path: string;
  message: string;
}

/** An RFC 9457 problem from the API, or one the console makes for a network failure. */
export class ApiProblem extends Error {
  readonly lang: Lang = apiLang();
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly errors: FieldError[] = [],
    readonly body: Record<string, unknown> = {},
  ) {
    super(detail);
  }
}

export interface CallOptions {
  method?: string;
  body?: unknown;
  query?: Record<string, string | number | undefined | null>;
  /** Sent as Idempotency-Key (payments). */
  idempotencyKey?: string;
  /** false for the public routes (sign in, sign up, phone). */
  auth?: boolean;
}

export function withQuery(path: string, query: CallOptions['query'] = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

/**
 * The newest D1 bookmark this tab has received (docs/replication.md): sent with every request, so
 * a page read after a write shows that write even when a replica serves it. Bookmarks sort as strings.
 */
let bookmark = '';

function remember(res: Response): void {
  const seen = res.headers.get('x-d1-bookmark');
  if (seen && seen > bookmark) bookmark = seen;
}

/** One HTTP round trip; a fetch that never reaches the server becomes a NETWORK_ERROR problem. */
export async function send(path: string, opts: CallOptions, token: string | null): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json', 'accept-language': acceptLanguage() };
  if (bookmark) headers['x-d1-bookmark'] = bookmark;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  if (opts.idempotencyKey) headers['idempotency-key'] = opts.idempotencyKey;
  try {
    const res = await fetch(withQuery(path, opts.query), {
      method: opts.method ?? (opts.body === undefined ? 'GET' : 'POST'),
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      cache: 'no-store',
    });
    remember(res);
    return res;
  } catch {
    throw new ApiProblem(0, 'NETWORK_ERROR', message('network'));
  }
}

export async function problemOf(res: Response): Promise<ApiProblem> {
  try {
    const body = (await res.json()) as Record<string, unknown>;
    if (typeof body.code === 'string' && typeof body.detail === 'string') {
      return new ApiProblem(res.status, body.code, body.detail, (body.errors as FieldError[] | undefined) ?? [], body);
    }
  } catch {
    // not JSON: fall through
  }
  return new ApiProblem(res.status, 'UNEXPECTED_RESPONSE', message('unexpected'));
}
