// Generated bad input over every operation of /openapi.json (see tests/fuzz/openapi-fuzz.ts).
// `npm test` runs a fixed-seed sample; `npm run test:fuzz` runs FUZZ_RUNS (10,000+) requests.
import { env } from 'cloudflare:workers';
import { expect, it } from 'vitest';
import { createItem, register } from './catalog-helpers';
import { api, authed, bodyOf, createUser, raw, type TestUser } from './helpers';
import { newMachine } from './machines-helpers';
import { fuzz, operations } from './fuzz/openapi-fuzz';

const vars = env as unknown as Record<string, string | undefined>;
const total = Number(vars.FUZZ_RUNS) || 600;
const seed = Number(vars.FUZZ_SEED) || 20261123;

it(`no generated request breaks the API (${total} requests, seed ${seed})`, { timeout: 60 * 60 * 1000 }, async () => {
  const doc = await (await raw('/openapi.json')).json<any>();
  expect(operations(doc).length).toBeGreaterThan(10);
  const user = await createUser();
  const staff = await createUser({ staff: true });
  await populate(user, staff);
  const sent = await fuzz(doc, { user: user.access, staff: staff.access }, total, seed);
  expect(sent).toBeGreaterThanOrEqual(total);
});

/**
 * Rows of every kind, with the ids the generator picks most (1–50) and text that searches match:
 * a failure that needs a matching row (a pattern the database refuses, a join that breaks) shows.
 */
async function populate(user: TestUser, staff: TestUser): Promise<void> {
  const words = ['a', 'Press', '가나다', '%', '_', 'é', 'OR', 'title'];
  const text = (i: number) => `${words[i % words.length]} ${'a'.repeat(40)} ${words[(i + 3) % words.length]} 가${i}`;
  const ok = async (res: Promise<{ status: number }>) => expect((await res).status).toBeLessThan(300);
  const products = [];
  for (let i = 0; i < 6; i++) {
    const exam = await createItem('exams', { title: text(i), description: text(i + 1), price: 10_000 });
    const course = await createItem('courses', { title: text(i + 2), description: text(i), price: 10_000 });
    await ok(register('exams', exam.id, user.access, { amount: 10_000, payment_method: 'card' }));
    await ok(register('courses', course.id, user.access, { amount: 10_000, payment_method: 'card' }));
    const machine = await newMachine(user.access, { name: text(i).slice(0, 64), location: text(i + 4) });
    await ok(api.machines[':id'].operation.$post({ param: { id: String(machine.id) }, json: { command: 'POWER_ON' } }, authed(user.access)));
    products.push(await bodyOf(await api.products.$post({ json: { name: text(i), price: 1_000 * (i + 1) } }, authed(staff.access)), 201));
  }
  for (let i = 0; i < 6; i++) {
    const items = products.map((p, k) => ({ product_id: p.id, quantity: 1 + ((i + k) % 3) }));
    await ok(
      api.orders.$post({ json: { customer_id: user.id, items, paid_at: new Date(Date.now() - i * 3_600_000).toISOString() } }, authed(staff.access)),
    );
  }
  const friend = await createUser();
  await ok(api.profile.$post({ json: { used_referral_code: user.user.invite_referral_code } }, authed(friend.access)));
}
