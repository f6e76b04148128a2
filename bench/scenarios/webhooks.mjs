// Event webhooks (issue 25): what the outbox costs an apply, and how fast deliveries flow to a local
// receiver. Two apply rows on one seed, alike but for the subscribers: users without endpoints, and
// users with 3 endpoints each subscribed to payment.paid (the outbox is one more statement in the
// apply's batch either way: the event row is written whoever listens; the fan-out happens after the
// response). Then the delivery row: every event of the second apply row must reach the receiver; its
// latencies are from the event's created_at to its arrival, its rate the deliveries per second.
// The receiver is an HTTP server in this process on 127.0.0.1, so the bench server runs with
// ALLOW_INSECURE_CONTROLLER_URLS=true (bench/run.mjs). Needs the seeded users user7000..user7199.
import { createServer } from 'node:http';

const USERS = 100;
const EXAMS = 10;
const PRICE = 10_000;
const ENDPOINTS_PER_USER = 3;

async function freshExams(ctx, n, tag) {
  const now = Date.now();
  const ids = [];
  for (let i = 0; i < n; i++) {
    const res = await ctx.fetchJson('/api/exams', {
      method: 'POST',
      token: ctx.staffToken,
      body: {
        title: `Bench webhooks ${tag} ${now}-${i}`,
        price: PRICE,
        start_at: new Date(now - 3600_000).toISOString(),
        end_at: new Date(now + 86_400_000).toISOString(),
      },
    });
    if (res.status !== 201) throw new Error(`creating a bench exam failed: ${res.status}`);
    ids.push(res.body.id);
  }
  return ids;
}

/** A receiver counting deliveries: latency from the event's created_at to its arrival. */
function receiver() {
  const arrivals = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      try {
        arrivals.push({ at: Date.now(), created: Date.parse(JSON.parse(body).created_at) });
      } catch {
        // not an event
      }
      res.writeHead(204).end();
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ arrivals, port: server.address().port, close: () => server.close() })),
  );
}

function applyRow(name, tokens, exams) {
  let k = 0;
  const body = JSON.stringify({ amount: PRICE, payment_method: 'card' });
  return {
    name,
    path: `/api/exams/${exams[0]}/apply`,
    method: 'POST',
    body: { amount: PRICE, payment_method: 'card' },
    amount: tokens.length * exams.length,
    setupRequest(req) {
      const n = k++;
      const exam = exams[Math.floor(n / tokens.length) % exams.length];
      return { ...req, path: `/api/exams/${exam}/apply`, body, headers: { ...req.headers, authorization: `Bearer ${tokens[n % tokens.length]}` } };
    },
  };
}

export default async function webhooks(ctx) {
  const plain = await ctx.userTokens(USERS, 7000);
  const subscribed = await ctx.userTokens(USERS, 7100);
  const sink = await receiver();
  for (const token of subscribed) {
    for (let e = 0; e < ENDPOINTS_PER_USER; e++) {
      const res = await ctx.fetchJson('/api/webhook-endpoints', {
        method: 'POST',
        token,
        body: { url: `http://127.0.0.1:${sink.port}/hook/${e}`, events: ['payment.paid'] },
      });
      if (res.status !== 201 && res.status !== 409) throw new Error(`creating an endpoint failed: ${res.status} (ALLOW_INSECURE_CONTROLLER_URLS?)`);
    }
  }
  const [examsPlain, examsSubscribed] = [await freshExams(ctx, EXAMS, 'plain'), await freshExams(ctx, EXAMS, 'subscribed')];
  const expected = USERS * EXAMS * ENDPOINTS_PER_USER;
  return [
    applyRow('POST /api/exams/{id}/apply, no webhook endpoints', plain, examsPlain),
    applyRow(`POST /api/exams/{id}/apply, ${ENDPOINTS_PER_USER} webhook endpoints per user`, subscribed, examsSubscribed),
    {
      name: `webhook deliveries to a local receiver (${expected} events; latency = event created → received)`,
      run: async () => {
        const started = Date.now();
        // The sweep runs every minute: wait up to 3 minutes for every delivery of the row above.
        while (sink.arrivals.length < expected && Date.now() - started < 180_000) await new Promise((r) => setTimeout(r, 200));
        sink.close();
        const first = Math.min(...sink.arrivals.map((a) => a.created));
        const last = Math.max(...sink.arrivals.map((a) => a.at));
        return {
          latencies: sink.arrivals.map((a) => a.at - a.created),
          errors: expected - sink.arrivals.length,
          seconds: Math.max(0.001, (last - first) / 1000),
        };
      },
    },
  ];
}
