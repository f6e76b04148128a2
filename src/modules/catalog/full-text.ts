// The catalog's full-text search in SQL, per dialect: a parsed search (./search.ts) as an FTS5 MATCH
// (D1) or a to_tsquery (Postgres), and the two plans that read a page of matches (./plan.ts chooses).
// Only ./repository.ts runs these; they live beside it because no other module searches full text.
import { sql, type SQL } from 'drizzle-orm';
import type { Dialect } from '../../db/dialect/sql';
import type { SearchGroups } from './search';

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
