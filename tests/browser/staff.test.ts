// Staff pages: the live-sales chart and table with seeded figures (first purchases marked), the top
// products, products and orders; a member sees none of them and the API refuses them anyway.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, expectClean, launch, newUser, openPage, signIn, STAFF, staffLogin, storedSession, visible } from './harness';

let browser: Browser;
let staffToken: string;
const DAY = '2026-11-20'; // a past day only this file records sales on
const tag = Math.random().toString(36).slice(2, 8);
let mouse: any;
let cable: any;
let annId: number;
const annOrders: number[] = [];

beforeAll(async () => {
  browser = await launch();
  staffToken = (await staffLogin()).access;
  const product = async (name: string, price: number) => (await call('/api/products', { token: staffToken, body: { name, price } })).body;
  mouse = await product(`Mouse ${tag}`, 10000);
  cable = await product(`Cable ${tag}`, 5000);
  const [ann, bob] = [await newUser('ann'), await newUser('bob')];
  const order = async (customer: number, items: { product_id: number; quantity: number }[], paidAt: string, discount = 0) => {
    const res = await call('/api/orders', { token: staffToken, body: { customer_id: customer, items, discount_price: discount, paid_at: paidAt } });
    expect(res.status).toBe(201);
    return res.body;
  };
  // 10:00 KST: two first purchases (20,000 and 5,000 − 1,000 coupon); 14:00 KST: Ann buys again.
  annId = ann.user.id;
  annOrders.push((await order(ann.user.id, [{ product_id: mouse.id, quantity: 2 }], `${DAY}T10:15:00+09:00`)).id);
  await order(bob.user.id, [{ product_id: cable.id, quantity: 1 }], `${DAY}T10:40:00+09:00`, 1000);
  annOrders.push((await order(ann.user.id, [{ product_id: cable.id, quantity: 1 }], `${DAY}T14:05:00+09:00`)).id);
});
afterAll(async () => {
  await browser?.close();
});

const cells = (row: import('playwright-core').Locator) => row.locator('th, td').allInnerTexts();

describe('staff pages', () => {
  it('shows the hourly sales chart and table with the seeded figures, first purchases marked', async () => {
    const t = await openPage(browser);
    const { page } = t;
    await signIn(page, STAFF.email, STAFF.password);
    await page.getByRole('link', { name: 'Sales' }).click();
    await visible(page.getByRole('heading', { name: 'Live sales' }));
    await page.getByLabel('From', { exact: true }).fill(DAY);
    await page.getByLabel('To', { exact: true }).fill(DAY);
    await page.getByLabel('Time zone').fill('Asia/Seoul');
    await page.getByRole('button', { name: 'Show' }).click();

    await expect.poll(() => page.getByTestId('total-sales').textContent()).toBe('29,000');
    const chart = page.getByRole('img', { name: /Sales per hour: 29,000 in total, 2 first purchases; peak 24,000 at 10:00/ });
    await visible(chart);
    // The canvas really has a drawing on it (Chart.js loads on demand, then draws).
    const inked = () =>
      chart.evaluate((c: HTMLCanvasElement) => {
        const { data } = c.getContext('2d')!.getImageData(0, 0, c.width, c.height);
        let n = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) n++;
        return n;
      });
    await expect.poll(inked, { timeout: 10_000 }).toBeGreaterThan(500);

    const rows = page.locator('table.figures tbody tr');
    await expect.poll(() => rows.count()).toBe(2);
    expect(await cells(rows.nth(0))).toEqual(['10:00', '24,000', '2', '1,000', '★ 2', '24,000']);
    expect(await rows.nth(0).getAttribute('class')).toBe('first');
    expect(await cells(rows.nth(1))).toEqual(['14:00', '5,000', '1', '0', '0', '0']);
    await page.getByLabel('Show hours without sales').check();
    await expect.poll(() => rows.count()).toBe(24);

    // Top products: equal quantities, so the larger amount ranks first.
    const top = page.locator('table', { has: page.locator('caption', { hasText: 'Best-selling products' }) }).locator('tbody tr');
    await expect.poll(() => top.count()).toBe(2);
    expect(await cells(top.nth(0))).toEqual(['1', `Mouse ${tag}`, '2', '20,000']);
    expect(await cells(top.nth(1))).toEqual(['2', `Cable ${tag}`, '2', '10,000']);
    await visible(page.getByRole('img', { name: new RegExp(`Top products by quantity: Mouse ${tag} 2`) }));
    await expectClean(t);
    await t.context.close();
  });

  it('lists and adds products; records an order and moves it through its statuses', async () => {
    const t = await openPage(browser);
    const { page } = t;
    await signIn(page, STAFF.email, STAFF.password);
    await page.getByRole('link', { name: 'Products' }).click();
    await visible(page.getByRole('cell', { name: `Mouse ${tag}`, exact: true }));
    await page.getByText('Add a product').click();
    await page.getByLabel('Name', { exact: true }).fill(`Keyboard ${tag}`);
    await page.getByLabel('Price', { exact: true }).fill('30000');
    await page.getByRole('button', { name: 'Add product' }).click();
    await visible(page.getByRole('cell', { name: `Keyboard ${tag}`, exact: true }));

    const carol = await newUser('carol');
    await page.getByRole('link', { name: 'Orders' }).click();
    await page.getByLabel('Customer (user id)').fill(String(carol.user.id));
    await page.getByLabel('Product').selectOption({ label: `Keyboard ${tag} (₩30,000)` });
    await page.getByLabel('Quantity').fill('2');
    await page.getByRole('button', { name: 'Record order' }).click();
    const detail = page.locator('section[aria-labelledby="order-title"]');
    await visible(detail.getByText('first purchase'));
    expect(await detail.textContent()).toContain('2 × Keyboard');
    const id = /#(\d+)/.exec((await page.locator('#order-title').textContent()) ?? '')![1]!;
    // The list (GET /api/orders) is newest first: the order just recorded heads it.
    const listed = page.locator('table', { has: page.locator('caption', { hasText: 'Orders, newest first' }) }).locator('tbody tr');
    await expect.poll(() => listed.first().getAttribute('data-order')).toBe(id);
    expect(await listed.first().textContent()).toContain(`2 × Keyboard ${tag}`);
    await detail.getByRole('button', { name: 'Mark shipping' }).click();
    await expect.poll(() => page.locator('#order-title').textContent()).toContain('SHIPPING');
    await expect.poll(() => listed.first().textContent()).toContain('SHIPPING');
    // Filters go to the API and into the address: Ann's orders only, newest first, then her PAID ones.
    const filters = page.getByRole('form', { name: 'Filter orders' });
    await filters.getByLabel('Customer id').fill(String(annId));
    await filters.getByRole('button', { name: 'Filter' }).click();
    await expect
      .poll(async () => (await listed.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-order')))).join())
      .toBe([...annOrders].reverse().join());
    expect(page.url()).toContain(`customer_id=${annId}`);
    await filters.getByLabel('Status').selectOption('CANCELLED');
    await filters.getByRole('button', { name: 'Filter' }).click();
    await visible(page.getByText('No orders match these filters.'));
    await expectClean(t);
    await t.context.close();
  });

  it('hides the staff pages from a member, and the API refuses them anyway', async () => {
    const member = await newUser('member');
    const t = await openPage(browser);
    const { page } = t;
    await signIn(page, member.email);
    const nav = page.getByRole('navigation', { name: 'Main' });
    await visible(nav.getByRole('link', { name: 'Machines' }));
    for (const name of ['Sales', 'Products', 'Orders']) expect(await nav.getByRole('link', { name }).count()).toBe(0);

    await page.goto('/#/staff/sales');
    await visible(page.getByRole('heading', { name: 'Staff only' }));
    const token = (await storedSession(page))!.access;
    const refused = await page.evaluate(async (access) => {
      const answers = [];
      for (const path of ['/api/dashboards/live-sales?start-date=2026-11-20', '/api/products', '/api/orders/1']) {
        const res = await fetch(path, { headers: { authorization: `Bearer ${access}` } });
        answers.push([res.status, (await res.json()).code]);
      }
      return answers;
    }, token);
    expect(refused).toEqual([
      [403, 'PERMISSION_DENIED'],
      [403, 'PERMISSION_DENIED'],
      [403, 'PERMISSION_DENIED'],
    ]);
    await expectClean(t);
    await t.context.close();
  });
});
