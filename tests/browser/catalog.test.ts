// Exams and courses: search and filters, paying with a method, the payment in "My payments",
// cancelling it, and a double click on Pay that still pays once (Idempotency-Key per attempt).
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, expectClean, launch, newItem, newUser, openPage, signIn, staffLogin, visible } from './harness';

let browser: Browser;
let staffToken: string;
const tag = Math.random().toString(36).slice(2, 8);
beforeAll(async () => {
  browser = await launch();
  staffToken = (await staffLogin()).access;
});
afterAll(async () => {
  await browser?.close();
});

describe('catalog and payments', () => {
  it('searches and filters the exams, with an empty state', async () => {
    await newItem(staffToken, 'exams', { title: `Kotlin ${tag} certificate`, price: 30000, description: 'Coroutines and flows.' });
    await newItem(staffToken, 'exams', { title: `Rust ${tag} exam`, price: 40000, description: 'Ownership and lifetimes.' });
    const member = await newUser();
    const t = await openPage(browser);
    const { page } = t;
    await signIn(page, member.email);

    const search = page.getByRole('searchbox', { name: 'Search' });
    await search.fill(`${tag} lifetimes`);
    await search.press('Enter');
    const cards = page.locator('ul.items > li');
    await expect.poll(() => cards.allTextContents()).toEqual([expect.stringContaining(`Rust ${tag} exam`)]);
    expect(page.url()).toContain('search=');

    await page.getByLabel('Show').selectOption('available');
    await page.getByLabel('Sort by').selectOption('popular');
    await expect.poll(() => page.url()).toContain('sort=popular');
    await expect.poll(() => cards.count()).toBe(1);

    await search.fill(`${tag} haskell`);
    await search.press('Enter');
    await visible(page.getByText('No exams match these filters.'));
    await expectClean(t);
    await t.context.close();
  });

  it('pages through the courses, ten at a time', async () => {
    for (let i = 1; i <= 12; i++) await newItem(staffToken, 'courses', { title: `Pottery ${tag} ${i}`, price: 10000 });
    const member = await newUser();
    const t = await openPage(browser);
    const { page } = t;
    await signIn(page, member.email);
    await page.goto(`/#/courses?search=${encodeURIComponent(`pottery ${tag}`)}`);
    const cards = page.locator('ul.items > li');
    await expect.poll(() => cards.count()).toBe(10);
    const pager = page.getByRole('navigation', { name: 'Pages' });
    expect(await pager.textContent()).toContain('Page 1 of 2');
    await pager.getByRole('button', { name: 'Next →' }).click();
    await expect.poll(() => cards.count()).toBe(2);
    expect(page.url()).toContain('page=2');
    expect(await pager.getByRole('button', { name: 'Next →' }).isDisabled()).toBe(true);
    // Newest first: the first two made are on the last page.
    expect(await cards.locator('h2').allTextContents()).toEqual([`Pottery ${tag} 2`, `Pottery ${tag} 1`]);
    await page.goBack();
    await expect.poll(() => cards.count()).toBe(10);
    await expectClean(t);
    await t.context.close();
  });

  it('applies with a payment method, shows the payment, and cancels it', async () => {
    const exam = await newItem(staffToken, 'exams', { title: `TOEIC ${tag} mock`, price: 45000 });
    const member = await newUser();
    const t = await openPage(browser);
    const { page } = t;
    await signIn(page, member.email);
    await page.goto(`/#/exams?search=${encodeURIComponent(`TOEIC ${tag}`)}`);

    await page.getByRole('button', { name: `Apply: TOEIC ${tag} mock` }).click();
    const dialog = await visible(page.getByRole('dialog', { name: `Apply: TOEIC ${tag} mock` }));
    await dialog.getByLabel('KakaoPay').check();
    await dialog.getByRole('button', { name: /^Pay/ }).click();
    await visible(page.getByText(`for “TOEIC ${tag} mock”`, { exact: false }));
    await visible(page.locator('ul.items > li', { hasText: `TOEIC ${tag} mock` }).locator('.badge', { hasText: 'Registered' }));

    await page.getByRole('link', { name: 'See my payments' }).click();
    const row = page.locator('tbody tr', { hasText: `TOEIC ${tag} mock` });
    await visible(row);
    expect(await row.textContent()).toMatch(/₩45,000.*KakaoPay.*paid/);

    await row.getByRole('button', { name: `Cancel the payment for TOEIC ${tag} mock` }).click();
    const confirm = await visible(page.getByRole('dialog', { name: 'Cancel this payment?' }));
    await confirm.getByLabel('Reason (optional)').fill('changed my plans');
    await confirm.getByRole('button', { name: 'Cancel payment' }).click();
    await expect.poll(() => row.textContent()).toContain('cancelled');

    const payments = await call(`/api/me/payments?search=${encodeURIComponent(`TOEIC ${tag}`)}`, { token: member.access });
    expect(payments.body.results).toHaveLength(1);
    expect(payments.body.results[0]).toMatchObject({
      target_id: exam.id,
      amount: 45000,
      payment_method: 'kakaopay',
      status: 'cancelled',
      refund_reason: 'changed my plans',
    });
    // The filters narrow the list.
    await page.getByLabel('Status').selectOption('paid');
    await page.getByRole('button', { name: 'Filter' }).click();
    await visible(page.getByText('No payments match these filters.'));
    await expectClean(t);
    await t.context.close();
  });

  it('pays once for a double click on Pay', async () => {
    const course = await newItem(staffToken, 'courses', { title: `Design ${tag} course`, price: 120000 });
    const member = await newUser();
    const t = await openPage(browser);
    const { page } = t;
    const keys: (string | undefined)[] = [];
    page.on('request', (r) => r.url().endsWith(`/api/courses/${course.id}/enroll`) && keys.push(r.headers()['idempotency-key']));
    await signIn(page, member.email);
    await page.goto(`/#/courses?search=${encodeURIComponent(`Design ${tag}`)}`);
    await page.getByRole('button', { name: `Enroll: Design ${tag} course` }).click();
    const dialog = await visible(page.getByRole('dialog'));
    await dialog.getByRole('button', { name: /^Pay/ }).dblclick();
    await visible(page.getByText(`for “Design ${tag} course”`, { exact: false }));

    const payments = await call('/api/me/payments', { token: member.access });
    expect(payments.body.results.map((p: any) => p.target_id)).toEqual([course.id]);
    expect(keys.length).toBeGreaterThanOrEqual(1);
    expect(new Set(keys).size).toBe(1); // every request of this attempt carried one key
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    await expectClean(t);
    await t.context.close();
  });
});
