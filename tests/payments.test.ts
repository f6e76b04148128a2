// Apply/enroll, complete, cancel, history: check order, atomicity, per-user serialisation,
// idempotency and snapshots.
import { env } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import type { InferRequestType } from 'hono/client';
import { createItem, iso, KINDS, register as registerFor, staffUser } from './catalog-helpers';
import { api, authed, type BodyOf, bodyOf, createUser, expectProblem, raw, uniq } from './helpers';
import { db, sql } from './db';
import { scanOnly } from './log-guard';

const HOUR = 3600_000;

async function dbCount(kind: string, id: number): Promise<number> {
  const row = await db.first<{ n: number }>(sql`SELECT registration_count AS n FROM ${sql.raw(kind)} WHERE id = ${id}`);
  return row!.n;
}

async function activeRegistrations(type: string, id: number): Promise<number> {
  const row = await db.first<{ n: number }>(
    sql`SELECT count(*) AS n FROM registrations WHERE kind = ${type} AND item_id = ${id} AND status IN ('applied','enrolled','completed')`,
  );
  return row!.n;
}

type RegisterJson = InferRequestType<(typeof api.exams)[':id']['apply']['$post']>['json'];

describe.each(KINDS)('$kind: $action', ({ kind, type, action, active }) => {
  const register = (id: number, token: string, body: RegisterJson = { amount: 10_000, payment_method: 'card' }) => registerFor(kind, id, token, body);
  /** For bodies the schema refuses. */
  const registerRaw = (id: number, token: string, body: unknown) => raw(`/api/${kind}/${id}/${action}`, { token, body });
  const getItem = (id: number, token: string) => api[kind][':id'].$get({ param: { id: String(id) } }, authed(token));
  const myPayment = async (id: number, token: string) => bodyOf(await api.me.payments[':id'].$get({ param: { id: String(id) } }, authed(token)), 200);

  it('writes a paid payment, an active registration and increments registration_count', async () => {
    const user = await createUser();
    const item = await createItem(kind, { title: uniq('Paid item'), price: 30_000 });
    const res = await register(item.id, user.access, { amount: 30_000, payment_method: 'kakaopay' });
    const { registration, payment } = await bodyOf(res, 201);
    expect(registration).toMatchObject({ kind: type, item_id: item.id, status: active, completed_at: null, cancelled_at: null });
    expect(payment).toMatchObject({
      payment_type: type,
      target_id: item.id,
      target_title: item.title,
      amount: 30_000,
      currency: 'KRW',
      payment_method: 'kakaopay',
      status: 'paid',
      cancelled_at: null,
      refund_reason: null,
      registration_status: active,
      transaction_metadata: { payment_gateway: 'kakaopay', supports_refund: true, processing_fee_rate: 0.029, estimated_fee: 870 },
    });
    expect(payment.external_transaction_id).toMatch(/^tx_/);
    expect(payment.paid_at).toMatch(/Z$/);
    const got = await bodyOf(await getItem(item.id, user.access), 200);
    expect(got).toMatchObject({ registration_count: 1, is_registered: true });
    expect((await bodyOf(await getItem(item.id, (await createUser()).access), 200)).is_registered).toBe(false);
    expect(await dbCount(kind, item.id)).toBe(1);
  });

  it('checks in order: schema → exists → registered → period → amount → limits', async () => {
    const user = await createUser();
    const now = Date.now();
    // schema first, even for a missing item
    await expectProblem(await registerRaw(999_999_999, user.access, { amount: 'x', payment_method: 'cash' }), 400, 'INPUT_VALIDATION_ERROR');
    await expectProblem(await registerRaw(999_999_999, user.access, { amount: 10_000 }), 400, 'INPUT_VALIDATION_ERROR');
    await expectProblem(await raw(`/api/${kind}/1/${action}`, { body: { amount: 1, payment_method: 'card' } }), 401, 'TOKEN_NOT_FOUND');
    // missing item before anything about the body's values
    await expectProblem(await register(999_999_999, user.access, { amount: 1, payment_method: 'card' }), 404, 'NOT_FOUND');
    // already registered wins over a closed period and a wrong amount
    const item = await createItem(kind);
    expect((await register(item.id, user.access)).status).toBe(201);
    await expectProblem(await register(item.id, user.access, { amount: 1, payment_method: 'card' }), 409, 'ALREADY_REGISTERED');
    await raw(`/api/${kind}/${item.id}`, {
      method: 'PATCH',
      token: (await staffUser()).access,
      body: { end_at: iso(now - 1000), start_at: iso(now - HOUR) },
    });
    await expectProblem(await register(item.id, user.access, { amount: 1, payment_method: 'card' }), 409, 'ALREADY_REGISTERED');
    // period before amount
    const future = await createItem(kind, { start_at: iso(now + HOUR), end_at: iso(now + 2 * HOUR) });
    await expectProblem(await register(future.id, user.access, { amount: 1, payment_method: 'card' }), 400, 'NOT_IN_PERIOD');
    const past = await createItem(kind, { start_at: iso(now - 2 * HOUR), end_at: iso(now - HOUR) });
    await expectProblem(await register(past.id, user.access), 400, 'NOT_IN_PERIOD');
    // amount before limits
    const cheap = await createItem(kind, { price: 50 });
    const mismatch = await expectProblem(await register(cheap.id, user.access, { amount: 60, payment_method: 'kakaopay' }), 400, 'AMOUNT_MISMATCH');
    expect(mismatch.price).toBe(50);
    const limit = await expectProblem(
      await register(cheap.id, user.access, { amount: 50, payment_method: 'kakaopay' }),
      400,
      'PAYMENT_LIMIT_EXCEEDED',
    );
    expect(limit).toMatchObject({ payment_method: 'kakaopay', min: 100, max: 50_000_000 });
    expect(await dbCount(kind, cheap.id)).toBe(0);
    const noPayments = await db.first<{ n: number }>(
      sql`SELECT count(*) AS n FROM payments WHERE target_id = ${cheap.id} AND payment_type = ${type}`,
    );
    expect(noPayments!.n).toBe(0);
  });

  it('an amount other than the price is refused even inside the method limits, and nothing is written', async () => {
    const user = await createUser();
    const item = await createItem(kind, { price: 10_000 });
    for (const amount of [20_000, 9_999, 10_001]) {
      const problem = await expectProblem(await register(item.id, user.access, { amount, payment_method: 'card' }), 400, 'AMOUNT_MISMATCH');
      expect(problem.price).toBe(10_000);
    }
    expect(await dbCount(kind, item.id)).toBe(0);
    const paid = await db.first<{ n: number }>(sql`SELECT count(*) AS n FROM payments WHERE user_id = ${user.id}`);
    expect(paid!.n).toBe(0);
    expect((await register(item.id, user.access, { amount: 10_000, payment_method: 'card' })).status).toBe(201);
  });

  it('applies the per-method limits at their edges', async () => {
    const cases: [number, RegisterJson['payment_method'], boolean][] = [
      [100, 'kakaopay', true],
      [99, 'kakaopay', false],
      [50_000_000, 'kakaopay', true],
      [50_000_001, 'kakaopay', false],
      [999, 'card', false],
      [1_000, 'card', true],
      [100_000_000, 'card', true],
      [100_000_001, 'card', false],
      [999, 'bank_transfer', false],
      [1_000, 'bank_transfer', true],
      [200_000_000, 'bank_transfer', true],
      [200_000_001, 'bank_transfer', false],
    ];
    for (const [price, method, ok] of cases) {
      const item = await createItem(kind, { price });
      const res = await register(item.id, (await createUser()).access, { amount: price, payment_method: method });
      if (ok) expect(res.status, `${method} ${price}`).toBe(201);
      else await expectProblem(res, 400, 'PAYMENT_LIMIT_EXCEEDED');
    }
  });

  it('complete: REGISTRATION_NOT_FOUND, then completed, ALREADY_COMPLETED, and no cancel after it', async () => {
    const user = await createUser();
    const item = await createItem(kind);
    await expectProblem(await raw(`/api/${kind}/${item.id}/complete`, { token: user.access, method: 'POST' }), 404, 'REGISTRATION_NOT_FOUND');
    const { payment } = await bodyOf(await register(item.id, user.access), 201);
    const done = await api[kind][':id'].complete.$post({ param: { id: String(item.id) } }, authed(user.access));
    const reg = await bodyOf(done, 200);
    expect(reg).toMatchObject({ status: 'completed', item_id: item.id, kind: type });
    expect(reg.completed_at).toMatch(/Z$/);
    await expectProblem(await raw(`/api/${kind}/${item.id}/complete`, { token: user.access, method: 'POST' }), 409, 'ALREADY_COMPLETED');
    await expectProblem(await raw(`/api/payments/${payment.id}/cancel`, { token: user.access, method: 'POST' }), 409, 'REGISTRATION_COMPLETED');
    expect((await myPayment(payment.id, user.access)).registration_status).toBe('completed');
    expect(await dbCount(kind, item.id)).toBe(1); // completed still counts
    await expectProblem(await register(item.id, user.access), 409, 'ALREADY_REGISTERED');
  });

  it('cancel: refunds atomically, keeps the registration, re-apply re-activates the same row', async () => {
    const user = await createUser();
    const other = await createUser();
    const item = await createItem(kind);
    const first = await bodyOf(await register(item.id, user.access), 201);
    const pid = first.payment.id;
    await expectProblem(await raw(`/api/payments/${pid}/cancel`, { token: other.access, body: {} }), 404, 'NOT_FOUND');
    await expectProblem(await raw(`/api/me/payments/${pid}`, { token: other.access }), 404, 'NOT_FOUND');
    await expectProblem(await raw(`/api/payments/999999999/cancel`, { token: user.access, body: {} }), 404, 'NOT_FOUND');

    const res = await api.payments[':id'].cancel.$post(
      { param: { id: String(pid) }, header: {}, json: { reason: 'changed my mind' } },
      authed(user.access),
    );
    const cancelled = await bodyOf(res, 200);
    expect(cancelled).toMatchObject({ id: pid, status: 'cancelled', refund_reason: 'changed my mind', registration_status: 'cancelled' });
    expect(cancelled.cancelled_at).toMatch(/Z$/);
    expect(await dbCount(kind, item.id)).toBe(0);
    const row = await db.first<{ status: string; cancelled_at: unknown }>(
      sql`SELECT status, cancelled_at FROM registrations WHERE id = ${first.registration.id}`,
    );
    expect(row!.status).toBe('cancelled');
    expect(row!.cancelled_at).toBeGreaterThan(0);
    await expectProblem(await raw(`/api/payments/${pid}/cancel`, { token: user.access, method: 'POST' }), 409, 'PAYMENT_ALREADY_CANCELLED');
    await expectProblem(await raw(`/api/${kind}/${item.id}/complete`, { token: user.access, method: 'POST' }), 409, 'REGISTRATION_CANCELLED');
    expect((await bodyOf(await getItem(item.id, user.access), 200)).is_registered).toBe(false);

    const again = await bodyOf(await register(item.id, user.access), 201);
    expect(again.registration).toMatchObject({ id: first.registration.id, status: active, cancelled_at: null });
    expect(again.payment.id).not.toBe(pid);
    expect(await dbCount(kind, item.id)).toBe(1);
    // The old payment stays cancelled; the new one is the registration's.
    expect((await myPayment(pid, user.access)).registration_status).toBe('cancelled');
    expect((await myPayment(again.payment.id, user.access)).registration_status).toBe(active);
  });

  it('15 concurrent identical requests: exactly one 201, 14 × 409, one payment, count 1', async () => {
    const user = await createUser();
    const item = await createItem(kind);
    const responses = await Promise.all(Array.from({ length: 15 }, () => register(item.id, user.access)));
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(14);
    for (const r of responses) if (r.status === 409) await expectProblem(r, 409, 'ALREADY_REGISTERED');
    expect(await dbCount(kind, item.id)).toBe(1);
    expect(await activeRegistrations(type, item.id)).toBe(1);
    const paid = await db.first<{ n: number }>(sql`SELECT count(*) AS n FROM payments WHERE payment_type = ${type} AND target_id = ${item.id}`);
    expect(paid!.n).toBe(1);
  });

  it('concurrent applies of different users are all counted exactly', async () => {
    const item = await createItem(kind);
    const users = await Promise.all(Array.from({ length: 6 }, () => createUser()));
    const responses = await Promise.all(users.map((u) => register(item.id, u.access)));
    expect(responses.map((r) => r.status)).toEqual(Array(6).fill(201));
    expect(await dbCount(kind, item.id)).toBe(6);
    expect(await activeRegistrations(type, item.id)).toBe(6);
  });

  it('8 concurrent cancels: exactly one 200, the rest 409, count decremented once', async () => {
    const user = await createUser();
    const item = await createItem(kind);
    await register(item.id, (await createUser()).access); // someone else stays registered
    const { payment } = await bodyOf(await register(item.id, user.access), 201);
    expect(await dbCount(kind, item.id)).toBe(2);
    const responses = await Promise.all(Array.from({ length: 8 }, () => raw(`/api/payments/${payment.id}/cancel`, { token: user.access, body: {} })));
    expect(responses.filter((r) => r.status === 200)).toHaveLength(1);
    for (const r of responses) if (r.status !== 200) await expectProblem(r, 409, 'PAYMENT_ALREADY_CANCELLED');
    expect(await dbCount(kind, item.id)).toBe(1);
    expect(await activeRegistrations(type, item.id)).toBe(1);
  });

  it('the batch itself refuses a double registration when the ledger is bypassed', async () => {
    // Calls the service directly (no Durable Object): the conditional statements still hold.
    const { registerMany } = await import('../src/modules/payments/service');
    const { unwrap } = await import('../src/lib/outcome');
    const { KINDS: CFG } = await import('../src/modules/catalog/kinds');
    const { withUnitOfWork } = await import('../src/lib/unit-of-work');
    const user = await createUser();
    const item = await createItem(kind);
    // Each call gets its own database session (on Postgres its own connection), as separate requests would.
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, () =>
        withUnitOfWork(env, async (ctx) => {
          const request = {
            k: CFG[kind],
            userId: user.id,
            itemId: item.id,
            input: { amount: 10_000, payment_method: 'card' as const },
            now: Date.now(),
          };
          return unwrap((await registerMany(ctx, [request]))[0]!);
        }),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(await dbCount(kind, item.id)).toBe(1);
    expect(await activeRegistrations(type, item.id)).toBe(1);
  });

  it('cancels that bypass the ledger decrement the count once each: the write refuses a second refund', async () => {
    // Straight to the repository, each in its own unit of work (on Postgres its own connection):
    // no UserLedger order and no service check before the write, only the write's condition.
    const repo = await import('../src/modules/payments/repository');
    const { KINDS: CFG } = await import('../src/modules/catalog/kinds');
    const { withUnitOfWork } = await import('../src/lib/unit-of-work');
    const item = await createItem(kind);
    const users = await Promise.all(Array.from({ length: 3 }, () => createUser()));
    const paid = await Promise.all(users.map(async (u) => ({ user: u, payment: (await bodyOf(await register(item.id, u.access), 201)).payment })));
    expect(await dbCount(kind, item.id)).toBe(3);
    const cancel = (p: (typeof paid)[number]) =>
      withUnitOfWork(env, (ctx) =>
        repo.cancelPayment(ctx.store, CFG[kind], { userId: p.user.id, paymentId: p.payment.id, itemId: item.id, reason: null, now: Date.now() }),
      );
    // 6 concurrent cancels of the first payment, 2 of the second, 1 of the third.
    const attempts = [0, 0, 0, 1, 0, 1, 0, 2, 0].map((i) => cancel(paid[i]!));
    const done = await Promise.all(attempts);
    expect(done.filter(Boolean)).toHaveLength(3);
    expect(await dbCount(kind, item.id)).toBe(0);
    expect(await activeRegistrations(type, item.id)).toBe(0);
    const refunds = await db.rows(sql`SELECT status FROM payments WHERE target_id = ${item.id} AND payment_type = ${type}`);
    expect(refunds).toEqual(Array(3).fill({ status: 'cancelled' }));
  });

  it('payments keep the title and amount they were made with', async () => {
    const user = await createUser();
    const item = await createItem(kind, { title: 'Original title', price: 12_000 });
    const { payment } = await bodyOf(await register(item.id, user.access, { amount: 12_000, payment_method: 'bank_transfer' }), 201);
    expect(payment.transaction_metadata).toEqual({
      payment_gateway: 'bank_transfer',
      supports_refund: true,
      processing_fee_rate: 0.005,
      estimated_fee: 60,
    });
    await raw(`/api/${kind}/${item.id}`, { method: 'PATCH', token: (await staffUser()).access, body: { title: 'New title', price: 99_000 } });
    const after = await myPayment(payment.id, user.access);
    expect(after).toMatchObject({ target_title: 'Original title', amount: 12_000 });
    expect(after).toEqual(payment);
  });
});

describe('Idempotency-Key', () => {
  const body = { amount: 10_000, payment_method: 'card' } as const;

  it('replays the first response (status and body) for the same request', async () => {
    const user = await createUser();
    const item = await createItem('exams');
    const key = uniq('key');
    const first = await raw(`/api/exams/${item.id}/apply`, { token: user.access, body, headers: { 'idempotency-key': key } });
    expect(first.status).toBe(201);
    const again = await raw(`/api/exams/${item.id}/apply/`, { token: user.access, body, headers: { 'idempotency-key': key } });
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.json()).toEqual(await first.json());
    expect(await dbCount('exams', item.id)).toBe(1);
    // Without the key the same request is a new one: 409.
    await expectProblem(await raw(`/api/exams/${item.id}/apply`, { token: user.access, body }), 409, 'ALREADY_REGISTERED');
  });

  it('replays errors too, and keys are scoped per user', async () => {
    const user = await createUser();
    const other = await createUser();
    const item = await createItem('courses', { price: 10_000 });
    const key = uniq('key');
    const wrong = { amount: 1, payment_method: 'card' };
    await expectProblem(
      await raw(`/api/courses/${item.id}/enroll`, { token: user.access, body: wrong, headers: { 'idempotency-key': key } }),
      400,
      'AMOUNT_MISMATCH',
    );
    const replay = await raw(`/api/courses/${item.id}/enroll`, {
      token: user.access,
      body: wrong,
      headers: { 'idempotency-key': key, 'accept-language': 'ko' },
    });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect((await expectProblem(replay, 400, 'AMOUNT_MISMATCH')).detail).toBe('결제 금액이 가격과 일치하지 않습니다.');
    const res = await raw(`/api/courses/${item.id}/enroll`, { token: other.access, body, headers: { 'idempotency-key': key } });
    expect(res.status).toBe(201);
  });

  it('422 IDEMPOTENCY_KEY_REUSED for the same key with another body or path', async () => {
    const user = await createUser();
    const item = await createItem('exams');
    const key = uniq('key');
    expect((await raw(`/api/exams/${item.id}/apply`, { token: user.access, body, headers: { 'idempotency-key': key } })).status).toBe(201);
    const changed = await raw(`/api/exams/${item.id}/apply`, {
      token: user.access,
      body: { ...body, payment_method: 'kakaopay' },
      headers: { 'idempotency-key': key },
    });
    await expectProblem(changed, 422, 'IDEMPOTENCY_KEY_REUSED');
    const other = await createItem('exams');
    await expectProblem(
      await raw(`/api/exams/${other.id}/apply`, { token: user.access, body, headers: { 'idempotency-key': key } }),
      422,
      'IDEMPOTENCY_KEY_REUSED',
    );
  });

  it('409 IDEMPOTENCY_IN_PROGRESS while the first request runs; an abandoned or expired claim is taken over', async () => {
    const user = await createUser();
    const item = await createItem('exams');
    const { requestHash } = await import('../src/modules/payments/idempotency');
    const key = uniq('key');
    const hash = await requestHash('POST', `/api/exams/${item.id}/apply`, body);
    const now = Date.now();
    await db.run(
      sql`INSERT INTO idempotency_keys (user_id, key, request_hash, created_at, expires_at) VALUES (${user.id}, ${key}, ${hash}, ${now}, ${now + 86_400_000})`,
    );
    await expectProblem(
      await raw(`/api/exams/${item.id}/apply`, { token: user.access, body, headers: { 'idempotency-key': key } }),
      409,
      'IDEMPOTENCY_IN_PROGRESS',
    );
    await db.run(sql`UPDATE idempotency_keys SET created_at = ${now - 120_000} WHERE user_id = ${user.id} AND key = ${key}`);
    expect((await raw(`/api/exams/${item.id}/apply`, { token: user.access, body, headers: { 'idempotency-key': key } })).status).toBe(201);

    // Expired after 24 h: the key is free again (here the new request is a plain duplicate: 409).
    await db.run(sql`UPDATE idempotency_keys SET expires_at = ${now - 1} WHERE user_id = ${user.id} AND key = ${key}`);
    await expectProblem(
      await raw(`/api/exams/${item.id}/apply`, { token: user.access, body, headers: { 'idempotency-key': key } }),
      409,
      'ALREADY_REGISTERED',
    );
  });

  it('concurrent requests with one key run once', async () => {
    const user = await createUser();
    const item = await createItem('exams');
    const key = uniq('key');
    const responses = await Promise.all(
      Array.from({ length: 5 }, () => raw(`/api/exams/${item.id}/apply`, { token: user.access, body, headers: { 'idempotency-key': key } })),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
    expect(statuses.filter((s) => s === 201).length).toBeGreaterThanOrEqual(1);
    for (const r of responses) if (r.status === 409) await expectProblem(r, 409, 'IDEMPOTENCY_IN_PROGRESS');
    expect(await dbCount('exams', item.id)).toBe(1);
  });

  it('one user re-sending expired keys at once: each claim takes only its own key (no 500, no deadlock)', async () => {
    // A claim that also deleted the user's other expired keys locked their rows: two such claims
    // crossed and deadlocked on Postgres. Expired keys are the purge's to delete.
    const user = await createUser();
    const items = await Promise.all(Array.from({ length: 4 }, () => createItem('exams')));
    const keys = items.map(() => uniq('key'));
    const send = (i: number) => raw(`/api/exams/${items[i]!.id}/apply`, { token: user.access, body, headers: { 'idempotency-key': keys[i]! } });
    expect((await Promise.all(items.map((_, i) => send(i)))).map((r) => r.status)).toEqual([201, 201, 201, 201]);
    let warned: string[] = [];
    const warn = vi.spyOn(console, 'warn').mockImplementation(scanOnly);
    const log = vi.spyOn(console, 'error').mockImplementation(scanOnly);
    const statuses: number[] = [];
    try {
      for (let round = 0; round < 6; round++) {
        await db.run(sql`UPDATE idempotency_keys SET expires_at = ${Date.now() - 1} WHERE user_id = ${user.id}`);
        // Expired: each is taken over and runs again, a plain duplicate now (409 ALREADY_REGISTERED).
        for (const r of await Promise.all(items.map((_, i) => send(i)))) statuses.push(r.status);
      }
    } finally {
      warned = warn.mock.calls.map((c) => String(c[0])); // mockRestore() forgets the calls
      warn.mockRestore();
      log.mockRestore();
    }
    expect(statuses).toEqual(Array(24).fill(409));
    expect(warned.filter((l) => /deadlock/i.test(l))).toEqual([]);
    expect(await db.value(sql`SELECT count(*) AS n FROM idempotency_keys WHERE user_id = ${user.id}`, 'n')).toBe(4);
  });

  it('400 for an over-long key; cancel accepts keys too', async () => {
    const user = await createUser();
    const item = await createItem('exams');
    await expectProblem(
      await raw(`/api/exams/${item.id}/apply`, { token: user.access, body, headers: { 'idempotency-key': 'k'.repeat(256) } }),
      400,
      'INPUT_VALIDATION_ERROR',
    );
    const { payment } = await bodyOf(await registerFor('exams', item.id, user.access, body), 201);
    const key = uniq('cancel');
    const a = await raw(`/api/payments/${payment.id}/cancel`, { token: user.access, body: { reason: 'x' }, headers: { 'idempotency-key': key } });
    const b = await raw(`/api/payments/${payment.id}/cancel`, { token: user.access, body: { reason: 'x' }, headers: { 'idempotency-key': key } });
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(await b.json()).toEqual(await a.json());
  });
});

describe('payment history', () => {
  type History = BodyOf<Awaited<ReturnType<typeof api.me.payments.$get>>, 200>;
  const history = async (token: string, query: InferRequestType<typeof api.me.payments.$get>['query']) =>
    bodyOf(await api.me.payments.$get({ query }, authed(token)), 200);
  it('filters by status, type, dates and title words; pages newest first; cursor; only the caller’s', async () => {
    const user = await createUser();
    const tag = uniq('Hist');
    const exam = await createItem('exams', { title: `${tag} Korean History exam` });
    const course = await createItem('courses', { title: `${tag} World history course` });
    const exam2 = await createItem('exams', { title: `${tag} Math exam` });
    const p1 = (await bodyOf(await registerFor('exams', exam.id, user.access, { amount: 10_000, payment_method: 'card' }), 201)).payment;
    const p2 = (await bodyOf(await registerFor('courses', course.id, user.access, { amount: 10_000, payment_method: 'card' }), 201)).payment;
    const p3 = (await bodyOf(await registerFor('exams', exam2.id, user.access, { amount: 10_000, payment_method: 'card' }), 201)).payment;
    await raw(`/api/payments/${p3.id}/cancel`, { token: user.access, body: {} });
    // someone else's payment never shows
    await raw(`/api/exams/${exam.id}/apply`, { token: (await createUser()).access, body: { amount: 10_000, payment_method: 'card' } });

    const ids = async (qs: string) => {
      const res = await raw(`/api/me/payments?${qs}`, { token: user.access });
      expect(res.status, qs).toBe(200);
      const page: History = await res.json();
      return page.results.map((p) => p.id);
    };
    expect(await ids('')).toEqual([p3.id, p2.id, p1.id]);
    expect(await ids('status=paid')).toEqual([p2.id, p1.id]);
    expect(await ids('status=cancelled')).toEqual([p3.id]);
    expect(await ids('payment_type=course')).toEqual([p2.id]);
    expect(await ids('payment_type=exam&status=paid')).toEqual([p1.id]);
    expect(await ids('search=history')).toEqual([p2.id, p1.id]);
    expect(await ids('search=HISTORY%20korean')).toEqual([p1.id]);
    expect(await ids('search=%25')).toEqual([]);
    const today = new Date().toISOString().slice(0, 10);
    expect(await ids(`from=${today}&to=${today}`)).toEqual([p3.id, p2.id, p1.id]);
    expect(await ids('to=2020-01-01')).toEqual([]);
    expect(await ids('from=2999-01-01')).toEqual([]);
    await expectProblem(await raw('/api/me/payments?from=2026-02-01&to=2026-01-01', { token: user.access }), 400, 'INPUT_VALIDATION_ERROR');
    await expectProblem(await raw('/api/me/payments?from=yesterday', { token: user.access }), 400, 'INPUT_VALIDATION_ERROR');
    await expectProblem(await raw('/api/me/payments?status=refunded', { token: user.access }), 400, 'INPUT_VALIDATION_ERROR');

    const page1 = await history(user.access, { page_size: 2 });
    expect(page1.count).toBe(3);
    expect(page1.results[0]!.currency).toBe('KRW');
    const byCursor = await history(user.access, { page_size: 2, cursor: page1.next_cursor! });
    expect(byCursor.results.map((p) => p.id)).toEqual([p1.id]);
    expect(byCursor.next_cursor).toBeNull();
    await expectProblem(await raw('/api/me/payments?page=3&page_size=2', { token: user.access }), 404, 'NOT_FOUND');
    await expectProblem(await raw('/api/me/payments?cursor=xyz', { token: user.access }), 400, 'INPUT_VALIDATION_ERROR');
    await expectProblem(await raw('/api/me/payments'), 401, 'TOKEN_NOT_FOUND');
    const empty = await history((await createUser()).access, {});
    expect(empty).toMatchObject({ count: 0, results: [], next: null, previous: null });
  });
});
