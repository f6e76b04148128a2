// Headers integrators' HTTP stacks rely on: caching, CORS exposure, conditional requests.
import { describe, expect, it } from 'vitest';
import { createItem } from './catalog-helpers';
import { api, authed, bodyOf, createUser, fromIp, phoneUser, raw, randomPhone, type requestPhoneCode, uniq } from './helpers';

describe('Cache-Control', () => {
  it('responses with tokens are no-store (login, refresh, phone verify, signup)', async () => {
    const email = `${uniq()}@example.com`;
    const password = 'correct horse battery staple';
    const signup = await api.users.signup.$post({ json: { email, password } }, fromIp());
    expect(signup.status).toBe(201);
    expect(signup.headers.get('cache-control')).toBe('no-store');
    const login = await api.users.login.$post({ json: { email, password } }, fromIp());
    expect(login.headers.get('cache-control')).toBe('no-store');
    const { token } = await bodyOf(login, 200);
    const refresh = await api.users.refresh.$post({ json: { refresh: token.refresh } });
    expect(refresh.status).toBe(200);
    expect(refresh.headers.get('cache-control')).toBe('no-store');
    // phoneUser asserts its own statuses; the verify answer is checked here.
    const sent = await api.users.phone.login.$post({ json: { phone: randomPhone() } }, fromIp());
    expect(sent.headers.get('cache-control')).toBe('no-store');
    // The tests' SMS provider is the console one, which answers the code (the schema has it optional).
    const { verification_token, dev_code } = (await bodyOf(sent, 200)) as Awaited<ReturnType<typeof requestPhoneCode>>;
    const verify = await api.users.phone.verify[':verification_token'].$post({ param: { verification_token }, json: { confirm_code: dev_code } });
    expect(verify.status).toBe(200);
    expect(verify.headers.get('cache-control')).toBe('no-store');
  });

  it('authenticated reads are no-store, the catalog too (its items carry the caller’s is_registered)', async () => {
    const user = await createUser();
    const exam = await createItem('exams');
    for (const path of ['/api/users/me', '/api/exams', `/api/exams/${exam.id}`, '/api/me/payments', '/api/profile']) {
      const res = await raw(path, { token: user.access });
      expect({ path, status: res.status, cache: res.headers.get('cache-control') }).toEqual({ path, status: 200, cache: 'no-store' });
    }
    const phone = await phoneUser();
    const profile = await api.profile.$get(undefined, authed(phone.access));
    expect({ status: profile.status, cache: profile.headers.get('cache-control') }).toEqual({ status: 200, cache: 'no-store' });
  });

  it('errors and /health are no-store', async () => {
    for (const [path, status] of [
      ['/api/users/me', 401],
      ['/api/nope', 404],
      ['/health', 200],
    ] as const) {
      const res = await raw(path);
      expect({ path, status: res.status, cache: res.headers.get('cache-control') }).toEqual({ path, status, cache: 'no-store' });
    }
  });

  it('/openapi.json is no-cache with an ETag, and an unchanged document is a 304 without a body', async () => {
    const first = await raw('/openapi.json');
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toBe('no-cache');
    const tag = first.headers.get('etag');
    expect(tag).toMatch(/^(W\/)?"[^"]+"$/);
    const again = await raw('/openapi.json', { headers: { 'if-none-match': tag! } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    expect(again.headers.get('cache-control')).toBe('no-cache');
    const stale = await raw('/openapi.json', { headers: { 'if-none-match': '"stale"' } });
    expect(stale.status).toBe(200);
  });
});

describe('CORS', () => {
  it('exposes Idempotent-Replayed and the rate-limit headers to browser code', async () => {
    const res = await raw('/health', { headers: { origin: 'http://localhost:3000' } });
    const exposed = (res.headers.get('access-control-expose-headers') ?? '').split(',').map((h) => h.trim().toLowerCase());
    for (const h of ['idempotent-replayed', 'retry-after', 'ratelimit', 'ratelimit-policy', 'x-request-id', 'location']) expect(exposed).toContain(h);
  });
});
