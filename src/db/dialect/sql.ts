// The SQL that differs between SQLite (D1) and Postgres and serves more than one module: substring
// search, JSON tables and aggregation, the database clock, row locks, collation, the migrations
// table. Repositories call these and stay dialect-blind. (The catalog's full-text search and its
// plans are the catalog's own: src/modules/catalog/full-text.ts.) (Upserts and booleans need nothing here: both dialects take
// `ON CONFLICT … DO UPDATE` with qualified columns, and booleans are 0/1 integers in both schemas.)
//
// Substring search: no LIKE on D1. D1 caps a LIKE pattern at 50 bytes (`LIKE or GLOB pattern too
// complex`) and an expression tree at depth 100, so `col LIKE '%…%'` per word failed for a
// 60-character word or 100 words. `instr`/`strpos` on lower-cased text has no pattern limit and needs
// no escaping, and "every word occurs" is one NOT EXISTS over a JSON array of the words, whose depth
// does not grow with their number. Case folding: SQLite's lower() folds ASCII only (as its LIKE did);
// Postgres's folds every letter. Those tests scan; substringIndexMatch adds a trigram index's answer
// in front of them (FTS5 `trigram` on D1, where a MATCH string has no such limit; pg_trgm on Postgres).
import { sql, type SQL } from 'drizzle-orm';

export type Dialect = 'sqlite' | 'postgres';

/** `column` contains `needle`, ignoring case (see above). */
export function contains(dialect: Dialect, column: SQL | SQL.Aliased | unknown, needle: string): SQL {
  return dialect === 'postgres' ? sql`strpos(lower(${column}), lower(${needle})) > 0` : sql`instr(lower(${column}), lower(${needle})) > 0`;
}

/** `column` contains every one of `words`, ignoring case; one expression of fixed depth. */
export function containsAll(dialect: Dialect, column: SQL | unknown, words: string[]): SQL {
  const list = JSON.stringify(words);
  return dialect === 'postgres'
    ? sql`NOT EXISTS (SELECT 1 FROM jsonb_array_elements_text(CAST(${list} AS jsonb)) AS w(v) WHERE strpos(lower(${column}), lower(w.v)) = 0)`
    : sql`NOT EXISTS (SELECT 1 FROM json_each(${list}) AS w WHERE instr(lower(${column}), lower(w.value)) = 0)`;
}

/** Where a table's substring index lives: an FTS5 trigram table on D1, pg_trgm GIN indexes over `lower(column)` on Postgres. */
export interface SubstringIndex {
  table: string;
  /** The FTS5 trigram table (D1), external content over `table`. */
  fts: string;
  columns: string[];
}

/**
 * A condition the substring index answers, true for every row where one of `ix.columns` contains
 * `needle` ignoring case, and maybe for a few more: AND it with contains() for the exact answer. Null
 * when the index cannot serve the needle, so the caller scans (bounded by its other filters):
 * - fewer than 3 characters: a trigram index has no trigram to look up;
 * - a NUL character (D1): FTS5 would read the query string only up to it.
 * D1: an FTS5 phrase of the needle's trigrams (quotes doubled), within one column; the trigram
 * tokenizer folds case for every letter, one character to one, so it finds every row instr(lower())
 * finds. Postgres: `lower(column) LIKE '%needle%'` with LIKE's wildcards escaped, the exact test
 * itself (pg_trgm rechecks every candidate), served by the `lower(column)` trigram indexes.
 */
export function substringIndexMatch(dialect: Dialect, ix: SubstringIndex, needle: string): SQL | null {
  if ([...needle].length < 3) return null;
  if (dialect === 'postgres') {
    const pattern = `%${needle.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const likes = ix.columns.map((c) => sql`lower(${sql.raw(`${ix.table}.${c}`)}) LIKE lower(${pattern})`);
    return sql`(${sql.join(likes, sql` OR `)})`;
  }
  if (needle.includes('\0')) return null;
  const fts = sql.raw(ix.fts);
  return sql`${sql.raw(ix.table)}.id IN (SELECT rowid FROM ${fts} WHERE ${fts} MATCH ${`"${needle.replace(/"/g, '""')}"`})`;
}

/** Locks the rows a SELECT reads until the transaction ends (Postgres); D1 has one writer anyway. */
export const forUpdate = (dialect: Dialect): SQL => (dialect === 'postgres' ? sql`FOR UPDATE` : sql``);

// ---- JSON ----------------------------------------------------------------------------------------

export type JsonColumnType = 'bigint' | 'text';

/**
 * The rows of a JSON array of arrays as a derived table: `columns` name the positions in order, and
 * `ord` (0-based) is each row's place in the array. One bound parameter for any number of rows (D1
 * caps bound parameters per statement).
 */
export function jsonTable(dialect: Dialect, json: string, columns: readonly (readonly [string, JsonColumnType])[]): SQL {
  if (dialect === 'postgres') {
    const cols = columns.map(([name, type], i) => (type === 'text' ? `l.value->>${i} AS ${name}` : `CAST(l.value->>${i} AS BIGINT) AS ${name}`));
    return sql`(SELECT ${sql.raw(cols.join(', '))}, CAST(l.ord - 1 AS BIGINT) AS ord
      FROM jsonb_array_elements(CAST(${json} AS jsonb)) WITH ORDINALITY AS l(value, ord))`;
  }
  const cols = columns.map(([name], i) => `json_extract(value, '$[${i}]') AS ${name}`);
  return sql`(SELECT ${sql.raw(cols.join(', '))}, CAST(key AS INTEGER) AS ord FROM json_each(${json}))`;
}

/** A JSON array of the values. */
export const jsonArray = (dialect: Dialect, values: SQL): SQL =>
  dialect === 'postgres' ? sql`json_build_array(${values})` : sql`json_array(${values})`;

/** The JSON array of an expression over the rows of a group (one value instead of many rows). */
export const jsonGroupArray = (dialect: Dialect, value: SQL): SQL =>
  dialect === 'postgres' ? sql`json_agg(${value})` : sql`json_group_array(${value})`;

/**
 * The JSON array of `value` over the rows of `rows` (a parenthesised subquery, aliased `i`) taken in
 * `order`: Postgres orders inside the aggregate; SQLite aggregates in the order its subquery yields.
 */
export const jsonArrayInOrder = (dialect: Dialect, value: SQL, rows: SQL, order: SQL): SQL =>
  dialect === 'postgres'
    ? sql`(SELECT json_agg(${value} ORDER BY ${order}) FROM ${rows} AS i)`
    : sql`(SELECT json_group_array(${value}) FROM (SELECT * FROM ${rows} AS i ORDER BY ${order}) AS i)`;

/** A JSON value produced by a subquery, nested as JSON (SQLite hands it over as text otherwise). */
export const jsonValue = (dialect: Dialect, value: SQL): SQL => (dialect === 'postgres' ? value : sql`json(${value})`);

// ---- clock and order -----------------------------------------------------------------------------

/**
 * The database's clock in epoch ms, read inside the statement: rows stamped with it take their time
 * in the order the database commits them.
 */
export const clockMs = (dialect: Dialect): SQL =>
  dialect === 'postgres'
    ? sql`CAST(FLOOR(EXTRACT(EPOCH FROM clock_timestamp()) * 1000) AS BIGINT)`
    : sql`CAST(ROUND(unixepoch('subsec') * 1000) AS INTEGER)`;

/** Text ordered by code point on both (SQLite's BINARY; Postgres would use the database's locale). */
export const binaryOrder = (dialect: Dialect, text: SQL): SQL => (dialect === 'postgres' ? sql`${text} COLLATE "C"` : text);

// ---- migrations ----------------------------------------------------------------------------------

/**
 * One row per migration this database has applied, as `id`: D1 records the file name in
 * `d1_migrations` (wrangler and the tests' applyD1Migrations), drizzle's Postgres migrator the
 * journal's `when` in `drizzle.__drizzle_migrations.created_at`.
 */
export const appliedMigrations = (dialect: Dialect): SQL =>
  dialect === 'postgres' ? sql`SELECT created_at AS id FROM drizzle.__drizzle_migrations` : sql`SELECT name AS id FROM d1_migrations`;

/**
 * A JSON object built from `fields` (name → expression), as text: `json_object` on SQLite,
 * `json_build_object` on Postgres (the same argument list). The names are code constants.
 */
export function jsonObject(dialect: Dialect, fields: Record<string, SQL>): SQL {
  const args = sql.join(
    Object.entries(fields).map(([name, value]) => sql`${sql.raw(`'${name.replace(/'/g, "''")}'`)}, ${value}`),
    sql`, `,
  );
  return dialect === 'postgres' ? sql`CAST(json_build_object(${args}) AS text)` : sql`json_object(${args})`;
}
