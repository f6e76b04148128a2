// The SQL that differs between SQLite (D1) and Postgres, in one place: substring search, full-text
// search, JSON tables and aggregation, the database clock, row locks, collation, the migrations
// table. Repositories call these and stay dialect-blind. (Upserts and booleans need nothing here: both dialects take
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

/** Postgres's document of a row of `ft` under `alias`: exactly the `<table>_fts` index expression. */
const tsDocument = (ft: FullText, alias: string) => sql.raw(`to_tsvector('simple', ${ft.columns.map((c) => `${alias}.${c}`).join(" || ' ' || ")})`);
const tsMatch = (ft: FullText, alias: string, search: SearchGroups) =>
  sql`${tsDocument(ft, alias)} @@ to_tsquery('simple', CAST(${tsQuery(search)} AS text))`;
const ftsMatchOf = (ft: FullText, search: SearchGroups) => sql`${sql.raw(ft.fts)} MATCH ${ftsMatch(search)}`;

// Two plans read a page of matches (src/modules/catalog/plan.ts chooses between them):
// - match first: the index lists every match, the page is cut from them (cost grows with the
//   number of matches; the only plan for a rare word);
// - walk: the order's own index is walked and each row tested against the search, stopping after
//   one page (cost grows with rows per match; the plan for a common word).

/**
 * The matching rows of `ft.table` as a FROM clause and its condition, for a match-first plan.
 * `id` is the row id to order and compare by: on D1 it is the FTS5 rowid (= the item's id), since
 * FTS5 hands its matches over in rowid order and an ORDER BY on it walks the FTS index itself and
 * stops after a page; on Postgres the GIN index gives a bitmap of all matches.
 */
export function fullTextSource(dialect: Dialect, ft: FullText, search: SearchGroups): { from: SQL; where: SQL; id: SQL } {
  const table = sql.raw(ft.table);
  if (dialect === 'postgres') return { from: table, where: tsMatch(ft, ft.table, search), id: sql`${table}.id` };
  const fts = sql.raw(ft.fts);
  return { from: sql`${fts} JOIN ${table} ON ${table}.id = ${fts}.rowid`, where: ftsMatchOf(ft, search), id: sql`${fts}.rowid` };
}

/** FTS5 streams matches in id order, so on D1 newest-first search needs no other plan than match-first. */
export const fullTextStreamsById = (dialect: Dialect): boolean => dialect === 'sqlite';

/**
 * A match-first page: `select` (the matches' `id` and sort columns) cut by `page` (ORDER BY the
 * selected names, LIMIT, OFFSET). On Postgres the matches are MATERIALIZED, which keeps the planner
 * on the GIN index: left alone it may walk the order's index instead, which is a whole-table scan
 * for a rare or absent word (choosing that walk is the caller's decision, see fullTextProbe). On D1
 * the query streams, so an order by id follows the FTS index.
 */
export function matchFirstPage(dialect: Dialect, select: SQL, page: SQL): SQL {
  return dialect === 'postgres' ? sql`WITH m AS MATERIALIZED (${select}) SELECT id FROM m ${page}` : sql`SELECT id FROM (${select}) ${page}`;
}

/**
 * A per-row test of the search for the walk plan, on a row source aliased `alias` that carries
 * `columns` (to add to its SELECT list). D1: a probe of the FTS5 index at the row's id (a seek per
 * FTS segment, no scan of the word's matches); Postgres: the document computed from the row itself.
 */
export function fullTextProbe(dialect: Dialect, ft: FullText, search: SearchGroups, alias: string): { columns: SQL; test: SQL } {
  if (dialect === 'postgres') return { columns: sql.raw(ft.columns.map((c) => `, ${ft.table}.${c}`).join('')), test: tsMatch(ft, alias, search) };
  const fts = sql.raw(ft.fts);
  return { columns: sql``, test: sql`EXISTS (SELECT 1 FROM ${fts} WHERE ${ftsMatchOf(ft, search)} AND ${fts}.rowid = ${sql.raw(alias)}.id)` };
}

/**
 * The walk plan's page: the budgeted rows of the order's index (`rows`, in page order), those that
 * pass `test`, cut by `limit` and `offset`. Postgres keeps a subquery's order as its own, so the
 * outer ORDER BY costs no Sort node and the walk stops after one page. SQLite re-sorts a subquery's
 * rows for an outer ORDER BY (a temp B-tree, so every budgeted row would be probed: 160 ms instead
 * of 2 ms for a word in 10% of a million items), while it hands them over in the subquery's order
 * (a co-routine) without one; the caller orders the page's rows again anyway.
 * tests/search-plans.test.ts compares every walked page with the brute-force answer.
 */
export function walkedPage(dialect: Dialect, rows: SQL, test: SQL, order: SQL, limit: number, offset: number): SQL {
  const reorder = dialect === 'postgres' ? sql`ORDER BY ${order}` : sql``;
  return sql`SELECT id FROM (${rows}) c WHERE ${test} ${reorder} LIMIT ${limit} OFFSET ${offset}`;
}

/**
 * How many rows of `ft.table` match a search, cheaply: a query and the reading of its one row.
 * - D1: the matches counted no further than `cap` (FTS5 reads the words' doclists and nothing else:
 *   about 1 ms for 10,000 matches).
 * - Postgres: the planner's estimate (`EXPLAIN`, which plans and reads nothing), taken from the
 *   statistics ANALYZE keeps on the `<table>_fts` expression index: the most common lexemes with
 *   their frequencies, combined for AND/OR. A word not among them is estimated rare (0.5% at most),
 *   which is what it is. Counting from the GIN index instead would fetch every counted row from the
 *   heap to recheck it (0.9 s cold for 10,000 rows of a million).
 * Either figure only chooses a plan (./catalog plan.ts), never the rows of a page.
 */
export function fullTextHits(
  dialect: Dialect,
  ft: FullText,
  search: SearchGroups,
  cap: number,
): { query: SQL; read: (row: Record<string, unknown> | undefined) => number } {
  if (dialect === 'postgres') {
    return {
      query: sql`EXPLAIN (FORMAT JSON) SELECT 1 FROM ${sql.raw(ft.table)} WHERE ${tsMatch(ft, ft.table, search)}`,
      read: (row) => {
        const plan = row?.['QUERY PLAN'];
        const parsed = (typeof plan === 'string' ? JSON.parse(plan) : plan) as { Plan: { 'Plan Rows': number } }[];
        // Not capped: an estimate costs the same at any size, and the walk's price on Postgres needs
        // to tell a 1% word from a 10% one (see walkProbeCost in catalog/plan.ts).
        return Math.round(parsed[0]!.Plan['Plan Rows']);
      },
    };
  }
  return {
    query: sql`SELECT count(*) AS hits FROM (SELECT 1 FROM ${sql.raw(ft.fts)} WHERE ${ftsMatchOf(ft, search)} LIMIT ${cap}) AS capped`,
    read: (row) => Number(row?.hits ?? 0),
  };
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
