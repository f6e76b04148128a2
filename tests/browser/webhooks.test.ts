// The Webhooks page: adding an endpoint shows its secret once (the copy button puts it on the
// clipboard), the list never shows it again, a test ping appears in the delivery log, and the
// endpoint can be disabled.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, expectClean, launch, newUser, openPage, signIn, visible } from './harness';

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

describe('webhooks page', () => {
  it('adds an endpoint (secret shown once, copied), sends a ping that shows in the deliveries, disables it', async () => {
    const me = await newUser('hooks');
    const t = await openPage(browser, { permissions: ['clipboard-read', 'clipboard-write'] });
    const { page } = t;
    await signIn(page, me.email);
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await visible(page.getByText('No endpoints yet.'));

    await page.getByText('Add an endpoint').click();
    await page.getByLabel('URL').fill('https://hooks.example.com/console-test');
    await page.getByLabel('payment.paid').check();
    // Staff-only event types are not offered to a member.
    expect(await page.getByLabel('order.created').count()).toBe(0);
    await page.getByRole('button', { name: 'Add endpoint' }).click();

    const dialog = await visible(page.getByRole('dialog'));
    const secret = (await dialog.locator('[data-secret]').textContent())!.trim();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    await dialog.getByRole('button', { name: 'Copy secret' }).click();
    await visible(dialog.getByText('Copied.'));
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
    await dialog.getByRole('button', { name: 'Done' }).click();
    expect(await page.getByRole('dialog').count()).toBe(0);
    // The closed <dialog> leaves the DOM on the next render, with the secret in it.
    await page.locator('dialog[aria-labelledby="webhook-secret"]').waitFor({ state: 'detached', timeout: 5000 });

    // The list shows the endpoint, never its secret.
    const card = await visible(page.locator('[data-endpoint]').filter({ hasText: 'https://hooks.example.com/console-test' }));
    expect(await card.textContent()).toContain('payment.paid');
    expect(await page.content()).not.toContain(secret);
    const { body } = await call('/api/webhook-endpoints', { token: me.access });
    expect(body.results).toHaveLength(1);
    expect(JSON.stringify(body)).not.toContain('whsec_');

    // A test ping lands in the delivery log.
    await card.getByRole('button', { name: 'Send test ping' }).click();
    await visible(card.getByText('Ping sent: see the deliveries.'));
    await card.getByRole('button', { name: 'Deliveries' }).click();
    await visible(card.locator('[data-delivery]').filter({ hasText: 'ping' }));

    await card.getByRole('button', { name: 'Disable' }).click();
    await visible(card.getByText('disabled', { exact: true }));
    await visible(card.getByRole('button', { name: 'Enable' }));
    await expectClean(t);
    await t.context.close();
  });
});
