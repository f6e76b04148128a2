// The console and the docs as the worker's side sees them. Requests here reach the worker directly
// (exports.default.fetch has no static-asset router in front), so this file checks the wiring that
// makes the deployed worker route correctly; tests/browser/routing.test.ts checks the routing itself
// against wrangler dev, and the other browser tests use the console in Chromium.
import { describe, expect, it } from 'vitest';
import headers from '../dist/web/_headers?raw';
import indexHtml from '../dist/web/index.html?raw';
import wranglerToml from '../wrangler.toml?raw';
import { call, expectProblem } from './helpers';

describe('web console wiring', () => {
  it('serves dist/web as static assets, with every /api path reserved for the worker', () => {
    const assets = wranglerToml.slice(wranglerToml.indexOf('[assets]'));
    expect(assets).toMatch(/^directory = "dist\/web"$/m);
    expect(assets).toMatch(/^run_worker_first = \["\/api\/\*"\]$/m);
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

  it('answers unknown /api paths with problem+json, not the console', async () => {
    await expectProblem(await call('/api/no-such-thing'), 404, 'NOT_FOUND');
    await expectProblem(await call('/api/exams', { method: 'PUT' }), 405, 'METHOD_NOT_ALLOWED');
  });

  it('serves the docs pages with a CSP and Swagger UI from this origin only', async () => {
    for (const path of ['/swagger', '/api/docs']) {
      const res = await call(path);
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
