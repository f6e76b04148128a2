// Global setup of both suites (vitest.config.ts), in Node: the Twilio fake (tests/fakes/twilio.ts)
// served over real HTTP on 127.0.0.1, so the worker's Twilio provider makes a real request (its own
// form encoding, headers and Basic auth on the wire) to a local server that checks them and answers
// with Twilio's documented bodies. Tests read `twilioBase` with inject(). Besides Twilio's path, the
// server answers two test-only paths, keyed by the recipient so test files running side by side
// never see each other's messages: GET /_sent?to=<E.164> (the messages accepted for that number)
// and POST /_fail {to, status, code, message} (answer that number with a Twilio error from now on).
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestProject } from 'vitest/node';
import { fakeTwilio } from './twilio';

declare module 'vitest' {
  export interface ProvidedContext {
    twilioBase: string;
  }
}

async function bodyOf(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export default async function setup(project: TestProject) {
  const fake = fakeTwilio();
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const body = await bodyOf(req);
    let answer: Response;
    if (url.pathname === '/_sent') {
      answer = Response.json(fake.sent.filter((m) => m.to === url.searchParams.get('to')));
    } else if (url.pathname === '/_fail' && req.method === 'POST') {
      const f = JSON.parse(body.toString('utf8')) as { to: string; status: number; code: number; message: string };
      fake.state.failFor.set(f.to, f);
      answer = new Response(null, { status: 204 });
    } else {
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
      answer = await fake.handler(new Request(url, { method: req.method, headers, body: req.method === 'GET' ? undefined : body }));
    }
    res.writeHead(answer.status, Object.fromEntries(answer.headers));
    res.end(Buffer.from(await answer.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  project.provide('twilioBase', `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}
