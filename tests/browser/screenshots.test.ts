// `npm run screenshots`: fills the throwaway server with a small realistic data set and saves a
// picture of each main page to docs/screenshots/ (shown in the README and docs/console.md).
// Skipped by `npm run test:browser` unless SCREENSHOTS=1.
import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { call, launch, newItem, newUser, openPage, PASSWORD, signIn, STAFF, staffLogin, visible } from './harness';

const OUT = new URL('../../docs/screenshots/', import.meta.url).pathname;
const DAY = 86_400_000;
let browser: Browser;

/** Deterministic pseudo-random numbers, so the pictures only change when the console does. */
function rng(seed: number) {
  return () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
}

/** Yesterday in Seoul, as YYYY-MM-DD. */
function seoulYesterday(): string {
  return new Date(Date.now() + 9 * 3_600_000 - DAY).toISOString().slice(0, 10);
}

async function seed(staff: string, day: string) {
  const exams: [string, number, string][] = [
    ['TOEIC mock test', 45000, 'A full-length practice test with a score report.'],
    ['SQL fundamentals exam', 30000, 'Joins, grouping and window functions.'],
    ['Python certificate', 60000, 'Data structures, testing and packaging.'],
    ['Korean proficiency (TOPIK I)', 40000, 'Reading and listening, levels 1–2.'],
  ];
  for (const [title, price, description] of exams) await newItem(staff, 'exams', { title, price, description });
  await newItem(staff, 'courses', { title: 'Web design in 8 weeks', price: 120000, description: 'Layout, type and colour.' });

  const products = [];
  for (const [name, price] of [
    ['Wireless mouse', 15000],
    ['USB-C cable', 5000],
    ['Keyboard', 45000],
    ['Monitor stand', 30000],
    ['Webcam', 52000],
  ] as const) {
    products.push((await call('/api/products', { token: staff, body: { name, price } })).body);
  }
  const customers = [];
  for (let i = 0; i < 10; i++) customers.push((await newUser(`customer${i}`)).user.id);
  const random = rng(7);
  for (let i = 0; i < 48; i++) {
    const hour = 8 + Math.floor(random() * 14);
    const minute = Math.floor(random() * 60);
    const product = products[Math.floor(random() * products.length)];
    const paidAt = `${day}T${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}:00+09:00`;
    await call('/api/orders', {
      token: staff,
      body: {
        customer_id: customers[Math.floor(random() * customers.length)],
        items: [{ product_id: product.id, quantity: 1 + Math.floor(random() * 3) }],
        discount_price: random() < 0.3 ? 2000 : 0,
        paid_at: paidAt,
      },
    });
  }

  const machines: Record<string, string[]> = {
    'Press 1': ['POWER_ON', 'START'],
    'Press 2': ['POWER_ON', 'START'],
    'Press 3': ['POWER_ON'],
    'Lathe 1': ['POWER_ON', 'START', 'PAUSE'],
    'Lathe 2': [],
    'Moulder 7': [],
  };
  const ids: Record<string, number> = {};
  for (const [name, commands] of Object.entries(machines)) {
    const m = (
      await call('/api/machines', { token: staff, body: { name, location: name.startsWith('Press') ? 'Hall A, line 1' : 'Hall B, line 2' } })
    ).body;
    ids[name] = m.id;
    for (const command of commands) await call(`/api/machines/${m.id}/operation`, { token: staff, body: { command } });
  }
  await call(`/api/machines/${ids['Moulder 7']}`, { method: 'PATCH', token: staff, body: { status: 'ERROR' } });
  return ids;
}

async function shot(page: Page, name: string, fullPage = false) {
  await page
    .locator('.loading')
    .first()
    .waitFor({ state: 'detached', timeout: 15_000 })
    .catch(() => undefined);
  await page.waitForTimeout(300);
  await page.screenshot({ path: `${OUT}${name}.png`, fullPage });
}

beforeAll(async () => {
  browser = await launch();
  mkdirSync(OUT, { recursive: true });
});
afterAll(async () => {
  await browser?.close();
});

describe.skipIf(!process.env.SCREENSHOTS)('screenshots', () => {
  it('captures every main page', { timeout: 240_000 }, async () => {
    const staff = (await staffLogin()).access;
    const day = seoulYesterday();
    const machines = await seed(staff, day);
    const options = { viewport: { width: 1280, height: 820 }, reducedMotion: 'reduce' as const, timezoneId: 'Asia/Seoul' };

    // A member: the catalog, a payment, the profile.
    const ada = await newUser('ada');
    for (const name of ['grace', 'alan']) {
      const friend = await newUser(name);
      await call('/api/profile', { token: friend.access, body: { used_referral_code: ada.user.invite_referral_code } });
    }
    const member = await openPage(browser, options);
    await member.page.goto('/#/signin');
    await shot(member.page, 'signin');
    await signIn(member.page, ada.email, PASSWORD);
    await member.page.getByRole('button', { name: 'Apply: SQL fundamentals exam' }).click();
    await visible(member.page.getByRole('dialog'));
    await shot(member.page, 'pay');
    await member.page.getByRole('dialog').getByRole('button', { name: /^Pay/ }).click();
    await visible(member.page.getByText('See my payments'));
    await member.page.getByRole('button', { name: 'Apply: TOEIC mock test' }).click();
    await member.page.getByRole('dialog').getByLabel('KakaoPay').check();
    await member.page.getByRole('dialog').getByRole('button', { name: /^Pay/ }).click();
    await visible(member.page.getByText('See my payments'));
    await shot(member.page, 'exams');
    await member.page.goto('/#/payments');
    await shot(member.page, 'payments');
    await member.page.goto('/#/profile');
    await shot(member.page, 'profile');
    await member.context.close();

    // Staff: dashboard, products, orders, machines.
    const t = await openPage(browser, options);
    await signIn(t.page, STAFF.email, STAFF.password);
    await t.page.goto(`/#/staff/sales?start=${day}&end=${day}&interval=hour&tz=Asia/Seoul`);
    await visible(t.page.getByRole('img', { name: /Sales per hour/ }));
    await shot(t.page, 'sales', true);
    await t.page.goto('/#/staff/products');
    await shot(t.page, 'products');
    await t.page.goto('/#/machines');
    await visible(t.page.getByText('Live updates: 6 of 6 machines'));
    await shot(t.page, 'machines');
    await t.page.goto(`/#/machines/${machines['Press 3']}`);
    await visible(t.page.getByText('Live', { exact: true }));
    await t.page.getByRole('button', { name: 'START', exact: true }).click();
    await visible(t.page.getByText('START pending'));
    await shot(t.page, 'machine');
    await t.page.goto('/swagger');
    await t.page.locator('.opblock').first().waitFor();
    await shot(t.page, 'swagger');
    await t.context.close();

    const phone = await openPage(browser, { ...options, viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    await signIn(phone.page, ada.email, PASSWORD);
    await shot(phone.page, 'phone');
    await phone.context.close();
  });
});
