// Fixtures for the machine tests: machines, commands, polling, and a stubbed device controller.
import type { InferRequestType, InferResponseType } from 'hono/client';
import { expect } from 'vitest';
import { api, authed, bodyOf, raw } from './helpers';

export const DEVICE = 'https://device.example.com';

type MachineJson = InferRequestType<typeof api.machines.$post>['json'];
export type Command = InferRequestType<(typeof api.machines)[':id']['operation']['$post']>['json']['command'];
export type Operation = InferResponseType<(typeof api.machines)[':id']['operations'][':operation_id']['$get'], 200>;

export async function newMachine(token: string, body: Partial<MachineJson> = {}) {
  return bodyOf(await api.machines.$post({ json: { name: 'Press', location: 'Hall A', ...body } }, authed(token)), 201);
}

/** Sends a command, typed or not (tests send unknown ones too); the raw response. */
export async function command(token: string, id: number, cmd: string): Promise<Response> {
  return raw(`/api/machines/${id}/operation`, { token, body: { command: cmd } });
}

/** Sends a command, expects 202, and returns the PENDING operation with its Location. */
export async function accepted(token: string, id: number, cmd: Command) {
  const res = await api.machines[':id'].operation.$post({ param: { id: String(id) }, json: { command: cmd } }, authed(token));
  const op = await bodyOf(res, 202);
  expect(op).toMatchObject({ machine_id: id, command: cmd, result: 'PENDING', completed_at: null });
  return { ...op, location: res.headers.get('location')! };
}

/** Polls the operation (the 202's Location) until it is no longer PENDING. */
export async function waitDone(token: string, location: string, timeoutMs = 15_000): Promise<Operation> {
  const started = Date.now();
  for (;;) {
    const res = await raw(new URL(location).pathname, { token });
    expect(res.status).toBe(200);
    const op: Operation = await res.json();
    if (op.result !== 'PENDING') return op;
    if (Date.now() - started > timeoutMs) throw new Error(`operation still PENDING: ${JSON.stringify(op)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function run(token: string, id: number, cmd: Command) {
  const op = await accepted(token, id, cmd);
  return waitDone(token, op.location);
}

export async function machine(token: string, id: number) {
  return bodyOf(await api.machines[':id'].$get({ param: { id: String(id) } }, authed(token)), 200);
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
