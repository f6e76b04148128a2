// Faults: a database failure in the middle of a write, a Durable Object reset between operations,
// and a hanging device controller. None may lose or half-write data, and errors stay problem+json.
import { evictDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import { ledger } from '../src/modules/payments/user-ledger';
import { createItem } from './catalog-helpers';
import { call, createUser, expectProblem, json } from './helpers';
import { DEVICE, accepted, machine, newMachine, run, stubController, waitDone } from './machines-helpers';

const postgres = env.DB_BACKEND === 'postgres';

/**
 * Makes every `event` (INSERT, UPDATE) on `table` fail inside the database until the returned
 * function is called: a SQLite trigger that RAISEs, or on Postgres a plpgsql trigger function that
 * raises. Either aborts the statement and with it the whole batch/transaction it is part of.
 */
async function failWrites(table: string, event: 'INSERT' | 'UPDATE' | `UPDATE OF ${string}` = 'INSERT'): Promise<() => Promise<void>> {
  const name = `inject_fault_${table}_${event.toLowerCase().replace(/\W+/g, '_')}`;
  if (postgres) {
    await env.DB.prepare(`CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected fault'; END $$`).run();
    await env.DB.prepare(`CREATE TRIGGER ${name} BEFORE ${event} ON ${table} FOR EACH ROW EXECUTE FUNCTION ${name}()`).run();
    return async () => {
      await env.DB.prepare(`DROP TRIGGER ${name} ON ${table}`).run();
      await env.DB.prepare(`DROP FUNCTION ${name}()`).run();
    };
  }
  await env.DB.prepare(`CREATE TRIGGER ${name} BEFORE ${event} ON ${table} BEGIN SELECT RAISE(ABORT, 'injected fault'); END`).run();
  return async () => void (await env.DB.prepare(`DROP TRIGGER ${name}`).run());
}

async function rows(sql: string, ...args: unknown[]) {
  return (await env.DB.prepare(sql).bind(...args).all()).results;
}

describe('a database failure mid-write', () => {
  it('apply: the payment insert fails after the registration statement → 500 with a request id, nothing written', async () => {
    const user = await createUser();
    const exam = await createItem('exams', { price: 10_000 });
    const log = vi.spyOn(console, 'error').mockImplementation(() => {});
    const restore = await failWrites('payments');
    try {
      const res = await call(`/api/exams/${exam.id}/apply`, { token: user.access, body: { amount: 10_000, payment_method: 'card' } });
      const body = await expectProblem(res, 500, 'INTERNAL_ERROR');
      expect(body.instance).toBe(res.headers.get('x-request-id'));
      expect(JSON.stringify(body)).not.toMatch(/injected|trigger|sqlite|postgres|plpgsql/i);
    } finally {
      await restore();
      log.mockRestore();
    }
    expect(await rows('SELECT * FROM registrations WHERE user_id = ?', user.id)).toEqual([]);
    expect(await rows('SELECT * FROM payments WHERE user_id = ?', user.id)).toEqual([]);
    expect(await rows('SELECT registration_count FROM exams WHERE id = ?', exam.id)).toEqual([{ registration_count: 0 }]);
    // Nothing is left locked: the same request succeeds once the database is healthy.
    const retry = await call(`/api/exams/${exam.id}/apply`, { token: user.access, body: { amount: 10_000, payment_method: 'card' } });
    expect(retry.status).toBe(201);
    expect(await rows('SELECT registration_count FROM exams WHERE id = ?', exam.id)).toEqual([{ registration_count: 1 }]);
  });

  it('cancel: the registration update fails → payment still paid, count unchanged', async () => {
    const user = await createUser();
    const exam = await createItem('exams', { price: 10_000 });
    const { payment } = await json(await call(`/api/exams/${exam.id}/apply`, { token: user.access, body: { amount: 10_000, payment_method: 'card' } }));
    const restore = await failWrites('registrations', 'UPDATE');
    const log = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      await expectProblem(await call(`/api/payments/${payment.id}/cancel`, { token: user.access, body: {} }), 500, 'INTERNAL_ERROR');
    } finally {
      await restore();
      log.mockRestore();
    }
    expect(await rows('SELECT status FROM payments WHERE id = ?', payment.id)).toEqual([{ status: 'paid' }]);
    expect(await rows('SELECT registration_count FROM exams WHERE id = ?', exam.id)).toEqual([{ registration_count: 1 }]);
    expect((await call(`/api/payments/${payment.id}/cancel`, { token: user.access, body: {} })).status).toBe(200);
    expect(await rows('SELECT registration_count FROM exams WHERE id = ?', exam.id)).toEqual([{ registration_count: 0 }]);
  });

  it('orders: an order-item insert fails → no order and no change to the dashboards', async () => {
    const staff = await createUser({ staff: true });
    const customer = await createUser();
    const product = await json(await call('/api/products', { token: staff.access, body: { name: 'Widget', price: 5_000 } }));
    const before = await rows('SELECT * FROM sales_hours ORDER BY hour');
    const log = vi.spyOn(console, 'error').mockImplementation(() => {});
    const restore = await failWrites('order_items');
    try {
      const res = await call('/api/orders', { token: staff.access, body: { customer_id: customer.id, items: [{ product_id: product.id, quantity: 2 }] } });
      await expectProblem(res, 500, 'INTERNAL_ERROR');
    } finally {
      await restore();
      log.mockRestore();
    }
    expect(await rows('SELECT * FROM orders WHERE customer_id = ?', customer.id)).toEqual([]);
    expect(await rows('SELECT * FROM sales_hours ORDER BY hour')).toEqual(before);
  });
});

describe('a crash between the payment and the stored response', () => {
  // The payment commits, then the worker dies before the Idempotency-Key's response is saved
  // (simulated: saving the response fails). A retry with the same key must replay that payment.
  it.each([
    ['exams', 'apply'],
    ['courses', 'enroll'],
  ])('%s: a retry with the same key replays the committed payment', async (kind, action) => {
    const user = await createUser();
    const item = await createItem(kind, { price: 10_000 });
    const key = `crash-${kind}-${user.id}`;
    const attempt = () => call(`/api/${kind}/${item.id}/${action}`, { token: user.access, body: { amount: 10_000, payment_method: 'card' }, headers: { 'idempotency-key': key } });
    const log = vi.spyOn(console, 'error').mockImplementation(() => {});
    const restore = await failWrites('idempotency_keys', 'UPDATE OF response_status');
    try {
      await expectProblem(await attempt(), 500, 'INTERNAL_ERROR');
    } finally {
      await restore();
      log.mockRestore();
    }
    const committed = await rows('SELECT id FROM payments WHERE user_id = ?', user.id);
    expect(committed).toHaveLength(1);
    const replay = await attempt();
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    const body = await json(replay);
    expect(body.payment).toMatchObject({ id: committed[0]!.id, status: 'paid', amount: 10_000 });
    expect(body.registration).toMatchObject({ item_id: item.id, status: action === 'apply' ? 'applied' : 'enrolled' });
    // Long after the crash (the claim would count as abandoned) it is still the same payment.
    await env.DB.prepare('UPDATE idempotency_keys SET created_at = created_at - 600000 WHERE user_id = ?').bind(user.id).run();
    const later = await attempt();
    expect(later.status).toBe(201);
    expect((await json(later)).payment.id).toBe(committed[0]!.id);
    expect(await rows('SELECT id FROM payments WHERE user_id = ?', user.id)).toHaveLength(1);
  });

  it('cancel: a retry with the same key replays the refund', async () => {
    const user = await createUser();
    const exam = await createItem('exams', { price: 10_000 });
    const { payment } = await json(await call(`/api/exams/${exam.id}/apply`, { token: user.access, body: { amount: 10_000, payment_method: 'card' } }));
    const attempt = () => call(`/api/payments/${payment.id}/cancel`, { token: user.access, body: { reason: 'plans changed' }, headers: { 'idempotency-key': 'crash-cancel' } });
    const log = vi.spyOn(console, 'error').mockImplementation(() => {});
    const restore = await failWrites('idempotency_keys', 'UPDATE OF response_status');
    try {
      await expectProblem(await attempt(), 500, 'INTERNAL_ERROR');
    } finally {
      await restore();
      log.mockRestore();
    }
    expect(await rows('SELECT status FROM payments WHERE id = ?', payment.id)).toEqual([{ status: 'cancelled' }]);
    const replay = await attempt();
    expect(replay.status).toBe(200);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(await json(replay)).toMatchObject({ id: payment.id, status: 'cancelled', refund_reason: 'plans changed' });
  });
});

describe('a Durable Object reset between operations', () => {
  it('UserLedger: an evicted ledger loses nothing committed', async () => {
    const user = await createUser();
    const exam = await createItem('exams', { price: 10_000 });
    const { payment } = await json(await call(`/api/exams/${exam.id}/apply`, { token: user.access, body: { amount: 10_000, payment_method: 'card' } }));
    // The app's own naming (user:<id>), and no catch: an eviction that cannot happen fails the test.
    await evictDurableObject(ledger(env, user.id));
    await expectProblem(await call(`/api/exams/${exam.id}/apply`, { token: user.access, body: { amount: 10_000, payment_method: 'card' } }), 409, 'ALREADY_REGISTERED');
    expect((await call(`/api/payments/${payment.id}/cancel`, { token: user.access, body: {} })).status).toBe(200);
    expect(await rows('SELECT registration_count FROM exams WHERE id = ?', exam.id)).toEqual([{ registration_count: 0 }]);
  });

  it('MachineDO: a command accepted before an eviction still completes, and the status survives', async () => {
    const u = await createUser();
    const m = await newMachine(u.access);
    await run(u.access, m.id, 'POWER_ON');
    const op = await accepted(u.access, m.id, 'START');
    await evictDurableObject(env.MACHINE.get(env.MACHINE.idFromName(String(m.id)))).catch(() => {});
    expect((await waitDone(u.access, op.location)).result).toBe('SUCCESS');
    expect((await machine(u.access, m.id)).status).toBe('RUNNING');
    await evictDurableObject(env.MACHINE.get(env.MACHINE.idFromName(String(m.id)))).catch(() => {});
    expect((await run(u.access, m.id, 'STOP')).result).toBe('SUCCESS');
  });
});

describe('a hanging device controller', () => {
  it('never blocks other machines, and its own command ends after the timeout and retries', async () => {
    const u = await createUser();
    const controller = stubController(() => new Promise<Response>(() => {})); // never answers
    try {
      const stuck = await newMachine(u.access, { status: 'READY', controller_url: `${DEVICE}/hang` });
      const healthy = await newMachine(u.access);
      const pending = await accepted(u.access, stuck.id, 'START');
      // The simulator-driven machine completes while the other one's controller hangs.
      expect((await run(u.access, healthy.id, 'POWER_ON')).result).toBe('SUCCESS');
      const path = new URL(pending.location).pathname;
      expect((await json(await call(path, { token: u.access }))).result).toBe('PENDING');
      // Each call gives up after MACHINE_CONTROLLER_TIMEOUT_MS; after the retries the DLQ fails it.
      const done = await waitDone(u.access, pending.location);
      expect(done.result).toBe('INTERNALFAILED');
      expect((await machine(u.access, stuck.id)).status).toBe('READY');
      expect(controller.calls.length).toBe(4); // the first try and 3 retries
    } finally {
      controller.restore();
    }
  });
});
