// Apply/enroll, complete, cancel, history: check order, atomicity, per-user serialisation,
// idempotency and snapshots.
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { createItem, iso, KINDS, staffUser } from './catalog-helpers';
import { call, createUser, expectProblem, json, uniq } from './helpers';

const HOUR = 3600_000;

async function dbCount(kind: string, id: number): Promise<number> {
  const row = await env.DB.prepare(`SELECT registration_count AS n FROM ${kind} WHERE id = ?`).bind(id).first<{ n: number }>();
  return row!.n;
}

async function activeRegistrations(type: string, id: number): Promise<number> {
  const row = await env.DB.prepare(
    `SELECT count(*) AS n FROM registrations WHERE kind = ? AND item_id = ? AND status IN ('applied','enrolled','completed')`,
  )
    .bind(type, id)
    .first<{ n: number }>();
  return row!.n;
}

describe.each(KINDS)('$kind: $action', ({ kind, type, action, active }) => {
  const register = (id: number, token: string, body: unknown = { amount: 10_000, payment_method: 'card' }, headers?: Record<string, string>) =>
    call(`/api/${kind}/${id}/${action}`, { token, body, headers });

  it('writes a paid payment, an active registration and increments registration_count', async () => {
    const user = await createUser();
    const item = await createItem(kind, { title: uniq('Paid item'), price: 30_000 });
    const res = await register(item.id, user.access, { amount: 30_000, payment_method: 'kakaopay' });
    expect(res.status).toBe(201);
    const { registration, payment } = await json(res);
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
    const got = await json(await call(`/api/${kind}/${item.id}`, { token: user.access }));
    expect(got).toMatchObject({ registration_count: 1, is_registered: true });
    expect((await json(await call(`/api/${kind}/${item.id}`, { token: (await createUser()).access }))).is_registered).toBe(false);
    expect(await dbCount(kind, item.id)).toBe(1);
  });

  it('checks in order: schema → exists → registered → period → amount → limits', async () => {
    const user = await createUser();
    const now = Date.now();
    // schema first, even for a missing item
    await expectProblem(await register(999_999_999, user.access, { amount: 'x', payment_method: 'cash' }), 400, 'INPUT_VALIDATION_ERROR');
    await expectProblem(await register(999_999_999, user.access, { amount: 10_000 }), 400, 'INPUT_VALIDATION_ERROR');
    await expectProblem(await call(`/api/${kind}/1/${action}`, { body: { amount: 1, payment_method: 'card' } }), 401, 'TOKEN_NOT_FOUND');
    // missing item before anything about the body's values
    await expectProblem(await register(999_999_999, user.access, { amount: 1, payment_method: 'card' }), 404, 'NOT_FOUND');
    // already registered wins over a closed period and a wrong amount
    const item = await createItem(kind);
    expect((await register(item.id, user.access)).status).toBe(201);
    await expectProblem(await register(item.id, user.access, { amount: 1, payment_method: 'card' }), 409, 'ALREADY_REGISTERED');
    await call(`/api/${kind}/${item.id}`, { method: 'PATCH', token: (await staffUser()).access, body: { end_at: iso(now - 1000), start_at: iso(now - HOUR) } });
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
    const limit = await expectProblem(await register(cheap.id, user.access, { amount: 50, payment_method: 'kakaopay' }), 400, 'PAYMENT_LIMIT_EXCEEDED');
    expect(limit).toMatchObject({ payment_method: 'kakaopay', min: 100, max: 50_000_000 });
    expect(await dbCount(kind, cheap.id)).toBe(0);
    const noPayments = await env.DB.prepare('SELECT count(*) AS n FROM payments WHERE target_id = ? AND payment_type = ?').bind(cheap.id, type).first<any>();
    expect(noPayments.n).toBe(0);
  });

  it('an amount other than the price is refused even inside the method limits, and nothing is written', async () => {
    const user = await createUser();
    const item = await createItem(kind, { price: 10_000 });
    for (const amount of [20_000, 9_999, 10_001]) {
      const problem = await expectProblem(await register(item.id, user.access, { amount, payment_method: 'card' }), 400, 'AMOUNT_MISMATCH');
      expect(problem.price).toBe(10_000);
    }
    expect(await dbCount(kind, item.id)).toBe(0);
    const paid = await env.DB.prepare('SELECT count(*) AS n FROM payments WHERE user_id = ?').bind(user.id).first<any>();
    expect(paid.n).toBe(0);
    expect((await register(item.id, user.access, { amount: 10_000, payment_method: 'card' })).status).toBe(201);
  });

  it('applies the per-method limits at their edges', async () => {
    const cases: [number, string, boolean][] = [
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
    await expectProblem(await call(`/api/${kind}/${item.id}/complete`, { token: user.access, method: 'POST' }), 404, 'REGISTRATION_NOT_FOUND');
    const { payment } = await json(await register(item.id, user.access));
    const done = await call(`/api/${kind}/${item.id}/complete`, { token: user.access, method: 'POST' });
    expect(done.status).toBe(200);
    const reg = await json(done);
    expect(reg).toMatchObject({ status: 'completed', item_id: item.id, kind: type });
    expect(reg.completed_at).toMatch(/Z$/);
    await expectProblem(await call(`/api/${kind}/${item.id}/complete`, { token: user.access, method: 'POST' }), 409, 'ALREADY_COMPLETED');
    await expectProblem(await call(`/api/payments/${payment.id}/cancel`, { token: user.access, method: 'POST' }), 409, 'REGISTRATION_COMPLETED');
    expect((await json(await call(`/api/me/payments/${payment.id}`, { token: user.access }))).registration_status).toBe('completed');
    expect(await dbCount(kind, item.id)).toBe(1); // completed still counts
    await expectProblem(await register(item.id, user.access), 409, 'ALREADY_REGISTERED');
  });

  it('cancel: refunds atomically, keeps the registration, re-apply re-activates the same row', async () => {
    const user = await createUser();
    const other = await createUser();
    const item = await createItem(kind);
    const first = await json(await register(item.id, user.access));
    const pid = first.payment.id;
    await expectProblem(await call(`/api/payments/${pid}/cancel`, { token: other.access, body: {} }), 404, 'NOT_FOUND');
    await expectProblem(await call(`/api/me/payments/${pid}`, { token: other.access }), 404, 'NOT_FOUND');
    await expectProblem(await call(`/api/payments/999999999/cancel`, { token: user.access, body: {} }), 404, 'NOT_FOUND');

    const res = await call(`/api/payments/${pid}/cancel`, { token: user.access, body: { reason: 'changed my mind' } });
    expect(res.status).toBe(200);
    const cancelled = await json(res);
    expect(cancelled).toMatchObject({ id: pid, status: 'cancelled', refund_reason: 'changed my mind', registration_status: 'cancelled' });
    expect(cancelled.cancelled_at).toMatch(/Z$/);
    expect(await dbCount(kind, item.id)).toBe(0);
    const row = await env.DB.prepare('SELECT status, cancelled_at FROM registrations WHERE id = ?').bind(first.registration.id).first<any>();
    expect(row.status).toBe('cancelled');
    expect(row.cancelled_at).toBeGreaterThan(0);
    await expectProblem(await call(`/api/payments/${pid}/cancel`, { token: user.access, method: 'POST' }), 409, 'PAYMENT_ALREADY_CANCELLED');
    await expectProblem(await call(`/api/${kind}/${item.id}/complete`, { token: user.access, method: 'POST' }), 409, 'REGISTRATION_CANCELLED');
    expect((await json(await call(`/api/${kind}/${item.id}`, { token: user.access }))).is_registered).toBe(false);

    const again = await json(await register(item.id, user.access));
    expect(again.registration).toMatchObject({ id: first.registration.id, status: active, cancelled_at: null });
    expect(again.payment.id).not.toBe(pid);
    expect(await dbCount(kind, item.id)).toBe(1);
    // The old payment stays cancelled; the new one is the registration's.
    expect((await json(await call(`/api/me/payments/${pid}`, { token: user.access }))).registration_status).toBe('cancelled');
    expect((await json(await call(`/api/me/payments/${again.payment.id}`, { token: user.access }))).registration_status).toBe(active);
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
    const paid = await env.DB.prepare('SELECT count(*) AS n FROM payments WHERE payment_type = ? AND target_id = ?').bind(type, item.id).first<any>();
    expect(paid.n).toBe(1);
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
    const { payment } = await json(await register(item.id, user.access));
    expect(await dbCount(kind, item.id)).toBe(2);
    const responses = await Promise.all(Array.from({ length: 8 }, () => call(`/api/payments/${payment.id}/cancel`, { token: user.access, body: {} })));
    expect(responses.filter((r) => r.status === 200)).toHaveLength(1);
    for (const r of responses) if (r.status !== 200) await expectProblem(r, 409, 'PAYMENT_ALREADY_CANCELLED');
    expect(await dbCount(kind, item.id)).toBe(1);
    expect(await activeRegistrations(type, item.id)).toBe(1);
  });

  it('the batch itself refuses a double registration when the ledger is bypassed', async () => {
    // Calls the service directly (no Durable Object): the conditional statements still hold.
    const { register: registerDirect } = await import('../src/modules/payments/service');
    const { KINDS: CFG } = await import('../src/modules/catalog/kinds');
    const { withStore } = await import('../src/db/store');
    const user = await createUser();
    const item = await createItem(kind);
    // Each call gets its own database session (on Postgres its own connection), as separate requests would.
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, () =>
        withStore(env as any, (e) => registerDirect(e, CFG[kind], user.id, item.id, { amount: 10_000, payment_method: 'card' })),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(await dbCount(kind, item.id)).toBe(1);
    expect(await activeRegistrations(type, item.id)).toBe(1);
  });

  it('payments keep the title and amount they were made with', async () => {
    const user = await createUser();
    const item = await createItem(kind, { title: 'Original title', price: 12_000 });
    const { payment } = await json(await register(item.id, user.access, { amount: 12_000, payment_method: 'bank_transfer' }));
    expect(payment.transaction_metadata).toEqual({ payment_gateway: 'bank_transfer', supports_refund: true, processing_fee_rate: 0.005, estimated_fee: 60 });
    await call(`/api/${kind}/${item.id}`, { method: 'PATCH', token: (await staffUser()).access, body: { title: 'New title', price: 99_000 } });
    const after = await json(await call(`/api/me/payments/${payment.id}`, { token: user.access }));
    expect(after).toMatchObject({ target_title: 'Original title', amount: 12_000 });
    expect(after).toEqual(payment);
  });
});

describe('Idempotency-Key', () => {
  const body = { amount: 10_000, payment_method: 'card' };

  it('replays the first response (status and body) for the same request', async () => {
    const user = await createUser();
    const item = await createItem('exams');
    const key = uniq('key');
    const first = await call(`/api/exams/${item.id}/apply`, { token: user.access, body, headers: { 'idempotency-key': key } });
    expect(first.status).toBe(201);
    const again = await call(`/api/exams/${item.id}/apply/`, { token: user.access, body, headers: { 'idempotency-key': key } });
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await json(again)).toEqual(await json(first));
    expect(await dbCount('exams', item.id)).toBe(1);
    // Without the key the same request is a new one: 409.
    await expectProblem(await call(`/api/exams/${item.id}/apply`, { token: user.access, body }), 409, 'ALREADY_REGISTERED');
  });

  it('replays errors too, and keys are scoped per user', async () => {
    const user = await createUser();
    const other = await createUser();
    const item = await createItem('courses', { price: 10_000 });
    const key = uniq('key');
    const wrong = { amount: 1, payment_method: 'card' };
    await expectProblem(await call(`/api/courses/${item.id}/enroll`, { token: user.access, body: wrong, headers: { 'idempotency-key': key } }), 400, 'AMOUNT_MISMATCH');
    const replay = await call(`/api/courses/${item.id}/enroll`, { token: user.access, body: wrong, headers: { 'idempotency-key': key, 'accept-language': 'ko' } });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect((await expectProblem(replay, 400, 'AMOUNT_MISMATCH')).detail).toBe('결제 금액이 가격과 일치하지 않습니다.');
    const res = await call(`/api/courses/${item.id}/enroll`, { token: other.access, body, headers: { 'idempotency-key': key } });
    expect(res.status).toBe(201);
  });

  it('422 IDEMPOTENCY_KEY_REUSED for the same key with another body or path', async () => {
    const user = await createUser();
    const item = await createItem('exams');
    const key = uniq('key');
    expect((await call(`/api/exams/${item.id}/apply`, { token: user.access, body, headers: { 'idempotency-key': key } })).status).toBe(201);
    const changed = await call(`/api/exams/${item.id}/apply`, { token: user.access, body: { ...body, payment_method: 'kakaopay' }, headers: { 'idempotency-key': key } });
    await expectProblem(changed, 422, 'IDEMPOTENCY_KEY_REUSED');
    const other = await createItem('exams');
    await expectProblem(await call(`/api/exams/${other.id}/apply`, { token: user.access, body, headers: { 'idempotency-key': key } }), 422, 'IDEMPOTENCY_KEY_REUSED');
  });

  it('409 IDEMPOTENCY_IN_PROGRESS while the first request runs; an abandoned or expired claim is taken over', async () => {
    const user = await createUser();
    const item = await createItem('exams');
    const { requestHash } = await import('../src/modules/payments/idempotency');
    const key = uniq('key');
    const hash = await requestHash('POST', `/api/exams/${item.id}/apply`, body);
    const now = Date.now();
    await env.DB.prepare('INSERT INTO idempotency_keys (user_id, key, request_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)')
      .bind(user.id, key, hash, now, now + 86_400_000)
      .run();
    await expectProblem(await call(`/api/exams/${item.id}/apply`, { token: user.access, body, headers: { 'idempotency-key': key } }), 409, 'IDEMPOTENCY_IN_PROGRESS');
    await env.DB.prepare('UPDATE idempotency_keys SET created_at = ? WHERE user_id = ? AND key = ?').bind(now - 120_000, user.id, key).run();
    expect((await call(`/api/exams/${item.id}/apply`, { token: user.access, body, headers: { 'idempotency-key': key } })).status).toBe(201);

    // Expired after 24 h: the key is free again (here the new request is a plain duplicate: 409).
    await env.DB.prepare('UPDATE idempotency_keys SET expires_at = ? WHERE user_id = ? AND key = ?').bind(now - 1, user.id, key).run();
    await expectProblem(await call(`/api/exams/${item.id}/apply`, { token: user.access, body, headers: { 'idempotency-key': key } }), 409, 'ALREADY_REGISTERED');
  });

  it('concurrent requests with one key run once', async () => {
    const user = await createUser();
    const item = await createItem('exams');
    const key = uniq('key');
    const responses = await Promise.all(
      Array.from({ length: 5 }, () => call(`/api/exams/${item.id}/apply`, { token: user.access, body, headers: { 'idempotency-key': key } })),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
    expect(statuses.filter((s) => s === 201).length).toBeGreaterThanOrEqual(1);
    for (const r of responses) if (r.status === 409) await expectProblem(r, 409, 'IDEMPOTENCY_IN_PROGRESS');
    expect(await dbCount('exams', item.id)).toBe(1);
  });

  it('400 for an over-long key; cancel accepts keys too', async () => {
    const user = await createUser();
    const item = await createItem('exams');
    await expectProblem(await call(`/api/exams/${item.id}/apply`, { token: user.access, body, headers: { 'idempotency-key': 'k'.repeat(256) } }), 400, 'INPUT_VALIDATION_ERROR');
    const { payment } = await json(await call(`/api/exams/${item.id}/apply`, { token: user.access, body }));
    const key = uniq('cancel');
    const a = await call(`/api/payments/${payment.id}/cancel`, { token: user.access, body: { reason: 'x' }, headers: { 'idempotency-key': key } });
    const b = await call(`/api/payments/${payment.id}/cancel`, { token: user.access, body: { reason: 'x' }, headers: { 'idempotency-key': key } });
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(await json(b)).toEqual(await json(a));
  });
});

describe('payment history', () => {
  it('filters by status, type, dates and title words; pages newest first; cursor; only the caller’s', async () => {
    const user = await createUser();
    const tag = uniq('Hist');
    const exam = await createItem('exams', { title: `${tag} Korean History exam` });
    const course = await createItem('courses', { title: `${tag} World history course` });
    const exam2 = await createItem('exams', { title: `${tag} Math exam` });
    const p1 = (await json(await call(`/api/exams/${exam.id}/apply`, { token: user.access, body: { amount: 10_000, payment_method: 'card' } }))).payment;
    const p2 = (await json(await call(`/api/courses/${course.id}/enroll`, { token: user.access, body: { amount: 10_000, payment_method: 'card' } }))).payment;
    const p3 = (await json(await call(`/api/exams/${exam2.id}/apply`, { token: user.access, body: { amount: 10_000, payment_method: 'card' } }))).payment;
    await call(`/api/payments/${p3.id}/cancel`, { token: user.access, body: {} });
    // someone else's payment never shows
    await call(`/api/exams/${exam.id}/apply`, { token: (await createUser()).access, body: { amount: 10_000, payment_method: 'card' } });

    const ids = async (qs: string) => {
      const res = await call(`/api/me/payments?${qs}`, { token: user.access });
      expect(res.status, qs).toBe(200);
      return (await json(res)).results.map((p: any) => p.id);
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
    await expectProblem(await call('/api/me/payments?from=2026-02-01&to=2026-01-01', { token: user.access }), 400, 'INPUT_VALIDATION_ERROR');
    await expectProblem(await call('/api/me/payments?from=yesterday', { token: user.access }), 400, 'INPUT_VALIDATION_ERROR');
    await expectProblem(await call('/api/me/payments?status=refunded', { token: user.access }), 400, 'INPUT_VALIDATION_ERROR');

    const page1 = await json(await call('/api/me/payments?page_size=2', { token: user.access }));
    expect(page1.count).toBe(3);
    expect(page1.results[0].currency).toBe('KRW');
    const byCursor = await json(await call(`/api/me/payments?page_size=2&cursor=${page1.next_cursor}`, { token: user.access }));
    expect(byCursor.results.map((p: any) => p.id)).toEqual([p1.id]);
    expect(byCursor.next_cursor).toBeNull();
    await expectProblem(await call('/api/me/payments?page=3&page_size=2', { token: user.access }), 404, 'NOT_FOUND');
    await expectProblem(await call('/api/me/payments?cursor=xyz', { token: user.access }), 400, 'INPUT_VALIDATION_ERROR');
    await expectProblem(await call('/api/me/payments'), 401, 'TOKEN_NOT_FOUND');
    const empty = await json(await call('/api/me/payments', { token: (await createUser()).access }));
    expect(empty).toMatchObject({ count: 0, results: [], next: null, previous: null });
  });
});
