// HTTP fixtures: every test talks to the worker through exports.default.fetch.
import { env, exports } from 'cloudflare:workers';
import { expect, vi } from 'vitest';
import { db, sql } from './db';

export const BASE = 'http://api.test';
let counter = 0;

export function uniq(prefix = 'u'): string {
  counter += 1;
  return `${prefix}${Date.now().toString(36)}${counter}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/** A random client address, so signup/login limits of one test do not leak into another. */
export function randomIp(): string {
  const b = crypto.getRandomValues(new Uint8Array(3));
  return `10.${b[0]}.${b[1]}.${b[2]}`;
}

export interface CallOptions {
  method?: string;
  body?: unknown;
  token?: string;
  headers?: Record<string, string>;
  rawBody?: BodyInit;
}

export async function call(path: string, opts: CallOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: BodyInit | undefined = opts.rawBody;
  if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] ??= 'application/json';
  }
  return exports.default.fetch(new Request(BASE + path, { method: opts.method ?? (body !== undefined ? 'POST' : 'GET'), headers, body }));
}

export async function json<T = any>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

/** Asserts a problem+json answer with the given status and code, and returns its body. */
export async function expectProblem(res: Response, status: number, code: string): Promise<any> {
  const body = await res.json<any>();
  expect({ status: res.status, code: body.code }).toEqual({ status, code });
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  expect(body.status).toBe(status);
  expect(typeof body.detail).toBe('string');
  expect(body.type).toBe(`https://errors.example/${code}`);
  return body;
}

export const PASSWORD = 'correct horse battery staple';

export interface TestUser {
  id: number;
  email: string;
  access: string;
  refresh: string;
  user: any;
}

export async function signup(fields: Record<string, unknown> = {}): Promise<any> {
  const res = await call('/api/users/signup', {
    body: { email: `${uniq()}@example.com`, password: PASSWORD, ...fields },
    headers: { 'cf-connecting-ip': randomIp() },
  });
  expect(res.status).toBe(201);
  return res.json();
}

export async function login(credentials: Record<string, unknown>): Promise<Response> {
  return call('/api/users/login', { body: credentials, headers: { 'cf-connecting-ip': randomIp() } });
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
  const res = await login({ email, password: PASSWORD });
  expect(res.status).toBe(200);
  const body = await res.json<any>();
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
export async function requestPhoneCode(phone: string, ip = randomIp()): Promise<any> {
  const res = await call('/api/users/phone/login', { body: { phone }, headers: { 'cf-connecting-ip': ip } });
  expect(res.status).toBe(200);
  return res.json();
}

export async function verifyPhone(token: string, code: string, ip?: string): Promise<Response> {
  return call(`/api/users/phone/verify/${token}`, { body: { confirm_code: code }, headers: ip ? { 'cf-connecting-ip': ip } : {} });
}

/** A logged-in phone user (signs up on first verify). */
export async function phoneUser(phone = randomPhone()): Promise<{ phone: string; access: string; refresh: string; user: any }> {
  const sent = await requestPhoneCode(phone);
  const res = await verifyPhone(sent.verification_token, sent.dev_code);
  expect(res.status).toBe(200);
  const body = await res.json<any>();
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
