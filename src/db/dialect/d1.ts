// D1's batch for drizzle queries and raw statements together. Drizzle's own batch maps query
// results but cannot carry a raw `sql` statement with parameters (its SQLiteRaw has no prepared
// statement), so this is that batch with raw statements prepared here: one D1 batch, one implicit
// transaction, results mapped as drizzle would.
import { SQLiteAsyncDialect } from 'drizzle-orm/sqlite-core';
import { Raw, type Builder } from '../raw';

export type D1Item = Builder | Raw<unknown>;

/**
 * Where a D1 session's first query may go: a bookmark (a replica at least that recent), any replica
 * (`first-unconstrained`), or the primary (`first-primary`).
 */
export type SessionStart = string;

/** D1's bookmarks: `<8 hex>-<8 hex>-<8 hex>-<32 hex>`, ordered as strings (oldest first). */
export const BOOKMARK = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/;

/** The more recent of two bookmarks (either may be missing). */
export function newer(a: string | null | undefined, b: string | null | undefined): string | null {
  if (!a) return b ?? null;
  if (!b) return a;
  return a > b ? a : b;
}

/**
 * A D1 session (Sessions API: reads from a nearby replica, sequentially consistent) that can move
 * forward: `observe` a bookmark written elsewhere (by a Durable Object) and the next query goes to a
 * session that starts at it, so this unit reads that write too. `client` is what drizzle and the
 * batch use; it always prepares on the current session, and only while `inStore()` says a store
 * operation runs: a drizzle builder awaited directly is refused, as on Postgres.
 */
export function d1Session(binding: D1Database, start: SessionStart, inStore: () => boolean) {
  let current = binding.withSession(start);
  let floor: string | null = null;
  const client = {
    prepare: (query: string) => {
      if (!inStore()) throw new Error('a query outside the store: run it through Store methods');
      return current.prepare(query);
    },
    batch: <T>(statements: D1PreparedStatement[]) => current.batch<T>(statements),
  };
  const bookmark = (): string | null => newer(current.getBookmark(), floor);
  return {
    // drizzle and d1Batch use only prepare() and batch(), which a session has.
    client: client as unknown as D1Database,
    bookmark,
    observe(seen: string | null | undefined): void {
      const now = bookmark();
      if (!seen || !BOOKMARK.test(seen) || (now !== null && now >= seen)) return;
      floor = seen;
      current = binding.withSession(seen);
    },
  };
}

const dialect = new SQLiteAsyncDialect();

/** Drizzle's prepared form of a builder (internal API, the same one drizzle's batch uses). */
interface Prepared {
  stmt: D1PreparedStatement;
  getQuery(): { params: unknown[] };
  mapResult(result: unknown, isFromBatch: boolean): unknown;
}

export async function d1Batch(binding: D1Database, items: readonly D1Item[]): Promise<unknown[]> {
  if (items.length === 0) return [];
  const mappers: ((result: D1Result) => unknown)[] = [];
  const statements = items.map((item) => {
    if (item instanceof Raw) {
      const { sql, params } = dialect.sqlToQuery(item.query);
      mappers.push((r) => r.results);
      return binding.prepare(sql).bind(...params);
    }
    const prepared = (item as unknown as { _prepare(): Prepared })._prepare();
    mappers.push((r) => prepared.mapResult(r, true));
    return prepared.stmt.bind(...prepared.getQuery().params);
  });
  const results = await binding.batch(statements);
  return results.map((r, i) => mappers[i]!(r));
}
