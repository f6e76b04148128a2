// Fixtures for the webhook tests: endpoints, a stubbed receiver, polling.
import type { InferRequestType } from 'hono/client';
import { expect } from 'vitest';
import { api, authed, bodyOf } from './helpers';

export const HOOKS = 'https://hooks.example.com';

type EndpointJson = InferRequestType<(typeof api)['webhook-endpoints']['$post']>['json'];

export async function newEndpoint(token: string, body: Partial<EndpointJson> = {}) {
  return bodyOf(
    await api['webhook-endpoints'].$post({ json: { url: `${HOOKS}/${crypto.randomUUID()}`, events: ['*'], ...body } }, authed(token)),
    201,
  );
}

export interface Received {
  url: string;
  body: string;
  headers: Record<string, string>;
  at: number;
}

/**
 * Replaces globalThis.fetch for HOOKS URLs (the worker runs in the test's isolate, so the queue
 * consumer sees the stub); every other URL goes to the real fetch. `handler` answers each request
 * (a promise that never settles hangs until the sender's timeout aborts it).
 */
export function stubReceiver(handler: (r: Received) => Promise<Response> | Response = () => new Response(null, { status: 204 })) {
  const original = globalThis.fetch;
  const received: Received[] = [];
  globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = input instanceof Request ? input.url : String(input);
    if (!url.startsWith(HOOKS)) return original(input, init);
    const r = { url, body: String(init?.body), headers: Object.fromEntries(new Headers(init?.headers)), at: Date.now() };
    received.push(r);
    const signal = init?.signal;
    const aborted = new Promise<never>((_, reject) => {
      if (signal?.aborted) reject(signal.reason);
      signal?.addEventListener('abort', () => reject(signal.reason));
    });
    aborted.catch(() => {});
    return Promise.race([Promise.resolve(handler(r)), aborted]);
  }) as typeof fetch;
  return { received, restore: () => void (globalThis.fetch = original) };
}

/** Polls `probe` until it returns a value that is not undefined/false. */
export async function eventually<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() - started > timeoutMs) expect.fail('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The events a receiver got for one endpoint URL, parsed. */
export function eventsAt(received: Received[], url: string) {
  return received
    .filter((r) => r.url === url)
    .map((r) => ({ ...r, event: JSON.parse(r.body) as { id: string; type: string; created_at: string; data: { object: Record<string, unknown> } } }));
}
