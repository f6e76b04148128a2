// Payments through Stripe (contract 4.1), end to end against a local Stripe (tests/fakes/stripe.ts)
// that speaks its HTTP API as the SDK calls it: apply → pending with checkout → confirm / webhook →
// paid and counted; refunds with idempotency keys; refund_pending retried through the queue; expiry
// by the scheduled job; provider faults at every call; a crash between the provider's answer and
// the write. After every test the money invariants hold (tests/payment-invariants.ts).
import { createExecutionContext, createMessageBatch, createScheduledController, getQueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import worker from '../src/index';
import { createItem, register } from './catalog-helpers';
import { db, failWrites, sql } from './db';
import { stubFetch } from './fakes/http';
import { FakeStripe, STRIPE_VARS } from './fakes/stripe';
import { api, authed, bodyOf, createUser, expectProblem, raw, type TestUser } from './helpers';
import { quietExpectedLogs } from './log-guard';
import { expectMoneyInvariants } from './payment-invariants';

const stripe = new FakeStripe();
const target = env as unknown as Record<string, unknown>;
const saved = Object.fromEntries(Object.keys(STRIPE_VARS).map((k) => [k, target[k]]));
let restore: () => void;

beforeAll(() => {
  Object.assign(target, STRIPE_VARS);
  restore = stubFetch(stripe);
});
afterAll(() => {
  restore();
  Object.assign(target, saved);
});
afterEach(async () => {
  stripe.clearFaults();
  await expectMoneyInvariants({
    provider: 'stripe',
    received: (id) => stripe.intents.get(id)?.amount_received ?? 0,
    refunded: (id) => stripe.refundedAmount(id),
    ids: () => [...stripe.intents.keys()],
  });
});

const PRICE = 45_000;

async function pendingApply(user?: TestUser, price = PRICE) {
  const u = user ?? (await createUser());
  const item = await createItem('exams', { price, title: 'Python basics' });
  const res = await register('exams', item.id, u.access, { payment_method: 'card' });
  const body = await bodyOf(res, 201);
  const checkout = body.payment.checkout;
  if (checkout?.provider !== 'stripe') throw new Error('expected a Stripe checkout');
  return { user: u, item, payment: body.payment, registration: body.registration, pi: stripe.byClientSecret(checkout.client_secret) };
}

const confirm = (id: number, token: string) => api.payments[':id'].confirm.$post({ param: { id: String(id) } }, authed(token));
const cancel = (id: number, token: string, reason?: string) =>
  api.payments[':id'].cancel.$post({ param: { id: String(id) }, header: {}, json: reason ? { reason } : {} }, authed(token));
const myPayment = async (id: number, token: string) => bodyOf(await api.me.payments[':id'].$get({ param: { id: String(id) } }, authed(token)), 200);
const count = async (id: number) => Number(await db.value(sql`SELECT registration_count AS n FROM exams WHERE id = ${id}`, 'n'));
const webhook = (body: string, signature: string | null) =>
  raw('/api/payments/webhooks/stripe', {
    rawBody: body,
    headers: { 'content-type': 'application/json', ...(signature ? { 'stripe-signature': signature } : {}) },
  });

async function cron() {
  await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: '17 * * * *' }), env as never);
}

async function deliverRefund(userId: number, paymentId: number) {
  const batch = createMessageBatch('payment-refunds', [
    { id: crypto.randomUUID(), timestamp: new Date(), attempts: 1, body: { type: 'refund', user_id: userId, payment_id: paymentId } },
  ]);
  const ctx = createExecutionContext();
  await worker.queue(batch, env as never);
  return getQueueResult(batch, ctx);
}

describe('stripe: apply', () => {
  it('answers 201 pending with a checkout; nothing is counted until the provider says paid', async () => {
    const { user, item, payment, registration, pi } = await pendingApply();
    expect(registration.status).toBe('pending');
    expect(payment).toMatchObject({
      status: 'pending',
      amount: PRICE,
      paid_at: null,
      registration_status: 'pending',
      external_transaction_id: pi.id,
    });
    expect(payment.transaction_metadata.payment_gateway).toBe('stripe');
    expect(payment.checkout).toMatchObject({ provider: 'stripe', publishable_key: STRIPE_VARS.STRIPE_PUBLISHABLE_KEY });
    expect(Date.parse(payment.expires_at!) - Date.now()).toBeGreaterThan(1700_000);
    // The SDK's request, as Stripe receives it: form body with the server's price, Bearer key, idempotency key.
    const create = stripe.calls.find((c) => c.method === 'POST' && c.path === '/v1/payment_intents' && c.body.includes(pi.metadata.reference!))!;
    expect(new URLSearchParams(create.body).get('amount')).toBe(String(PRICE));
    expect(new URLSearchParams(create.body).get('currency')).toBe('krw');
    expect(create.headers.get('idempotency-key')).toBe(`create-${pi.metadata.reference}`);
    expect(pi.metadata.user_id).toBe(String(user.id));
    expect(await count(item.id)).toBe(0);
    const got = await bodyOf(await api.exams[':id'].$get({ param: { id: String(item.id) } }, authed(user.access)), 200);
    expect(got).toMatchObject({ registration_count: 0, is_registered: false });
    // A second apply while pending: 409 naming the pending payment.
    const again = await expectProblem(await register('exams', item.id, user.access, { payment_method: 'kakaopay' }), 409, 'PAYMENT_PENDING');
    expect(again.payment_id).toBe(payment.id);
    await expectProblem(await confirm(payment.id, user.access), 409, 'PAYMENT_NOT_COMPLETED');
    await expectProblem(await api.exams[':id'].complete.$post({ param: { id: String(item.id) } }, authed(user.access)), 409, 'PAYMENT_PENDING');
    stripe.pay(pi.id);
    const paid = await bodyOf(await confirm(payment.id, user.access), 200);
    expect(paid).toMatchObject({ status: 'paid', registration_status: 'applied', checkout: null, expires_at: null });
    expect(paid.paid_at).toMatch(/Z$/);
    expect(await count(item.id)).toBe(1);
    // Confirming a paid payment again: 200, nothing twice.
    expect((await bodyOf(await confirm(payment.id, user.access), 200)).status).toBe('paid');
    expect(await count(item.id)).toBe(1);
    await expectProblem(await register('exams', item.id, user.access, { payment_method: 'card' }), 409, 'ALREADY_REGISTERED');
  });

  it('takes the price from the server: a sent amount must equal it; bank_transfer is not offered', async () => {
    const user = await createUser();
    const item = await createItem('exams', { price: PRICE });
    const wrong = await expectProblem(
      await register('exams', item.id, user.access, { amount: 1000, payment_method: 'card' }),
      400,
      'AMOUNT_MISMATCH',
    );
    expect(wrong.price).toBe(PRICE);
    await expectProblem(await register('exams', item.id, user.access, { payment_method: 'bank_transfer' }), 400, 'PAYMENT_METHOD_UNAVAILABLE');
    await expectProblem(
      await raw(`/api/exams/${item.id}/apply`, { token: user.access, body: { payment_method: 'cash' } }),
      400,
      'INPUT_VALIDATION_ERROR',
    );
    expect(await db.value(sql`SELECT count(*) AS n FROM payments WHERE target_id = ${item.id} AND payment_type = 'exam'`, 'n')).toBe(0);
    expect((await register('exams', item.id, user.access, { amount: PRICE, payment_method: 'kakaopay' })).status).toBe(201);
  });

  it('10 concurrent applies of one user: one 201, nine 409 PAYMENT_PENDING, one PaymentIntent', async () => {
    const user = await createUser();
    const item = await createItem('exams', { price: PRICE });
    const before = stripe.intents.size;
    const answers = await Promise.all(Array.from({ length: 10 }, () => register('exams', item.id, user.access, { payment_method: 'card' })));
    expect(answers.map((r) => r.status).sort()).toEqual([201, ...Array(9).fill(409)]);
    for (const r of answers.filter((a) => a.status === 409)) expect(((await r.json()) as { code: string }).code).toBe('PAYMENT_PENDING');
    expect(stripe.intents.size - before).toBe(1);
  });

  it.each(['5xx', 'timeout', '4xx'] as const)('the provider fails at create (%s): 502 PAYMENT_PROVIDER_ERROR, nothing written', async (fault) => {
    quietExpectedLogs();
    const user = await createUser();
    const item = await createItem('exams', { price: PRICE });
    if (fault === '4xx') stripe.fail({ method: 'POST', path: /^\/v1\/payment_intents$/, fault: '5xx' });
    else stripe.fail({ method: 'POST', path: /^\/v1\/payment_intents$/, fault });
    const res = await register('exams', item.id, user.access, { payment_method: 'card' }, `key-${fault}`);
    await expectProblem(res, 502, 'PAYMENT_PROVIDER_ERROR');
    expect(await db.value(sql`SELECT count(*) AS n FROM payments WHERE target_id = ${item.id} AND payment_type = 'exam'`, 'n')).toBe(0);
    expect(await db.value(sql`SELECT count(*) AS n FROM registrations WHERE item_id = ${item.id} AND kind = 'exam'`, 'n')).toBe(0);
    // The same Idempotency-Key runs again (a 5xx is not stored) and succeeds.
    expect((await register('exams', item.id, user.access, { payment_method: 'card' }, `key-${fault}`)).status).toBe(201);
  });
});

describe('stripe: confirm', () => {
  it('provider down at confirm: 502 and the payment stays pending; then paid', async () => {
    quietExpectedLogs();
    const { user, item, payment, pi } = await pendingApply();
    stripe.pay(pi.id);
    stripe.fail({ method: 'GET', path: /^\/v1\/payment_intents\//, fault: 'timeout' });
    await expectProblem(await confirm(payment.id, user.access), 502, 'PAYMENT_PROVIDER_ERROR');
    stripe.fail({ method: 'GET', path: /^\/v1\/payment_intents\//, fault: '5xx' });
    await expectProblem(await confirm(payment.id, user.access), 502, 'PAYMENT_PROVIDER_ERROR');
    expect((await myPayment(payment.id, user.access)).status).toBe('pending');
    expect(await count(item.id)).toBe(0);
    expect((await bodyOf(await confirm(payment.id, user.access), 200)).status).toBe('paid');
  });

  it('another amount, currency or reference is never accepted: 409, refunded at the provider, failed', async () => {
    quietExpectedLogs();
    for (const over of [{ amount: PRICE - 1 }, { currency: 'usd' }, { metadata: { reference: 'pay_someone_else' } }]) {
      const { user, item, payment, pi } = await pendingApply();
      stripe.pay(pi.id, over);
      const problem = await expectProblem(await confirm(payment.id, user.access), 409, 'PAYMENT_AMOUNT_MISMATCH');
      expect(problem.payment_id).toBe(payment.id);
      expect(stripe.refundedAmount(pi.id)).toBe(pi.amount_received);
      const after = await myPayment(payment.id, user.access);
      expect(after).toMatchObject({ status: 'failed', registration_status: 'cancelled', paid_at: null });
      expect(await count(item.id)).toBe(0);
      // The user may apply again.
      expect((await register('exams', item.id, user.access, { payment_method: 'card' })).status).toBe(201);
    }
  });

  it("another user's payment is 404, and 20 concurrent confirms count once", async () => {
    const { user, item, payment, pi } = await pendingApply();
    const other = await createUser();
    await expectProblem(await confirm(payment.id, other.access), 404, 'NOT_FOUND');
    stripe.pay(pi.id);
    const answers = await Promise.all(Array.from({ length: 20 }, () => confirm(payment.id, user.access)));
    expect(answers.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(await count(item.id)).toBe(1);
  });

  it('the worker dies between "paid" and the write: the payment stays pending, the scheduled job completes it', async () => {
    quietExpectedLogs();
    const { user, item, payment, pi } = await pendingApply();
    stripe.pay(pi.id);
    const heal = await failWrites('payments', 'UPDATE');
    try {
      expect((await confirm(payment.id, user.access)).status).toBe(500);
    } finally {
      await heal();
    }
    expect((await myPayment(payment.id, user.access)).status).toBe('pending');
    expect(await count(item.id)).toBe(0);
    // At expiry the job asks the provider first: paid after all, so completed, not expired.
    await db.run(sql`UPDATE payments SET expires_at = ${Date.now() - 1000} WHERE id = ${payment.id}`);
    await cron();
    expect(await myPayment(payment.id, user.access)).toMatchObject({ status: 'paid', registration_status: 'applied' });
    expect(await count(item.id)).toBe(1);
  });
});

describe('stripe: webhooks', () => {
  it('a signed payment_intent.succeeded pays; duplicates, replays and late events change nothing twice', async () => {
    const { user, item, payment, pi } = await pendingApply();
    stripe.pay(pi.id);
    const { body, signature } = await stripe.webhook(pi);
    const res = await webhook(body, signature);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ received: true, payment_id: payment.id, status: 'paid' });
    expect(await count(item.id)).toBe(1);
    // The same delivery again, and re-signed later: still one count.
    expect((await webhook(body, signature)).status).toBe(200);
    expect((await webhook(body, await stripe.sign(body))).status).toBe(200);
    // Out of order: an older "payment_failed" arriving late re-reads the intent, which is succeeded.
    const late = await stripe.webhook({ ...pi, status: 'requires_payment_method' }, 'payment_intent.payment_failed');
    expect(await (await webhook(late.body, late.signature)).json()).toMatchObject({ status: 'paid' });
    expect(await count(item.id)).toBe(1);
    expect((await myPayment(payment.id, user.access)).status).toBe('paid');
  });

  it('a wrong, missing or stale signature is 400 INVALID_SIGNATURE and changes nothing', async () => {
    const { user, item, payment, pi } = await pendingApply();
    stripe.pay(pi.id);
    const { body } = await stripe.webhook(pi);
    await expectProblem(await webhook(body, await stripe.sign(body, { secret: 'whsec_not_the_secret' })), 400, 'INVALID_SIGNATURE');
    await expectProblem(await webhook(body, null), 400, 'INVALID_SIGNATURE');
    await expectProblem(await webhook(body, await stripe.sign(body, { timestamp: Math.floor(Date.now() / 1000) - 600 })), 400, 'INVALID_SIGNATURE');
    // A body changed after signing.
    const signature = await stripe.sign(body);
    await expectProblem(await webhook(body.replace(String(PRICE), '1'), signature), 400, 'INVALID_SIGNATURE');
    expect((await myPayment(payment.id, user.access)).status).toBe('pending');
    expect(await count(item.id)).toBe(0);
  });

  it("an event settles only the payment it names (never another user's), and an amount that differs is refunded", async () => {
    quietExpectedLogs();
    const a = await pendingApply();
    const b = await pendingApply();
    stripe.pay(b.pi.id);
    const forB = await stripe.webhook(b.pi);
    expect(await (await webhook(forB.body, forB.signature)).json()).toMatchObject({ payment_id: b.payment.id, status: 'paid' });
    expect((await myPayment(a.payment.id, a.user.access)).status).toBe('pending');
    // A's intent paid with B's reference (or another amount): never accepted, refunded.
    stripe.pay(a.pi.id, { metadata: { reference: b.pi.metadata.reference!, user_id: String(b.user.id) } });
    const forA = await stripe.webhook(a.pi);
    expect(await (await webhook(forA.body, forA.signature)).json()).toMatchObject({ payment_id: a.payment.id, status: 'failed' });
    expect(stripe.refundedAmount(a.pi.id)).toBe(PRICE);
    expect((await myPayment(b.payment.id, b.user.access)).status).toBe('paid');
    const c = await pendingApply();
    stripe.pay(c.pi.id, { amount: PRICE + 1 });
    const forC = await stripe.webhook(c.pi);
    expect(await (await webhook(forC.body, forC.signature)).json()).toMatchObject({ status: 'failed' });
    expect(await count(c.item.id)).toBe(0);
  });

  it('an unknown intent or an event type without an intent is acknowledged and ignored', async () => {
    const { pi } = await pendingApply();
    const foreign = await stripe.webhook({ ...pi, id: 'pi_not_ours' });
    expect(await (await webhook(foreign.body, foreign.signature)).json()).toEqual({ received: true, payment_id: null, status: null });
  });

  it('concurrent deliveries of one event count once', async () => {
    const { item, pi } = await pendingApply();
    stripe.pay(pi.id);
    const { body, signature } = await stripe.webhook(pi);
    const answers = await Promise.all(Array.from({ length: 10 }, () => webhook(body, signature)));
    expect(answers.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(await count(item.id)).toBe(1);
  });
});

describe('stripe: cancel and refunds', () => {
  async function paid() {
    const p = await pendingApply();
    stripe.pay(p.pi.id);
    await bodyOf(await confirm(p.payment.id, p.user.access), 200);
    return p;
  }

  it('refunds through the provider with an idempotency key, then cancels', async () => {
    const { user, item, payment, pi } = await paid();
    const res = await bodyOf(await cancel(payment.id, user.access, 'schedule clash'), 200);
    expect(res).toMatchObject({ status: 'cancelled', refund_reason: 'schedule clash', registration_status: 'cancelled' });
    const call = stripe.calls.find((c) => c.path === '/v1/refunds' && c.body.includes(pi.id))!;
    expect(call.headers.get('idempotency-key')).toBe(`refund-${pi.metadata.reference}`);
    expect(stripe.refundedAmount(pi.id)).toBe(PRICE);
    expect(await count(item.id)).toBe(0);
    await expectProblem(await cancel(payment.id, user.access), 409, 'PAYMENT_ALREADY_CANCELLED');
    expect(stripe.refunds.filter((r) => r.payment_intent === pi.id)).toHaveLength(1);
  });

  it('the provider refuses the refund: 502 and nothing changes', async () => {
    quietExpectedLogs();
    const { user, item, payment, pi } = await paid();
    stripe.intents.get(pi.id)!.status = 'processing'; // the fake refuses refunds of an intent that is not succeeded
    await expectProblem(await cancel(payment.id, user.access), 502, 'PAYMENT_PROVIDER_ERROR');
    stripe.intents.get(pi.id)!.status = 'succeeded';
    expect(await myPayment(payment.id, user.access)).toMatchObject({ status: 'paid', refund_reason: null, registration_status: 'applied' });
    expect(await count(item.id)).toBe(1);
    expect(await db.value(sql`SELECT refund_requested_at AS t FROM payments WHERE id = ${payment.id}`, 't')).toBeNull();
  });

  it.each(['timeout-after', 'timeout', '5xx'] as const)(
    'the refund answer is lost (%s): refund_pending, the queue retries it once',
    async (fault) => {
      quietExpectedLogs();
      const { user, item, payment, pi } = await paid();
      stripe.fail({ method: 'POST', path: /^\/v1\/refunds$/, fault });
      const res = await bodyOf(await cancel(payment.id, user.access, 'moved away'), 200);
      expect(res).toMatchObject({ status: 'refund_pending', registration_status: 'cancelled' });
      expect(await count(item.id)).toBe(0);
      await expectProblem(await cancel(payment.id, user.access), 409, 'PAYMENT_ALREADY_CANCELLED');
      const result = await deliverRefund(user.id, payment.id);
      expect(result.explicitAcks).toHaveLength(1);
      expect(await myPayment(payment.id, user.access)).toMatchObject({ status: 'cancelled', refund_reason: 'moved away' });
      // Refunded exactly once, whatever the first attempt did.
      expect(stripe.refunds.filter((r) => r.payment_intent === pi.id)).toHaveLength(1);
      expect(stripe.refundedAmount(pi.id)).toBe(PRICE);
    },
  );

  it('the queue retries while the provider stays down', async () => {
    quietExpectedLogs();
    const { user, payment, pi } = await paid();
    // Down until cleared (the queue also delivers on its own, with its backoff).
    stripe.fail({ method: 'POST', path: /^\/v1\/refunds$/, fault: '5xx', times: 1000 });
    expect((await bodyOf(await cancel(payment.id, user.access), 200)).status).toBe('refund_pending');
    const result = await deliverRefund(user.id, payment.id);
    expect(result.retryMessages).toHaveLength(1);
    expect((await myPayment(payment.id, user.access)).status).toBe('refund_pending');
    stripe.clearFaults();
    expect((await deliverRefund(user.id, payment.id)).explicitAcks).toHaveLength(1);
    expect((await myPayment(payment.id, user.access)).status).toBe('cancelled');
    expect(stripe.refundedAmount(pi.id)).toBe(PRICE);
  });

  it('the worker dies after the refund but before the write: the scheduled job finishes it, refunding once', async () => {
    quietExpectedLogs();
    const { user, item, payment, pi } = await paid();
    // The cancel write fails after Stripe refunded: the request dies, the payment is still paid.
    const heal = await failWrites('payments', 'UPDATE OF status');
    try {
      expect((await cancel(payment.id, user.access, 'crash')).status).toBe(500);
    } finally {
      await heal();
    }
    expect(stripe.refundedAmount(pi.id)).toBe(PRICE);
    expect((await myPayment(payment.id, user.access)).status).toBe('paid');
    // Later (past twice the provider timeout) the scheduled job asks again with the same key.
    await db.run(sql`UPDATE payments SET refund_requested_at = ${Date.now() - 60_000} WHERE id = ${payment.id}`);
    await cron();
    expect(await myPayment(payment.id, user.access)).toMatchObject({ status: 'cancelled', refund_reason: 'crash' });
    expect(stripe.refunds.filter((r) => r.payment_intent === pi.id)).toHaveLength(1);
    expect(await count(item.id)).toBe(0);
  });

  it('cancelling a pending payment voids it at the provider', async () => {
    const { user, item, payment, pi } = await pendingApply();
    const res = await bodyOf(await cancel(payment.id, user.access, 'changed my mind'), 200);
    expect(res).toMatchObject({ status: 'cancelled', registration_status: 'cancelled' });
    expect(stripe.intents.get(pi.id)!.status).toBe('canceled');
    expect((await register('exams', item.id, user.access, { payment_method: 'card' })).status).toBe(201);
  });

  it('8 concurrent cancels: one refund, one 200', async () => {
    const { user, item, payment, pi } = await paid();
    const answers = await Promise.all(Array.from({ length: 8 }, () => cancel(payment.id, user.access)));
    expect(answers.map((r) => r.status).sort()).toEqual([200, ...Array(7).fill(409)]);
    expect(stripe.refunds.filter((r) => r.payment_intent === pi.id)).toHaveLength(1);
    expect(await count(item.id)).toBe(0);
  });
});

describe('stripe: expiry', () => {
  it('the scheduled job expires an unpaid payment past expires_at and voids the intent', async () => {
    const { user, item, payment, pi } = await pendingApply();
    await cron();
    expect((await myPayment(payment.id, user.access)).status).toBe('pending');
    await db.run(sql`UPDATE payments SET expires_at = ${Date.now() - 1} WHERE id = ${payment.id}`);
    await cron();
    expect(await myPayment(payment.id, user.access)).toMatchObject({ status: 'expired', registration_status: 'cancelled', paid_at: null });
    expect(stripe.intents.get(pi.id)!.status).toBe('canceled');
    expect(await count(item.id)).toBe(0);
    const problem = await expectProblem(await confirm(payment.id, user.access), 409, 'PAYMENT_NOT_COMPLETED');
    expect(problem.payment_status).toBe('expired');
    expect((await register('exams', item.id, user.access, { payment_method: 'card' })).status).toBe(201);
  });

  it('the provider is down at expiry: nothing changes until it answers', async () => {
    quietExpectedLogs();
    const { user, payment } = await pendingApply();
    await db.run(sql`UPDATE payments SET expires_at = ${Date.now() - 1} WHERE id = ${payment.id}`);
    stripe.fail({ method: 'GET', path: /^\/v1\/payment_intents\//, fault: '5xx', times: 5 });
    await cron();
    expect((await myPayment(payment.id, user.access)).status).toBe('pending');
    stripe.clearFaults();
    await cron();
    expect((await myPayment(payment.id, user.access)).status).toBe('expired');
  });

  it('paid after it expired (a late webhook): refunded, never counted', async () => {
    quietExpectedLogs();
    const { user, item, payment, pi } = await pendingApply();
    await db.run(sql`UPDATE payments SET expires_at = ${Date.now() - 1} WHERE id = ${payment.id}`);
    await cron();
    // The fake lets a canceled intent be paid here, as a racing payment would have been.
    stripe.intents.get(pi.id)!.status = 'requires_payment_method';
    stripe.pay(pi.id);
    const { body, signature } = await stripe.webhook(pi);
    expect(await (await webhook(body, signature)).json()).toMatchObject({ status: 'expired' });
    expect(stripe.refundedAmount(pi.id)).toBe(PRICE);
    expect((await myPayment(payment.id, user.access)).status).toBe('expired');
    expect(await count(item.id)).toBe(0);
  });
});

describe('stripe: console checkout page', () => {
  it("is served with a CSP widened for exactly Stripe's origins; without a real provider it does not exist", async () => {
    const res = await raw('/api/payments/checkout?payment=1');
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self' https://js.stripe.com https://*.js.stripe.com");
    expect(csp).toContain('frame-src https://js.stripe.com');
    expect(csp).toContain("connect-src 'self' https://api.stripe.com");
    expect(csp).not.toMatch(/portone|unsafe-/);
    expect(res.headers.get('permissions-policy')).toContain('payment=(self "https://js.stripe.com")');
    const html = await res.text();
    expect(html).toContain('<script src="/checkout/app.js" type="module">');
    expect(html).not.toMatch(/<script>|https?:\/\//);
    target.PAYMENT_PROVIDER = 'simulated';
    try {
      await expectProblem(await raw('/api/payments/checkout?payment=1'), 404, 'NOT_FOUND');
    } finally {
      target.PAYMENT_PROVIDER = 'stripe';
    }
  });
});

describe('stripe: configuration', () => {
  it('a missing key refuses to run (500 naming it), never falls back to simulated', async () => {
    quietExpectedLogs();
    const key = target.STRIPE_WEBHOOK_SECRET;
    target.STRIPE_WEBHOOK_SECRET = '';
    try {
      const res = await raw('/api/exams');
      expect(res.status).toBe(500);
    } finally {
      target.STRIPE_WEBHOOK_SECRET = key;
    }
  });
});
