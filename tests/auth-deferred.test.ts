import { describe, expect, it } from 'vitest';
import { createItem } from './catalog-helpers';
import { call, createUser, expectProblem } from './helpers';
import { db, sql } from './db';

const READS = (examId: number) => [`/api/exams`, `/api/exams/${examId}`, `/api/courses?search=x`, `/api/me/payments`, `/api/me/payments/1`];

describe('deferred auth on read routes', () => {
  it('a logged-out session and a deactivated user are refused on every deferred route', async () => {
    const exam = await createItem('exams');
    const out = await createUser();
    expect((await call('/api/users/logout', { body: { refresh: out.refresh }, token: out.access })).status).toBe(204);
    const off = await createUser();
    await db.run(sql`UPDATE users SET is_active = 0 WHERE id = ${off.id}`);
    for (const path of READS(exam.id)) {
      await expectProblem(await call(path, { token: out.access }), 401, 'INVALID_TOKEN');
      await expectProblem(await call(path, { token: off.access }), 401, 'INVALID_TOKEN');
      await expectProblem(await call(path), 401, 'TOKEN_NOT_FOUND');
    }
  });

  it('a live session reads normally', async () => {
    const exam = await createItem('exams');
    const u = await createUser();
    expect((await call(`/api/exams/${exam.id}`, { token: u.access })).status).toBe(200);
    expect((await call('/api/me/payments', { token: u.access })).status).toBe(200);
  });

  it('dashboards: non-staff get 403, and a refusal leaves no trace for the next caller', async () => {
    const staff = await createUser({ staff: true });
    const member = await createUser();
    for (const path of ['/api/dashboards/live-sales?start-date=2026-11-01', '/api/dashboards/sales-chart?start-date=2026-11-01']) {
      await expectProblem(await call(path, { token: member.access }), 403, 'PERMISSION_DENIED');
      expect((await call(path, { token: staff.access })).status).toBe(200);
      expect((await call('/api/users/me', { token: staff.access })).status).toBe(200);
    }
    // Concurrent mixes of refused and allowed callers stay independent.
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => call('/api/dashboards/live-sales?start-date=2026-11-01', { token: (i % 2 ? staff : member).access })),
    );
    expect(results.map((r) => r.status)).toEqual(Array.from({ length: 10 }, (_, i) => (i % 2 ? 200 : 403)));
  });
});
