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
  return scenarios;
}
