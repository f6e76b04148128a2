// Which plan reads a search page (repository.ts): walk the order's index testing each row, or list
// every match first. The walk reads about (rows before the page + the page) × total / matches rows,
// each with a probe of the full-text index (D1) or the row's document (Postgres); match-first reads
// every match. So the walk wins for common words and match-first for rare ones, and neither grows
// past about √(page × total) rows at the crossover. The number of matches comes from a bounded
// count on D1 and the planner's estimate on Postgres (repository.searchFrequency, ./full-text.ts
// fullTextHits; at most FREQUENCY_CAP either way); the choice changes only the speed,
// never the rows: a walk that runs out of budget before the page is full is read again match-first.

import type { Dialect } from '../../db/dialect/sql';

/**
 * A search page's plan: `match` lists every match from the full-text index and cuts the page from
 * them; `walk` walks the order's index (available rows only, when filtered) testing each row
 * against the search, and gives up after `budget` rows (the repository then reads the page again
 * with `match`).
 */
export type SearchPlan = { kind: 'match' } | { kind: 'walk'; budget: number };

/** Matches are counted up to this many: enough to recognise a common word in a catalog of a million. */
export const FREQUENCY_CAP = 10_000;
/** The walk gives up after this many times the rows it expects to read (matches may bunch up at the far end). */
const BUDGET_FACTOR = 4;
const MIN_BUDGET = 200;

export interface Frequency {
  /** Items of the kind. */
  total: number;
  /** Matches of the search: counted up to FREQUENCY_CAP (D1) or the planner's estimate (Postgres). */
  hits: number;
  /** What one walked row costs, in matched rows of the match-first plan (walkProbeCost). */
  probeCost: number;
}

/**
 * What one walked row costs, in matched rows of the match-first plan: a probe of the FTS5 index on
 * D1; on Postgres the row's document is built and matched (measured on the seeded million: a 1%
 * word with `status=available` ran at 61 requests/s walked against 110 listed).
 */
export const walkProbeCost = (dialect: Dialect): number => (dialect === 'postgres' ? 16 : 4);

/** The plan for a page that needs `need` matches (offset + page size, + 1 for a cursor page). */
export function choosePlan(f: Frequency, need: number): SearchPlan {
  if (f.hits < need) return { kind: 'match' };
  // Rows the walk expects to test: matches are taken to be spread evenly over the order (and over
  // the available items). On D1 `hits` is a lower bound (capped), so this errs towards match-first;
  // on Postgres it is an estimate, and a wrong one costs time, never rows (the budget bounds a walk).
  const expected = Math.ceil((need * Math.max(f.total, f.hits)) / f.hits);
  if (expected * f.probeCost > f.hits) return { kind: 'match' };
  return { kind: 'walk', budget: Math.max(MIN_BUDGET, expected * BUDGET_FACTOR) };
}
