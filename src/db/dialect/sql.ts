// The SQL that differs between SQLite (D1) and Postgres, in one place: substring search, full-text
// search, JSON tables and aggregation, the database clock, row locks, collation, the migrations
// table. Repositories call these and stay dialect-blind. (Upserts and booleans need nothing here: both dialects take
// `ON CONFLICT … DO UPDATE` with qualified columns, and booleans are 0/1 integers in both schemas.)
//
// Substring search: no LIKE. D1 caps a LIKE pattern at 50 bytes (`LIKE or GLOB pattern too complex`)
// and an expression tree at depth 100, so `col LIKE '%…%'` per word failed for a 60-character word
// or 100 words. `instr`/`strpos` on lower-cased text has no pattern limit and needs no escaping, and
// "every word occurs" is one NOT EXISTS over a JSON array of the words, whose depth does not grow
// with their number. Case folding: SQLite's lower() folds ASCII only (as its LIKE did); Postgres's
// folds every letter.
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

// ---- full-text search ----------------------------------------------------------------------------

/** A parsed search (src/modules/catalog/search.ts): an AND of groups, each an OR of words. */
export type SearchGroups = string[][];

function combine(groups: SearchGroups, term: (word: string) => string, or: string, and: string): string {
  return groups.map((g) => (g.length > 1 ? `(${g.map(term).join(` ${or} `)})` : term(g[0]!))).join(` ${and} `);
}

/** FTS5 MATCH: each word is a string (quotes doubled), which FTS5 tokenises into a phrase. */
export function ftsMatch(groups: SearchGroups): string {
  return combine(groups, (w) => `"${w.replace(/"/g, '""')}"`, 'OR', 'AND');
}

/**
 * A tsquery for `to_tsquery('simple', …)`, matched against `to_tsvector('simple', title || ' ' ||
 * description)` (the `<kind>_fts` expression index). A quoted lexeme is tokenised by Postgres's
 * parser and becomes a phrase (`<->`) when it holds several tokens, like an FTS5 string; inside
 * quotes only `'` (doubled) and `\` (escaped) are special.
 *
 * FTS5's unicode61 tokeniser splits at every character that is not a letter or digit and folds case
 * and diacritics. Postgres's parser also folds case, but keeps compounds as extra tokens: `foo-bar`
 * gives `foo-bar`, `foo`, `bar`; hosts, e-mail addresses, URLs, paths and decimals (`a.b.com`, `1.5`)
 * are one token each. So each word matches either as Postgres parses it or as the phrase of its
 * unicode61-style tokens with diacritics removed (`e-mail` also finds "e mail"; `café` also finds
 * "cafe"). Differences that remain, because the document side is Postgres's parse:
 * - diacritics are kept in documents: `cafe` does not find "café" (FTS5 does);
 * - a part of a compound that Postgres keeps whole is not a word of its own: `com` does not find
 *   "a.b.com" and `5` does not find "1.5" (FTS5 finds both);
 * - title and description are one text, so a phrase can span the end of the title and the start
 *   of the description (FTS5 phrases stay within one column).
 */
export function tsQuery(groups: SearchGroups): string {
  const lexeme = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
  const term = (word: string) => {
    const parts = word
      .normalize('NFD')
      .replace(/\p{M}/gu, '')
      .split(/[^\p{L}\p{N}]+/u)
      .filter(Boolean);
    const split = parts.map(lexeme).join(' <-> ');
    return parts.length === 1 && parts[0] === word ? split : `(${lexeme(word)} | ${split})`;
  };
  return combine(groups, term, '|', '&');
}

/** Where the full text of a table lives: its FTS5 table on D1, a GIN expression index on Postgres. */
export interface FullText {
  table: string;
  fts: string;
  /** The indexed columns, in the order of the index's expression. */
  columns: string[];
}

/**
 * "This row of `ft.table` matches the search". On Postgres the expression is exactly the one of the
 * `<table>_fts` GIN index (to_tsvector('simple', title || ' ' || description)), or the index is
 * not used.
 */
export function fullTextMatch(dialect: Dialect, ft: FullText, search: SearchGroups): SQL {
  if (dialect === 'postgres') {
    const doc = sql.raw(`to_tsvector('simple', ${ft.columns.map((c) => `${ft.table}.${c}`).join(" || ' ' || ")})`);
    return sql`${doc} @@ to_tsquery('simple', CAST(${tsQuery(search)} AS text))`;
  }
  return sql`${sql.raw(ft.table)}.id IN (SELECT rowid FROM ${sql.raw(ft.fts)} WHERE ${sql.raw(ft.fts)} MATCH ${ftsMatch(search)})`;
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
