// Small helpers that keep route files reading like the contract.
import { OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppEnv } from '../context';
import { ApiError, type FieldError } from './problem';

export function jsonBody<T extends z.ZodType>(schema: T, description?: string) {
  return { required: true, description, content: { 'application/json': { schema } } } as const;
}

export function jsonResponse<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } } as const;
}

export const bearer = [{ bearerAuth: [] }];
/** `security` of a route anyone may call: no credentials (tools otherwise assume the default). */
export const publicRoute: [] = [];

const headerRef = (name: string) => ({ $ref: `#/components/headers/${name}` });

/**
 * Documents the rate-limit headers on every response of a rate-limited route: `RateLimit` and
 * `RateLimit-Policy` on all of them, `Retry-After` on the 429 (whose codes the route lists).
 */
export function rateLimitedResponses<T extends Record<number, object>>(responses: T): T {
  if (!(429 in responses)) throw new Error('a rate-limited route documents its 429 (list RATE_LIMITED)');
  const out: Record<string, object> = {};
  for (const [status, response] of Object.entries(responses)) {
    const headers = { RateLimit: headerRef('RateLimit'), 'RateLimit-Policy': headerRef('RateLimit-Policy') };
    out[status] = { ...response, headers: status === '429' ? { 'Retry-After': headerRef('Retry-After'), ...headers } : headers };
  }
  return out as T;
}

/** Zod issues → the `errors[]` member of INPUT_VALIDATION_ERROR, one entry per failing field. */
export function fieldErrors(error: z.ZodError): FieldError[] {
  const seen = new Set<string>();
  const out: FieldError[] = [];
  for (const issue of error.issues) {
    const path = issue.path.map(String).join('.');
    if (seen.has(path)) continue;
    seen.add(path);
    out.push({ path, message: issue.message });
  }
  return out;
}

export function validationError(errors: FieldError[]): ApiError {
  return new ApiError('INPUT_VALIDATION_ERROR', { extras: { errors } });
}

/** A router whose schema failures become INPUT_VALIDATION_ERROR problems. */
export function router() {
  return new OpenAPIHono<AppEnv>({
    strict: false,
    defaultHook: (result) => {
      if (!result.success) throw validationError(fieldErrors(result.error as z.ZodError));
    },
  });
}

/** A row id from the path or the query: a positive integer JavaScript holds exactly. */
export const positiveId = () => z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/** Path parameter `id`: a positive integer (anything else is a 400, not a 404 or a 500). */
export const IdParam = z.object({
  id: positiveId().openapi({ param: { name: 'id', in: 'path' }, example: 1 }),
});

export function isoOrNull(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : new Date(ms).toISOString();
}
