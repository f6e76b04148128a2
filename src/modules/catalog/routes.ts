import { createRoute } from '@hono/zod-openapi';
import { readAuth, staffOnly } from '../accounts';
import { bearer, IdParam, jsonBody, jsonResponse } from '../../lib/openapi';
import { errorResponses } from '../../lib/problem';
import type { KindConfig } from './kinds';
import { itemSchemas, ListQuery } from './schemas';

/** The catalog routes of one kind; called once for exams and once for courses. */
export function catalogRoutes<K extends KindConfig>(k: K) {
  const s = itemSchemas(k);
  const tags = [k.kind];
  // Literal path types (`/api/exams`), so the typed client (AppType) knows each URL.
  const base = `/api/${k.kind}` as const;
  const one = `${base}/{id}` as const;
  return {
    list: createRoute({
      operationId: `list${k.label}s`,
      method: 'get',
      path: base,
      tags,
      security: bearer,
      middleware: [readAuth] as const,
      summary: `List ${k.kind}`,
      description: `Filters: \`status=available\` (now within start_at..end_at, inclusive), \`search\` (full-text over
title and description — FTS5 on D1, \`to_tsquery\` over a GIN index on Postgres: case-insensitive, every word must match, \`OR\` between two words matches either and
binds tighter than the implicit AND (\`sql python OR rust\` = sql AND (python OR rust));
FTS syntax in the input is searched as plain text; a search without any letter or digit matches nothing;
at most 6 searched words, \`OR\` alternatives included, else 400 \`SEARCH_TOO_COMPLEX\` with \`max_words\`).
Order: \`sort=created\` (default, newest first) or \`popular\` (registration_count desc, then newest).
Paging: \`page\`/\`page_size\` (a page past the end is 404), or \`cursor\` (\`next_cursor\` of the previous page,
constant time at any depth, \`count\` omitted). \`is_registered\` is the caller's active registration.`,
      request: { query: ListQuery },
      responses: { 200: jsonResponse(s.page, `A page of ${k.kind}.`), ...errorResponses(['NOT_FOUND', 'SEARCH_TOO_COMPLEX'], { auth: true }) },
    }),
    get: createRoute({
      operationId: `get${k.label}`,
      method: 'get',
      path: one,
      tags,
      security: bearer,
      middleware: [readAuth] as const,
      summary: `One ${k.noun}`,
      description: `The ${k.noun} with its \`registration_count\` and the caller's \`is_registered\`.`,
      request: { params: IdParam },
      responses: { 200: jsonResponse(s.item, `The ${k.noun}.`), ...errorResponses(['NOT_FOUND'], { auth: true }) },
    }),
    create: createRoute({
      operationId: `create${k.label}`,
      method: 'post',
      path: base,
      tags,
      security: bearer,
      middleware: [staffOnly] as const,
      summary: `Create an ${k.noun} (staff only)`,
      description: '`start_at` must be before `end_at` (400 naming `end_at` otherwise). `description` defaults to "".',
      request: { body: jsonBody(s.create) },
      responses: { 201: jsonResponse(s.item, `The new ${k.noun}.`), ...errorResponses(['PERMISSION_DENIED'], { auth: true, body: true }) },
    }),
    update: createRoute({
      operationId: `update${k.label}`,
      method: 'patch',
      path: one,
      tags,
      security: bearer,
      middleware: [staffOnly] as const,
      summary: `Update an ${k.noun} (staff only)`,
      description: `Partial update; the merged period must keep \`start_at < end_at\`. Past payments keep the title and
amount they were made with (snapshot), so renaming or repricing is always allowed.`,
      request: { params: IdParam, body: jsonBody(s.patch) },
      responses: {
        200: jsonResponse(s.item, `The updated ${k.noun}.`),
        ...errorResponses(['PERMISSION_DENIED', 'NOT_FOUND'], { auth: true, body: true }),
      },
    }),
    remove: createRoute({
      operationId: `delete${k.label}`,
      method: 'delete',
      path: one,
      tags,
      security: bearer,
      middleware: [staffOnly] as const,
      summary: `Delete an ${k.noun} (staff only)`,
      description: `409 \`HAS_REGISTRATIONS\` while any registration is active (applied/enrolled or completed). Cancelled
registrations and all payments are kept; payments keep their title/amount snapshot.`,
      request: { params: IdParam },
      responses: {
        204: { description: 'Deleted.' },
        ...errorResponses(['PERMISSION_DENIED', 'NOT_FOUND', 'HAS_REGISTRATIONS'], { auth: true }),
      },
    }),
  };
}
