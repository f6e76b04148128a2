// The interactive docs work with no network: every request that leaves the loopback interface is
// blocked, and Swagger UI still loads from the worker and renders every operation of /openapi.json,
// without breaking the page's Content-Security-Policy.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE, expectClean, launch, openPage } from './harness';

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

// /api/docs serves the same page (routing.test.ts compares the two).
describe('Swagger UI offline', () => {
  it('/swagger renders every operation with no network', async () => {
    const doc = await (await fetch(`${BASE}/openapi.json`)).json();
    const operations = Object.values<Record<string, unknown>>(doc.paths).reduce((n, item) => n + Object.keys(item).length, 0);
    expect(operations).toBeGreaterThan(40);

    const t = await openPage(browser);
    const requests: string[] = [];
    t.page.on('request', (r) => requests.push(r.url()));
    await t.page.goto('/swagger');
    await expect.poll(() => t.page.locator('.opblock').count(), { timeout: 30_000 }).toBe(operations);
    // Expanding an operation shows its responses.
    await t.page.locator('.opblock-summary', { hasText: '/api/users/login' }).first().click();
    await t.page.locator('.opblock.is-open .responses-table').first().waitFor();

    expect(requests.every((u) => u.startsWith(BASE))).toBe(true);
    expect(requests).toContain(`${BASE}/openapi.json`);
    await expectClean(t);
    await t.context.close();
  });
});
