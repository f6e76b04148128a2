// The SQL that differs between SQLite (D1) and Postgres, in one place. Repositories call these and
// stay dialect-blind.
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
  return dialect === 'postgres'
    ? sql`strpos(lower(${column}), lower(${needle})) > 0`
    : sql`instr(lower(${column}), lower(${needle})) > 0`;
}

/** `column` contains every one of `words`, ignoring case; one expression of fixed depth. */
export function containsAll(dialect: Dialect, column: SQL | unknown, words: string[]): SQL {
  const list = JSON.stringify(words);
  return dialect === 'postgres'
    ? sql`NOT EXISTS (SELECT 1 FROM jsonb_array_elements_text(CAST(${list} AS jsonb)) AS w(v) WHERE strpos(lower(${column}), lower(w.v)) = 0)`
    : sql`NOT EXISTS (SELECT 1 FROM json_each(${list}) AS w WHERE instr(lower(${column}), lower(w.value)) = 0)`;
}

/** containsAll for raw SQL: `column` is SQL text, `param` the placeholder bound to JSON of the words. */
export function containsAllRaw(dialect: Dialect, column: string, param: string): string {
  return dialect === 'postgres'
    ? `NOT EXISTS (SELECT 1 FROM jsonb_array_elements_text(CAST(${param} AS jsonb)) AS w(v) WHERE strpos(lower(${column}), lower(w.v)) = 0)`
    : `NOT EXISTS (SELECT 1 FROM json_each(${param}) AS w WHERE instr(lower(${column}), lower(w.value)) = 0)`;
}
