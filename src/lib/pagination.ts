// Page/page_size paging with absolute next/previous links, and opaque cursors for deep paging of
// lists ordered by time (keyset pagination: constant time at any depth).
import { z } from '@hono/zod-openapi';
import { ApiError } from './problem';

export const PageQuery = z.object({
  page: z.coerce.number().int().min(1).max(1_000_000).default(1).openapi({ description: '1-based page number.' }),
  page_size: z.coerce.number().int().min(1).max(100).default(20).openapi({ description: 'Items per page (max 100).' }),
});

export const CursorQuery = PageQuery.extend({
  cursor: z
    .string()
    .max(512)
    .optional()
    .openapi({ description: 'Opaque `next_cursor` of a previous page: constant-time deep paging (then `count` is omitted).' }),
});

/** A page of `item`; `count` says how that list's count is computed, where it says more than "total". */
export function pageSchema<T extends z.ZodType>(item: T, name: string, count = 'Total number of items (omitted when paging by cursor).') {
  return z
    .object({
      count: z.number().int().optional().openapi({ description: count }),
      next: z.string().nullable(),
      previous: z.string().nullable(),
      next_cursor: z.string().nullable().optional(),
      results: z.array(item),
    })
    .openapi(name);
}

function withParams(url: string, params: Record<string, string | null>): string {
  const u = new URL(url);
  for (const [k, v] of Object.entries(params)) {
    if (v === null) u.searchParams.delete(k);
    else u.searchParams.set(k, v);
  }
  return u.toString();
}

export interface PageArgs {
  page: number;
  page_size: number;
}

export const offsetOf = (q: PageArgs) => (q.page - 1) * q.page_size;

/** The page envelope for offset paging; a page past the end is 404 (page 1 of nothing is empty). */
export function offsetPage<T>(url: string, q: PageArgs, count: number, results: T[]) {
  if (q.page > 1 && offsetOf(q) >= count) throw new ApiError('NOT_FOUND');
  const hasNext = offsetOf(q) + results.length < count;
  return {
    count,
    next: hasNext ? withParams(url, { page: String(q.page + 1), cursor: null }) : null,
    previous: q.page > 1 ? withParams(url, { page: String(q.page - 1), cursor: null }) : null,
    results,
  };
}

/** The page envelope for cursor paging: `results` holds up to page_size + 1 rows (the extra says "more"). */
export function cursorPage<T>(url: string, pageSize: number, rows: T[], cursorOf: (row: T) => unknown[], count?: number) {
  const more = rows.length > pageSize;
  const results = more ? rows.slice(0, pageSize) : rows;
  const nextCursor = more ? encodeCursor(cursorOf(results[results.length - 1]!)) : null;
  return {
    ...(count === undefined ? {} : { count }),
    next: nextCursor ? withParams(url, { cursor: nextCursor, page: null }) : null,
    previous: null,
    next_cursor: nextCursor,
    results,
  };
}

export function encodeCursor(values: unknown[]): string {
  return btoa(JSON.stringify(values)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Decodes a cursor made by encodeCursor into numbers; anything else is a 400 naming `cursor`. */
export function decodeCursor(cursor: string, length: number): number[] {
  try {
    const values = JSON.parse(atob(cursor.replace(/-/g, '+').replace(/_/g, '/')));
    if (Array.isArray(values) && values.length === length && values.every((v) => Number.isSafeInteger(v))) return values;
  } catch {
    // fall through
  }
  throw new ApiError('INPUT_VALIDATION_ERROR', { extras: { errors: [{ path: 'cursor', message: 'invalid cursor' }] } });
}
