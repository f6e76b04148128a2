// Signing up, in and out: by password (mouse and keyboard) and by phone code; errors in the
// browser's language; the access token refreshed before it expires; sign-out revokes the session.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, expectClean, launch, openPage, PASSWORD, signIn, storedSession, uniqueEmail, visible } from './harness';

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

describe('accounts', () => {
  it('signs up, signs out (revoking the session) and signs in again from a deep link, by keyboard', async () => {
    const t = await openPage(browser);
    const { page } = t;
    const email = uniqueEmail('ada');
    await page.goto('/');
    await expect.poll(() => page.url()).toContain('#/signin');
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Password again').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await visible(page.getByRole('heading', { name: 'Exams' }));
    await visible(page.getByText(email));

    const session = await storedSession(page);
    expect(session?.user.email).toBe(email);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await visible(page.getByRole('heading', { name: 'Sign in' }));
    expect(await storedSession(page)).toBeNull();
    // Sign-out revoked the session on the server, not only in this tab.
    const reuse = await call('/api/users/refresh', { body: { refresh: session!.refresh } });
    expect(reuse.status).toBe(401);

    // A deep link while signed out asks to sign in first, then opens the page asked for.
    await page.goto('/#/payments?status=paid');
    await visible(page.getByRole('heading', { name: 'Sign in' }));
    // The sign-in form by keyboard: Tab reaches the fields, Enter submits.
    await page.getByLabel('Email or username').focus();
    await page.keyboard.type(email);
    await page.keyboard.press('Tab');
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Enter');
    await visible(page.getByRole('heading', { name: 'My payments' }));
    expect(page.url()).toContain('#/payments?status=paid');
    await expectClean(t);
    await t.context.close();
  });

  it('shows API errors in the browser language (Korean, Russian)', async () => {
    const ko = await openPage(browser, { locale: 'ko-KR' });
    await ko.page.goto('/#/signin');
    await ko.page.getByLabel('Email or username').fill('nobody@example.com');
    await ko.page.getByLabel('Password', { exact: true }).fill('wrong password');
    await ko.page.getByRole('button', { name: 'Sign in' }).click();
    const alert = await visible(ko.page.getByRole('alert'));
    expect(await alert.textContent()).toContain('이메일 또는 비밀번호가 올바르지 않습니다.');
    expect(await alert.getAttribute('lang')).toBe('ko');
    await expectClean(ko);
    await ko.context.close();

    const ru = await openPage(browser, { locale: 'ru-RU' });
    await ru.page.goto('/#/signup');
    await ru.page.getByLabel('Email').fill(uniqueEmail());
    await ru.page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await ru.page.getByLabel('Password again').fill(`${PASSWORD} typo`);
    await ru.page.getByRole('button', { name: 'Create account' }).click();
    expect(await (await visible(ru.page.getByRole('alert'))).textContent()).toContain('Пароли не совпадают.');
    await expectClean(ru);
    await ru.context.close();
  });

  it('signs in by phone with the development code', async () => {
    const t = await openPage(browser);
    const { page } = t;
    const phone = `010-${4000 + Math.floor(Math.random() * 5000)}-${1000 + Math.floor(Math.random() * 8999)}`;
    await page.goto('/#/signin');
    await page.getByLabel('Phone number').fill(phone);
    await page.getByRole('button', { name: 'Send code' }).click();
    const code = (await (await visible(page.locator('.dev-code'))).textContent())!.trim();
    expect(code).toMatch(/^\d{4}$/);
    await page.getByLabel('Code', { exact: true }).fill(code);
    await page.getByRole('button', { name: 'Sign in' }).last().click();
    await visible(page.getByRole('heading', { name: 'Exams' }));
    expect((await storedSession(page))?.user.phone).toMatch(/^\+82/);
    await expectClean(t);
    await t.context.close();
  });

  it('refreshes the access token before it expires, without a failed request', async () => {
    const t = await openPage(browser);
    const { page } = t;
    const email = uniqueEmail('clock');
    expect((await call('/api/users/signup', { body: { email, password: PASSWORD } })).status).toBe(201);
    // The page's clock is fake from the start, so 14 minutes can pass in a moment.
    await page.clock.install();
    const statuses: number[] = [];
    page.on('response', (r) => r.url().includes('/api/') && statuses.push(r.status()));
    await signIn(page, email);
    const before = await storedSession(page);

    const refreshed = page.waitForResponse((r) => r.url().endsWith('/api/users/refresh'));
    await page.clock.runFor('14:30'); // the access token lives 15 minutes; it is renewed a minute early
    expect((await refreshed).status()).toBe(200);
    await expect.poll(async () => (await storedSession(page))?.refresh).not.toBe(before!.refresh);
    expect((await storedSession(page))!.access).not.toBe(before!.access);

    await page.getByRole('link', { name: 'My payments' }).click();
    await visible(page.getByText('No payments yet.', { exact: false }));
    expect(statuses.filter((s) => s === 401)).toEqual([]);
    await expectClean(t);
    await t.context.close();
  });
});
