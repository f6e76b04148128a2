// The console shows exactly the page of the current route: on a first visit, on redirects (`/` to
// the sign-in page, deep links while signed out, sign-out), on hash changes while a page is still
// loading its data, and on Back/Forward. A page left while loading must never come back.
import type { Browser, Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectClean, launch, newUser, openPage, signIn, STAFF, visible } from './harness';

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

const headings = (page: Page) => page.locator('h1').allInnerTexts();

/** Holds every API read of the page until release(), so pages are caught loading. */
async function holdApi(page: Page): Promise<{ release: () => void; pending: () => number }> {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  // The reads started from now on (one started before, e.g. by the sign-in, is not counted).
  const pending = new Set<Request>();
  const isRead = (r: Request) => r.method() === 'GET' && new URL(r.url()).pathname.startsWith('/api/');
  page.on('request', (r) => isRead(r) && pending.add(r));
  page.on('requestfinished', (r) => pending.delete(r));
  page.on('requestfailed', (r) => pending.delete(r));
  await page.route('**/api/**', async (route) => {
    // Sign-in and refresh go through; only reads are held.
    if (route.request().method() === 'GET') await held;
    await route.continue();
  });
  return { release, pending: () => pending.size };
}

/** Two animation frames: what the page does with an answer it has received is on screen by then. */
const frames = (page: Page) => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));

describe('navigation', () => {
  it('shows the sign-in form on every first visit to / (20 fresh contexts)', async () => {
    for (let i = 0; i < 20; i++) {
      const t = await openPage(browser);
      await t.page.goto('/');
      await visible(t.page.getByRole('link', { name: 'Create an account' }));
      expect(await headings(t.page), `visit ${i}`).toEqual(['Sign in']);
      expect(new URL(t.page.url()).hash, `visit ${i}`).toBe('#/signin');
      await expectClean(t);
      await t.context.close();
    }
  });

  it('ends 20 rapid hash changes during loading with exactly one page: the last route', async () => {
    const t = await openPage(browser);
    const { page } = t;
    await signIn(page, STAFF.email, STAFF.password);
    const api = await holdApi(page);
    const routes = ['#/staff/sales', '#/payments', '#/exams', '#/profile', '#/courses', '#/machines', '#/staff/products'];
    await page.evaluate(async (hashes) => {
      for (let i = 0; i < 20; i++) {
        location.hash = hashes[i % hashes.length]!;
        // Let each page render and start loading before the next change.
        await new Promise((r) => setTimeout(r, 15));
      }
    }, routes);
    // 20 % 7: the 20th change went to routes[5], the machines.
    expect(new URL(page.url()).hash).toBe('#/machines');
    api.release();
    await visible(page.getByRole('heading', { name: 'Machines' }));
    // Every held read has been answered and handled, so each page left while loading had its
    // chance to come back.
    await expect.poll(api.pending, { timeout: 15_000 }).toBe(0);
    await page.locator('.loading').first().waitFor({ state: 'detached', timeout: 15_000 });
    await frames(page);
    expect(await headings(page)).toEqual(['Machines']);
    expect(await page.locator('main .view').count()).toBe(1);
    await expectClean(t);
    await t.context.close();
  });

  it('shows only the new page when the hash changes right after signing in', async () => {
    for (const [hash, title] of [
      ['#/staff/sales', 'Live sales'],
      ['#/payments', 'My payments'],
    ] as const) {
      const t = await openPage(browser);
      const { page } = t;
      await signIn(page, STAFF.email, STAFF.password);
      await page.evaluate((h) => {
        location.hash = h;
      }, hash);
      await visible(page.getByRole('heading', { name: title }));
      await page.locator('.loading').first().waitFor({ state: 'detached', timeout: 15_000 });
      // The exams page was loading when it was left: its answer has arrived and been handled by now.
      await page.waitForLoadState('networkidle');
      await frames(page);
      expect(await headings(page)).toEqual([title]);
      // And the page stays alone on the next page too.
      await page.evaluate(() => {
        location.hash = '#/courses';
      });
      await visible(page.getByRole('heading', { name: 'Courses' }));
      expect(await headings(page)).toEqual(['Courses']);
      await expectClean(t);
      await t.context.close();
    }
  });

  it('follows Back and Forward, deep links while signed out, and sign-out', async () => {
    const t = await openPage(browser);
    const { page } = t;
    const member = await newUser('nav');
    // A deep link while signed out: the sign-in page, then the page asked for.
    await page.goto('/#/payments?status=paid');
    await visible(page.getByRole('heading', { name: 'Sign in' }));
    expect(await headings(page)).toEqual(['Sign in']);
    const form = page.locator('form', { has: page.getByRole('heading', { name: 'With a password' }) });
    await form.getByLabel('Email or username').fill(member.email);
    await form.getByLabel('Password').fill('correct horse battery');
    await form.getByRole('button', { name: 'Sign in' }).click();
    await visible(page.getByRole('heading', { name: 'My payments' }));
    expect(new URL(page.url()).hash).toBe('#/payments?status=paid');
    expect(await headings(page)).toEqual(['My payments']);

    await page.getByRole('link', { name: 'Courses' }).click();
    await visible(page.getByRole('heading', { name: 'Courses' }));
    await page.getByRole('link', { name: 'Profile' }).click();
    await visible(page.getByRole('heading', { name: 'Profile' }));
    await page.goBack();
    await visible(page.getByRole('heading', { name: 'Courses' }));
    expect(await headings(page)).toEqual(['Courses']);
    await page.goBack();
    await visible(page.getByRole('heading', { name: 'My payments' }));
    expect(await headings(page)).toEqual(['My payments']);
    await page.goForward();
    await visible(page.getByRole('heading', { name: 'Courses' }));
    expect(await headings(page)).toEqual(['Courses']);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await visible(page.getByRole('heading', { name: 'Sign in' }));
    expect(await headings(page)).toEqual(['Sign in']);
    // Signing out forgets the page (once the server has revoked the session, the address is plain).
    await expect.poll(() => new URL(page.url()).hash).toBe('#/signin');
    // Back after signing out stays on the sign-in page: private pages need a session.
    await page.goBack();
    await visible(page.getByRole('heading', { name: 'Sign in' }));
    expect(await headings(page)).toEqual(['Sign in']);
    await expectClean(t);
    await t.context.close();
  });
});
