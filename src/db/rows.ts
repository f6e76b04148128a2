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
