import { describe, expect, it, vi } from 'vitest';
import headers from '../dist/web/_headers?raw';
import indexHtml from '../dist/web/index.html?raw';
import wranglerToml from '../wrangler.toml?raw';
import { expectProblem, openapiDoc, raw, withDatabaseDown, withVars } from './helpers';
import { scanOnly } from './log-guard';
import { db, sql } from './db';

describe('problem+json errors', () => {
  it('unknown route → 404 NOT_FOUND', async () => {
    await expectProblem(await raw('/api/nope'), 404, 'NOT_FOUND');
  });

  it('known path, wrong method → 405 METHOD_NOT_ALLOWED with Allow', async () => {
    const res = await raw('/api/users/signup', { method: 'GET' });
    expect(res.headers.get('allow')).toContain('POST');
    await expectProblem(res, 405, 'METHOD_NOT_ALLOWED');
    const withSlash = await raw('/api/users/me/', { method: 'DELETE' });
    await expectProblem(withSlash, 405, 'METHOD_NOT_ALLOWED');
  });

  it('malformed JSON → 400 INPUT_VALIDATION_ERROR', async () => {
    const res = await raw('/api/users/login', { rawBody: '{"email":', headers: { 'content-type': 'application/json' }, method: 'POST' });
    const body = await expectProblem(res, 400, 'INPUT_VALIDATION_ERROR');
    expect(body.errors).toHaveLength(1);
  });

  it('non-JSON body → 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    const res = await raw('/api/users/login', {
      rawBody: 'email=a&password=b',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      method: 'POST',
    });
    await expectProblem(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
    const noType = await raw('/api/users/login', { rawBody: '{"email":"a@b.c","password":"x"}', method: 'POST' });
    await expectProblem(noType, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('body over 64 KiB → 413 PAYLOAD_TOO_LARGE', async () => {
    const res = await raw('/api/users/signup', { body: { email: 'a@example.com', password: 'x'.repeat(70_000) } });
    await expectProblem(res, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('schema failures list each field in errors[]', async () => {
    const res = await raw('/api/users/signup', { body: { email: 'not-an-email', password: 'short' } });
    const body = await expectProblem(res, 400, 'INPUT_VALIDATION_ERROR');
    const paths = body.errors!.map((e) => e.path).sort();
    expect(paths).toEqual(['email', 'password']);
  });

  it('text with U+0000 is refused with 400 on every backend (Postgres cannot store it)', async () => {
    const body = { email: 'nul@example.com', password: 'correct horse battery', name: 'a\u0000b' };
    const res = await raw('/api/users/signup', { body });
    expect((await expectProblem(res, 400, 'INPUT_VALIDATION_ERROR')).errors).toEqual([
      { path: 'name', message: 'NUL characters (U+0000) are not allowed' },
    ]);
    expect(await db.value(sql`SELECT count(*) AS n FROM users WHERE email = ${'nul@example.com'}`, 'n')).toBe(0);
    const nested = await raw('/api/orders', { body: { customer_id: 1, items: [{ product_id: 1, quantity: 1, note: '\u0000' }] } });
    // The guard runs before any route's auth: without a token the answer is still this 400.
    expect((await expectProblem(nested, 400, 'INPUT_VALIDATION_ERROR')).errors![0]!.path).toBe('items.0.note');
    const query = await raw('/api/exams?search=a%00b');
    expect((await expectProblem(query, 400, 'INPUT_VALIDATION_ERROR')).errors![0]!.path).toBe('search');
    // An escaped backslash followed by "u0000" is ordinary text.
    const plain = await raw('/api/users/signup', { body: { ...body, email: 'plain@example.com', name: 'a\\u0000b' } });
    expect(plain.status).toBe(201);
  });

  it('deeply nested bodies are a 400, never a stack overflow (with or without a NUL inside)', async () => {
    for (const [open, close] of [
      ['[', ']'],
      ['{"a":', '}'],
    ] as const) {
      for (const inner of ['"\\u0000"', '"x"']) {
        const depth = 10_000;
        const rawBody = open.repeat(depth) + inner + close.repeat(depth);
        expect(rawBody.length).toBeLessThan(65_536);
        const res = await raw('/api/users/signup', { rawBody, headers: { 'content-type': 'application/json' } });
        const problem = await expectProblem(res, 400, 'INPUT_VALIDATION_ERROR');
        expect(problem.errors!.length).toBeGreaterThan(0);
      }
    }
  });

  it('detail is localised by Accept-Language (Korean texts of the original service)', async () => {
    const ko = await raw('/api/users/signup', { body: {}, headers: { 'accept-language': 'ko-KR,ko;q=0.9,en;q=0.5' } });
    expect((await expectProblem(ko, 400, 'INPUT_VALIDATION_ERROR')).detail).toBe('유효하지않은 입력입니다.');
    const ru = await raw('/api/users/me', { headers: { 'accept-language': 'ru' } });
    expect((await expectProblem(ru, 401, 'TOKEN_NOT_FOUND')).detail).toMatch(/[а-я]/);
    const fallback = await raw('/api/users/me', { headers: { 'accept-language': 'de-DE' } });
    expect((await expectProblem(fallback, 401, 'TOKEN_NOT_FOUND')).detail).toBe('Authentication credentials were not provided.');
  });

  it('an unexpected exception → 500 INTERNAL_ERROR with a request id and no internals', async () => {
    // Key derivation runs on every login (and in Postgres's SCRAM handshake): any backend fails here.
    const spy = vi.spyOn(crypto.subtle, 'deriveBits').mockImplementation(() => {
      throw new Error('SQLITE secret internals: SELECT * FROM users');
    });
    const log = vi.spyOn(console, 'error').mockImplementation(scanOnly);
    try {
      const res = await raw('/api/users/login', { body: { email: 'a@example.com', password: 'whatever1' } });
      const body = await expectProblem(res, 500, 'INTERNAL_ERROR');
      expect(body.instance).toBe(res.headers.get('x-request-id'));
      expect(JSON.stringify(body)).not.toMatch(/SQLITE|SELECT|stack/i);
      expect(log.mock.calls.flat().join(' ')).toContain(body.instance);
    } finally {
      spy.mockRestore();
      log.mockRestore();
    }
  });
});

describe('headers', () => {
  it('every response has X-Request-Id and security headers', async () => {
    const res = await raw('/health');
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    const err = await raw('/nope');
    expect(err.headers.get('x-request-id')).toBeTruthy();
    expect(err.headers.get('x-frame-options')).toBe('DENY');
  });

  it('CORS allows only the configured origins', async () => {
    const ok = await raw('/health', { headers: { origin: 'http://localhost:3000' } });
    expect(ok.headers.get('access-control-allow-origin')).toBe('http://localhost:3000');
    const bad = await raw('/health', { headers: { origin: 'https://evil.example' } });
    expect(bad.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await raw('/api/users/login', {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:3000', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
  });

  it('CORS allows any local dev port in local development only', async () => {
    const preflight = (origin: string) =>
      raw('/api/users/login', { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
    const allowed = async (origin: string) => (await preflight(origin)).headers.get('access-control-allow-origin');
    for (const origin of ['http://localhost:5173', 'http://127.0.0.1:4200', 'http://[::1]:8080']) expect(await allowed(origin), origin).toBe(origin);
    for (const origin of ['http://localhost.evil.example:5173', 'https://evil.example', 'http://localhost:5173.evil.example', 'null'])
      expect(await allowed(origin), origin).toBeNull();
    // Deployed (no LOCAL_DEVELOPMENT): only the configured list, which is empty unless set.
    await withVars({ LOCAL_DEVELOPMENT: 'false', CORS_ORIGINS: '' }, async () => {
      expect(await allowed('http://localhost:5173')).toBeNull();
      expect(await allowed('http://localhost:3000')).toBeNull();
    });
    await withVars({ LOCAL_DEVELOPMENT: 'false', CORS_ORIGINS: 'https://app.example.com, https://admin.example.com' }, async () => {
      expect(await allowed('https://admin.example.com')).toBe('https://admin.example.com');
      expect(await allowed('http://localhost:5173')).toBeNull();
    });
  });
});

describe('operations', () => {
  it('/health does a real D1 round trip', async () => {
    const res = await raw('/health');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', database: 'ok' });
  });

  it('/health answers 503 when the database fails', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(scanOnly);
    try {
      await withDatabaseDown(async () => expectProblem(await raw('/health'), 503, 'SERVICE_UNAVAILABLE'));
    } finally {
      log.mockRestore();
    }
  });

  it('trailing slash is optional', async () => {
    expect((await raw('/health/')).status).toBe(200);
  });

  it('/openapi.json is OpenAPI 3.1 with bearer security and error responses', async () => {
    const doc = await openapiDoc();
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    const me = doc.paths['/api/users/me']!.get!;
    expect(me.security).toEqual([{ bearerAuth: [] }]);
    expect(Object.keys(me.responses)).toEqual(expect.arrayContaining(['200', '401', '500']));
    // Every operation documents its errors as problem+json.
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const errors = Object.keys(op.responses).filter((s) => Number(s) >= 400);
        expect(errors.length, `${method} ${path}`).toBeGreaterThan(0);
        for (const s of errors) expect(op.responses[s]!.content?.['application/problem+json'], `${method} ${path} ${s}`).toBeTruthy();
      }
    }
  });

  it('Swagger UI is served at /swagger and /api/docs from this origin only, under a CSP', async () => {
    for (const path of ['/swagger', '/api/docs']) {
      const res = await raw(path);
      expect(res.status).toBe(200);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("connect-src 'self'");
      expect(csp).not.toMatch(/unsafe-|https?:/);
      const html = await res.text();
      expect(html).toContain('<script src="/swagger-ui/swagger-ui-bundle.js">');
      expect(html).toContain('data-url="/openapi.json"');
      expect(html).not.toMatch(/<script>|https?:\/\//);
    }
  });
});

// Requests here reach the worker directly (exports.default.fetch has no static-asset router in
// front), so this checks the wiring that makes the deployed worker route correctly;
// tests/browser/routing.test.ts checks the routing itself against wrangler dev.
describe('web console wiring', () => {
  it('serves dist/web as static assets, with every /api path reserved for the worker', () => {
    const assets = wranglerToml.slice(wranglerToml.indexOf('[assets]'));
    expect(assets).toMatch(/^directory = "dist\/web"$/m);
    expect(assets).toMatch(/^run_worker_first = \["\/api\/\*", "\/health", "\/health\/\*", "\/openapi.json"\]$/m);
    // No single-page-application fallback: a missing file is the worker's (problem+json) 404.
    expect(assets).not.toContain('not_found_handling');
    expect(wranglerToml).toMatch(/\[build\]\ncommand = "node scripts\/build-web.mjs"/);
  });

  it('builds a console page that loads only its own files, under a strict CSP', () => {
    expect(indexHtml).toContain('<script src="/app.js" type="module">');
    expect(indexHtml).not.toMatch(/<script>|<style|style=|https?:\/\//);
    const csp = headers.match(/Content-Security-Policy: (.*)/)?.[1] ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/unsafe-|https?:|\*/);
  });
});

describe('the suite itself', () => {
  it('never leaves the machine: a fetch to a public host fails at once without DNS (tests/offline.ts)', async () => {
    await expect(fetch('https://device.example.com/x', { method: 'POST', body: '{}' })).rejects.toThrow(/not reachable from the test suite/);
    await expect(fetch('https://api.stripe.com/v1/payment_intents')).rejects.toBeInstanceOf(TypeError);
  });
});
