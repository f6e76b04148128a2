// Event webhooks (contract section 8): the endpoints API, the outbox written with each change, the
// dispatcher and the queue, signatures verified with the `standardwebhooks` library on the receiving
// side, exactly one event per change (also under concurrency), retries with growing delays, a hanging
// receiver that holds no one else, a crash between the write and the enqueue, per-user isolation,
// the SSRF policy, manual retry, ping, rotation and auto-disable.
import { createExecutionContext, createMessageBatch, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Webhook } from 'standardwebhooks';
import worker from '../src/index';
import { api, authed, bodyOf, createUser, expectProblem, raw, type TestUser, withVars } from './helpers';
import { createItem, register } from './catalog-helpers';
import { db, sql } from './db';
import { quietExpectedLogs } from './log-guard';
import { run, stubController, DEVICE, newMachine } from './machines-helpers';
import { eventsAt, eventually, HOOKS, newEndpoint, type Received, stubReceiver } from './webhooks-helpers';

let restores: (() => void)[] = [];
afterEach(() => {
  for (const r of restores.reverse()) r();
  restores = [];
});
function receiver(...args: Parameters<typeof stubReceiver>) {
  const s = stubReceiver(...args);
  restores.push(s.restore);
  return s;
}

type DeliveryRow = { id: number; status: string; attempts: number; next_attempt_at: number | null; event_id: string; last_error: string | null };

/** Runs a batch of delivery messages through the worker's queue handler and waits for its background work. */
async function deliverNow(ids: number[]) {
  const batch = createMessageBatch(
    'webhook-deliveries',
    ids.map((id) => ({ id: crypto.randomUUID(), timestamp: new Date(), attempts: 1, body: { delivery_id: id } })),
  );
  const ctx = createExecutionContext();
  const started = Date.now();
  await worker.queue(batch, env, ctx);
  const returnedAfter = Date.now() - started;
  return { returnedAfter, done: waitOnExecutionContext(ctx) };
}

/** The scheduled sweep (the minute cron). */
async function sweep() {
  await worker.scheduled({ cron: '* * * * *', scheduledTime: Date.now(), noRetry: () => {} } as ScheduledController, env);
}

const deliveriesOf = (endpointId: number) =>
  db.rows<DeliveryRow>(
    sql`SELECT id, status, attempts, next_attempt_at, event_id, last_error FROM webhook_deliveries WHERE endpoint_id = ${endpointId} ORDER BY id`,
  );

const eventRows = (type: string, objectId: number) =>
  db
    .rows<{ event_id: string }>(sql`SELECT event_id, payload FROM webhook_events WHERE type = ${type}`)
    .then((rows) => rows.filter((r) => (JSON.parse((r as unknown as { payload: string }).payload) as { id: number }).id === objectId));

async function applied(u: TestUser, price = 12_000) {
  const item = await createItem('exams', { price });
  return bodyOf(await register('exams', item.id, u.access, { amount: price, payment_method: 'card' }), 201);
}

const verify = (secret: string, r: Received) =>
  new Webhook(secret).verify(r.body, r.headers) as { id: string; type: string; data: { object: Record<string, unknown> } };

describe('webhook endpoints API', () => {
  it('create answers the secret once; GET and list never show it; it is stored sealed', async () => {
    const u = await createUser();
    const res = await api['webhook-endpoints'].$post(
      { json: { url: `${HOOKS}/a`, events: ['payment.paid', 'payment.cancelled', 'payment.paid'], description: 'books' } },
      authed(u.access),
    );
    const ep = await bodyOf(res, 201);
    expect(res.headers.get('location')).toMatch(new RegExp(`/api/webhook-endpoints/${ep.id}$`));
    expect(ep.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(ep).toMatchObject({ owner_id: u.id, events: ['payment.cancelled', 'payment.paid'], disabled: false, description: 'books' });
    const got = await bodyOf(await api['webhook-endpoints'][':id'].$get({ param: { id: String(ep.id) } }, authed(u.access)), 200);
    expect(got).not.toHaveProperty('secret');
    const list = await bodyOf(await api['webhook-endpoints'].$get({ query: {} }, authed(u.access)), 200);
    expect(list.results.map((e) => e.id)).toEqual([ep.id]);
    expect(JSON.stringify(list)).not.toContain('whsec_');
    const row = await db.first<{ secret: string }>(sql`SELECT secret FROM webhook_endpoints WHERE id = ${ep.id}`);
    expect(row!.secret).toMatch(/^v1\./);
  });

  it('another user’s endpoint is 404 everywhere; staff see and manage everyone’s', async () => {
    const [a, b, staff] = await Promise.all([createUser(), createUser(), createUser({ staff: true })]);
    const ep = await newEndpoint(a.access);
    const paths = [
      ['GET', `/api/webhook-endpoints/${ep.id}`],
      ['PATCH', `/api/webhook-endpoints/${ep.id}`],
      ['DELETE', `/api/webhook-endpoints/${ep.id}`],
      ['POST', `/api/webhook-endpoints/${ep.id}/rotate-secret`],
      ['POST', `/api/webhook-endpoints/${ep.id}/test`],
      ['GET', `/api/webhook-endpoints/${ep.id}/deliveries`],
      ['POST', `/api/webhook-endpoints/${ep.id}/deliveries/1/retry`],
    ] as const;
    for (const [method, path] of paths) {
      await expectProblem(
        await raw(path, { method, token: b.access, ...(method === 'PATCH' ? { body: { description: 'x' } } : {}) }),
        404,
        'NOT_FOUND',
      );
    }
    expect((await bodyOf(await api['webhook-endpoints'].$get({ query: {} }, authed(b.access)), 200)).results).toEqual([]);
    const all = await bodyOf(await api['webhook-endpoints'].$get({ query: { page_size: 100 } }, authed(staff.access)), 200);
    expect(all.results.map((e) => e.id)).toContain(ep.id);
    const patched = await bodyOf(
      await api['webhook-endpoints'][':id'].$patch({ param: { id: String(ep.id) }, json: { description: 'by staff' } }, authed(staff.access)),
      200,
    );
    expect(patched.description).toBe('by staff');
    expect((await api['webhook-endpoints'][':id'].$delete({ param: { id: String(ep.id) } }, authed(a.access))).status).toBe(204);
    await expectProblem(await raw(`/api/webhook-endpoints/${ep.id}`, { token: a.access }), 404, 'NOT_FOUND');
  });

  it.each([
    ['http://', 'http://hooks.example.com/x'],
    ['a private address', 'https://10.0.0.8/hook'],
    ['loopback', 'https://127.0.0.1/hook'],
    ['cloud metadata', 'https://169.254.169.254/latest'],
    ['credentials', 'https://user:pw@hooks.example.com/'],
  ])('a URL the controller policy refuses (%s) is 400 on create and on PATCH', async (_, url) => {
    const u = await createUser();
    const res = await raw('/api/webhook-endpoints', { token: u.access, body: { url, events: ['*'] } });
    const problem = await expectProblem(res, 400, 'INPUT_VALIDATION_ERROR');
    expect(JSON.stringify(problem)).toContain('"path":"url"');
    const ep = await newEndpoint(u.access);
    await expectProblem(
      await raw(`/api/webhook-endpoints/${ep.id}`, { method: 'PATCH', token: u.access, body: { url } }),
      400,
      'INPUT_VALIDATION_ERROR',
    );
  });

  it('bad events are 400: empty, unknown, and order.* for a non-staff user (staff may)', async () => {
    const [u, staff] = await Promise.all([createUser(), createUser({ staff: true })]);
    for (const events of [[], ['payment.exploded'], ['order.created']]) {
      await expectProblem(
        await raw('/api/webhook-endpoints', { token: u.access, body: { url: `${HOOKS}/x`, events } }),
        400,
        'INPUT_VALIDATION_ERROR',
      );
    }
    expect((await newEndpoint(staff.access, { events: ['order.created'] })).events).toEqual(['order.created']);
  });

  it('10 endpoints per user; 12 concurrent creates → exactly 10 (409 TOO_MANY_ENDPOINTS for the rest)', async () => {
    const u = await createUser();
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => raw('/api/webhook-endpoints', { token: u.access, body: { url: `${HOOKS}/n${i}`, events: ['*'] } })),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(10);
    const refused = results.filter((r) => r.status !== 201);
    expect(refused).toHaveLength(2);
    for (const r of refused) await expectProblem(r, 409, 'TOO_MANY_ENDPOINTS');
    expect((await db.first<{ n: number }>(sql`SELECT count(*) AS n FROM webhook_endpoints WHERE owner_id = ${u.id}`))!.n).toBe(10);
  });
});

describe('events', () => {
  it('apply → payment.paid: signed, verified with the standardwebhooks library, the object as GET answers it', async () => {
    const r = receiver();
    const u = await createUser();
    const ep = await newEndpoint(u.access, { events: ['payment.paid'] });
    const done = await applied(u);
    const [got] = await eventually(() => eventsAt(r.received, ep.url).length > 0 && eventsAt(r.received, ep.url));
    const event = verify(ep.secret, got!);
    expect(event.type).toBe('payment.paid');
    expect(event.id).toMatch(/^evt_/);
    expect(got!.headers['webhook-id']).toBe(event.id);
    expect(got!.headers['content-type']).toBe('application/json');
    const payment = await bodyOf(await api.me.payments[':id'].$get({ param: { id: String(done.payment.id) } }, authed(u.access)), 200);
    expect(event.data.object).toEqual(payment);
    expect(() => new Webhook('whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=').verify(got!.body, got!.headers)).toThrow();
  });

  it('cancel → payment.cancelled and payment.refunded, once each, even for 6 concurrent cancels', async () => {
    const r = receiver();
    const u = await createUser();
    const ep = await newEndpoint(u.access, { events: ['payment.cancelled', 'payment.refunded'] });
    const done = await applied(u);
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => raw(`/api/payments/${done.payment.id}/cancel`, { token: u.access, body: { reason: 'changed my mind' } })),
    );
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    expect(await eventRows('payment.cancelled', done.payment.id)).toHaveLength(1);
    expect(await eventRows('payment.refunded', done.payment.id)).toHaveLength(1);
    const got = await eventually(() => eventsAt(r.received, ep.url).length >= 2 && eventsAt(r.received, ep.url));
    expect(got.map((g) => g.event.type).sort()).toEqual(['payment.cancelled', 'payment.refunded']);
    const payment = await bodyOf(await api.me.payments[':id'].$get({ param: { id: String(done.payment.id) } }, authed(u.access)), 200);
    for (const g of got) expect(verify(ep.secret, g).data.object).toEqual(payment);
    await new Promise((res) => setTimeout(res, 200));
    expect(eventsAt(r.received, ep.url)).toHaveLength(2);
  });

  it('N concurrent identical applies → one payment, one payment.paid', async () => {
    const u = await createUser();
    const item = await createItem('exams', { price: 15_000 });
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => register('exams', item.id, u.access, { amount: 15_000, payment_method: 'card' })),
    );
    const ok = answers.filter((a) => a.status === 201);
    expect(ok).toHaveLength(1);
    const { payment } = (await ok[0]!.json()) as { payment: { id: number } };
    expect(await eventRows('payment.paid', payment.id)).toHaveLength(1);
    const forUser = await db.first<{ n: number }>(sql`SELECT count(*) AS n FROM webhook_events WHERE type = 'payment.paid' AND user_id = ${u.id}`);
    expect(forUser!.n).toBe(1);
  });

  it('a burst of 16 concurrent applies by one user (grouped into one write) → 16 payments, one payment.paid each', async () => {
    const u = await createUser();
    const items = await Promise.all(Array.from({ length: 16 }, () => createItem('exams', { price: 11_000 })));
    const answers = await Promise.all(items.map((item) => register('exams', item.id, u.access, { amount: 11_000, payment_method: 'card' })));
    expect(answers.map((a) => a.status)).toEqual(Array(16).fill(201));
    const events = await db.rows<{ payload: string }>(sql`SELECT payload FROM webhook_events WHERE type = 'payment.paid' AND user_id = ${u.id}`);
    const paid = events.map((e) => (JSON.parse(e.payload) as { id: number }).id).sort((a, b) => a - b);
    const payments = await Promise.all(answers.map(async (a) => ((await a.json()) as { payment: { id: number } }).payment.id));
    expect(paid).toEqual(payments.sort((a, b) => a - b));
  });

  it('8 concurrent commands on one machine: one result event per operation, whatever was refused', async () => {
    const u = await createUser();
    const m = await newMachine(u.access);
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => raw(`/api/machines/${m.id}/operation`, { token: u.access, body: { command: 'POWER_ON' } })),
    );
    expect(answers.filter((a) => a.status === 202)).toHaveLength(1);
    const op = (await answers.find((a) => a.status === 202)!.json()) as { id: number };
    await eventually(async () => (await eventRows('machine.operation.succeeded', op.id)).length === 1);
    await new Promise((res) => setTimeout(res, 200));
    expect(await eventRows('machine.operation.succeeded', op.id)).toHaveLength(1);
    const statusEvents = await db.rows<{ payload: string }>(
      sql`SELECT payload FROM webhook_events WHERE type = 'machine.status_changed' AND user_id = ${u.id}`,
    );
    expect(statusEvents.map((e) => (JSON.parse(e.payload) as { status: string }).status)).toEqual(['READY']);
  });

  it('complete → registration.completed once, the registration as the API answers it', async () => {
    const r = receiver();
    const u = await createUser();
    const ep = await newEndpoint(u.access, { events: ['registration.completed'] });
    const item = await createItem('courses', { price: 20_000 });
    await bodyOf(await register('courses', item.id, u.access, { amount: 20_000, payment_method: 'card' }), 201);
    const completed = await bodyOf(await api.courses[':id'].complete.$post({ param: { id: String(item.id) } }, authed(u.access)), 200);
    await expectProblem(await raw(`/api/courses/${item.id}/complete`, { method: 'POST', token: u.access }), 409, 'ALREADY_COMPLETED');
    const [got] = await eventually(() => eventsAt(r.received, ep.url).length > 0 && eventsAt(r.received, ep.url));
    expect(verify(ep.secret, got!).data.object).toEqual(completed);
    expect(await eventRows('registration.completed', completed.id)).toHaveLength(1);
  });

  it('machine: operation succeeded + status changed, operation failed; a PATCH status is a status change', async () => {
    const r = receiver();
    const device = stubController((call) => new Response(null, { status: call.body.command === 'START' ? 500 : 200 }));
    restores.push(device.restore);
    const u = await createUser();
    const ep = await newEndpoint(u.access, { events: ['machine.status_changed', 'machine.operation.succeeded', 'machine.operation.failed'] });
    const m = await newMachine(u.access, { controller_url: `${DEVICE}/w1` });
    const ok = await run(u.access, m.id, 'POWER_ON');
    const failed = await run(u.access, m.id, 'START');
    expect(failed.result).toBe('REMOTEFAILED');
    await bodyOf(await api.machines[':id'].$patch({ param: { id: String(m.id) }, json: { status: 'POWEROFF' } }, authed(u.access)), 200);
    const got = await eventually(() => eventsAt(r.received, ep.url).length >= 5 && eventsAt(r.received, ep.url));
    const byType = (t: string) => got.filter((g) => g.event.type === t).map((g) => verify(ep.secret, g).data.object);
    expect(byType('machine.operation.succeeded')).toEqual([ok]);
    expect(byType('machine.operation.failed')).toEqual([failed]);
    expect(
      byType('machine.status_changed')
        .map((o) => o.status)
        .sort(),
    ).toEqual(['ERROR', 'POWEROFF', 'READY']);
    const machine = await bodyOf(await api.machines[':id'].$get({ param: { id: String(m.id) } }, authed(u.access)), 200);
    expect(byType('machine.status_changed').find((o) => o.status === 'POWEROFF')).toEqual(machine);
    expect(got).toHaveLength(5);
  });

  it('orders reach staff endpoints only, once per change; a user’s endpoint never sees another user’s events', async () => {
    const r = receiver();
    const [staff, a, b] = await Promise.all([createUser({ staff: true }), createUser(), createUser()]);
    const staffEp = await newEndpoint(staff.access, { events: ['*'] });
    const aEp = await newEndpoint(a.access, { events: ['*'] });
    const bEp = await newEndpoint(b.access, { events: ['*'] });
    const product = await bodyOf(await api.products.$post({ json: { name: 'Mug', price: 12_000 } }, authed(staff.access)), 201);
    const order = await bodyOf(
      await api.orders.$post(
        { json: { customer_id: a.id, status: 'PENDING', items: [{ product_id: product.id, quantity: 2 }] } },
        authed(staff.access),
      ),
      201,
    );
    const paid = await bodyOf(
      await api.orders[':id'].$patch({ param: { id: String(order.id) }, json: { status: 'PAID' } }, authed(staff.access)),
      200,
    );
    const aPaid = await applied(a);
    const bPaid = await applied(b);
    const staffGot = await eventually(() => {
      const got = eventsAt(r.received, staffEp.url);
      return (
        got.filter((g) => g.event.type.startsWith('order.') && g.event.data.object.id === order.id).length >= 2 &&
        got.filter((g) => g.event.type === 'payment.paid').length >= 2 &&
        got
      );
    });
    const orderEvents = staffGot.filter((g) => g.event.type.startsWith('order.') && g.event.data.object.id === order.id);
    expect(orderEvents.map((g) => g.event.type).sort()).toEqual(['order.created', 'order.status_changed']);
    expect(verify(staffEp.secret, orderEvents.find((g) => g.event.type === 'order.created')!).data.object).toEqual(order);
    expect(verify(staffEp.secret, orderEvents.find((g) => g.event.type === 'order.status_changed')!).data.object).toEqual(paid);
    await eventually(() => eventsAt(r.received, aEp.url).length >= 1 && eventsAt(r.received, bEp.url).length >= 1);
    await new Promise((res) => setTimeout(res, 300));
    const aGot = eventsAt(r.received, aEp.url);
    const bGot = eventsAt(r.received, bEp.url);
    expect(aGot.map((g) => [g.event.type, g.event.data.object.id])).toEqual([['payment.paid', aPaid.payment.id]]);
    expect(bGot.map((g) => [g.event.type, g.event.data.object.id])).toEqual([['payment.paid', bPaid.payment.id]]);
  });
});

describe('delivery', () => {
  quietExpectedLogs();

  it('500 → retried with growing delays (5 s, 10 s, 20 s); every attempt has the same webhook-id and body', async () => {
    const r = receiver(() => new Response('no', { status: 500 }));
    const u = await createUser();
    const ep = await newEndpoint(u.access, { events: ['payment.paid'] });
    await applied(u);
    const first = await eventually(async () => {
      const [d] = await deliveriesOf(ep.id);
      return d && d.attempts === 1 && d;
    });
    const delays: number[] = [];
    let last = first;
    for (let i = 0; i < 3; i++) {
      const attemptAt = eventsAt(r.received, ep.url).at(-1)!.at;
      delays.push(Math.round((last.next_attempt_at! - attemptAt) / 1000));
      expect(last.status).toBe('pending');
      // Due now: the attempt its delayed message would make.
      await db.run(sql`UPDATE webhook_deliveries SET next_attempt_at = ${Date.now()} WHERE id = ${last.id}`);
      await (await deliverNow([last.id])).done;
      last = (await deliveriesOf(ep.id))[0]!;
    }
    expect(delays).toEqual([5, 10, 20]);
    expect(last.attempts).toBe(4);
    const sent = eventsAt(r.received, ep.url);
    expect(sent).toHaveLength(4);
    expect(new Set(sent.map((s) => s.headers['webhook-id']))).toEqual(new Set([first.event_id]));
    expect(new Set(sent.map((s) => s.body)).size).toBe(1);
    const log = await bodyOf(
      await api['webhook-endpoints'][':id'].deliveries.$get({ param: { id: String(ep.id) }, query: {} }, authed(u.access)),
      200,
    );
    expect(log.results[0]).toMatchObject({
      status: 'pending',
      attempts: 4,
      last_status_code: 500,
      last_error: 'HTTP 500',
      event_type: 'payment.paid',
    });
    expect(Date.parse(log.results[0]!.next_attempt_at!)).toBeGreaterThan(Date.now() + 30_000);
  });

  it('a receiver down for a while gets every event after it recovers (the sweep re-sends what is due)', async () => {
    let up = false;
    const r = receiver(() => new Response(null, { status: up ? 200 : 503 }));
    const u = await createUser();
    const ep = await newEndpoint(u.access, { events: ['*'] });
    const payments = [await applied(u), await applied(u), await applied(u)];
    await eventually(async () => (await deliveriesOf(ep.id)).filter((d) => d.attempts >= 1).length === 3);
    up = true;
    // Their retries are due (as if the delays had passed), and their messages lost: the sweep finds them.
    await db.run(sql`UPDATE webhook_deliveries SET next_attempt_at = ${Date.now() - 120_000} WHERE endpoint_id = ${ep.id}`);
    await sweep();
    const done = await eventually(async () => {
      const rows = await deliveriesOf(ep.id);
      return rows.every((d) => d.status === 'succeeded') && rows;
    });
    expect(done).toHaveLength(3);
    const delivered = eventsAt(r.received, ep.url).filter((g) => g.event.type === 'payment.paid');
    expect(new Set(delivered.map((g) => g.event.data.object.id))).toEqual(new Set(payments.map((p) => p.payment.id)));
  });

  it('a hanging endpoint holds no other: the batch returns at once and the other endpoint is delivered', async () => {
    const never = new Promise<Response>(() => {});
    const r = receiver((req) => (req.url.endsWith('/hang') ? never : new Response(null, { status: 204 })));
    await withVars({ WEBHOOK_TIMEOUT_MS: '3000' }, async () => {
      const u = await createUser();
      const hang = await newEndpoint(u.access, { url: `${HOOKS}/hang`, events: ['payment.paid'] });
      const fast = await newEndpoint(u.access, { url: `${HOOKS}/fast`, events: ['payment.paid'] });
      // Queue nothing by itself: the test hands both deliveries to one batch.
      const send = vi.spyOn(env.WEBHOOK_QUEUE, 'sendBatch').mockResolvedValue(undefined as never);
      await applied(u);
      const ids = await eventually(async () => {
        const rows = [...(await deliveriesOf(hang.id)), ...(await deliveriesOf(fast.id))];
        return rows.length === 2 && rows.map((d) => d.id);
      });
      send.mockRestore();
      const started = Date.now();
      const { returnedAfter, done } = await deliverNow(ids);
      expect(returnedAfter).toBeLessThan(1000);
      const fastDone = await eventually(async () => (await deliveriesOf(fast.id))[0]!.status === 'succeeded' && Date.now());
      expect(fastDone - started).toBeLessThan(1500);
      expect((await deliveriesOf(hang.id))[0]!.status).toBe('pending');
      expect((await deliveriesOf(hang.id))[0]!.attempts).toBe(0);
      await done;
      const hung = (await deliveriesOf(hang.id))[0]!;
      expect(hung).toMatchObject({ attempts: 1, status: 'pending', last_error: 'no answer in 3000 ms' });
    });
    expect(eventsAt(r.received, `${HOOKS}/fast`)).toHaveLength(1);
  });

  it('killed between the write and the enqueue: the committed event is still delivered (the sweep)', async () => {
    const r = receiver();
    const u = await createUser();
    const ep = await newEndpoint(u.access, { events: ['payment.paid'] });
    // The queue refuses everything: as if the worker died right after its write.
    const send = vi.spyOn(env.WEBHOOK_QUEUE, 'sendBatch').mockRejectedValue(new Error('queue down'));
    const done = await applied(u);
    const rows = await eventually(async () => {
      const d = await deliveriesOf(ep.id);
      return d.length === 1 && d;
    });
    expect(rows[0]).toMatchObject({ status: 'pending', attempts: 0 });
    send.mockRestore();
    // A minute later the sweep finds the pending delivery whose message never left.
    await db.run(sql`UPDATE webhook_deliveries SET next_attempt_at = ${Date.now() - 120_000} WHERE endpoint_id = ${ep.id}`);
    await sweep();
    const [got] = await eventually(() => eventsAt(r.received, ep.url).length > 0 && eventsAt(r.received, ep.url));
    expect(verify(ep.secret, got!).data.object.id).toBe(done.payment.id);

    // And an event whose fan-out never ran at all (still undispatched) is fanned out by the sweep.
    const again = await applied(u, 13_000);
    await eventually(async () => (await deliveriesOf(ep.id)).length === 2);
    await eventually(() => eventsAt(r.received, ep.url).length === 2);
    const newest = (await deliveriesOf(ep.id)).at(-1)!;
    expect(verify(ep.secret, eventsAt(r.received, ep.url)[1]!).data.object.id).toBe(again.payment.id);
    // Back to "committed, never fanned out": the event undispatched, no delivery.
    await db.run(sql`DELETE FROM webhook_deliveries WHERE id = ${newest.id}`);
    await db.run(sql`UPDATE webhook_events SET dispatched_at = NULL WHERE event_id = ${newest.event_id}`);
    await sweep();
    await eventually(() => eventsAt(r.received, ep.url).length === 3);
  });

  it('manual retry: 409 DELIVERY_PENDING while pending; a succeeded one is sent again with the same webhook-id', async () => {
    let answer = 500;
    const r = receiver(() => new Response(null, { status: answer }));
    const u = await createUser();
    const ep = await newEndpoint(u.access, { events: ['payment.paid'] });
    await applied(u);
    const [d] = await eventually(async () => {
      const rows = await deliveriesOf(ep.id);
      return rows[0]?.attempts === 1 && rows;
    });
    const retry = (id: number) =>
      api['webhook-endpoints'][':id'].deliveries[':delivery_id'].retry.$post(
        { param: { id: String(ep.id), delivery_id: String(id) } },
        authed(u.access),
      );
    await expectProblem(
      await raw(`/api/webhook-endpoints/${ep.id}/deliveries/${d!.id}/retry`, { method: 'POST', token: u.access }),
      409,
      'DELIVERY_PENDING',
    );
    answer = 200;
    await db.run(sql`UPDATE webhook_deliveries SET next_attempt_at = ${Date.now()} WHERE id = ${d!.id}`);
    await (await deliverNow([d!.id])).done;
    expect((await deliveriesOf(ep.id))[0]!.status).toBe('succeeded');
    const again = await bodyOf(await retry(d!.id), 202);
    expect(again).toMatchObject({ id: d!.id, status: 'pending' });
    await eventually(async () => (await deliveriesOf(ep.id))[0]!.status === 'succeeded' && eventsAt(r.received, ep.url).length === 3);
    expect(new Set(eventsAt(r.received, ep.url).map((g) => g.headers['webhook-id']))).toEqual(new Set([d!.event_id]));
    await expectProblem(
      await raw(`/api/webhook-endpoints/${ep.id}/deliveries/99999999/retry`, { method: 'POST', token: u.access }),
      404,
      'NOT_FOUND',
    );
  });

  it('test ping: 202, delivered to that endpoint only, signed', async () => {
    const r = receiver();
    const u = await createUser();
    const ep = await newEndpoint(u.access, { events: ['payment.paid'] });
    const other = await newEndpoint(u.access, { events: ['*'] });
    const d = await bodyOf(await api['webhook-endpoints'][':id'].test.$post({ param: { id: String(ep.id) } }, authed(u.access)), 202);
    expect(d).toMatchObject({ event_type: 'ping', status: 'pending', attempts: 0 });
    const [got] = await eventually(() => eventsAt(r.received, ep.url).length > 0 && eventsAt(r.received, ep.url));
    expect(verify(ep.secret, got!)).toMatchObject({ type: 'ping', data: { object: { endpoint_id: ep.id, url: ep.url } } });
    expect(eventsAt(r.received, other.url)).toEqual([]);
    const log = await bodyOf(
      await api['webhook-endpoints'][':id'].deliveries.$get({ param: { id: String(ep.id) }, query: { event_type: 'ping' } }, authed(u.access)),
      200,
    );
    await eventually(async () => (await deliveriesOf(ep.id))[0]!.status === 'succeeded');
    expect(log.results).toHaveLength(1);
  });

  it('rotation: both signatures for 24 h (either secret verifies), then only the new one', async () => {
    const r = receiver();
    const u = await createUser();
    const ep = await newEndpoint(u.access, { events: ['payment.paid'] });
    const rotated = await bodyOf(
      await api['webhook-endpoints'][':id']['rotate-secret'].$post({ param: { id: String(ep.id) } }, authed(u.access)),
      201,
    );
    expect(Math.abs(Date.parse(rotated.previous_valid_until) - Date.now() - 86_400_000)).toBeLessThan(60_000);
    await applied(u);
    const [got] = await eventually(() => eventsAt(r.received, ep.url).length > 0 && eventsAt(r.received, ep.url));
    expect(got!.headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(verify(ep.secret, got!).type).toBe('payment.paid');
    expect(verify(rotated.secret, got!).type).toBe('payment.paid');
    await db.run(sql`UPDATE webhook_endpoints SET secret_previous_until = ${Date.now() - 1} WHERE id = ${ep.id}`);
    await applied(u, 14_000);
    const later = await eventually(() => eventsAt(r.received, ep.url).length > 1 && eventsAt(r.received, ep.url)[1]);
    expect(later.headers['webhook-signature']!.split(' ')).toHaveLength(1);
    expect(() => verify(ep.secret, later)).toThrow();
    expect(verify(rotated.secret, later).type).toBe('payment.paid');
  });

  it('an endpoint failing for 3 days is disabled; it gets nothing more until its owner re-enables it', async () => {
    const r = receiver(() => new Response(null, { status: 500 }));
    const u = await createUser();
    const ep = await newEndpoint(u.access, { events: ['payment.paid'] });
    await db.run(sql`UPDATE webhook_endpoints SET failing_since = ${Date.now() - 3 * 86_400_000 - 1000} WHERE id = ${ep.id}`);
    await applied(u);
    const disabled = await eventually(async () => {
      const e = await bodyOf(await api['webhook-endpoints'][':id'].$get({ param: { id: String(ep.id) } }, authed(u.access)), 200);
      return e.disabled && e;
    });
    expect(disabled.disabled_reason).toBe('failing for the whole retry window');
    const sentBefore = eventsAt(r.received, ep.url).length;
    await applied(u, 16_000);
    await new Promise((res) => setTimeout(res, 300));
    await sweep();
    expect(eventsAt(r.received, ep.url)).toHaveLength(sentBefore);
    const enabled = await bodyOf(
      await api['webhook-endpoints'][':id'].$patch({ param: { id: String(ep.id) }, json: { disabled: false } }, authed(u.access)),
      200,
    );
    expect(enabled).toMatchObject({ disabled: false, disabled_reason: null });
  });

  it('the URL policy holds at send time; a redirect is not followed (a failure, retried)', async () => {
    const r = receiver(() => new Response(null, { status: 302, headers: { location: 'http://169.254.169.254/' } }));
    const u = await createUser();
    const redirecting = await newEndpoint(u.access, { events: ['payment.paid'] });
    const moved = await newEndpoint(u.access, { events: ['payment.paid'] });
    await db.run(sql`UPDATE webhook_endpoints SET url = ${'https://192.168.1.10/hook'} WHERE id = ${moved.id}`);
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    restores.push(() => fetchSpy.mockRestore());
    await applied(u);
    const [refused] = await eventually(async () => {
      const rows = await deliveriesOf(moved.id);
      return rows[0]?.status === 'failed' && rows;
    });
    expect(refused!.last_error).toContain('url refused');
    expect(fetchSpy.mock.calls.some(([u]) => String(u).includes('192.168.1.10'))).toBe(false);
    const [redirected] = await eventually(async () => {
      const rows = await deliveriesOf(redirecting.id);
      return rows[0]?.attempts === 1 && rows;
    });
    expect(redirected).toMatchObject({ status: 'pending', last_error: 'HTTP 302' });
    expect(eventsAt(r.received, redirecting.url)).toHaveLength(1);
  });
});
