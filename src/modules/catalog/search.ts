// User text → an FTS5 MATCH expression. Every word becomes a quoted string (quotes doubled), so FTS
// syntax in the input (`"`, `*`, `NEAR(`, `title:`, `^`, `AND`/`NOT`, parentheses) is searched as
// text and can never be a syntax error or reach another column. Words are ANDed; a bare upper-case
// `OR` between two words joins them into an either-or group that binds tighter than AND, as in web
// search: `sql python OR rust` = sql AND (python OR rust). Words without a letter or digit are
// dropped (they hold no token); a dangling `OR` is ignored.
const WORDISH = /[\p{L}\p{N}]/u;

export function ftsQuery(input: string): string | null {
  const groups: string[][] = [];
  let join = false;
  for (const word of input.split(/\s+/)) {
    if (word === 'OR') {
      join = groups.length > 0;
      continue;
    }
    if (!WORDISH.test(word)) continue;
    const term = `"${word.replace(/"/g, '""')}"`;
    if (join) groups[groups.length - 1]!.push(term);
    else groups.push([term]);
    join = false;
  }
  if (groups.length === 0) return null;
  return groups.map((g) => (g.length > 1 ? `(${g.join(' OR ')})` : g[0]!)).join(' AND ');
}
