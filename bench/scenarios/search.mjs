// Search over the 1,000,000 seeded courses with words of known frequency (scripts/seed/catalog.mjs):
// `advanced` is the title's level of every 10th item (10%), `capstone` and `olympiad` are appended to
// every 100th and 10,000th description (1%, 0.01%); `advanced calculus` is an AND of two title words
// (0.25%), `python OR robotics` an OR of two subjects (5%). Each alone (newest first) and with
// `status=available&sort=popular` (the open ones, most registered first), where every match is a
// candidate for the page. The setup prints each search's count as the API answers it.
const SEARCHES = [
  { q: 'advanced', share: '10%' },
  { q: 'capstone', share: '1%' },
  { q: 'olympiad', share: '0.01%' },
  { q: 'advanced calculus', share: 'AND, 0.25%' },
  { q: 'python OR robotics', share: 'OR, 5%' },
];
const FILTERED = 'status=available&sort=popular';

export default async function search(ctx) {
  const [reader] = await ctx.userTokens(1);
  const scenarios = [];
  for (const { q, share } of SEARCHES) {
    for (const filter of ['', FILTERED]) {
      const query = `search=${encodeURIComponent(q)}${filter ? `&${filter}` : ''}`;
      const first = await ctx.fetchJson(`/api/courses?${query}`, { token: reader });
      if (first.status !== 200) throw new Error(`GET /api/courses?${query} answered ${first.status}`);
      console.log(`[${ctx.backend}] courses?${query}: count ${first.body.count}`);
      scenarios.push({ name: `GET /api/courses?search=${q} (${share})${filter ? `&${filter}` : ''}`, path: `/api/courses?${query}`, token: reader });
    }
  }
  scenarios.push(...worstAllowed(reader));
  return scenarios;
}

// The most expensive search the API still answers (issue 22 item 9: at most 6 searched words,
// src/modules/catalog/search.ts MAX_SEARCH_WORDS). Five title levels ORed match half the catalog;
// a sixth word new on every request keeps the memoised count from ever being reused, so each request
// counts its matches again, and `sort=popular&status=available` makes every match a candidate.
// Measured in two shapes: the random word ORed in (half the catalog matches) and ANDed (nothing does,
// the shape of the attack that had 17 common words).
const LEVELS5 = ['advanced', 'basic', 'intermediate', 'expert', 'practical'];
export const WORST_ALLOWED =
  'GET /api/courses?search=<5 levels> OR <random>&status=available&sort=popular (worst allowed: 6 words, ~50%, count never memoised)';
export const WORST_ALLOWED_AND =
  'GET /api/courses?search=<5 levels> <random>&status=available&sort=popular (6 words, AND of a new word, count never memoised)';

function worstAllowed(reader) {
  let n = 0;
  const random = () => `zq${Date.now().toString(36)}${(n++).toString(36)}`;
  const shape = (name, query) => {
    const pathOf = () => `/api/courses?search=${encodeURIComponent(query(random()))}&${FILTERED}`;
    return { name, path: pathOf(), token: reader, setupRequest: (req) => ({ ...req, path: pathOf() }) };
  };
  return [
    shape(WORST_ALLOWED, (word) => `${LEVELS5.join(' OR ')} OR ${word}`),
    shape(WORST_ALLOWED_AND, (word) => `${LEVELS5.join(' OR ')} ${word}`),
  ];
}
