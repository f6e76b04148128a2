// A raw statement (a drizzle `sql` template) in a store's read/write list: its result is its rows.
import type { SQL } from 'drizzle-orm';

export type Row = Record<string, unknown>;

export class Raw<T = Row> {
  declare readonly _row: T;
  constructor(readonly query: SQL) {}
}

export const raw = <T = Row>(query: SQL): Raw<NoInfer<T>> => new Raw<T>(query);
