// User text → an FTS5 MATCH expression. Every word becomes a quoted string (quotes doubled), so FTS
// syntax in the input (`"`, `*`, `NEAR(`, `title:`, `^`, `AND`/`NOT`) is searched as text and can
// never be a syntax error or reach another column. Words are ANDed; a bare `OR` between two words
// is the only operator kept. Words without a letter or digit are dropped (they hold no token).
const WORDISH = /[\p{L}\p{N}]/u;

export function ftsQuery(input: string): string | null {
  const out: string[] = [];
  for (const word of input.split(/\s+/)) {
    if (word === 'OR') {
      if (out.length > 0 && out[out.length - 1] !== 'OR') out.push('OR');
      continue;
    }
    if (!WORDISH.test(word)) continue;
    out.push(`"${word.replace(/"/g, '""')}"`);
  }
  while (out[out.length - 1] === 'OR') out.pop();
  return out.length > 0 ? out.join(' ') : null;
}
