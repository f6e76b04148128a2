// Payments through PortOne V2 (contract 4.1) against a local PortOne (tests/fakes/portone.ts) that
// speaks its REST API as @portone/server-sdk calls it; webhooks signed the Standard Webhooks way.
// The shared flow (ledger, expiry, queue) is covered in depth by payments-stripe.test.ts; this file
// covers what differs: pre-registration, the checkout for the browser SDK, PortOne's error bodies,
// its cancel guarded by currentCancellableAmount, and its webhooks. Money invariants after each test.
import { createExecutionContext, createMessageBatch, createScheduledController, getQueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import worker from '../src/index';
import { createItem, register } from './catalog-helpers';
import { db, sql } from './db';
import { stubFetch } from './fakes/http';
import { FakePortOne, PORTONE_CHANNELS, PORTONE_STORE, PORTONE_VARS } from './fakes/portone';
import { api, authed, bodyOf, createUser, expectProblem, raw } from './helpers';
import { quietExpectedLogs } from './log-guard';
import { expectMoneyInvariants } from './payment-invariants';

const portone = new FakePortOne();
const target = env as unknown as Record<string, unknown>;
const saved = Object.fromEntries(Object.keys(PORTONE_VARS).map((k) => [k, target[k]]));
let restore: () => void;

beforeAll(() => {
  Object.assign(target, PORTONE_VARS);
  restore = stubFetch(portone);
});
afterAll(() => {
  restore();
  Object.assign(target, saved);
});
afterEach(async () => {
  portone.clearFaults();
  const paid = (id: string) => {
    const p = portone.payments.get(id);
    return p && (p.status === 'PAID' || p.status === 'CANCELLED') ? p.amount.total : 0;
  };
  await expectMoneyInvariants({
    provider: 'portone',
    received: paid,
    refunded: (id) => portone.cancellations.filter((c) => c.paymentId === id).reduce((sum, c) => sum + c.amount, 0),
    ids: () => [...portone.payments.keys()],
  });
});

const PRICE = 30_000;

async function pendingApply(method: 'card' | 'kakaopay' | 'bank_transfer' = 'kakaopay') {
  const user = await createUser();
  const item = await createItem('courses', { price: PRICE, title: 'Korean for travellers' });
  const body = await bodyOf(await register('courses', item.id, user.access, { payment_method: method }), 201);
  const checkout = body.payment.checkout;
  if (checkout?.provider !== 'portone') throw new Error('expected a PortOne checkout');
  return { user, item, payment: body.payment, registration: body.registration, checkout };
}

const confirm = (id: number, token: string) => api.payments[':id'].confirm.$post({ param: { id: String(id) } }, authed(token));
const cancel = (id: number, token: string) => api.payments[':id'].cancel.$post({ param: { id: String(id) }, header: {}, json: {} }, authed(token));
const myPayment = async (id: number, token: string) => bodyOf(await api.me.payments[':id'].$get({ param: { id: String(id) } }, authed(token)), 200);
const count = async (id: number) => Number(await db.value(sql`SELECT registration_count AS n FROM courses WHERE id = ${id}`, 'n'));
const webhook = (d: { body: string; headers: Record<string, string> }) =>
  raw('/api/payments/webhooks/portone', { rawBody: d.body, headers: d.headers });

describe('portone', () => {
  it('apply pre-registers the amount and answers the browser SDK checkout; pay + confirm → paid (enrolled)', async () => {
    const { user, item, payment, registration, checkout } = await pendingApply('kakaopay');
    expect(registration.status).toBe('pending');
    expect(checkout).toEqual({
      provider: 'portone',
      store_id: PORTONE_STORE,
      channel_key: PORTONE_CHANNELS.kakaopay,
      payment_id: payment.external_transaction_id,
      order_name: 'Korean for travellers',
      total_amount: PRICE,
      currency: 'KRW',
      pay_method: 'EASY_PAY',
    });
    // The SDK's request as PortOne receives it.
    const pre = portone.calls.find((c) => c.path === `/payments/${checkout.payment_id}/pre-register`)!;
    expect(pre.headers.get('authorization')).toBe(`PortOne ${PORTONE_VARS.PORTONE_API_SECRET}`);
    expect(JSON.parse(pre.body)).toMatchObject({ storeId: PORTONE_STORE, totalAmount: PRICE, currency: 'KRW' });
    // Not requested by the browser yet: PortOne answers PAYMENT_NOT_FOUND, which is "not paid".
    await expectProblem(await confirm(payment.id, user.access), 409, 'PAYMENT_NOT_COMPLETED');
    portone.pay(checkout.payment_id);
    expect(await bodyOf(await confirm(payment.id, user.access), 200)).toMatchObject({ status: 'paid', registration_status: 'enrolled' });
    expect(await count(item.id)).toBe(1);
  });

  it('a Standard Webhooks delivery pays; a wrong, stale or missing signature is 400 and changes nothing; a duplicate is harmless', async () => {
    const { user, item, payment, checkout } = await pendingApply('card');
    portone.pay(checkout.payment_id);
    const good = portone.webhook(checkout.payment_id);
    await expectProblem(
      await webhook({ body: good.body, headers: portone.sign(good.body, { secret: `whsec_${btoa('another secret entirely!')}` }) }),
      400,
      'INVALID_SIGNATURE',
    );
    await expectProblem(
      await webhook({ body: good.body, headers: portone.sign(good.body, { at: new Date(Date.now() - 10 * 60_000) }) }),
      400,
      'INVALID_SIGNATURE',
    );
    await expectProblem(await webhook({ body: good.body, headers: { 'content-type': 'application/json' } }), 400, 'INVALID_SIGNATURE');
    await expectProblem(await webhook({ body: good.body.replace(PORTONE_STORE, 'store-x'), headers: good.headers }), 400, 'INVALID_SIGNATURE');
    expect((await myPayment(payment.id, user.access)).status).toBe('pending');
    const res = await webhook(good);
    expect(await res.json()).toEqual({ received: true, payment_id: payment.id, status: 'paid' });
    expect((await webhook(good)).status).toBe(200);
    expect(await count(item.id)).toBe(1);
  });

  it('paid with another amount (the browser SDK tampered with): never accepted, cancelled at PortOne, failed', async () => {
    quietExpectedLogs();
    const { user, item, payment, checkout } = await pendingApply('card');
    portone.pay(checkout.payment_id, { amount: 100 });
    const res = await webhook(portone.webhook(checkout.payment_id));
    expect(await res.json()).toMatchObject({ status: 'failed' });
    expect(portone.payments.get(checkout.payment_id)!.status).toBe('CANCELLED');
    expect(await myPayment(payment.id, user.access)).toMatchObject({ status: 'failed', registration_status: 'cancelled' });
    expect(await count(item.id)).toBe(0);
  });

  it('cancel refunds with currentCancellableAmount; a lost answer is retried and refunds once', async () => {
    quietExpectedLogs();
    const { user, item, payment, checkout } = await pendingApply('bank_transfer');
    expect(checkout.pay_method).toBe('TRANSFER');
    portone.pay(checkout.payment_id);
    await bodyOf(await confirm(payment.id, user.access), 200);
    portone.fail({ method: 'POST', path: /\/cancel$/, fault: 'timeout-after' });
    expect((await bodyOf(await cancel(payment.id, user.access), 200)).status).toBe('refund_pending');
    const call = portone.calls.find((c) => c.path === `/payments/${checkout.payment_id}/cancel`)!;
    expect(JSON.parse(call.body)).toMatchObject({ currentCancellableAmount: PRICE, storeId: PORTONE_STORE });
    const batch = createMessageBatch('payment-refunds', [
      { id: crypto.randomUUID(), timestamp: new Date(), attempts: 1, body: { type: 'refund', user_id: user.id, payment_id: payment.id } },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env as never);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toHaveLength(1);
    expect((await myPayment(payment.id, user.access)).status).toBe('cancelled');
    expect(portone.cancellations.filter((c) => c.paymentId === checkout.payment_id)).toHaveLength(1);
    expect(await count(item.id)).toBe(0);
  });

  it("the console's checkout page allows exactly PortOne's origins", async () => {
    const res = await raw('/api/payments/checkout?payment=1');
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self' https://cdn.portone.io");
    expect(csp).not.toMatch(/stripe|unsafe-/);
  });

  it('PortOne down at create: 502, nothing written; at expiry the job waits, then expires', async () => {
    quietExpectedLogs();
    const user = await createUser();
    const item = await createItem('courses', { price: PRICE });
    portone.fail({ method: 'POST', path: /pre-register$/, fault: '5xx' });
    await expectProblem(await register('courses', item.id, user.access, { payment_method: 'card' }), 502, 'PAYMENT_PROVIDER_ERROR');
    expect(await db.value(sql`SELECT count(*) AS n FROM registrations WHERE item_id = ${item.id} AND kind = 'course'`, 'n')).toBe(0);
    const { payment } = await bodyOf(await register('courses', item.id, user.access, { payment_method: 'card' }), 201);
    await db.run(sql`UPDATE payments SET expires_at = ${Date.now() - 1} WHERE id = ${payment.id}`);
    portone.fail({ method: 'GET', path: /^\/payments\//, fault: 'timeout' });
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: '17 * * * *' }), env as never);
    expect((await myPayment(payment.id, user.access)).status).toBe('pending');
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: '17 * * * *' }), env as never);
    expect(await myPayment(payment.id, user.access)).toMatchObject({ status: 'expired', registration_status: 'cancelled' });
  });
});
