// D1's batch for drizzle queries and raw statements together. Drizzle's own batch maps query
// results but cannot carry a raw `sql` statement with parameters (its SQLiteRaw has no prepared
// statement), so this is that batch with raw statements prepared here: one D1 batch, one implicit
// transaction, results mapped as drizzle would.
import type { DrizzleD1Database } from 'drizzle-orm/d1';
import { SQLiteAsyncDialect } from 'drizzle-orm/sqlite-core';
import { Raw } from '../raw';
import type { Builder } from '../store';

export type D1Item = Builder | Raw<unknown>;

const dialect = new SQLiteAsyncDialect();

/** Drizzle's prepared form of a builder (internal API, the same one drizzle's batch uses). */
interface Prepared {
  stmt: D1PreparedStatement;
  getQuery(): { params: unknown[] };
  mapResult(result: unknown, isFromBatch: boolean): unknown;
}

export async function d1Batch(binding: D1Database, _db: DrizzleD1Database, items: readonly D1Item[]): Promise<unknown[]> {
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
