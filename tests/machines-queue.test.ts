// The queue side: a real controller (mocked outbound fetch), failures, retries through to the
// dead-letter queue, duplicate deliveries, and MACHINE_BUSY while a command is in flight.
import {
  createExecutionContext,
  createMessageBatch,
  evictDurableObject,
  getQueueResult,
  runDurableObjectAlarm,
  runInDurableObject,
} from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { api, authed, bodyOf, createUser, expectProblem, raw, withVars, scopedEnv } from './helpers';
import { quietExpectedLogs, scanOnly } from './log-guard';
import { accepted, command, deferred, DEVICE, machine, newMachine, type Operation, run, stubController, waitDone } from './machines-helpers';

let restore: (() => void) | null = null;
afterEach(() => {
  restore?.();
  restore = null;
});

function stub(handler: Parameters<typeof stubController>[0]) {
  const s = stubController(handler);
  restore = s.restore;
  return s;
}

// The handler itself (a MessageBatch cannot cross the exports.default RPC boundary).
import worker from '../src/index';
import type { CommandMessage } from '../src/modules/machines/message';
import { db, sql } from './db';

/** The operation at a 202's Location (asserts 200). */
async function polled(token: string, location: string): Promise<Operation> {
  const res = await raw(new URL(location).pathname, { token });
  expect(res.status).toBe(200);
  return res.json();
}

/**
 * Makes the machine's object record what it sends instead of queueing it (until it is evicted):
 * the test then delivers, delays or loses each message itself.
 */
async function holdSends(machineId: number) {
  const sent: { body: CommandMessage; delaySeconds?: number }[] = [];
  const queue = {
    send: async (body: CommandMessage, opts?: { delaySeconds?: number }) => void sent.push({ body, delaySeconds: opts?.delaySeconds }),
  };
  const stubDo = env.MACHINE.get(env.MACHINE.idFromName(String(machineId))) as unknown as DurableObjectStub;
  await runInDurableObject(stubDo, (instance: DurableObject) => {
    const self = instance as unknown as { env: typeof env };
    self.env = scopedEnv(self.env, { MACHINE_QUEUE: queue });
  });
  return sent;
}

/** One machine's operations, newest first (asserts 200). */
async function historyOf(token: string, id: number) {
  return bodyOf(await api.machines[':id'].history.$get({ param: { id: String(id) }, query: {} }, authed(token)), 200);
}

async function deliver(queue: string, body: unknown, attempts = 1) {
  const batch = createMessageBatch(queue, [{ id: crypto.randomUUID(), timestamp: new Date(), attempts, body }]);
  const ctx = createExecutionContext();
  await worker.queue(batch, env);
  return getQueueResult(batch, ctx);
}

describe('controller', () => {
  it('POSTs {operation_id, machine_id, command} to the controller; 2xx is SUCCESS', async () => {
    const s = stub(() => new Response('{"ok":true}', { status: 200 }));
    const u = await createUser();
    const m = await newMachine(u.access, { controller_url: `${DEVICE}/press/1` });
    const done = await run(u.access, m.id, 'POWER_ON');
    expect(done.result).toBe('SUCCESS');
    expect(s.calls).toHaveLength(1);
    expect(s.calls[0]!.url).toBe(`${DEVICE}/press/1`);
    expect(s.calls[0]!.body).toEqual({ operation_id: done.id, machine_id: m.id, command: 'POWER_ON' });
    expect(s.calls[0]!.headers.get('idempotency-key')).toBe(`machine-operation-${done.id}`);
    expect((await machine(u.access, m.id)).status).toBe('READY');
  });

  it('a failing controller → REMOTEFAILED and ERROR; RESET brings it back to READY', async () => {
    let answer = 500;
    stub(() => new Response(answer === 204 ? null : 'boom', { status: answer }));
    const u = await createUser();
    const m = await newMachine(u.access, { controller_url: `${DEVICE}/broken`, status: 'READY' });
    const done = await run(u.access, m.id, 'START');
    expect(done).toMatchObject({ result: 'REMOTEFAILED', detail: 'the controller answered HTTP 500' });
    expect((await machine(u.access, m.id)).status).toBe('ERROR');
    await expectProblem(await command(u.access, m.id, 'START'), 409, 'INVALID_STATE_TRANSITION');
    answer = 204;
    expect((await run(u.access, m.id, 'RESET')).result).toBe('SUCCESS');
    expect((await machine(u.access, m.id)).status).toBe('READY');
    const failed = await bodyOf(
      await api.machines[':id'].history.$get({ param: { id: String(m.id) }, query: { result: 'REMOTEFAILED' } }, authed(u.access)),
      200,
    );
    expect(failed.results.map((o) => o.command)).toEqual(['START']);
  });

  it('a redirect is not followed and counts as a refusal', async () => {
    stub(() => new Response(null, { status: 302, headers: { location: 'http://169.254.169.254/' } }));
    const u = await createUser();
    const m = await newMachine(u.access, { controller_url: `${DEVICE}/redirect` });
    expect(await run(u.access, m.id, 'POWER_ON')).toMatchObject({ result: 'REMOTEFAILED', detail: 'the controller answered HTTP 302' });
  });

  it('a failure cancels the commands queued behind it', async () => {
    const gate = deferred();
    stub(async () => {
      await gate.promise;
      return new Response(null, { status: 503 });
    });
    const u = await createUser();
    const m = await newMachine(u.access, { controller_url: `${DEVICE}/slow` });
    const first = await accepted(u.access, m.id, 'POWER_ON');
    const second = await accepted(u.access, m.id, 'START');
    gate.resolve();
    expect((await waitDone(u.access, first.location)).result).toBe('REMOTEFAILED');
    const cancelled = await waitDone(u.access, second.location);
    expect(cancelled).toMatchObject({ result: 'INTERNALFAILED', detail: `cancelled: operation ${first.id} failed before it` });
    expect((await machine(u.access, m.id)).status).toBe('ERROR');
  });

  it('a stored URL refused by the policy at send time is not contacted', async () => {
    const s = stub(() => new Response(null, { status: 200 }));
    const u = await createUser();
    const m = await newMachine(u.access);
    // e.g. stored before the policy tightened
    await db.run(sql`UPDATE machines SET controller_url = ${'https://192.168.1.10/'} WHERE id = ${m.id}`);
    const done = await run(u.access, m.id, 'POWER_ON');
    expect(done.result).toBe('INTERNALFAILED');
    expect(done.detail).toContain('controller_url refused');
    expect(s.calls).toHaveLength(0);
    expect((await machine(u.access, m.id)).status).toBe('POWEROFF');
  });
});

describe('retries and the dead-letter queue', () => {
  quietExpectedLogs();
  it('an unreachable controller is retried 3 times through the real queue, then INTERNALFAILED', async () => {
    const s = stub(() => {
      throw new TypeError('Network connection lost.');
    });
    const u = await createUser();
    const m = await newMachine(u.access, { controller_url: `${DEVICE}/down` });
    const done = await run(u.access, m.id, 'POWER_ON');
    expect(done).toMatchObject({ result: 'INTERNALFAILED', detail: 'the controller could not be reached after all retries' });
    expect(s.calls).toHaveLength(4); // first attempt + max_retries 3
    expect((await machine(u.access, m.id)).status).toBe('POWEROFF');
    // the machine is free again
    restore!();
    stub(() => new Response(null, { status: 200 }));
    expect((await run(u.access, m.id, 'POWER_ON')).result).toBe('SUCCESS');
  });

  it('a hanging controller times out (MACHINE_CONTROLLER_TIMEOUT_MS) and is retried until the DLQ', async () => {
    const s = stub(() => new Promise<Response>(() => {})); // never answers
    const u = await createUser();
    const m = await newMachine(u.access, { controller_url: `${DEVICE}/hang` });
    const started = Date.now();
    const done = await run(u.access, m.id, 'POWER_ON');
    expect(done.result).toBe('INTERNALFAILED');
    expect(s.calls).toHaveLength(4);
    expect(Date.now() - started).toBeGreaterThanOrEqual(4 * 300); // 300 ms timeout in tests
  });

  it('retries go through the queue with backoff base × 2^(retry−1) seconds (2, 4, 8), then INTERNALFAILED', async () => {
    const s = stub(() => {
      throw new TypeError('Network connection lost.');
    });
    const u = await createUser();
    const m = await newMachine(u.access, { controller_url: `${DEVICE}/backoff` });
    // This object's sends are recorded instead of queued; the test delivers each one itself.
    const sent = await holdSends(m.id);
    await withVars({ MACHINE_RETRY_BASE_SECONDS: '2' }, async () => {
      const op = await accepted(u.access, m.id, 'POWER_ON');
      for (const expected of [0, 2, 4, 8]) {
        await waitFor(() => sent.length > 0);
        const { body, delaySeconds } = sent.shift()!;
        expect({ attempt: body.attempt, delaySeconds: delaySeconds ?? 0 }).toEqual({ attempt: s.calls.length + 1, delaySeconds: expected });
        expect((await deliver('machine-commands', body)).explicitAcks).toHaveLength(1);
      }
      const done = await waitDone(u.access, op.location);
      expect(done).toMatchObject({ result: 'INTERNALFAILED', detail: 'the controller could not be reached after all retries' });
      expect(s.calls).toHaveLength(4);
      expect(sent).toHaveLength(0);
    });
  });

  it('a message the consumer cannot hand to the machine is retried by the queue with backoff, then the DLQ', async () => {
    const u = await createUser();
    const m = await newMachine(u.access);
    const body = { operation_id: 1, machine_id: m.id, command: 'POWER_ON' };
    // getQueueResult does not report a retry's delay: read it from the consumer's log line.
    const warn = vi.spyOn(console, 'warn').mockImplementation(scanOnly);
    const broken = {
      ...env,
      MACHINE_RETRY_BASE_SECONDS: '2',
      MACHINE: {
        idFromName: env.MACHINE.idFromName.bind(env.MACHINE),
        get: () => ({ dispatch: () => Promise.reject(new Error('object unreachable')) }),
      },
    };
    try {
      for (const attempts of [1, 2, 3]) {
        const batch = createMessageBatch('machine-commands', [{ id: `b${attempts}`, timestamp: new Date(), attempts, body }]);
        const ctx = createExecutionContext();
        await worker.queue(batch, broken as unknown as typeof env);
        expect((await getQueueResult(batch, ctx)).retryMessages.map((r) => r.msgId)).toEqual([`b${attempts}`]);
      }
      expect(warn.mock.calls.map((args) => JSON.parse(String(args[0])).delay_seconds)).toEqual([2, 4, 8]);
    } finally {
      warn.mockRestore();
    }
  });

  it('the DLQ consumer marks a pending operation INTERNALFAILED once', async () => {
    const gate = deferred();
    stub(async () => {
      await gate.promise;
      return new Response(null, { status: 200 });
    });
    const u = await createUser();
    const m = await newMachine(u.access, { controller_url: `${DEVICE}/dlq` });
    const op = await accepted(u.access, m.id, 'POWER_ON');
    const body = { operation_id: op.id, machine_id: m.id, command: 'POWER_ON' };
    const r1 = await deliver('machine-commands-dlq', body);
    expect(r1.explicitAcks).toHaveLength(1);
    expect(await polled(u.access, op.location)).toMatchObject({ result: 'INTERNALFAILED' });
    await deliver('machine-commands-dlq', body);
    gate.resolve(); // the in-flight delivery now reports SUCCESS, which must not apply
    await executionOver(m.id); // ...and its outcome has been handed to the object
    expect(await polled(u.access, op.location)).toMatchObject({ result: 'INTERNALFAILED' });
    expect((await machine(u.access, m.id)).status).toBe('POWEROFF');
  });
});

describe('idempotency', () => {
  it('a message delivered twice applies its command once', async () => {
    const gate = deferred();
    const s = stub(async () => {
      await gate.promise;
      return new Response(null, { status: 200 });
    });
    const u = await createUser();
    const m = await newMachine(u.access, { controller_url: `${DEVICE}/dup`, status: 'READY' });
    const op = await accepted(u.access, m.id, 'START');
    await waitFor(() => s.calls.length === 1); // the real delivery holds the operation
    const body = { operation_id: op.id, machine_id: m.id, command: 'START' };
    // a duplicate while the first is in flight is acknowledged: it does not run the command again
    const during = await deliver('machine-commands', body);
    expect(during.explicitAcks).toHaveLength(1);
    gate.resolve();
    expect((await waitDone(u.access, op.location)).result).toBe('SUCCESS');
    // duplicates after completion are acknowledged without effect
    const after = await deliver('machine-commands', body, 2);
    expect(after.explicitAcks).toHaveLength(1);
    expect(s.calls).toHaveLength(1);
    const history = await historyOf(u.access, m.id);
    expect(history.count).toBe(1);
    expect((await machine(u.access, m.id)).status).toBe('RUNNING');
  });

  it('a duplicate in the same batch runs once (simulator)', async () => {
    const u = await createUser();
    const m = await newMachine(u.access, { status: 'RUNNING' });
    const op = await accepted(u.access, m.id, 'PAUSE');
    const body = { operation_id: op.id, machine_id: m.id, command: 'PAUSE' };
    const batch = createMessageBatch('machine-commands', [
      { id: 'a', timestamp: new Date(), attempts: 1, body },
      { id: 'b', timestamp: new Date(), attempts: 1, body },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env);
    await getQueueResult(batch, ctx);
    expect((await waitDone(u.access, op.location)).result).toBe('SUCCESS');
    expect((await machine(u.access, m.id)).status).toBe('PAUSE');
    expect((await historyOf(u.access, m.id)).count).toBe(1);
  });

  it('a malformed message is acknowledged and dropped: nothing changes', async () => {
    const gate = deferred();
    const s = stub(async () => {
      await gate.promise;
      return new Response(null, { status: 200 });
    });
    const u = await createUser();
    const m = await newMachine(u.access, { controller_url: `${DEVICE}/malformed` });
    const op = await accepted(u.access, m.id, 'POWER_ON');
    await waitFor(() => s.calls.length === 1); // the real message holds the operation
    const snapshot = () =>
      Promise.all([
        db.rows(sql`SELECT * FROM machine_operations WHERE machine_id = ${m.id} ORDER BY id`),
        db.rows(sql`SELECT * FROM machines WHERE id = ${m.id}`),
      ]);
    const before = await snapshot();
    const malformed = [
      { hello: 'world' },
      { operation_id: op.id, machine_id: m.id, command: 'EXPLODE' },
      { operation_id: op.id, machine_id: m.id, command: 'POWER_OFF', attempt: 0 },
      { operation_id: String(op.id), machine_id: m.id, command: 'POWER_ON' },
      { operation_id: op.id, machine_id: -1.5, command: 'POWER_ON' },
      null,
    ];
    const error = vi.spyOn(console, 'error').mockImplementation(scanOnly);
    try {
      for (const body of malformed) expect((await deliver('machine-commands', body)).explicitAcks).toHaveLength(1);
      expect(error.mock.calls.map((args) => JSON.parse(String(args[0])).msg)).toEqual(malformed.map(() => 'malformed machine command'));
    } finally {
      error.mockRestore();
    }
    expect(await snapshot()).toEqual(before);
    expect(s.calls).toHaveLength(1); // no execution started
    gate.resolve();
    expect((await waitDone(u.access, op.location)).result).toBe('SUCCESS');
    expect((await historyOf(u.access, m.id)).count).toBe(1);
  });
});

describe('MACHINE_BUSY', () => {
  it('refuses a status change through PUT/PATCH while a command is pending, allows other fields', async () => {
    const gate = deferred();
    stub(async () => {
      await gate.promise;
      return new Response(null, { status: 200 });
    });
    const u = await createUser();
    const m = await newMachine(u.access, { controller_url: `${DEVICE}/busy` });
    const op = await accepted(u.access, m.id, 'POWER_ON');
    const param = { id: String(m.id) };
    await expectProblem(await api.machines[':id'].$patch({ param, json: { status: 'ERROR' } }, authed(u.access)), 409, 'MACHINE_BUSY');
    const put = await api.machines[':id'].$put(
      { param, json: { name: 'n', location: 'l', status: 'RUNNING', controller_url: `${DEVICE}/busy` } },
      authed(u.access),
    );
    await expectProblem(put, 409, 'MACHINE_BUSY');
    const rename = await api.machines[':id'].$patch({ param, json: { name: 'Renamed', status: 'POWEROFF' } }, authed(u.access));
    expect(await bodyOf(rename, 200)).toMatchObject({ name: 'Renamed', status: 'POWEROFF' });
    gate.resolve();
    expect((await waitDone(u.access, op.location)).result).toBe('SUCCESS');
    expect(await machine(u.access, m.id)).toMatchObject({ name: 'Renamed', status: 'READY' });
  });
});

/** Resolves when the machine's object has no execution under way (its outcome was applied). */
async function executionOver(machineId: number, timeoutMs = 10_000) {
  const stubDo = env.MACHINE.get(env.MACHINE.idFromName(String(machineId))) as unknown as DurableObjectStub;
  for (const started = Date.now(); ; await new Promise((r) => setTimeout(r, 5))) {
    const running = await runInDurableObject(stubDo, (instance: DurableObject) => Reflect.get(Reflect.get(instance, 'queue') as object, 'running'));
    if (running === null) return;
    if (Date.now() - started > timeoutMs) throw new Error('the execution never ended');
  }
}

async function waitFor(cond: () => boolean, timeoutMs = 10_000) {
  const started = Date.now();
  while (!cond()) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('watchdog', () => {
  it('sends a message that started nothing again after the hand-over time, with the object up; the command completes', async () => {
    const u = await createUser();
    const m = await newMachine(u.access);
    const sent = await holdSends(m.id); // sent, then lost (a local queue's process died)
    const op = await accepted(u.access, m.id, 'POWER_ON');
    await waitFor(() => sent.length === 1);
    const stubDo = env.MACHINE.get(env.MACHINE.idFromName(String(m.id))) as unknown as DurableObjectStub;
    const head = () =>
      runInDurableObject(stubDo, async (_instance: DurableObject, state: DurableObjectState) => {
        return (await state.storage.get<{ ops: { enqueuedAt: number; resentAt?: number | null }[] }>('state'))!.ops[0]!;
      });
    const firstSend = (await head()).enqueuedAt;
    // Pretend the message went out 31 s ago, on the instance that is still up (no cold load).
    await runInDurableObject(stubDo, async (instance: DurableObject, state: DurableObjectState) => {
      const st = (await state.storage.get<{ ops: { enqueuedAt: number }[] }>('state'))!;
      st.ops[0]!.enqueuedAt = Date.now() - 31_000;
      await state.storage.put('state', st);
      (instance as unknown as { queue: { state?: unknown } }).queue.state = st;
    });
    expect(await runDurableObjectAlarm(stubDo)).toBe(true);
    // The same message again, and the watchdog still counts from the first send.
    expect(sent.map((s) => s.body)).toEqual([sent[0]!.body, sent[0]!.body]);
    const after = await head();
    expect(after.enqueuedAt).toBeLessThan(firstSend);
    expect(after.resentAt).toBeGreaterThan(Date.now() - 5_000);
    expect(await polled(u.access, op.location)).toMatchObject({ result: 'PENDING' });
    // The re-sent message arrives and runs the command.
    expect((await deliver('machine-commands', sent[1]!.body)).explicitAcks).toHaveLength(1);
    expect((await waitDone(u.access, op.location)).result).toBe('SUCCESS');
    expect((await machine(u.access, m.id)).status).toBe('READY');
  });

  it('fails a command whose message the queue lost, and frees the machine', async () => {
    const u = await createUser();
    const m = await newMachine(u.access);
    const sent = await holdSends(m.id); // sent, then lost
    const op = await accepted(u.access, m.id, 'POWER_ON');
    await waitFor(() => sent.length === 1);
    // An untyped stub: the RPC types of MachineDO are too deep for runInDurableObject's generics.
    const stubDo = env.MACHINE.get(env.MACHINE.idFromName(String(m.id))) as unknown as DurableObjectStub;
    // Not due yet: the alarm only re-arms itself.
    expect(await runDurableObjectAlarm(stubDo)).toBe(true);
    expect(await polled(u.access, op.location)).toMatchObject({ result: 'PENDING' });
    // Pretend it was queued an hour ago. A cold load (the cached copy dropped, as after a crash)
    // sends it again first: the message may have died with the process.
    const queuedHourAgo = (drop: boolean) =>
      runInDurableObject(stubDo, async (instance: DurableObject, state: DurableObjectState) => {
        const st = (await state.storage.get<{ ops: { enqueuedAt: number }[] }>('state'))!;
        st.ops[0]!.enqueuedAt = Date.now() - 3_600_000;
        await state.storage.put('state', st);
        (instance as unknown as { queue: { state?: unknown } }).queue.state = drop ? undefined : st;
      });
    await queuedHourAgo(true);
    expect(await runDurableObjectAlarm(stubDo)).toBe(true);
    expect(sent.map((m) => m.body)).toEqual([sent[0]!.body, sent[0]!.body]);
    expect(await polled(u.access, op.location)).toMatchObject({ result: 'PENDING' });
    // That one is lost too, with the object up: the watchdog fails the command.
    await queuedHourAgo(false);
    expect(await runDurableObjectAlarm(stubDo)).toBe(true);
    const failed = await polled(u.access, op.location);
    expect(failed).toMatchObject({ result: 'INTERNALFAILED', detail: 'no result arrived in time (the queue lost the message)' });
    // the late message is ignored
    expect((await deliver('machine-commands', sent[0]!.body)).explicitAcks).toHaveLength(1);
    expect((await machine(u.access, m.id)).status).toBe('POWEROFF');
    await evictDurableObject(stubDo); // back to the real queue
    expect((await run(u.access, m.id, 'POWER_ON')).result).toBe('SUCCESS');
  });
});
