import { beforeAll, describe, expect, it } from 'vitest';
import { api, authed, bodyOf, createUser, expectProblem, raw, type TestUser } from './helpers';
import { createItem, register } from './catalog-helpers';
import { run, newMachine } from './machines-helpers';
import { db, sql } from './db';

interface Fixture {
  a: TestUser;
  b: TestUser;
  machineId: number;
  operationId: number;
  examId: number;
  paymentId: number;
}

interface Case {
  name: string;
  method: string;
  path: (f: Fixture) => string;
  body?: (f: Fixture) => unknown;
  headers?: Record<string, string>;
  /** What user B gets: a problem [status, code], or a plain success status for public reads. */
  other: [number, string] | [number];
}

const CASES: Case[] = [
  // Machines: everyone authenticated reads; only the owner (or staff) changes or watches.
  { name: 'read machine', method: 'GET', path: (f) => `/api/machines/${f.machineId}`, other: [200] },
  {
    name: 'patch machine',
    method: 'PATCH',
    path: (f) => `/api/machines/${f.machineId}`,
    body: () => ({ name: 'stolen' }),
    other: [403, 'PERMISSION_DENIED'],
  },
  {
    name: 'put machine',
    method: 'PUT',
    path: (f) => `/api/machines/${f.machineId}`,
    body: () => ({ name: 'stolen', location: 'x', status: 'POWEROFF' }),
    other: [403, 'PERMISSION_DENIED'],
  },
  { name: 'delete machine', method: 'DELETE', path: (f) => `/api/machines/${f.machineId}`, other: [403, 'PERMISSION_DENIED'] },
  {
    name: 'command machine',
    method: 'POST',
    path: (f) => `/api/machines/${f.machineId}/operation`,
    body: () => ({ command: 'START' }),
    other: [403, 'PERMISSION_DENIED'],
  },
  { name: 'machine history', method: 'GET', path: (f) => `/api/machines/${f.machineId}/history`, other: [403, 'PERMISSION_DENIED'] },
  {
    name: 'machine operation',
    method: 'GET',
    path: (f) => `/api/machines/${f.machineId}/operations/${f.operationId}`,
    other: [403, 'PERMISSION_DENIED'],
  },
  {
    name: 'live socket',
    method: 'GET',
    path: (f) => `/api/machines/${f.machineId}/live`,
    headers: { upgrade: 'websocket' },
    other: [403, 'PERMISSION_DENIED'],
  },
  // Payments and registrations: another user's are 404, exactly like missing ones.
  { name: 'payment detail', method: 'GET', path: (f) => `/api/me/payments/${f.paymentId}`, other: [404, 'NOT_FOUND'] },
  {
    name: 'cancel payment',
    method: 'POST',
    path: (f) => `/api/payments/${f.paymentId}/cancel`,
    body: () => ({ reason: 'mine now' }),
    other: [404, 'NOT_FOUND'],
  },
  { name: 'complete registration', method: 'POST', path: (f) => `/api/exams/${f.examId}/complete`, other: [404, 'REGISTRATION_NOT_FOUND'] },
  // Sessions: B cannot end A's session.
  {
    name: 'logout with A’s refresh token',
    method: 'POST',
    path: () => '/api/users/logout',
    body: (f) => ({ refresh: f.a.refresh }),
    other: [401, 'INVALID_TOKEN'],
  },
];

/** Everything of A's that a foreign request could change. */
async function snapshot(f: Fixture) {
  return {
    user: await db.rows(sql`SELECT * FROM users WHERE id = ${f.a.id}`),
    sessions: await db.rows(sql`SELECT id, refresh_jti, revoked_at FROM sessions WHERE user_id = ${f.a.id} ORDER BY id`),
    machines: await db.rows(sql`SELECT * FROM machines WHERE owner_id = ${f.a.id} ORDER BY id`),
    operations: await db.rows(sql`SELECT * FROM machine_operations WHERE machine_owner_id = ${f.a.id} ORDER BY id`),
    payments: await db.rows(sql`SELECT * FROM payments WHERE user_id = ${f.a.id} ORDER BY id`),
    registrations: await db.rows(sql`SELECT * FROM registrations WHERE user_id = ${f.a.id} ORDER BY id`),
    exam: await db.rows(sql`SELECT registration_count FROM exams WHERE id = ${f.examId}`),
  };
}

describe('authorization matrix', () => {
  let f: Fixture;

  beforeAll(async () => {
    const a = await createUser();
    const b = await createUser();
    const m = await newMachine(a.access);
    const op = await run(a.access, m.id, 'POWER_ON');
    const exam = await createItem('exams', { price: 20_000 });
    const { payment } = await bodyOf(await register('exams', exam.id, a.access, { amount: 20_000, payment_method: 'card' }), 201);
    f = { a, b, machineId: m.id, operationId: op.id, examId: exam.id, paymentId: payment.id };
  });

  for (const c of CASES) {
    it(`${c.name}: anonymous → 401, user B → ${c.other.join(' ')}, A unchanged`, async () => {
      const before = await snapshot(f);
      const send = (token?: string) => raw(c.path(f), { method: c.method, token, headers: c.headers, ...(c.body ? { body: c.body(f) } : {}) });
      await expectProblem(await send(), 401, 'TOKEN_NOT_FOUND');
      const res = await send(f.b.access);
      if (c.other.length === 2) await expectProblem(res, c.other[0], c.other[1]);
      else expect(res.status).toBe(c.other[0]);
      expect(await snapshot(f)).toEqual(before);
    });
  }

  it('lists of A’s things are not visible to B', async () => {
    const b = authed(f.b.access);
    expect((await bodyOf(await api.machines.history.$get({ query: {} }, b), 200)).results).toEqual([]);
    expect((await bodyOf(await api.profile['referred-users'].$get({ query: {} }, b), 200)).count).toBe(0);
    expect((await bodyOf(await api.me.payments.$get({ query: {} }, b), 200)).results).toEqual([]);
    expect((await bodyOf(await api.exams[':id'].$get({ param: { id: String(f.examId) } }, b), 200)).is_registered).toBe(false);
    expect((await bodyOf(await api.profile.$get(undefined, b), 200)).id).toBe(f.b.id);
  });
});
