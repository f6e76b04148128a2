// Raw SQL returns rows keyed by column name (snake_case, driver values); drizzle's row types are
// keyed by property (camelCase, mapped values). The table's own column definitions convert one into
// the other, on either backend.
import { getTableColumns, type Table } from 'drizzle-orm';

export function fromRow<T extends Table>(table: T, row: Record<string, unknown>): T['$inferSelect'] {
  const out: Record<string, unknown> = {};
  for (const [key, column] of Object.entries(getTableColumns(table))) {
    const value = row[column.name];
    out[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
  }
  return out as T['$inferSelect'];
}

/**
 * A table's row as raw SQL returns it (`SELECT *`, `RETURNING *`): keyed by column name, each value
 * of the column's own type. Both backends hand over integers (int8 too, see dialect/pg.ts), text
 * and the 0/1 booleans as they are stored, so the driver value is the column's data type.
 */
export type SqlRow<T extends Table> = {
  [K in keyof T['_']['columns'] as T['_']['columns'][K]['_']['name']]: T['$inferSelect'][K & keyof T['$inferSelect']];
};
