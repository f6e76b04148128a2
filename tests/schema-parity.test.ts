// The D1 (SQLite) and Postgres schemas must describe the same database: same tables, same columns
// with the same nullability, same index names. A column added to one and not the other fails here.
import { is } from 'drizzle-orm';
import { getTableConfig as pgConfig, PgTable } from 'drizzle-orm/pg-core';
import { getTableConfig as sqliteConfig, SQLiteTable } from 'drizzle-orm/sqlite-core';
import { describe, expect, it } from 'vitest';
import * as pgSchema from '../src/db/pg/schema';
import * as d1Schema from '../src/db/schema';

interface Shape {
  columns: Record<string, { notNull: boolean; primary: boolean }>;
  indexes: string[];
  primaryKeys: string[][];
}

type Config = {
  name: string;
  columns: { name: string; notNull: boolean; primary: boolean }[];
  indexes: { config: { name?: string } }[];
  primaryKeys: { columns: { name: string }[] }[];
};

/** Each table of a schema module as names only, through that dialect's getTableConfig. */
function shapes(schema: Record<string, unknown>, isTable: (t: unknown) => boolean, configOf: (t: never) => Config): Record<string, Shape> {
  const out: Record<string, Shape> = {};
  for (const t of Object.values(schema)) {
    if (!isTable(t)) continue;
    const c = configOf(t as never);
    out[c.name] = {
      columns: Object.fromEntries(c.columns.map((col) => [col.name, { notNull: col.notNull, primary: col.primary }])),
      // Postgres has no FTS5 virtual tables: its `<kind>_fts` is a GIN expression index and its
      // `machines_*_trgm` pg_trgm GIN indexes stand for D1's `machines_fts` (checked below).
      indexes: c.indexes
        .map((i) => i.config.name!)
        .filter((n) => !n.endsWith('_fts') && !n.endsWith('_trgm'))
        .sort(),
      primaryKeys: c.primaryKeys.map((pk) => pk.columns.map((col) => col.name)),
    };
  }
  return out;
}

const d1Shapes = () => shapes(d1Schema, (t) => is(t, SQLiteTable), sqliteConfig as (t: never) => Config);
const pgShapes = () => shapes(pgSchema, (t) => is(t, PgTable), pgConfig as (t: never) => Config);

describe('schema parity (D1 and Postgres)', () => {
  it('has the same tables, columns, nullability, primary keys and indexes on both backends', () => {
    const d1 = d1Shapes();
    const pg = pgShapes();
    expect(Object.keys(d1).length).toBeGreaterThan(10);
    expect(Object.keys(pg).sort()).toEqual(Object.keys(d1).sort());
    for (const name of Object.keys(d1)) expect({ table: name, ...pg[name] }).toEqual({ table: name, ...d1[name] });
  });

  it('gives every catalog kind a full-text index on Postgres (FTS5 tables on D1)', () => {
    const ftsIndexes = Object.values(pgSchema)
      .filter((t) => is(t, PgTable))
      .flatMap((t) => pgConfig(t as PgTable).indexes.map((i) => i.config.name))
      .filter((n) => n?.endsWith('_fts'))
      .sort();
    expect(ftsIndexes).toEqual(['courses_fts', 'exams_fts']);
  });

  it('gives the machines search its trigram indexes on Postgres (an FTS5 trigram table on D1)', () => {
    const names = pgConfig(pgSchema.machines).indexes.map((i) => i.config.name);
    expect(names.filter((n) => n?.endsWith('_trgm')).sort()).toEqual(['machines_location_trgm', 'machines_name_trgm']);
  });
});
