// HTTP fixtures: every test talks to the worker through the typed client of ./client (or its `raw`
// path for malformed requests).
import { env } from 'cloudflare:workers';
import type { InferRequestType, InferResponseType } from 'hono/client';
import { expect, vi } from 'vitest';
import type { z } from 'zod';
import type { ProblemSchema } from '../src/lib/problem';
import { api, bodyOf, fromIp, randomIp, raw } from './client';
import { db, sql } from './db';

export { api, authed, BASE, type BodyOf, bodyOf, fromIp, health, randomIp, raw } from './client';
let counter = 0;

export function uniq(prefix = 'u'): string {
  counter += 1;
  return `${prefix}${Date.now().toString(36)}${counter}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

export type Problem = z.infer<typeof ProblemSchema>;

/** Asserts a problem+json answer with the given status and code, and returns its body. */
export async function expectProblem(
  res: { status: number; headers: Headers; json(): Promise<unknown> },
  status: number,
  code: string,
): Promise<Problem> {
  const body = (await res.json()) as Problem;
  expect({ status: res.status, code: body.code }).toEqual({ status, code });
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  expect(body.status).toBe(status);
  expect(typeof body.detail).toBe('string');
  expect(body.type).toBe(`https://errors.example/${code}`);
  return body;
}

/** The parts of /openapi.json the tests read (a loose view: operations by path, then method). */
export interface OpenApiDoc {
  openapi: string;
  components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> };
  paths: Record<string, Record<string, OpenApiOperation>>;
}
export interface OpenApiOperation {
  operationId?: string;
  security?: unknown[];
  responses: Record<string, { description: string; content?: Record<string, { schema?: unknown }> }>;
}

/** The document the worker serves. */
export async function openapiDoc(): Promise<OpenApiDoc> {
  return (await raw('/openapi.json')).json();
}

export const PASSWORD = 'correct horse battery staple';

export type User = InferResponseType<typeof api.users.me.$get, 200>;
type SignupJson = InferRequestType<typeof api.users.signup.$post>['json'];
type LoginJson = InferRequestType<typeof api.users.login.$post>['json'];

export interface TestUser {
  id: number;
  email: string;
  access: string;
  refresh: string;
  user: User;
}

/**
 * Signs up a fresh user (a random email unless given; `email: undefined` drops it) and returns the
 * 201 body. Privilege fields are allowed here: the tests check the server ignores them.
 */
export async function signup(fields: Partial<SignupJson> & { is_staff?: boolean; is_superuser?: boolean; is_active?: boolean } = {}) {
  const res = await api.users.signup.$post({ json: { email: `${uniq()}@example.com`, password: PASSWORD, ...fields } }, fromIp());
  return bodyOf(res, 201);
}

/** Logs in from a fresh client address; the typed response, unchecked. */
export async function login(credentials: LoginJson) {
  return api.users.login.$post({ json: credentials }, fromIp());
}

/** Signs up and logs in a fresh user; `staff`/`superuser` are set directly in D1. */
export async function createUser(opts: { staff?: boolean; superuser?: boolean } = {}): Promise<TestUser> {
  const email = `${uniq()}@example.com`;
  const created = await signup({ email });
  if (opts.staff || opts.superuser) {
    await db.run(
      sql`UPDATE users SET is_staff = ${opts.staff || opts.superuser ? 1 : 0}, is_superuser = ${opts.superuser ? 1 : 0} WHERE id = ${created.id}`,
    );
  }
  const body = await bodyOf(await login({ email, password: PASSWORD }), 200);
  return { id: created.id, email, access: body.token.access, refresh: body.token.refresh, user: body.user };
}

/** Runs fn with some [vars] overridden on the live env (config() reads them per request). */
export async function withVars<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const target = env as unknown as Record<string, unknown>;
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, target[k]]));
  Object.assign(target, vars);
  try {
    return await fn();
  } finally {
    Object.assign(target, saved);
  }
}

/** A valid, random Korean mobile number in national notation (010-xxxx-xxxx). */
export function randomPhone(): string {
  // 010-[2-4]xxx-xxxx: libphonenumber's full metadata refuses some other Korean mobile ranges
  // (010-0…, 010-1…, parts of 010-59…), which made the old generator fail about once in 200.
  const n = 20_000_000 + (crypto.getRandomValues(new Uint32Array(1))[0]! % 30_000_000);
  const s = n.toString();
  return `010-${s.slice(0, 4)}-${s.slice(4)}`;
}

/** Requests a code for a phone from a fresh address and returns the 200 body. */
export async function requestPhoneCode(phone: string, ip = randomIp()) {
  const body = await bodyOf(await api.users.phone.login.$post({ json: { phone } }, fromIp(ip)), 200);
  // The tests' SMS provider is the console one, which answers the code (the schema has it optional).
  return body as typeof body & { dev_code: string };
}

/** Sends a confirmation code (the token in the body, as clients should); the typed response, unchecked. */
export async function verifyPhone(token: string, code: string, ip?: string) {
  return api.users.phone.verify.$post({ json: { verification_token: token, confirm_code: code } }, ip ? fromIp(ip) : {});
}

/** A logged-in phone user (signs up on first verify). */
export async function phoneUser(phone = randomPhone()): Promise<{ phone: string; access: string; refresh: string; user: User }> {
  const sent = await requestPhoneCode(phone);
  const body = await bodyOf(await verifyPhone(sent.verification_token, sent.dev_code), 200);
  return { phone: sent.phone, access: body.token.access, refresh: body.token.refresh, user: body.user };
}

/**
 * An env with some bindings replaced (e.g. a Durable Object's queue): defineProperty on a child
 * object, not assignment, which an inherited setter would write through to the shared env.
 */
export function scopedEnv<E extends object>(base: E, replace: Record<string, unknown>): E {
  const scoped = Object.create(base) as E;
  for (const [key, value] of Object.entries(replace)) Object.defineProperty(scoped, key, { value, enumerable: true });
  return scoped;
}

/**
 * Runs `fn` while the database does not answer: on Postgres a database that does not exist (the
 * connection itself fails), on D1 sessions whose every query throws (every query runs in a session).
 */
export async function withDatabaseDown<T>(fn: () => Promise<T>): Promise<T> {
  if (env.DB_BACKEND === 'postgres') return withVars({ PG_DATABASE: 'edge_no_such_database' }, fn);
  const down = () => {
    throw new Error('D1 down');
  };
  const spy = vi.spyOn(env.DB, 'withSession').mockImplementation(() => ({ prepare: down, batch: down, getBookmark: () => null }));
  try {
    return await fn();
  } finally {
    spy.mockRestore();
  }
}
