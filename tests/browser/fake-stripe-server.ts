// The local Stripe of tests/fakes/stripe.ts as a Node HTTP server, for the browser test: the worker
// under `wrangler dev` reaches it through STRIPE_API_BASE, and the page's stub Stripe.js reaches it
// through a Playwright route for https://api.stripe.com (no network either way).
import { createServer } from 'node:http';
import { FakeStripe } from '../fakes/stripe';

export { STRIPE_PUBLISHABLE, STRIPE_SECRET, STRIPE_WEBHOOK_SECRET } from '../fakes/stripe';

export async function startFakeStripe(port: number): Promise<{ fake: FakeStripe; base: string; close: () => Promise<void> }> {
  const fake = new FakeStripe();
  const base = `http://127.0.0.1:${port}`;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
      const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : Buffer.concat(chunks);
      void fake
        .handle(new Request(base + (req.url ?? '/'), { method: req.method, headers, body }))
        .then(async (answer) => {
          res.writeHead(answer.status, Object.fromEntries(answer.headers));
          res.end(Buffer.from(await answer.arrayBuffer()));
        })
        .catch((err: unknown) => {
          res.writeHead(500);
          res.end(String(err));
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { fake, base, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
