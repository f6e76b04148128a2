// Catalog and payments at volume (run `npm run seed -- --users 10000 --exams 1000000 --courses 1000000
// --payments 1000000` first): the list variants of the contract, deep paging both ways, payment
// history, and apply with a distinct (user, exam) pair on every request.
const APPLY_USERS = 100;
const APPLY_EXAMS = 20;

async function freshExams(ctx, n) {
  const now = Date.now();
  const ids = [];
  for (let i = 0; i < n; i++) {
    const res = await ctx.fetchJson('/api/exams', {
      method: 'POST',
      token: ctx.staffToken,
      body: {
        title: `Bench exam ${now}-${i}`,
        description: 'bench',
        price: 10_000,
        start_at: new Date(now - 3600_000).toISOString(),
        end_at: new Date(now + 86_400_000).toISOString(),
      },
    });
    if (res.status !== 201) throw new Error(`creating a bench exam failed: ${res.status}`);
    ids.push(res.body.id);
  }
  return ids;
}

export default async function catalog(ctx) {
  const [reader] = await ctx.userTokens(1);
  // A deep keyset cursor: the next_cursor of the page at offset ~500,000 (fetched once, not measured).
  const deep = await ctx.fetchJson('/api/exams?page=5000&page_size=100', { token: reader });
  if (deep.status !== 200) throw new Error(`deep page failed: ${deep.status}; is the database seeded with 1M exams?`);
  const cursor = deep.body.next_cursor;

  const appliers = await ctx.userTokens(APPLY_USERS, 5000);
  const exams = await freshExams(ctx, APPLY_EXAMS);
  let k = 0;
  const body = JSON.stringify({ amount: 10_000, payment_method: 'card' });

  return [
    { name: 'GET /api/exams (default)', path: '/api/exams', token: reader },
    { name: 'GET /api/exams?status=available', path: '/api/exams?status=available', token: reader },
    { name: 'GET /api/exams?sort=popular', path: '/api/exams?sort=popular', token: reader },
    { name: 'GET /api/exams?search=advanced calculus', path: '/api/exams?search=advanced%20calculus', token: reader },
    {
      name: 'GET /api/courses?search=python OR robotics&status=available',
      path: '/api/courses?search=python%20OR%20robotics&status=available',
      token: reader,
    },
    { name: 'GET /api/exams?page=500', path: '/api/exams?page=500', token: reader },
    { name: 'GET /api/exams?cursor=<offset 500k>', path: `/api/exams?cursor=${cursor}`, token: reader },
    { name: 'GET /api/me/payments', path: '/api/me/payments', token: reader },
    { name: 'GET /api/me/payments?status=paid&payment_type=exam', path: '/api/me/payments?status=paid&payment_type=exam', token: reader },
    {
      name: 'POST /api/exams/{id}/apply (distinct users)',
      path: `/api/exams/${exams[0]}/apply`,
      method: 'POST',
      body: { amount: 10_000, payment_method: 'card' },
      // Each request is a new (user, exam) pair, so every one is a real 201 payment.
      amount: APPLY_USERS * APPLY_EXAMS,
      setupRequest(req) {
        const n = k++;
        const user = n % APPLY_USERS;
        const exam = exams[Math.floor(n / APPLY_USERS) % APPLY_EXAMS];
        return { ...req, path: `/api/exams/${exam}/apply`, body, headers: { ...req.headers, authorization: `Bearer ${appliers[user]}` } };
      },
    },
  ];
}
