// The typed test client: Hono's RPC client `hc<AppType>` (src/app-type.ts) bound to the worker under
// test, so request bodies and response bodies are typed from the routes' zod schemas. Requests that
// must be malformed on purpose (hostile inputs, bad JSON, wrong content types) go through `raw`,
// whose bodies are `unknown`.
import { exports } from 'cloudflare:workers';
import { type ClientRequestOptions, type ClientResponse, hc } from 'hono/client';
import { expect } from 'vitest';
import type { AppType } from '../src/app-type';

export const BASE = 'http://api.test';

/** Every request goes straight to the worker's fetch handler (no network). */
const workerFetch: typeof fetch = (input, init) => exports.default.fetch(new Request(input, init));

/** The API's routes as properties: `api.users.signup.$post({ json })`, `api.exams[':id'].$get({ param })`. */
export const api = hc<AppType>(BASE, { fetch: workerFetch }).api;

/** The routes outside /api: `health.$get()` (liveness), `health.ready.$get()` (readiness). */
export const health = hc<AppType>(BASE, { fetch: workerFetch }).health;

/** A random client address, so signup/login limits of one test do not leak into another. */
export function randomIp(): string {
  const b = crypto.getRandomValues(new Uint8Array(3));
  return `10.${b[0]}.${b[1]}.${b[2]}`;
}

/** Request options that authenticate with `token` (a bearer access token), plus any extra headers. */
export function authed(token: string, headers: Record<string, string> = {}): ClientRequestOptions {
  return { headers: { authorization: `Bearer ${token}`, ...headers } };
}

/** Request options from a client address (a fresh random one unless given). */
export function fromIp(ip = randomIp()): ClientRequestOptions {
  return { headers: { 'cf-connecting-ip': ip } };
}

type AnyClientResponse = ClientResponse<unknown, number, 'json' | 'text' | 'redirect'>;
/** The JSON body one status of a typed response carries (never when the route does not document it). */
export type BodyOf<R, S extends number> = R extends ClientResponse<infer T, infer U, 'json'> ? (U extends S ? T : never) : never;

/** Asserts the status and returns the body, typed by the route's schema for that status. */
export async function bodyOf<R extends AnyClientResponse, S extends R['status']>(res: R, status: S): Promise<BodyOf<R, S>> {
  expect(res.status).toBe(status);
  return (await res.json()) as BodyOf<R, S>;
}

export interface RawOptions {
  method?: string;
  body?: unknown;
  token?: string;
  headers?: Record<string, string>;
  rawBody?: BodyInit;
}

/**
 * An untyped request, for what the typed client cannot (or must not) send: hostile or malformed
 * bodies, unknown paths, hand-built query strings. Read its body with `await res.json()`: `unknown`.
 */
export async function raw(path: string, opts: RawOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: BodyInit | undefined = opts.rawBody;
  if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] ??= 'application/json';
  }
  return exports.default.fetch(new Request(BASE + path, { method: opts.method ?? (body !== undefined ? 'POST' : 'GET'), headers, body }));
}
