// How the deployed worker routes, checked over HTTP against wrangler dev: static assets answer the
// console's files with their security headers, and every /api path still reaches the worker (its
// problem+json 404/405), since `run_worker_first` lists `/api/*`. The workerd suite (npm test) cannot
// see this: there exports.default.fetch calls the worker directly, without the asset router.
import { describe, expect, it } from 'vitest';
import { BASE } from './harness';

const get = (path: string, init?: RequestInit) => fetch(BASE + path, { redirect: 'manual', ...init });

describe('routing between static assets and the worker', () => {
  it('serves the console at / with a strict Content-Security-Policy', async () => {
    const res = await get('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    const html = await res.text();
    expect(html).toContain('<script src="/app.js" type="module">');
    expect(html).not.toMatch(/<script>|<style|style="|https?:\/\//);
  });

  it('serves the bundles from the same origin', async () => {
    for (const [path, type] of [
      ['/app.js', 'javascript'],
      ['/app.css', 'text/css'],
      ['/swagger-ui/swagger-ui-bundle.js', 'javascript'],
      ['/swagger-ui/init.js', 'javascript'],
    ]) {
      const res = await get(path!);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type'), path).toContain(type);
    }
  });

  it('keeps every /api path for the API: unknown paths are problem+json 404, wrong methods 405', async () => {
    const missing = await get('/api/no-such-route');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toContain('application/problem+json');
    expect((await missing.json()).code).toBe('NOT_FOUND');
    const method = await get('/api/users/login');
    expect(method.status).toBe(405);
    expect((await method.json()).code).toBe('METHOD_NOT_ALLOWED');
    // Not a file either: other paths fall through to the worker too.
    const other = await get('/no-such-page');
    expect(other.status).toBe(404);
    expect(other.headers.get('content-type')).toContain('application/problem+json');
  });

  it('serves the docs pages from the worker, with their own CSP and only local files', async () => {
    expect(await (await get('/api/docs')).text()).toBe(await (await get('/swagger')).text());
    for (const path of ['/swagger', '/api/docs']) {
      const res = await get(path);
      expect(res.status, path).toBe(200);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      const html = await res.text();
      expect(html).toContain('/swagger-ui/swagger-ui-bundle.js');
      expect(html).not.toMatch(/https?:\/\//);
    }
  });
});
