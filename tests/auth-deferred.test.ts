import { describe, expect, it } from 'vitest';
import { createItem } from './catalog-helpers';
import { api, authed, createUser, expectProblem, raw } from './helpers';
import { db, sql } from './db';

const READS = (examId: number) => [`/api/exams`, `/api/exams/${examId}`, `/api/courses?search=x`, `/api/me/payments`, `/api/me/payments/1`];

describe('deferred auth on read routes', () => {
  it('a logged-out session and a deactivated user are refused on every deferred route', async () => {
    const exam = await createItem('exams');
    const out = await createUser();
    expect((await api.users.logout.$post({ json: { refresh: out.refresh } }, authed(out.access))).status).toBe(204);
    const off = await createUser();
    await db.run(sql`UPDATE users SET is_active = 0 WHERE id = ${off.id}`);
    for (const path of READS(exam.id)) {
      await expectProblem(await raw(path, { token: out.access }), 401, 'INVALID_TOKEN');
      await expectProblem(await raw(path, { token: off.access }), 401, 'INVALID_TOKEN');
      await expectProblem(await raw(path), 401, 'TOKEN_NOT_FOUND');
    }
  });

  it('a live session reads normally', async () => {
    const exam = await createItem('exams');
    const u = await createUser();
    expect((await api.exams[':id'].$get({ param: { id: String(exam.id) } }, authed(u.access))).status).toBe(200);
    expect((await api.me.payments.$get({ query: {} }, authed(u.access))).status).toBe(200);
  });

  it('dashboards: non-staff get 403, and a refusal leaves no trace for the next caller', async () => {
    const staff = await createUser({ staff: true });
    const member = await createUser();
    const query = { 'start-date': '2026-11-01' };
    const liveSales = (token: string) => api.dashboards['live-sales'].$get({ query }, authed(token));
    const salesChart = (token: string) => api.dashboards['sales-chart'].$get({ query }, authed(token));
    for (const dashboard of [liveSales, salesChart]) {
      await expectProblem(await dashboard(member.access), 403, 'PERMISSION_DENIED');
      expect((await dashboard(staff.access)).status).toBe(200);
      expect((await api.users.me.$get(undefined, authed(staff.access))).status).toBe(200);
    }
    // Concurrent mixes of refused and allowed callers stay independent.
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => liveSales((i % 2 ? staff : member).access)));
    expect(results.map((r) => r.status)).toEqual(Array.from({ length: 10 }, (_, i) => (i % 2 ? 200 : 403)));
  });
});
