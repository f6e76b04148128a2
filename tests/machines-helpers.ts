// Fixtures for the machine tests: machines, commands, polling, and a stubbed device controller.
import { expect } from 'vitest';
import { call, json } from './helpers';

export const DEVICE = 'https://device.example.com';

export async function newMachine(token: string, body: Record<string, unknown> = {}) {
  const res = await call('/api/machines', { token, body: { name: 'Press', location: 'Hall A', ...body } });
  expect(res.status).toBe(201);
  return json(res);
}

export async function command(token: string, id: number, cmd: string): Promise<Response> {
  return call(`/api/machines/${id}/operation`, { token, body: { command: cmd } });
}

/** Sends a command, expects 202, and returns the PENDING operation with its Location. */
export async function accepted(token: string, id: number, cmd: string) {
  const res = await command(token, id, cmd);
  expect(res.status).toBe(202);
  const op = await json(res);
  expect(op).toMatchObject({ machine_id: id, command: cmd, result: 'PENDING', completed_at: null });
  return { ...op, location: res.headers.get('location')! };
}

/** Polls the operation (the 202's Location) until it is no longer PENDING. */
export async function waitDone(token: string, location: string, timeoutMs = 15_000) {
  const started = Date.now();
  for (;;) {
    const res = await call(new URL(location).pathname, { token });
    expect(res.status).toBe(200);
    const op = await json(res);
    if (op.result !== 'PENDING') return op;
    if (Date.now() - started > timeoutMs) throw new Error(`operation still PENDING: ${JSON.stringify(op)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function run(token: string, id: number, cmd: string) {
  const op = await accepted(token, id, cmd);
  return waitDone(token, op.location);
}

export async function machine(token: string, id: number) {
  return json(await call(`/api/machines/${id}`, { token }));
}

export interface ControllerCall {
  url: string;
  body: { operation_id: number; machine_id: number; command: string };
  headers: Headers;
}

/**
 * Replaces globalThis.fetch for DEVICE URLs (the worker runs in the test's isolate, so the queue
 * consumer sees the stub); every other URL goes to the real fetch. Returns the calls and a restore.
 */
export function stubController(handler: (call: ControllerCall, init: RequestInit | undefined) => Promise<Response> | Response) {
  const original = globalThis.fetch;
  const calls: ControllerCall[] = [];
  globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = input instanceof Request ? input.url : String(input);
    if (!url.startsWith(DEVICE)) return original(input, init);
    const c = { url, body: JSON.parse(String(init?.body)), headers: new Headers(init?.headers) };
    calls.push(c);
    // Like the real fetch, give up when the caller's signal (the consumer's timeout) fires.
    const signal = init?.signal;
    const aborted = new Promise<never>((_, reject) => {
      if (signal?.aborted) reject(signal.reason);
      signal?.addEventListener('abort', () => reject(signal.reason));
    });
    aborted.catch(() => {}); // the timeout fires later even when the handler answered first
    return Promise.race([Promise.resolve(handler(c, init)), aborted]);
  }) as typeof fetch;
  return { calls, restore: () => void (globalThis.fetch = original) };
}

/** A promise with its resolve function, to hold a controller call open. */
export function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
