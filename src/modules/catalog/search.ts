// User text → a search expression for either backend: FTS5 MATCH (D1) or a Postgres tsquery. Both
// are built from the same parse, so the semantics are the same: words are ANDed; a bare upper-case
// `OR` between two words joins them into an either-or group that binds tighter than AND, as in web
// search: `sql python OR rust` = sql AND (python OR rust). Words without a letter or digit are
// dropped (they hold no token); a dangling `OR` is ignored. Every word is quoted (FTS5 string /
// tsquery lexeme), so search syntax in the input (`"`, `'`, `*`, `:`, `NEAR(`, `^`, `&`, `|`, `!`,
// `<->`, `AND`/`NOT`, parentheses) is searched as text and can never be a syntax error, reach
// another column or change the query's structure.
const WORDISH = /[\p{L}\p{N}]/u;

/** The parsed search: AND of groups, each an OR of words. */
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

/** The FTS5 MATCH expression of user text (null when it holds no searchable word). */
export function ftsQuery(input: string): string | null {
  const groups = parseSearch(input);
  return groups && ftsMatch(groups);
}
