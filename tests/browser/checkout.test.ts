// Paying through Stripe in the console, in Chromium, against a second `wrangler dev` configured with
// PAYMENT_PROVIDER=stripe whose STRIPE_API_BASE is a local fake Stripe (tests/fakes/stripe.ts as a
// Node server). Stripe.js is replaced by a local stub (tests/browser/stripe-stub.js) served for
// https://js.stripe.com, and its calls to https://api.stripe.com are routed to the same fake: no
// network. Checks: apply → the checkout page (CSP widened for Stripe only there) → the payments
// page shows the payment pending → pay → paid; no script error, no CSP violation, nothing blocked.
import { readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STRIPE_PUBLISHABLE, STRIPE_SECRET, STRIPE_WEBHOOK_SECRET } from '../fakes/stripe';
import { startFakeStripe } from './fake-stripe-server';
import { expectClean, launch, openPage, PASSWORD, signIn, STAFF, uniqueEmail, visible } from './harness';
import { startWrangler, type Server } from './server';

const PORT = Number(process.env.BROWSER_STRIPE_PORT ?? 8812);
const FAKE_PORT = PORT + 1;
const STUB = readFileSync(new URL('./stripe-stub.js', import.meta.url), 'utf8');

let browser: Browser;
let server: Server;
let stripe: Awaited<ReturnType<typeof startFakeStripe>>;

async function call(path: string, body?: unknown, token?: string) {
  const res = await fetch(server.base + path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

const token = async (email: string, password: string) => (await call('/api/users/login', { email, password })).body.token.access as string;

beforeAll(async () => {
  stripe = await startFakeStripe(FAKE_PORT);
  server = await startWrangler(PORT, {
    PAYMENT_PROVIDER: 'stripe',
    STRIPE_API_BASE: stripe.base,
    STRIPE_SECRET_KEY: STRIPE_SECRET,
    STRIPE_PUBLISHABLE_KEY: STRIPE_PUBLISHABLE,
    STRIPE_WEBHOOK_SECRET: STRIPE_WEBHOOK_SECRET,
  });
  browser = await launch();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await stripe?.close();
});

describe('console: paying through Stripe', () => {
  it('apply → checkout page with the Payment Element → payments page pending → pay → paid', async () => {
    const email = uniqueEmail('payer');
    expect((await call('/api/users/signup', { email, password: PASSWORD })).status).toBe(201);
    const staff = await token(STAFF.email, STAFF.password);
    const day = 86_400_000;
    const title = `Stripe exam ${Date.now()}`;
    const item = await call(
      '/api/exams',
      { title, price: 45000, description: '', start_at: new Date(Date.now() - day).toISOString(), end_at: new Date(Date.now() + day).toISOString() },
      staff,
    );
    expect(item.status).toBe(201);

    const t = await openPage(browser, { baseURL: server.base });
    const stubbed: string[] = [];
    // Registered after openPage's blocker, so these run first: Stripe's origins, answered locally.
    await t.context.route('https://js.stripe.com/**', (route) => {
      stubbed.push(route.request().url());
      return route.fulfill({ status: 200, contentType: 'text/javascript', body: STUB });
    });
    await t.context.route('https://api.stripe.com/**', async (route) => {
      const req = route.request();
      stubbed.push(req.url());
      const res = await fetch(stripe.base + new URL(req.url()).pathname, {
        method: req.method(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: req.postData() ?? undefined,
      });
      return route.fulfill({
        status: res.status,
        contentType: 'application/json',
        headers: { 'access-control-allow-origin': '*' },
        body: await res.text(),
      });
    });
    const { page } = t;
    await signIn(page, email);

    // The console itself keeps its strict policy: nothing of Stripe's outside the checkout page.
    const consoleCsp = (await fetch(`${server.base}/`)).headers.get('content-security-policy') ?? '';
    expect(consoleCsp).not.toContain('stripe');

    await page.goto('/#/exams');
    await (await visible(page.getByRole('button', { name: `Apply: ${title}` }))).click();
    await page.getByRole('button', { name: /^Pay / }).click();
    await expect.poll(() => page.url()).toContain('/api/payments/checkout?payment=');
    await visible(page.getByLabel('Card number'));

    // Not paid yet: the payments page shows it pending, with a way back to pay.
    await page.goto('/#/payments');
    const row = page.locator('tr', { hasText: title });
    await visible(row.getByText('pending', { exact: true }));
    await row.getByRole('link', { name: `Pay for ${title}` }).click();
    await expect.poll(() => page.url()).toContain('/api/payments/checkout?payment=');
    await (await visible(page.getByLabel('Card number'))).fill('4242 4242 4242 4242');
    await page.getByRole('button', { name: /^Pay / }).click();

    // Stripe.js (the stub) confirmed at the fake; the page confirmed with the API and went back.
    await expect.poll(() => page.url(), { timeout: 15_000 }).toContain('#/payments');
    await visible(page.locator('tr', { hasText: title }).getByText('paid', { exact: true }));
    expect(stubbed.some((u) => u.startsWith('https://js.stripe.com/'))).toBe(true);
    expect(stubbed.some((u) => u.includes('/confirm'))).toBe(true);
    expect([...stripe.fake.intents.values()].filter((pi) => pi.status === 'succeeded')).toHaveLength(1);
    await expectClean(t);
    await t.context.close();
  });
});
