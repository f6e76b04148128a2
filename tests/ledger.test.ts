// One user's applies that arrive together commit together (UserLedger groups them into one write),
// and each still gets its own checks, its own result and its own all-or-nothing effect.
import { describe, expect, it, vi } from 'vitest';
import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { KINDS as CFG } from '../src/modules/catalog/kinds';
import { registerMany } from '../src/modules/payments/service';
import { ledgerName, type UserLedger } from '../src/modules/payments/user-ledger';
import { type ObjectUnits, withUnitOfWork } from '../src/lib/unit-of-work';
import { createItem, iso, register } from './catalog-helpers';
import { db, failWrites, sql } from './db';
import { api, authed, bodyOf, createUser, expectProblem } from './helpers';
import { scanOnly } from './log-guard';

const apply = (token: string, id: number, amount = 10_000) => register('exams', id, token, { amount, payment_method: 'card' });

describe('a burst of applies by one user', () => {
  it('16 concurrent applies to 16 exams: 16 payments, each counted once', async () => {
    const user = await createUser();
    const exams = await Promise.all(Array.from({ length: 16 }, () => createItem('exams', { price: 10_000 })));
    const responses = await Promise.all(exams.map((e) => apply(user.access, e.id)));
    expect(responses.map((r) => r.status)).toEqual(Array(16).fill(201));
    const bodies = await Promise.all(responses.map((r) => bodyOf(r, 201)));
    expect(new Set(bodies.map((b) => b.payment.id)).size).toBe(16);
    expect(bodies.map((b) => b.payment.target_id)).toEqual(exams.map((e) => e.id));
    const counts = await db.rows(sql`SELECT registration_count AS n FROM exams WHERE id IN ${exams.map((e) => e.id)}`);
    expect(counts.map((c) => c.n)).toEqual(Array(16).fill(1));
    expect(await db.value(sql`SELECT count(*) AS n FROM payments WHERE user_id = ${user.id}`, 'n')).toBe(16);
  });

  it('each request keeps its own result in a mixed burst', async () => {
    const user = await createUser();
    const now = Date.now();
    const open = await Promise.all(Array.from({ length: 4 }, () => createItem('exams', { price: 10_000 })));
    const closed = await createItem('exams', { price: 10_000, start_at: iso(now - 7200_000), end_at: iso(now - 3600_000) });
    const responses = await Promise.all([
      apply(user.access, open[0]!.id),
      apply(user.access, open[1]!.id, 20_000), // wrong amount
      apply(user.access, closed.id),
      apply(user.access, open[2]!.id),
      apply(user.access, open[2]!.id), // the same exam twice: one wins
      apply(user.access, open[3]!.id),
      apply(user.access, 999_999_999),
    ]);
    expect(responses[0]!.status).toBe(201);
    await expectProblem(responses[1]!, 400, 'AMOUNT_MISMATCH');
    await expectProblem(responses[2]!, 400, 'NOT_IN_PERIOD');
    expect([responses[3]!.status, responses[4]!.status].sort()).toEqual([201, 409]);
    expect(responses[5]!.status).toBe(201);
    await expectProblem(responses[6]!, 404, 'NOT_FOUND');
    expect(await db.value(sql`SELECT count(*) AS n FROM payments WHERE user_id = ${user.id}`, 'n')).toBe(3);
    const count = async (id: number) => db.value(sql`SELECT registration_count AS n FROM exams WHERE id = ${id}`, 'n');
    expect(await Promise.all([...open, closed].map((e) => count(e.id)))).toEqual([1, 0, 1, 1, 0]);
  });

  it("a fault in one request's write fails that request only", async () => {
    const user = await createUser();
    const exams = await Promise.all(Array.from({ length: 6 }, () => createItem('exams', { price: 10_000 })));
    const doomed = exams[3]!.id;
    const log = vi.spyOn(console, 'error').mockImplementation(() => {});
    const restore = await failWrites('payments', 'INSERT', `NEW.target_id = ${doomed}`);
    let statuses: number[];
    try {
      statuses = (await Promise.all(exams.map((e) => apply(user.access, e.id)))).map((r) => r.status);
    } finally {
      await restore();
      log.mockRestore();
    }
    expect(statuses).toEqual(exams.map((e) => (e.id === doomed ? 500 : 201)));
    const paid = await db.rows(sql`SELECT target_id FROM payments WHERE user_id = ${user.id} ORDER BY target_id`);
    const expected = exams.filter((e) => e.id !== doomed).map((e) => e.id);
    expect(paid.map((p) => p.target_id)).toEqual(expected.sort((a, b) => a - b));
    expect(await db.value(sql`SELECT registration_count AS n FROM exams WHERE id = ${doomed}`, 'n')).toBe(0);
  });

  // The ledger's grouping itself: every unit of work the object opens has its store's writes counted
  // (the statements of each). Calls made in one synchronous turn queue before their first await, so
  // the first runs alone and the four behind it wait together: two writes, the second carrying four
  // registrations' statements. Without grouping there would be five writes of one registration each.
  it('registrations waiting together in the ledger commit in one write (counted at the store)', async () => {
    const user = await createUser();
    const exams = await Promise.all(Array.from({ length: 5 }, () => createItem('exams', { price: 10_000 })));
    const stub = env.USER_LEDGER.get(env.USER_LEDGER.idFromName(ledgerName(user.id)));
    const input = { amount: 10_000, payment_method: 'card' as const };
    const { outcomes, writes } = await runInDurableObject(stub, async (ledger: UserLedger) => {
      const units = (ledger as unknown as { units: ObjectUnits }).units;
      const run = units.run.bind(units);
      const writes: number[] = [];
      const spy = vi.spyOn(units, 'run').mockImplementation((fn) =>
        run((ctx) => {
          const write = ctx.store.write.bind(ctx.store);
          ctx.store.write = ((items, locks) => {
            writes.push(items.length);
            return write(items, locks);
          }) as typeof ctx.store.write;
          return fn(ctx);
        }),
      );
      try {
        const outcomes = await Promise.all(exams.map((e) => ledger.register('exams', user.id, e.id, input)));
        return { outcomes, writes };
      } finally {
        spy.mockRestore();
      }
    });
    expect(outcomes.map((o) => (o.ok ? o.value.payment.target_id : o.code))).toEqual(exams.map((e) => e.id));
    expect(writes).toHaveLength(2);
    expect(writes[0]).toBeGreaterThan(0);
    expect(writes[1]).toBe(4 * writes[0]!);
    expect(await db.value(sql`SELECT count(*) AS n FROM payments WHERE user_id = ${user.id}`, 'n')).toBe(5);
  });
});

describe('a fault inside the ledger', () => {
  // workerd reports an exception that leaves a Durable Object's RPC method as "Uncaught (in promise)"
  // in the object, although the caller handles it: a fault must cross as data, like a refusal.
  it('crosses the RPC boundary as an INTERNAL_ERROR outcome (apply and cancel), never as a rejection', async () => {
    const user = await createUser();
    const exam = await createItem('exams', { price: 10_000 });
    const stub = env.USER_LEDGER.get(env.USER_LEDGER.idFromName(ledgerName(user.id)));
    const input = { amount: 10_000, payment_method: 'card' as const };
    const log = vi.spyOn(console, 'error').mockImplementation(scanOnly);
    let restore = await failWrites('payments');
    try {
      const failed = await stub.register('exams', user.id, exam.id, input);
      expect(failed).toMatchObject({ ok: false, code: 'INTERNAL_ERROR' });
      expect(JSON.stringify(failed)).toMatch(/injected fault/);
    } finally {
      await restore();
    }
    const paid = await stub.register('exams', user.id, exam.id, input);
    if (!paid.ok) throw new Error(`apply failed: ${JSON.stringify(paid)}`);
    restore = await failWrites('registrations', 'UPDATE');
    try {
      expect(await stub.cancel(user.id, paid.value.payment.id, null)).toMatchObject({ ok: false, code: 'INTERNAL_ERROR' });
    } finally {
      await restore();
      log.mockRestore();
    }
    // Over HTTP it is still a 500 with the request id (the fault is logged by the worker's error handler).
    const errors = vi.spyOn(console, 'error').mockImplementation(scanOnly);
    restore = await failWrites('registrations', 'UPDATE');
    try {
      const res = await api.payments[':id'].cancel.$post({ param: { id: String(paid.value.payment.id) }, header: {}, json: {} }, authed(user.access));
      const body = await expectProblem(res, 500, 'INTERNAL_ERROR');
      expect(JSON.stringify(body)).not.toMatch(/injected/);
      const line = errors.mock.calls.map((c) => String(c[0])).find((l) => l.includes('unhandled error'));
      expect(line).toContain(body.instance);
      expect(line).toMatch(/injected fault/);
    } finally {
      await restore();
      errors.mockRestore();
    }
    expect(await db.value(sql`SELECT status FROM payments WHERE id = ${paid.value.payment.id}`, 'status')).toBe('paid');
  });
});

describe('many users applying to the same items at once', () => {
  // Each user's queued applies form one group, one transaction on Postgres that locks each item's row
  // as it counts it. In arrival order, two groups that met the same items in different orders could
  // deadlock (a 500 for the victim); the rows are locked in one global order instead.
  it('8 users × the same 8 exams, each user in another order: all 201, each exam counted 8 times, no deadlock', async () => {
    const users = await Promise.all(Array.from({ length: 8 }, () => createUser()));
    const exams = await Promise.all(Array.from({ length: 8 }, () => createItem('exams', { price: 10_000 })));
    // User i starts at exam i; odd users walk backwards.
    const order = (i: number) => exams.map((_, j) => exams[(i + (i % 2 ? -j : j) + 8) % 8]!);
    let warned: string[] = [];
    const warn = vi.spyOn(console, 'warn').mockImplementation(scanOnly);
    const log = vi.spyOn(console, 'error').mockImplementation(scanOnly);
    let statuses: number[];
    try {
      statuses = (await Promise.all(users.flatMap((u, i) => order(i).map((e) => apply(u.access, e.id))))).map((r) => r.status);
    } finally {
      warned = warn.mock.calls.map((c) => String(c[0])); // mockRestore() forgets the calls
      warn.mockRestore();
      log.mockRestore();
    }
    expect(statuses).toEqual(Array(64).fill(201));
    const counts = await db.rows<{ n: number }>(sql`SELECT registration_count AS n FROM exams WHERE id IN ${exams.map((e) => e.id)}`);
    expect(counts.map((c) => c.n)).toEqual(Array(8).fill(8));
    // Not even a deadlock that a retry absorbed.
    expect(warned.filter((l) => /deadlock/i.test(l))).toEqual([]);
  });
});

describe('the ledger queue keeps arrival order across kinds', () => {
  // The calls are made inside the object in one synchronous turn: each queues its job before its
  // first await, so the first runs alone and the other four wait in the queue together, in call
  // order (over HTTP the middleware's awaits would let the ledger take them one by one).
  it('a cancel queued between applies runs in its place: the re-apply after it succeeds, the apply before it does not', async () => {
    const user = await createUser();
    const [x, y] = await Promise.all([createItem('exams', { price: 10_000 }), createItem('exams', { price: 10_000 })]);
    const first = await bodyOf(await apply(user.access, x.id), 201);
    const stub = env.USER_LEDGER.get(env.USER_LEDGER.idFromName(ledgerName(user.id)));
    const input = { amount: 10_000, payment_method: 'card' as const };
    const [blocker, before, cancelled, again, cancelledAgain, other] = await runInDurableObject(stub, (ledger: UserLedger) =>
      Promise.all([
        ledger.register('exams', user.id, y.id, input), // runs alone while the rest queue
        ledger.register('exams', user.id, x.id, input), // still registered: refused
        ledger.cancel(user.id, first.payment.id, 'moved'),
        ledger.register('exams', user.id, x.id, input), // after the cancel: a new payment
        ledger.cancel(user.id, first.payment.id, null), // the first payment is cancelled already
        ledger.register('exams', user.id, y.id, input), // registered by the blocker: refused
      ]),
    );
    expect(blocker).toMatchObject({ ok: true, value: { payment: { target_id: y.id } } });
    expect(before).toMatchObject({ ok: false, code: 'ALREADY_REGISTERED' });
    expect(cancelled).toMatchObject({ ok: true, value: { id: first.payment.id, status: 'cancelled', refund_reason: 'moved' } });
    if (!again.ok) throw new Error(`re-apply refused: ${JSON.stringify(again)}`);
    expect(again.value.payment.id).not.toBe(first.payment.id);
    expect(again.value.registration).toMatchObject({ item_id: x.id, status: 'applied' });
    expect(cancelledAgain).toMatchObject({ ok: false, code: 'PAYMENT_ALREADY_CANCELLED' });
    expect(other).toMatchObject({ ok: false, code: 'ALREADY_REGISTERED' });
    const payments = await db.rows(sql`SELECT target_id, status FROM payments WHERE user_id = ${user.id} ORDER BY id`);
    expect(payments).toEqual([
      { target_id: x.id, status: 'cancelled' },
      { target_id: y.id, status: 'paid' },
      { target_id: x.id, status: 'paid' },
    ]);
    const count = (id: number) => db.value(sql`SELECT registration_count AS n FROM exams WHERE id = ${id}`, 'n');
    expect([await count(x.id), await count(y.id)]).toEqual([1, 1]);
  });
});

describe('refusals inside a group', () => {
  /** Items whose prices all differ, so a payment shows which request it belongs to. */
  async function mixedItems() {
    const now = Date.now();
    return {
      a: await createItem('exams', { price: 11_000 }),
      tiny: await createItem('exams', { price: 50 }), // under every method's minimum
      b: await createItem('exams', { price: 12_000 }),
      wrong: await createItem('exams', { price: 13_000 }),
      closed: await createItem('exams', { price: 14_000, start_at: iso(now - 7200_000), end_at: iso(now - 3600_000) }),
      c: await createItem('exams', { price: 15_000 }),
    };
  }

  it('each gets its own error, and every other request its own payment (over HTTP and in one write)', async () => {
    const user = await createUser();
    const items = await mixedItems();
    const requests = [
      { item: items.a, amount: 11_000, method: 'card' as const, expect: 201 as const },
      { item: items.tiny, amount: 50, method: 'kakaopay' as const, expect: 'PAYMENT_LIMIT_EXCEEDED' as const },
      { item: items.b, amount: 12_000, method: 'kakaopay' as const, expect: 201 as const },
      { item: items.wrong, amount: 13_001, method: 'card' as const, expect: 'AMOUNT_MISMATCH' as const },
      { item: items.closed, amount: 14_000, method: 'card' as const, expect: 'NOT_IN_PERIOD' as const },
      { item: items.c, amount: 15_000, method: 'bank_transfer' as const, expect: 201 as const },
    ];
    const responses = await Promise.all(
      requests.map((r) => register('exams', r.item.id, user.access, { amount: r.amount, payment_method: r.method })),
    );
    for (const [i, r] of requests.entries()) {
      if (r.expect !== 201) {
        await expectProblem(responses[i]!, 400, r.expect);
        continue;
      }
      const body = await bodyOf(responses[i]!, 201);
      expect(body.payment).toMatchObject({ target_id: r.item.id, amount: r.amount, payment_method: r.method, status: 'paid' });
      expect(body.registration).toMatchObject({ item_id: r.item.id, status: 'applied' });
      const stored = await db.first(
        sql`SELECT target_id, amount, payment_method FROM payments WHERE id = ${body.payment.id} AND user_id = ${user.id}`,
      );
      expect(stored).toEqual({ target_id: r.item.id, amount: r.amount, payment_method: r.method });
    }

    // The same mix in one write, for certain (a burst over HTTP may split into several groups).
    const other = await createUser();
    const outcomes = await withUnitOfWork(env, (ctx) =>
      registerMany(
        ctx,
        requests.map((r) => ({
          k: CFG.exams,
          userId: other.id,
          itemId: r.item.id,
          input: { amount: r.amount, payment_method: r.method },
          now: Date.now(),
        })),
      ),
    );
    for (const [i, r] of requests.entries()) {
      const o = outcomes[i]!;
      if (r.expect !== 201) {
        expect(o).toMatchObject({ ok: false, code: r.expect });
        continue;
      }
      if (!o.ok) throw new Error(`request ${i} refused: ${o.code}`);
      expect(o.value.payment).toMatchObject({ target_id: r.item.id, amount: r.amount, payment_method: r.method });
      expect(o.value.registration.item_id).toBe(r.item.id);
    }
    expect(await db.value(sql`SELECT count(*) AS n FROM payments WHERE user_id = ${other.id}`, 'n')).toBe(3);
  });
});
