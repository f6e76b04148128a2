// The machine floor: a command sent from a machine's page shows PENDING, then SUCCESS, and the new
// status appears on the board in another tab without a reload (the /live WebSocket); only the
// transitions the state machine allows are enabled; non-owners read but cannot drive.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, expectClean, launch, newUser, openPage, signIn, STAFF, visible } from './harness';

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

const commandButton = (page: Page, name: string) => page.getByRole('group', { name: 'Commands' }).getByRole('button', { name, exact: true });
const enabled = async (page: Page) => {
  const out: string[] = [];
  for (const b of await page.getByRole('group', { name: 'Commands' }).getByRole('button').all())
    if (await b.isEnabled()) out.push((await b.textContent())!);
  return out;
};

describe('machines', () => {
  it('updates the board live when a command runs: PENDING, then SUCCESS and the new status', async () => {
    const owner = await newUser('owner');
    const name = `Press ${Math.random().toString(36).slice(2, 7)}`;
    const board = await openPage(browser);
    await signIn(board.page, owner.email);
    await board.page.getByRole('link', { name: 'Machines' }).click();
    // Other test files' machines may be listed too (members see every machine): wait for the list.
    await visible(board.page.getByRole('heading', { name: 'Machines' }));
    await board.page.locator('.loading').first().waitFor({ state: 'detached', timeout: 15_000 });
    await board.page.getByText('Add a machine').click();
    await board.page.getByLabel('Name', { exact: true }).fill(name);
    await board.page.getByLabel('Location', { exact: true }).fill('Hall B, line 2');
    await board.page.getByRole('button', { name: 'Add machine' }).click();
    const card = board.page.locator('li.machine', { hasText: name });
    await visible(card.getByText('POWEROFF'));
    await expect.poll(() => board.page.locator('.live-state').textContent()).toContain('Live updates: 1 of 1 machines');
    // Marks this document: it must still be the same one (no reload) when the status changes.
    await board.page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));

    // A second tab of the same session opens the machine's page and drives it.
    const detail = await board.context.newPage();
    await detail.goto(`/${await card.getByRole('link').getAttribute('href')}`);
    await visible(detail.getByText('Live', { exact: true }));
    expect(await enabled(detail)).toEqual(['POWER ON']);
    await commandButton(detail, 'POWER ON').click();

    await visible(detail.locator('tr', { hasText: 'POWER_ON' }).getByText('PENDING'));
    await visible(card.getByText('POWER_ON pending'));
    await visible(detail.locator('tr', { hasText: 'POWER_ON' }).getByText('SUCCESS'));
    await visible(card.getByText('READY'));
    await expect.poll(() => card.getByText('POWER_ON pending').count()).toBe(0);
    expect(await board.page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
    expect(await enabled(detail)).toEqual(['START', 'POWER OFF']);

    // START, then the board follows again.
    await commandButton(detail, 'START').click();
    await visible(card.getByText('RUNNING'));
    await expect.poll(() => enabled(detail)).toEqual(['PAUSE', 'STOP']);
    await expectClean(board);
    await board.context.close();
  });

  it('lets others read a machine but only its owner or staff drive it', async () => {
    const owner = await newUser('owner');
    const machine = (await call('/api/machines', { token: owner.access, body: { name: 'Lathe 3', location: 'Hall A' } })).body;
    const other = await newUser('other');

    const t = await openPage(browser);
    await signIn(t.page, other.email);
    await t.page.goto(`/#/machines/${machine.id}`);
    await visible(t.page.getByText("Only the machine's owner or staff", { exact: false }));
    expect(await t.page.getByRole('group', { name: 'Commands' }).count()).toBe(0);
    await t.context.close();

    const staff = await openPage(browser);
    await signIn(staff.page, STAFF.email, STAFF.password);
    await staff.page.goto(`/#/machines/${machine.id}`);
    await visible(staff.page.getByText('Live', { exact: true }));
    expect(await enabled(staff.page)).toEqual(['POWER ON']);
    await expectClean(staff);
    await staff.context.close();
  });
});
