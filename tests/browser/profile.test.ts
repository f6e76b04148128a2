// The profile: the invite code, entering a friend's code once (errors in the user's language), and
// the list of users who used one's code.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectClean, launch, newUser, openPage, signIn, visible } from './harness';

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

describe('profile and referrals', () => {
  it("enters a friend's code once; the friend sees who used it", async () => {
    const [friend, me] = [await newUser('friend'), await newUser('me')];
    const t = await openPage(browser);
    const { page } = t;
    await signIn(page, me.email);
    await page.getByRole('link', { name: 'Profile' }).click();
    await visible(page.getByTestId('invite-code').getByText(me.user.invite_referral_code));

    const code = page.getByLabel("A friend's invite code");
    await code.fill(me.user.invite_referral_code);
    await page.getByRole('button', { name: 'Use this code' }).click();
    expect(await (await visible(page.getByRole('alert'))).getAttribute('data-code')).toBe('OWN_REFERRAL_CODE');

    await code.fill(friend.user.invite_referral_code);
    await page.getByRole('button', { name: 'Use this code' }).click();
    await visible(page.getByText(`You joined with the code ${friend.user.invite_referral_code}.`));
    expect(await page.getByLabel("A friend's invite code").count()).toBe(0);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(page, friend.email);
    await page.goto('/#/profile');
    await visible(page.getByRole('listitem').filter({ hasText: me.email }));
    expect(await page.getByRole('heading', { name: /People who used your code/ }).textContent()).toContain('(1)');
    await expectClean(t);
    await t.context.close();
  });
});
