// What every page owes its users: a layout that fits a phone, a label for every control, a skip
// link and visible focus for keyboard users, and loading and empty states.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectClean, launch, openPage, signIn, STAFF, visible } from './harness';

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

const PAGES = ['/exams', '/courses', '/payments', '/profile', '/machines', '/staff/sales', '/staff/products', '/staff/orders'];

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

describe('layout and accessibility', () => {
  it('fits a phone screen on every page, with every control labelled', async () => {
    const t = await openPage(browser, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const { page } = t;
    await signIn(page, STAFF.email, STAFF.password);
    for (const path of PAGES) {
      await page.goto(`/#${path}`);
      await settled(page);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, path).toBeLessThanOrEqual(0);
      expect(await unlabelled(page), path).toEqual([]);
    }
    await page.goto('/#/signin');
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
    expect(await page.evaluate(() => document.activeElement?.tagName)).toBe('H1');

    // The skip link is the first stop of the page and appears when focused.
    const skip = page.getByRole('link', { name: 'Skip to content' });
    expect(await page.evaluate(() => document.querySelector('a[href]')?.textContent)).toBe('Skip to content');
    await skip.focus();
    expect((await skip.boundingBox())!.x).toBeGreaterThanOrEqual(0);
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
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
