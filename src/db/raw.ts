// What a store's read/write list holds: drizzle query builders, and raw statements (a drizzle `sql`
// template) whose result is their rows.
import type { SQL, SQLWrapper } from 'drizzle-orm';

export type Row = Record<string, unknown>;

export class Raw<T = Row> {
  declare readonly _row: T;
  constructor(readonly query: SQL) {}
}

export const raw = <T = Row>(query: SQL): Raw<NoInfer<T>> => new Raw<T>(query);

/** A drizzle query builder (select, insert, update, delete), not yet run. */
export type Builder = PromiseLike<unknown> & SQLWrapper & { toSQL(): { sql: string; params: unknown[] } };
