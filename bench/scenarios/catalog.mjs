// Catalog and payments at volume (run `npm run seed -- --users 10000 --exams 1000000 --courses 1000000
// --payments 1000000` first): the list variants of the contract, deep paging both ways, payment
// history, apply with a distinct (user, exam) pair on every request, and one user's burst of
// concurrent applies to distinct exams. (Search: search.mjs.)
const APPLY_USERS = 100;
const APPLY_EXAMS = 20;
const PRICE = 10_000;
// The burst: BURST_ROUNDS rounds, one after another, of BURST concurrent applies by one user (user6000)
// to BURST exams it has not applied for (each round has its own fresh exams).
const BURST = 16;
const BURST_ROUNDS = 20;
const BURST_USER = 6000;
// Apply and the burst: the target is 60% of the /health floor.
const APPLY_TARGET = 60;

/** n new open exams at PRICE, created by staff a few at a time. */
async function freshExams(ctx, n) {
  const now = Date.now();
  const create = async (i) => {
    const res = await ctx.fetchJson('/api/exams', {
      method: 'POST',
      token: ctx.staffToken,
      body: {
        title: `Bench exam ${now}-${i}`,
        description: 'bench',
        price: PRICE,
        start_at: new Date(now - 3600_000).toISOString(),
        end_at: new Date(now + 86_400_000).toISOString(),
      },
    });
    if (res.status !== 201) throw new Error(`creating a bench exam failed: ${res.status}`);
    return res.body.id;
  };
  const ids = [];
  for (let i = 0; i < n; i += 8) ids.push(...(await Promise.all(Array.from({ length: Math.min(8, n - i) }, (_, k) => create(i + k)))));
  return ids;
}

/**
 * Rounds of BURST concurrent applies by one user, each round to its own BURST exams: every request
 * is a real 201 payment. Latency is per request, from the round's start; a non-201 is an error.
 */
async function burst(ctx, token, exams) {
  const latencies = [];
  let errors = 0;
  const apply = async (exam, started) => {
    const res = await fetch(`${ctx.base}/api/exams/${exam}/apply`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ amount: PRICE, payment_method: 'card' }),
      signal: AbortSignal.timeout(30_000),
    }).catch(() => null);
    await res?.arrayBuffer();
    latencies.push(performance.now() - started);
    if (res?.status !== 201) errors += 1;
  };
  for (let round = 0; round < BURST_ROUNDS; round++) {
    const started = performance.now();
    await Promise.all(exams.slice(round * BURST, (round + 1) * BURST).map((exam) => apply(exam, started)));
  }
  return { latencies, errors };
}

export default async function catalog(ctx) {
  const [reader] = await ctx.userTokens(1);
  // A deep keyset cursor: the next_cursor of the page at offset ~500,000 (fetched once, not measured).
  const deep = await ctx.fetchJson('/api/exams?page=5000&page_size=100', { token: reader });
  if (deep.status !== 200) throw new Error(`deep page failed: ${deep.status}; is the database seeded with 1M exams?`);
  const cursor = deep.body.next_cursor;

  const appliers = await ctx.userTokens(APPLY_USERS, 5000);
  const exams = await freshExams(ctx, APPLY_EXAMS);
  const [burster] = await ctx.userTokens(1, BURST_USER);
  const burstExams = await freshExams(ctx, BURST * BURST_ROUNDS);
  let k = 0;
  const body = JSON.stringify({ amount: PRICE, payment_method: 'card' });

  return [
    { name: 'GET /api/exams (default)', path: '/api/exams', token: reader },
    { name: 'GET /api/exams?status=available', path: '/api/exams?status=available', token: reader },
    { name: 'GET /api/exams?sort=popular', path: '/api/exams?sort=popular', token: reader },
    { name: 'GET /api/exams?page=500', path: '/api/exams?page=500', token: reader },
    { name: 'GET /api/exams?cursor=<offset 500k>', path: `/api/exams?cursor=${cursor}`, token: reader },
    { name: 'GET /api/me/payments', path: '/api/me/payments', token: reader },
    { name: 'GET /api/me/payments?status=paid&payment_type=exam', path: '/api/me/payments?status=paid&payment_type=exam', token: reader },
    {
      name: 'POST /api/exams/{id}/apply (distinct users)',
      path: `/api/exams/${exams[0]}/apply`,
      method: 'POST',
      body: { amount: PRICE, payment_method: 'card' },
      target: APPLY_TARGET,
      // Each request is a new (user, exam) pair, so every one is a real 201 payment.
      amount: APPLY_USERS * APPLY_EXAMS,
      setupRequest(req) {
        const n = k++;
        const user = n % APPLY_USERS;
        const exam = exams[Math.floor(n / APPLY_USERS) % APPLY_EXAMS];
        return { ...req, path: `/api/exams/${exam}/apply`, body, headers: { ...req.headers, authorization: `Bearer ${appliers[user]}` } };
      },
    },
    {
      name: `POST /api/exams/{id}/apply (one user, ${BURST} at once to distinct exams)`,
      run: () => burst(ctx, burster, burstExams),
      target: APPLY_TARGET,
    },
  ];
}
