// GET /api/orders at the seeded volume (`--orders 1000000`, or ten times that): the staff list, newest
// first, each order with its items; every filter reads one index in key order (docs/sales.md).
function day(offsetDays) {
  // The Seoul calendar date `offsetDays` from today (Seoul has no DST: a fixed +9 h is exact here).
  return new Date(Date.now() + 9 * 3_600_000 + offsetDays * 86_400_000).toISOString().slice(0, 10);
}

export default async function orders(ctx) {
  const token = ctx.staffToken;
  if (!token) throw new Error('the orders list needs the staff login, which failed');
  const first = await ctx.fetchJson('/api/orders?page_size=1', { token });
  if (first.status !== 200 || first.body.results.length === 0) throw new Error(`GET /api/orders: ${first.status}, no seeded orders?`);
  const customer = first.body.results[0].customer_id;
  // A cursor half-way back (45 days of 90): the keyset page there costs what the first page does.
  const deep = await ctx.fetchJson(`/api/orders?page_size=1&to=${day(-45)}`, { token });
  const cursor = deep.body.next_cursor;
  if (!cursor) throw new Error('no order 45 days back: seed with --orders');
  const list = (q) => `/api/orders${q ? `?${q}` : ''}`;
  return [
    { name: 'GET /api/orders (newest 20, with items)', path: list(''), token },
    { name: 'GET /api/orders?status=PENDING (rare)', path: list('status=PENDING'), token },
    { name: 'GET /api/orders?customer_id= (one customer)', path: list(`customer_id=${customer}`), token },
    { name: 'GET /api/orders?from=&to= (one day, 30 days ago)', path: list(`from=${day(-30)}&to=${day(-30)}`), token },
    { name: 'GET /api/orders?min_total=300000', path: list('min_total=300000'), token },
    { name: 'GET /api/orders?cursor= (45 days back)', path: list(`cursor=${cursor}`), token },
  ];
}
