// Every text search accepts any input within its documented limit (the schema's max length) and
// answers 200 on both backends; only input beyond the limit is a 400. Rows that could match exist,
// so the database really evaluates each pattern (an empty table hides pattern-size limits).
import { describe, expect, it } from 'vitest';
import { createItem } from './catalog-helpers';
import { api, authed, bodyOf, call, createUser, expectProblem } from './helpers';
import { newMachine } from './machines-helpers';

const HANGUL = '가나다라마바사아자차카타파하';

/** Inputs at and near each limit that once broke a pattern or expression limit of the database. */
function hostile(max: number): string[] {
  const words = (n: number, w: string) => Array.from({ length: Math.min(n, Math.floor((max + 1) / (w.length + 1))) }, () => w).join(' ');
  return [
    'a'.repeat(49),
    'a'.repeat(max),
    HANGUL.repeat(10).slice(0, Math.min(max, 60)),
    HANGUL.repeat(20).slice(0, max),
    '%'.repeat(Math.min(max, 30)),
    '%_\\'.repeat(Math.floor(max / 3)),
    'x'.repeat(60),
    words(100, 'a'),
    words(100, 'é'),
    words(100, 'OR'),
    Array.from({ length: 50 }, (_, i) => (i % 2 ? 'OR' : 'ab')).join(' '),
    '"'.repeat(max),
  ].filter((s) => s.length <= max);
}

describe('text search within its limits never fails', () => {
  it('catalog search (≤ 200 characters): 200 for every input, 400 above', async () => {
    const user = await createUser();
    await createItem('exams', { title: `${'a'.repeat(60)} ${HANGUL} %_\\ é a a`, description: 'x'.repeat(60) });
    for (const q of hostile(200)) {
      for (const extra of ['', '&status=available&sort=popular']) {
        const res = await call(`/api/exams?search=${encodeURIComponent(q)}${extra}`, { token: user.access });
        expect({ q, status: res.status }).toEqual({ q, status: 200 });
      }
    }
    await expectProblem(await call(`/api/exams?search=${'a'.repeat(201)}`, { token: user.access }), 400, 'INPUT_VALIDATION_ERROR');
  });

  it('payment history search (≤ 200 characters): 200 for every input, matching rows found, 400 above', async () => {
    const user = await createUser();
    const title = `${'a'.repeat(60)} ${HANGUL} %_\\ é x${'x'.repeat(59)}`;
    const exam = await createItem('exams', { title, price: 10_000 });
    expect((await call(`/api/exams/${exam.id}/apply`, { token: user.access, body: { amount: 10_000, payment_method: 'card' } })).status).toBe(201);
    for (const q of hostile(200)) {
      const res = await call(`/api/me/payments?search=${encodeURIComponent(q)}`, { token: user.access });
      expect({ q, status: res.status }).toEqual({ q, status: 200 });
    }
    // The long word, the Hangul and the wildcard characters are matched literally.
    for (const q of ['a'.repeat(60), HANGUL, '%_\\', `${'a'.repeat(60)} ${HANGUL}`, 'A'.repeat(60)]) {
      const body = await bodyOf(await api.me.payments.$get({ query: { search: q } }, authed(user.access)), 200);
      expect({ q, count: body.count }).toEqual({ q, count: 1 });
    }
    for (const q of ['%%', 'b_', 'a'.repeat(61), `${HANGUL} zz`]) {
      const body = await bodyOf(await api.me.payments.$get({ query: { search: q } }, authed(user.access)), 200);
      expect({ q, count: body.count }).toEqual({ q, count: 0 });
    }
    await expectProblem(await call(`/api/me/payments?search=${'a'.repeat(201)}`, { token: user.access }), 400, 'INPUT_VALIDATION_ERROR');
  });

  it('machine search (≤ 100 characters): 200 for every input, literal matching, 400 above', async () => {
    const user = await createUser();
    const m = await newMachine(user.access, { name: `${'a'.repeat(49)} ${HANGUL}`, location: `%_\\ hall ${'a'.repeat(60)}` });
    // With `owner` the owner's machines are scanned; without it the trigram index answers first.
    for (const scope of ['&owner=me', '']) {
      for (const q of hostile(100)) {
        const res = await call(`/api/machines?search=${encodeURIComponent(q)}${scope}`, { token: user.access });
        expect({ q, scope, status: res.status }).toEqual({ q, scope, status: 200 });
      }
    }
    for (const q of ['a'.repeat(60), HANGUL, '%_\\', 'A'.repeat(49), 'HALL']) {
      const body = await bodyOf(await api.machines.$get({ query: { search: q, owner: 'me' } }, authed(user.access)), 200);
      expect({ q, ids: body.results.map((r) => r.id) }).toEqual({ q, ids: [m.id] });
      const all = await bodyOf(await api.machines.$get({ query: { search: q, page_size: '100' } }, authed(user.access)), 200);
      expect({ q, found: all.results.some((r) => r.id === m.id) }).toEqual({ q, found: true });
    }
    for (const q of ['%%', 'b_', 'a'.repeat(61)]) {
      const body = await bodyOf(await api.machines.$get({ query: { search: q, owner: 'me' } }, authed(user.access)), 200);
      expect({ q, count: body.count }).toEqual({ q, count: 0 });
    }
    await expectProblem(await call(`/api/machines?search=${'a'.repeat(101)}`, { token: user.access }), 400, 'INPUT_VALIDATION_ERROR');
  });
});
