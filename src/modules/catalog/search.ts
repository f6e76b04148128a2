// User text → the parsed search that ./full-text.ts turns into FTS5 MATCH (D1) or a Postgres
// tsquery. Both come from this one parse, so the semantics are the same: words are ANDed; a bare upper-case
// `OR` between two words joins them into an either-or group that binds tighter than AND, as in web
// search: `sql python OR rust` = sql AND (python OR rust). Words without a letter or digit are
// dropped (they hold no token); a dangling `OR` is ignored. Every word is quoted (FTS5 string /
// tsquery lexeme), so search syntax in the input (`"`, `'`, `*`, `:`, `NEAR(`, `^`, `&`, `|`, `!`,
// `<->`, `AND`/`NOT`, parentheses) is searched as text and can never be a syntax error, reach
// another column or change the query's structure.
//
// A search is bounded in words (MAX_SEARCH_WORDS, OR alternatives included): each word is one more
// posting list the full-text index reads for the page and for the count, and a common word's list
// holds a large share of the catalog (17 common words ORed cost ~120× a simple GET on a million rows).
// More is a 400 SEARCH_TOO_COMPLEX before any query runs, on both backends.
const WORDISH = /[\p{L}\p{N}]/u;

import { ApiError } from '../../lib/problem';

/** At most this many searched words (operators and wordless tokens are not searched, so not counted). */
export const MAX_SEARCH_WORDS = 6;

/** A parsed search: an AND of groups, each an OR of words. */
export type SearchGroups = string[][];

export function parseSearch(input: string): SearchGroups | null {
  const groups: SearchGroups = [];
  let join = false;
  for (const word of input.split(/\s+/)) {
    if (word === 'OR') {
      join = groups.length > 0;
      continue;
    }
    if (!WORDISH.test(word)) continue;
    if (join) groups[groups.length - 1]!.push(word);
    else groups.push([word]);
    join = false;
  }
  return groups.length === 0 ? null : groups;
}

/** The parsed search of user text, refused (400 SEARCH_TOO_COMPLEX) past MAX_SEARCH_WORDS words. */
export function boundedSearch(input: string): SearchGroups | null {
  const groups = parseSearch(input);
  const words = groups ? groups.flat().length : 0;
  if (words > MAX_SEARCH_WORDS) throw new ApiError('SEARCH_TOO_COMPLEX', { extras: { max_words: MAX_SEARCH_WORDS, words } });
  return groups;
}
