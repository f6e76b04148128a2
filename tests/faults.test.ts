// Faults: a database failure in the middle of a write, a Durable Object reset between operations,
// and a hanging device controller. None may lose or half-write data, and errors stay problem+json.
import {
  abortAllDurableObjects,
  createExecutionContext,
  createMessageBatch,
  evictDurableObject,
  getQueueResult,
  runDurableObjectAlarm,
  runInDurableObject,
} from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import worker from '../src/index';
import { ledgerName } from '../src/modules/payments/user-ledger';
import { createItem, register } from './catalog-helpers';
import { api, authed, bodyOf, createUser, expectProblem, raw, withVars, scopedEnv } from './helpers';
import { quietExpectedLogs, scanOnly } from './log-guard';
import { DEVICE, accepted, command, deferred, machine, newMachine, type Operation, run, stubController, waitDone } from './machines-helpers';
import { db, failWrites, sql } from './db';

const rows = (query: ReturnType<typeof sql>) => db.rows(query);
const CARD = { amount: 10_000, payment_method: 'card' } as const;
/** Applies to an exam for 10,000 by card (with an Idempotency-Key if given); the typed response, unchecked. */
const apply = (token: string, examId: number, key?: string) => register('exams', examId, token, CARD, key);
/** Cancels a payment (with an Idempotency-Key if given); the typed response, unchecked. */
const cancel = (token: string, paymentId: number, json: { reason?: string } = {}, key?: string) =>
  api.payments[':id'].cancel.$post({ param: { id: String(paymentId) }, header: key ? { 'idempotency-key': key } : {}, json }, authed(token));

describe('a database failure mid-write', () => {
  it('apply: the payment insert fails after the registration statement → 500 with a request id, nothing written; a retry without a key then pays once', async () => {
    const user = await createUser();
    const exam = await createItem('exams', { price: 10_000 });
    const log = vi.spyOn(console, 'error').mockImplementation(scanOnly);
    const restore = await failWrites('payments');
    try {
      const res = await apply(user.access, exam.id);
      const body = await expectProblem(res, 500, 'INTERNAL_ERROR');
      expect(body.instance).toBe(res.headers.get('x-request-id'));
      expect(JSON.stringify(body)).not.toMatch(/injected|trigger|sqlite|postgres|plpgsql/i);
    } finally {
      await restore();
      log.mockRestore();
    }
    expect(await rows(sql`SELECT * FROM registrations WHERE user_id = ${user.id}`)).toEqual([]);
    expect(await rows(sql`SELECT * FROM payments WHERE user_id = ${user.id}`)).toEqual([]);
    expect(await rows(sql`SELECT registration_count FROM exams WHERE id = ${exam.id}`)).toEqual([{ registration_count: 0 }]);
    // Nothing is left locked or half-written: the same request without an Idempotency-Key (nothing
    // to replay) succeeds once the database is healthy, and writes exactly one of each.
    const retry = await apply(user.access, exam.id);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
    const { payment } = await bodyOf(retry, 201);
    expect(await rows(sql`SELECT id, status, amount FROM payments WHERE user_id = ${user.id}`)).toEqual([
      { id: payment.id, status: 'paid', amount: 10_000 },
    ]);
    expect(await rows(sql`SELECT item_id FROM registrations WHERE user_id = ${user.id}`)).toEqual([{ item_id: exam.id }]);
    expect(await rows(sql`SELECT registration_count FROM exams WHERE id = ${exam.id}`)).toEqual([{ registration_count: 1 }]);
  });

  it('cancel: the registration update fails → payment still paid, count unchanged', async () => {
    const user = await createUser();
    const exam = await createItem('exams', { price: 10_000 });
    const { payment } = await bodyOf(await apply(user.access, exam.id), 201);
    const restore = await failWrites('registrations', 'UPDATE');
    const log = vi.spyOn(console, 'error').mockImplementation(scanOnly);
    try {
      await expectProblem(await cancel(user.access, payment.id), 500, 'INTERNAL_ERROR');
    } finally {
      await restore();
      log.mockRestore();
    }
    expect(await rows(sql`SELECT status FROM payments WHERE id = ${payment.id}`)).toEqual([{ status: 'paid' }]);
    expect(await rows(sql`SELECT registration_count FROM exams WHERE id = ${exam.id}`)).toEqual([{ registration_count: 1 }]);
    expect((await cancel(user.access, payment.id)).status).toBe(200);
    expect(await rows(sql`SELECT registration_count FROM exams WHERE id = ${exam.id}`)).toEqual([{ registration_count: 0 }]);
  });

  it('orders: an order-item insert fails → no order and no change to the dashboards', async () => {
    const staff = await createUser({ staff: true });
    const customer = await createUser();
    const product = await bodyOf(await api.products.$post({ json: { name: 'Widget', price: 5_000 } }, authed(staff.access)), 201);
    const before = await rows(sql`SELECT * FROM sales_hours ORDER BY hour`);
    const log = vi.spyOn(console, 'error').mockImplementation(scanOnly);
    const restore = await failWrites('order_items');
    try {
      const res = await api.orders.$post(
        { json: { customer_id: customer.id, items: [{ product_id: product.id, quantity: 2 }] } },
        authed(staff.access),
      );
      await expectProblem(res, 500, 'INTERNAL_ERROR');
    } finally {
      await restore();
      log.mockRestore();
    }
    expect(await rows(sql`SELECT * FROM orders WHERE customer_id = ${customer.id}`)).toEqual([]);
    expect(await rows(sql`SELECT * FROM sales_hours ORDER BY hour`)).toEqual(before);
  });
});

describe('an Idempotency-Key after a 5xx', () => {
  // A 5xx is not stored: the key is released, and a retry with it runs again (docs/catalog-payments.md).
  it.each([
    ['apply', 'payments', 'INSERT'],
    ['cancel', 'registrations', 'UPDATE'],
  ] as const)('%s: the retry with the same key runs again and succeeds', async (action, table, event) => {
    const user = await createUser();
    const exam = await createItem('exams', { price: 10_000 });
    const key = `after-500-${action}-${user.id}`;
    const paymentId = action === 'cancel' ? (await bodyOf(await apply(user.access, exam.id), 201)).payment.id : null;
    const attempt = () => (paymentId === null ? apply(user.access, exam.id, key) : cancel(user.access, paymentId, {}, key));
    const log = vi.spyOn(console, 'error').mockImplementation(scanOnly);
    const restore = await failWrites(table, event);
    try {
      await expectProblem(await attempt(), 500, 'INTERNAL_ERROR');
    } finally {
      await restore();
      log.mockRestore();
    }
    // Released: no record of the key is left behind.
    expect(await rows(sql`SELECT key FROM idempotency_keys WHERE user_id = ${user.id} AND key = ${key}`)).toEqual([]);
    const retry = await attempt();
    expect(retry.status).toBe(action === 'apply' ? 201 : 200);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
    const body: unknown = await retry.json();
    if (action === 'apply') expect(body).toMatchObject({ payment: { target_id: exam.id, status: 'paid' } });
    else expect(body).toMatchObject({ id: paymentId, status: 'cancelled' });
    expect(await rows(sql`SELECT registration_count FROM exams WHERE id = ${exam.id}`)).toEqual([{ registration_count: action === 'apply' ? 1 : 0 }]);
    // The success is stored now: the next repeat is its replay.
    const replay = await attempt();
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(await replay.json()).toEqual(body);
  });
});

describe('a crash between the payment and the stored response', () => {
  // The payment commits, then the worker dies before the Idempotency-Key's response is saved
  // (simulated: saving the response fails). A retry with the same key must replay that payment.
  it.each([
    ['exams', 'apply'],
    ['courses', 'enroll'],
  ] as const)('%s: a retry with the same key replays the committed payment', async (kind, action) => {
    const user = await createUser();
    const item = await createItem(kind, { price: 10_000 });
    const key = `crash-${kind}-${user.id}`;
    const attempt = () => register(kind, item.id, user.access, CARD, key);
    const log = vi.spyOn(console, 'error').mockImplementation(scanOnly);
    const restore = await failWrites('idempotency_keys', 'UPDATE OF response_status');
    try {
      await expectProblem(await attempt(), 500, 'INTERNAL_ERROR');
    } finally {
      await restore();
      log.mockRestore();
    }
    const committed = await rows(sql`SELECT id FROM payments WHERE user_id = ${user.id}`);
    expect(committed).toHaveLength(1);
    const replay = await attempt();
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    const body = await bodyOf(replay, 201);
    expect(body.payment).toMatchObject({ id: committed[0]!.id, status: 'paid', amount: 10_000 });
    expect(body.registration).toMatchObject({ item_id: item.id, status: action === 'apply' ? 'applied' : 'enrolled' });
    // Long after the crash (the claim would count as abandoned) it is still the same payment.
    await db.run(sql`UPDATE idempotency_keys SET created_at = created_at - 600000 WHERE user_id = ${user.id}`);
    expect((await bodyOf(await attempt(), 201)).payment.id).toBe(committed[0]!.id);
    expect(await rows(sql`SELECT id FROM payments WHERE user_id = ${user.id}`)).toHaveLength(1);
  });

  it('cancel: a retry with the same key replays the refund', async () => {
    const user = await createUser();
    const exam = await createItem('exams', { price: 10_000 });
    const { payment } = await bodyOf(await apply(user.access, exam.id), 201);
    const attempt = () => cancel(user.access, payment.id, { reason: 'plans changed' }, 'crash-cancel');
    const log = vi.spyOn(console, 'error').mockImplementation(scanOnly);
    const restore = await failWrites('idempotency_keys', 'UPDATE OF response_status');
    try {
      await expectProblem(await attempt(), 500, 'INTERNAL_ERROR');
    } finally {
      await restore();
      log.mockRestore();
    }
    expect(await rows(sql`SELECT status FROM payments WHERE id = ${payment.id}`)).toEqual([{ status: 'cancelled' }]);
    const replay = await attempt();
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(await bodyOf(replay, 200)).toMatchObject({ id: payment.id, status: 'cancelled', refund_reason: 'plans changed' });
  });
});

describe('a Durable Object reset between operations', () => {
  it('UserLedger: an evicted ledger loses nothing committed', async () => {
    const user = await createUser();
    const exam = await createItem('exams', { price: 10_000 });
    const { payment } = await bodyOf(await apply(user.access, exam.id), 201);
    // The app's own naming (user:<id>), and no catch: an eviction that cannot happen fails the test.
    await evictDurableObject(env.USER_LEDGER.get(env.USER_LEDGER.idFromName(ledgerName(user.id))));
    await expectProblem(await apply(user.access, exam.id), 409, 'ALREADY_REGISTERED');
    expect((await cancel(user.access, payment.id)).status).toBe(200);
    expect(await rows(sql`SELECT registration_count FROM exams WHERE id = ${exam.id}`)).toEqual([{ registration_count: 0 }]);
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
  quietExpectedLogs();
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
      const polled = await raw(path, { token: u.access });
      expect(polled.status).toBe(200);
      expect(((await polled.json()) as Operation).result).toBe('PENDING');
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

// ---- a crash at any point of a command -----------------------------------------------------------

/** The machine's Durable Object (untyped: its RPC types are too deep for runInDurableObject). */
function machineObject(id: number): DurableObjectStub {
  return env.MACHINE.get(env.MACHINE.idFromName(String(id))) as unknown as DurableObjectStub;
}

/** A PENDING row, as the DO's insert leaves it. */
async function pendingRow(machineId: number, ownerId: number, command: string): Promise<number> {
  const row = await db.first<{ id: number }>(
    sql`INSERT INTO machine_operations (machine_id, machine_owner_id, worker_id, command, result, request_datetime)
      VALUES (${machineId}, ${ownerId}, ${ownerId}, ${command}, 'PENDING', ${Date.now()}) RETURNING id`,
  );
  return row!.id;
}

/**
 * What a crash leaves behind: the object's storage holds `state` and the alarm written with it
 * (due now), and the object is gone from memory. The alarm then runs on a fresh instance.
 */
async function crashWith(machineId: number, state: Record<string, unknown>, fresh?: (instance: Record<string, unknown>) => void) {
  const stub = machineObject(machineId);
  await runInDurableObject(stub, async (_instance: DurableObject, storage: DurableObjectState) => {
    await storage.storage.put('state', { machineId, ...state });
    await storage.storage.setAlarm(Date.now() + 60_000); // run below, now
  });
  await evictDurableObject(stub);
  if (fresh) await runInDurableObject(stub, (instance: DurableObject) => fresh(instance as unknown as Record<string, unknown>));
  expect(await runDurableObjectAlarm(stub)).toBe(true);
}

async function operation(token: string, machineId: number, id: number) {
  const res = await api.machines[':id'].operations[':operation_id'].$get(
    { param: { id: String(machineId), operation_id: String(id) } },
    authed(token),
  );
  return bodyOf(res, 200);
}

const operationUrl = (machineId: number, id: number) => `http://api.test/api/machines/${machineId}/operations/${id}`;

/** The machine answers PATCH {status} again (no 409 MACHINE_BUSY) and runs new commands. */
async function expectUsable(token: string, machineId: number) {
  const status = (await machine(token, machineId)).status;
  const patched = await api.machines[':id'].$patch({ param: { id: String(machineId) }, json: { status } }, authed(token));
  expect(patched.status).toBe(200);
  const next = status === 'POWEROFF' ? 'POWER_ON' : status === 'ERROR' ? 'RESET' : 'POWER_OFF';
  expect((await run(token, machineId, next)).result).toBe('SUCCESS');
}

describe('a crash at any point of a command', () => {
  quietExpectedLogs();
  it('between saving the command and sending it: the alarm written with it sends it, and it completes', async () => {
    const u = await createUser();
    const m = await newMachine(u.access);
    const stub = machineObject(m.id);
    // This instance's queue never answers: the crash happens while it waits to send.
    await runInDurableObject(stub, (instance: DurableObject) => {
      const self = instance as unknown as { env: Cloudflare.Env };
      self.env = scopedEnv(self.env, { MACHINE_QUEUE: { send: () => new Promise(() => {}) } });
    });
    const request = command(u.access, m.id, 'POWER_ON').catch(() => null);
    let opId: number | undefined;
    for (const started = Date.now(); opId === undefined && Date.now() - started < 5_000; ) {
      await new Promise((r) => setTimeout(r, 10));
      opId = await runInDurableObject(
        stub,
        async (_i: DurableObject, state: DurableObjectState) => (await state.storage.get<{ ops: { id: number }[] }>('state'))?.ops[0]?.id,
      );
    }
    expect(opId).toBeDefined();
    await abortAllDurableObjects(); // the crash (a graceful eviction would wait for the request)
    await request;
    expect((await operation(u.access, m.id, opId!)).result).toBe('PENDING');
    // A fresh stub (the old one died with the object): the alarm was stored with the command.
    expect(await runDurableObjectAlarm(machineObject(m.id))).toBe(true);
    expect((await waitDone(u.access, operationUrl(m.id, opId!))).result).toBe('SUCCESS');
    expect((await machine(u.access, m.id)).status).toBe('READY');
    await expectUsable(u.access, m.id);
  });

  it('between sending and recording it as sent: the message and the re-sent duplicate run the command once', async () => {
    const controller = stubController(() => new Response(null, { status: 200 }));
    try {
      const u = await createUser();
      const m = await newMachine(u.access, { controller_url: `${DEVICE}/crash-after-send` });
      const opId = await pendingRow(m.id, u.id, 'POWER_ON');
      const body = { operation_id: opId, machine_id: m.id, command: 'POWER_ON' };
      // The new instance's sends are kept here, so the test delivers the duplicate itself, in order.
      const resent: unknown[] = [];
      const keep = { send: async (message: unknown) => void resent.push(message) };
      await crashWith(
        m.id,
        { status: 'POWEROFF', ops: [{ id: opId, command: 'POWER_ON', target: 'READY', claimedAt: null, enqueuedAt: null }] },
        (o) => {
          o.env = scopedEnv(o.env as object, { MACHINE_QUEUE: keep });
        },
      );
      expect(resent).toEqual([{ ...body, attempt: 1 }]); // the alarm sent it again
      // The message sent before the crash, then the alarm's duplicate: each is answered (acked)
      // only once the object has decided on it, so nothing is left in flight after these.
      for (const [id, message] of [
        ['sent-before-crash', body],
        ['re-sent', resent[0]],
      ] as const) {
        const batch = createMessageBatch('machine-commands', [{ id, timestamp: new Date(), attempts: 1, body: message }]);
        const ctx = createExecutionContext();
        await worker.queue(batch, env);
        expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual([id]);
      }
      expect((await waitDone(u.access, operationUrl(m.id, opId))).result).toBe('SUCCESS');
      expect(controller.calls).toHaveLength(1);
      expect((await machine(u.access, m.id)).status).toBe('READY');
      await evictDurableObject(machineObject(m.id)); // back to the real queue
      await expectUsable(u.access, m.id);
    } finally {
      controller.restore();
    }
  });

  it('during an execution that died with its object (the claim is left, the message is gone): the alarm retries it, and it completes', async () => {
    const u = await createUser();
    const m = await newMachine(u.access);
    const opId = await pendingRow(m.id, u.id, 'POWER_ON');
    const minuteAgo = Date.now() - 60_000;
    await crashWith(m.id, {
      status: 'POWEROFF',
      ops: [{ id: opId, command: 'POWER_ON', target: 'READY', claimedAt: minuteAgo, enqueuedAt: minuteAgo }],
    });
    expect((await waitDone(u.access, operationUrl(m.id, opId))).result).toBe('SUCCESS');
    await expectUsable(u.access, m.id);
  });

  it('after the result reached the database but before the object saved it: the database result stands', async () => {
    const u = await createUser();
    const m = await newMachine(u.access);
    const opId = await pendingRow(m.id, u.id, 'POWER_ON');
    // The controller said no: the first half of the result (one atomic write) is in the database.
    await db.run(
      sql`UPDATE machine_operations SET result = 'REMOTEFAILED', detail = 'the controller answered HTTP 500', completed_at = ${Date.now()} WHERE id = ${opId}`,
    );
    await db.run(sql`UPDATE machines SET status = 'ERROR' WHERE id = ${m.id}`);
    const minuteAgo = Date.now() - 60_000;
    await crashWith(m.id, {
      status: 'POWEROFF',
      ops: [{ id: opId, command: 'POWER_ON', target: 'READY', claimedAt: minuteAgo, enqueuedAt: minuteAgo }],
    });
    // The re-run (the simulator says SUCCESS this time) must not overwrite the recorded result.
    for (
      const started = Date.now();
      (await api.machines[':id'].$patch({ param: { id: String(m.id) }, json: { status: 'ERROR' } }, authed(u.access))).status === 409;
    ) {
      if (Date.now() - started > 5_000) throw new Error('still MACHINE_BUSY');
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await operation(u.access, m.id, opId)).toMatchObject({ result: 'REMOTEFAILED', detail: 'the controller answered HTTP 500' });
    expect((await machine(u.access, m.id)).status).toBe('ERROR');
    // The object agrees with the database: POWER_ON is not valid from ERROR, RESET is.
    await expectProblem(await command(u.access, m.id, 'POWER_ON'), 409, 'INVALID_STATE_TRANSITION');
    await expectUsable(u.access, m.id);
  });

  it('a PENDING row the object never saw (its storage lost) runs on the next load, before the command that loaded it', async () => {
    const u = await createUser();
    const m = await newMachine(u.access);
    const opId = await pendingRow(m.id, u.id, 'POWER_ON');
    await runInDurableObject(machineObject(m.id), async (_i: DurableObject, state: DurableObjectState) => {
      await state.storage.deleteAll();
    });
    await evictDurableObject(machineObject(m.id));
    // READY only after the adopted POWER_ON: the new command is checked against the status after it.
    const next = await accepted(u.access, m.id, 'START');
    expect((await waitDone(u.access, operationUrl(m.id, opId))).result).toBe('SUCCESS');
    expect((await waitDone(u.access, next.location)).result).toBe('SUCCESS');
    expect((await machine(u.access, m.id)).status).toBe('RUNNING');
  });

  it('a PENDING row the object cannot run any more is failed with the reason', async () => {
    const u = await createUser();
    const m = await newMachine(u.access);
    const opId = await pendingRow(m.id, u.id, 'START'); // not valid from POWEROFF
    await crashWith(m.id, { status: 'POWEROFF', ops: [], inserting: Date.now() - 60_000 });
    expect(await operation(u.access, m.id, opId)).toMatchObject({
      result: 'INTERNALFAILED',
      detail: 'START does not apply to POWEROFF, the status after the commands accepted before it',
    });
    await expectUsable(u.access, m.id);
  });
});

/** A hook of the machine's object that never returns: the crash happens while it waits there. */
type CrashPoint = (object: Record<string, unknown>, stop: () => Promise<never>) => void;

/** Replaces the method `name` of the object's `part` so that its first call that `when` accepts stops. */
function stopAt(part: 'queue' | 'live', name: string, when: (...args: unknown[]) => boolean = () => true): CrashPoint {
  return (instance, stop) => {
    const object = instance[part] as Record<string, unknown>;
    const original = object[name] as (...args: unknown[]) => unknown;
    let stopped = false;
    object[name] = (...args: unknown[]) => (!stopped && when(...args) && (stopped = true) ? stop() : original.apply(object, args));
  };
}

// Every step of command() from the insert of the PENDING row to the send being recorded.
const CRASH_POINTS: [string, CrashPoint][] = [
  ['after the insert, before the object saved the operation', stopAt('queue', 'save', (state) => (state as { ops: unknown[] }).ops.length > 0)],
  ['after saving it, before telling its sockets', stopAt('live', 'broadcast')],
  ['before sending it to the queue', stopAt('queue', 'enqueueHead')],
  ['while sending it to the queue', (o, stop) => void (o.env = scopedEnv(o.env as object, { MACHINE_QUEUE: { send: stop } }))],
  ['after sending it, before recording the send', stopAt('queue', 'patchOp')],
];

describe('the object aborted at every step between the insert and the enqueue', () => {
  it.each(CRASH_POINTS)('%s: the accepted command runs once', async (_step, crashPoint) => {
    const controller = stubController(() => new Response(null, { status: 200 }));
    const log = vi.spyOn(console, 'error').mockImplementation(scanOnly); // the aborted request's 500
    try {
      const u = await createUser();
      const m = await newMachine(u.access, { controller_url: `${DEVICE}/abort` });
      let reached = false;
      const stop = () => {
        reached = true;
        return new Promise<never>(() => {});
      };
      await runInDurableObject(machineObject(m.id), (instance: DurableObject) => crashPoint(instance as unknown as Record<string, unknown>, stop));
      const request = command(u.access, m.id, 'POWER_ON').catch(() => null);
      for (const started = Date.now(); !reached; await new Promise((r) => setTimeout(r, 10))) {
        if (Date.now() - started > 5_000) throw new Error('the command never reached the crash point');
      }
      await abortAllDurableObjects();
      await request;
      const row = await db.first<{ id: number; result: string }>(sql`SELECT id, result FROM machine_operations WHERE machine_id = ${m.id}`);
      expect(row?.result).toBe('PENDING'); // accepted: the database holds it
      // The alarm written before the insert runs on a fresh instance (a new stub: the old one died).
      // After the send, the message's retry may have loaded the object and run it first.
      await runDurableObjectAlarm(machineObject(m.id));
      expect((await waitDone(u.access, operationUrl(m.id, row!.id))).result).toBe('SUCCESS');
      expect((await machine(u.access, m.id)).status).toBe('READY');
      await expectUsable(u.access, m.id);
      // Ran once: a message sent before the crash is a duplicate the object refuses.
      expect(controller.calls.filter((c) => c.body.operation_id === row!.id)).toHaveLength(1);
    } finally {
      log.mockRestore();
      controller.restore();
    }
  });
});

// ---- one user's slow devices -----------------------------------------------------------------------

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe("one user's slow controllers", () => {
  it("never delay another user's commands: the round trip stays within 3× its unloaded time + 250 ms", async () => {
    const gate = deferred();
    const allCalled = deferred();
    // Slow controllers answer after 2.5 s, hanging ones when the test ends; the timeout is 3 s.
    const controller = stubController(async (c) => {
      if (controller.calls.length === 4) allCalled.resolve();
      if (c.url.endsWith('/slow')) await new Promise((r) => setTimeout(r, 2_500));
      else await gate.promise;
      return new Response(null, { status: 200 });
    });
    const a = await createUser();
    const b = await createUser();
    const theirs = await Promise.all(['slow', 'slow', 'hang', 'hang'].map((kind) => newMachine(a.access, { controller_url: `${DEVICE}/${kind}` })));
    const mine = await newMachine(b.access);
    const roundTrips = async () => {
      const times: number[] = [];
      for (const cmd of ['POWER_ON', 'POWER_OFF', 'POWER_ON', 'POWER_OFF', 'POWER_ON', 'POWER_OFF'] as const) {
        const started = Date.now();
        expect((await run(b.access, mine.id, cmd)).result).toBe('SUCCESS');
        times.push(Date.now() - started);
      }
      return times;
    };
    try {
      await withVars({ MACHINE_CONTROLLER_TIMEOUT_MS: '3000' }, async () => {
        const unloaded = await roundTrips();
        const pending = await Promise.all(theirs.map((m) => accepted(a.access, m.id, 'POWER_ON')));
        // Every slow device is being called now (the stub saw its 4th call), or the test times out.
        await allCalled.promise;
        expect(controller.calls).toHaveLength(4);
        const loaded = await roundTrips();
        console.log(JSON.stringify({ unloaded_ms: unloaded, loaded_ms: loaded }));
        for (const t of loaded) expect(t).toBeLessThanOrEqual(3 * median(unloaded) + 250);
        gate.resolve();
        for (const op of pending) expect((await waitDone(a.access, op.location)).result).toBe('SUCCESS');
      });
    } finally {
      gate.resolve();
      controller.restore();
    }
  });
});
