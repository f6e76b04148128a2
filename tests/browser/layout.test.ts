// What every page owes its users: a layout that fits a phone, a label for every control, a skip
// link and visible focus for keyboard users, and loading and empty states.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, expectClean, launch, login, newItem, openPage, PASSWORD, signIn, STAFF, staffLogin, visible } from './harness';

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

const PAGES = ['/exams', '/courses', '/payments', '/profile', '/machines', '/webhooks', '/staff/sales', '/staff/products', '/staff/orders'];

/** Visible controls without an accessible name (label, aria-label(ledby), or button text). */
function unlabelled(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('input, select, textarea, button, a[href]')]
      .filter((el) => el.offsetParent !== null || el.getClientRects().length > 0)
      .filter((el) => {
        const named = el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') || el.getAttribute('title');
        if (named) return false;
        if (el instanceof HTMLInputElement || el instanceof HTMLSelectElement || el instanceof HTMLTextAreaElement)
          return (el.labels?.length ?? 0) === 0;
        return !el.textContent?.trim();
      })
      .map((el) => el.outerHTML.slice(0, 120)),
  );
}

async function settled(page: Page): Promise<void> {
  await page.locator('h1').first().waitFor();
  await page
    .locator('.loading')
    .first()
    .waitFor({ state: 'detached', timeout: 15_000 })
    .catch(() => undefined);
}

/**
 * What sticks out of a 390-px-wide screen: the document's own overflow, and every visible element
 * whose box reaches past either edge (a table column or a tab that can only be scrolled to counts:
 * on a phone it is as good as missing). Measured against the layout viewport's fixed width.
 */
function overflowing(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const out: string[] = [];
    if (document.documentElement.scrollWidth > width) out.push(`document ${document.documentElement.scrollWidth}px > ${width}px`);
    for (const el of document.querySelectorAll<HTMLElement>('body *')) {
      if (el.closest('.skip, .visually-hidden, dialog:not([open])')) continue;
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0) continue;
      if (r.right > width + 0.5 || r.left < -0.5) {
        const name = `${el.tagName.toLowerCase()}${el.className ? `.${String(el.className).split(' ').join('.')}` : ''}`;
        out.push(`${name} [${Math.round(r.left)}, ${Math.round(r.right)}] "${(el.textContent ?? '').trim().slice(0, 30)}"`);
      }
    }
    return out.slice(0, 8);
  });
}

/** A staff user with a 40-character email who has paid for an exam and a course, owns a machine, and was referred. */
async function longNamedUser(): Promise<string> {
  const tag = Math.random().toString(36).slice(2, 8);
  const email = `staff${tag}${'x'.repeat(40 - 5 - 6 - 12)}@example.com`;
  expect(email).toHaveLength(40);
  expect((await call('/api/users/signup', { body: { email, password: PASSWORD } })).status).toBe(201);
  const { access } = await login(email);
  const staff = (await staffLogin()).access;
  const exam = await newItem(staff, 'exams', { title: `Test of English for International Communication ${tag}`, price: 44000 });
  const course = await newItem(staff, 'courses', { title: `Advanced database systems and query planning ${tag}`, price: 120000 });
  for (const [kind, item, action] of [
    ['exams', exam, 'apply'],
    ['courses', course, 'enroll'],
  ] as const) {
    const res = await call(`/api/${kind}/${item.id}/${action}`, {
      token: access,
      headers: { 'idempotency-key': crypto.randomUUID() },
      body: { amount: item.price, payment_method: 'bank_transfer' },
    });
    expect(res.status, `${kind} ${JSON.stringify(res.body)}`).toBe(201);
  }
  const referrer = await call('/api/profile', { token: staff });
  expect((await call('/api/profile', { token: access, body: { used_referral_code: referrer.body.invite_referral_code } })).status).toBe(200);
  const machine = await call('/api/machines', { token: access, body: { name: `Injection moulder ${tag}`, location: 'Hall B, line 4, second bay' } });
  expect(machine.status).toBe(201);
  // A row in the machine page's history (the simulator runs it).
  expect((await call(`/api/machines/${machine.body.id}/operation`, { token: access, body: { command: 'POWER_ON' } })).status).toBe(202);
  const product = (await call('/api/products', { token: staff, body: { name: `Wireless ergonomic keyboard ${tag}`, price: 89000 } })).body;
  const me = (await call('/api/users/me', { token: access })).body;
  const order = await call('/api/orders', {
    token: staff,
    body: { customer_id: me.id, items: [{ product_id: product.id, quantity: 3 }], discount_price: 0, paid_at: new Date().toISOString() },
  });
  expect(order.status).toBe(201);
  return email;
}

describe('layout and accessibility', () => {
  it('fits a 390-px phone screen on every page with real data and a 40-character email, every control labelled', async () => {
    const email = await longNamedUser();
    // No isMobile: with it the layout viewport grows to the content, and nothing ever overflows.
    const t = await openPage(browser, { viewport: { width: 390, height: 844 }, hasTouch: true });
    const { page } = t;
    await signIn(page, email);
    const machines = await call('/api/machines?owner=me', { token: (await login(email)).access });
    for (const path of [...PAGES, `/machines/${machines.body.results[0].id}`]) {
      await page.goto(`/#${path}`);
      await settled(page);
      expect.soft((await overflowing(page)).join('\n'), path).toBe('');
      expect(await unlabelled(page), path).toEqual([]);
      // The current page's tab is on screen, not scrolled away.
      const box = await page.locator('header nav a[aria-current="page"]').boundingBox();
      expect.soft(box && box.x >= 0 && box.x + box.width <= 390, `${path}: active tab ${JSON.stringify(box)}`).toBe(true);
    }
    await page.getByRole('button', { name: 'Sign out' }).click();
    await visible(page.getByRole('heading', { name: 'Sign in' }));
    for (const path of ['/signin', '/signup']) {
      await page.goto(`/#${path}`);
      await settled(page);
      expect.soft((await overflowing(page)).join('\n'), path).toBe('');
    }
    await expectClean(t);
    await t.context.close();
  });

  it('is usable from the keyboard: skip link, focus on the page heading, focus visible', async () => {
    const t = await openPage(browser);
    const { page } = t;
    await signIn(page, STAFF.email, STAFF.password);
    await page.goto('/#/payments');
    await visible(page.getByRole('heading', { name: 'My payments' }));
    // A new page puts focus on its heading, so the next Tab starts in the page.
    // (The focus moves in an effect, a frame after the heading appears: wait for it.)
    await expect.poll(() => page.evaluate(() => document.activeElement?.tagName)).toBe('H1');

    // The skip link is the first stop of the page and appears when focused.
    const skip = page.getByRole('link', { name: 'Skip to content' });
    expect(await page.evaluate(() => document.querySelector('a[href]')?.textContent)).toBe('Skip to content');
    await skip.focus();
    expect((await skip.boundingBox())!.x).toBeGreaterThanOrEqual(0);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('main');
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement;
      return { tag: el.tagName, outline: getComputedStyle(el).outlineStyle };
    });
    expect(focused.tag).toBe('SELECT');
    expect(focused.outline).not.toBe('none');
    await expectClean(t);
    await t.context.close();
  });

  it('shows a loading state while the API answers, then an empty state', async () => {
    const t = await openPage(browser);
    const { page } = t;
    await signIn(page, STAFF.email, STAFF.password);
    // Hold the list request so the loading state can be seen.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    await page.route('**/api/me/payments*', async (route) => {
      await held;
      await route.continue();
    });
    await page.goto('/#/payments?search=nothing-like-this');
    await visible(page.getByRole('status').getByText('Loading payments…'));
    release();
    await visible(page.getByText('No payments match these filters.'));
    await expectClean(t);
    await t.context.close();
  });
});
