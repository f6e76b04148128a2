// Payments through a real provider (docs/payments-providers.md), against the local fake Stripe of
// tests/fakes/stripe.ts: run with `npm run bench -- --payments stripe --only payments:` (the worker
// then runs with PAYMENT_PROVIDER=stripe and STRIPE_API_BASE at the fake; without --payments stripe
// this module has no scenarios). Each row measures only the settling requests: the pending payments
// they settle are made (apply → pending, paid at the fake) before the clock starts.
//   confirm:  POST /api/payments/{id}/confirm of a paid intent (the API re-reads it from Stripe and
//             writes paid + active registration + count in one transaction, in the user's ledger)
//   webhook:  POST /api/payments/webhooks/stripe, a signed payment_intent.succeeded (signature check,
//             lookup, the same re-read and write)
// each as one user's burst (BURST concurrent requests, ROUNDS rounds: one ledger serialises them) and
// as distinct users (one payment each, `--connections` in flight).
const PRICE = 10_000;
const BURST = 16;
const ROUNDS = 8;
const USERS = 160;
const BURST_USER = 6100;
const DISTINCT_FROM = 6200;

async function pool(items, width, fn) {
  const latencies = [];
  let errors = 0;
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++];
      const started = performance.now();
      const ok = await fn(item).catch(() => false);
      latencies.push(performance.now() - started);
      if (!ok) errors += 1;
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return { latencies, errors };
}

/** A fresh open exam per payment (a user has at most one pending payment per item). */
async function freshExams(ctx, n) {
  const now = Date.now();
  const ids = [];
  for (let i = 0; i < n; i += 8) {
    const batch = Array.from({ length: Math.min(8, n - i) }, (_, k) =>
      ctx.fetchJson('/api/exams', {
        method: 'POST',
        token: ctx.staffToken,
        body: {
          title: `Bench pay ${now}-${i + k}`,
          description: 'bench',
          price: PRICE,
          start_at: new Date(now - 3600_000).toISOString(),
          end_at: new Date(now + 86_400_000).toISOString(),
        },
      }),
    );
    for (const res of await Promise.all(batch)) {
      if (res.status !== 201) throw new Error(`creating a bench exam failed: ${res.status}`);
      ids.push(res.body.id);
    }
  }
  return ids;
}

/** Pending payments (token, payment id, intent), paid at the fake Stripe, ready to be settled. */
async function paidIntents(ctx, tokens, exams) {
  const out = [];
  for (let i = 0; i < exams.length; i += 8) {
    const batch = exams.slice(i, i + 8).map(async (exam, k) => {
      const token = tokens[(i + k) % tokens.length];
      const res = await ctx.fetchJson(`/api/exams/${exam}/apply`, { method: 'POST', token, body: { payment_method: 'card' } });
      if (res.status !== 201) throw new Error(`apply failed: ${res.status} ${JSON.stringify(res.body)}`);
      const pi = ctx.stripe.fake.byClientSecret(res.body.payment.checkout.client_secret);
      ctx.stripe.fake.pay(pi.id);
      return { token, id: res.body.payment.id, pi };
    });
    out.push(...(await Promise.all(batch)));
  }
  return out;
}

const confirm = (ctx) => async (p) => {
  const res = await fetch(`${ctx.base}/api/payments/${p.id}/confirm`, { method: 'POST', headers: { authorization: `Bearer ${p.token}` } });
  await res.arrayBuffer();
  return res.status === 200;
};

const webhook = (ctx) => async (p) => {
  const { body, signature } = await ctx.stripe.fake.webhook(p.pi);
  const res = await fetch(`${ctx.base}/api/payments/webhooks/stripe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stripe-signature': signature },
    body,
  });
  await res.arrayBuffer();
  return res.status === 200;
};

/** ROUNDS rounds of BURST concurrent settles by one user. */
function burstRun(settle) {
  return async (ctx) => {
    const [token] = await ctx.userTokens(1, BURST_USER);
    const payments = await paidIntents(ctx, [token], await freshExams(ctx, BURST * ROUNDS));
    const latencies = [];
    let errors = 0;
    const started = performance.now();
    for (let r = 0; r < ROUNDS; r++) {
      const res = await pool(payments.slice(r * BURST, (r + 1) * BURST), BURST, settle(ctx));
      latencies.push(...res.latencies);
      errors += res.errors;
    }
    return { latencies, errors, seconds: (performance.now() - started) / 1000 };
  };
}

/** One payment per user, USERS users, --connections in flight. */
function distinctRun(settle, from) {
  return async (ctx) => {
    const tokens = await ctx.userTokens(USERS, from);
    const payments = await paidIntents(ctx, tokens, await freshExams(ctx, USERS));
    const started = performance.now();
    const res = await pool(payments, ctx.opts.connections, settle(ctx));
    return { ...res, seconds: (performance.now() - started) / 1000 };
  };
}

export default async function payments(ctx) {
  if (!ctx.stripe) return [];
  if (!ctx.staffToken) throw new Error('no staff token (run npm run seed first)');
  return [
    { name: `payments: confirm, one user's burst (${BURST} concurrent × ${ROUNDS}, fake Stripe)`, run: burstRun(confirm), target: null },
    { name: `payments: confirm, distinct users (${USERS}, fake Stripe)`, run: distinctRun(confirm, DISTINCT_FROM), target: null },
    { name: `payments: webhook payment_intent.succeeded, one user's burst (${BURST} × ${ROUNDS})`, run: burstRun(webhook), target: null },
    { name: `payments: webhook payment_intent.succeeded, distinct users (${USERS})`, run: distinctRun(webhook, DISTINCT_FROM + USERS), target: null },
  ];
}
