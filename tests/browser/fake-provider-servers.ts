// The local providers of tests/fakes/ as Node HTTP servers, for the browser tests and the bench:
// the worker under `wrangler dev` reaches them through STRIPE_API_BASE / PORTONE_API_BASE, and the
// page's stub browser SDKs reach them through Playwright routes (no network either way).
import { createServer } from 'node:http';
import type { FakeHttp } from '../fakes/http';
import { FakePortOne } from '../fakes/portone';
import { FakeStripe } from '../fakes/stripe';

export { PORTONE_CHANNELS, PORTONE_SECRET, PORTONE_STORE, PORTONE_WEBHOOK_SECRET } from '../fakes/portone';
export { STRIPE_PUBLISHABLE, STRIPE_SECRET, STRIPE_WEBHOOK_SECRET } from '../fakes/stripe';

export async function startFake<F extends FakeHttp>(fake: F, port: number): Promise<{ fake: F; base: string; close: () => Promise<void> }> {
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

export const startFakeStripe = (port: number) => startFake(new FakeStripe(), port);
export const startFakePortOne = (port: number) => startFake(new FakePortOne(), port);
