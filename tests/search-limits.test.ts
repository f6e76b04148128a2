// Every text search accepts any input within its documented limit (the schema's max length) and
// answers 200 on both backends; only input beyond the limit is a 400. Rows that could match exist,
// so the database really evaluates each pattern (an empty table hides pattern-size limits).
import { describe, expect, it } from 'vitest';
import { MAX_SEARCH_WORDS, parseSearch } from '../src/modules/catalog/search';
import { createItem, register } from './catalog-helpers';
import { api, authed, bodyOf, createUser, expectProblem, raw } from './helpers';
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
  it('catalog search (≤ 200 characters, ≤ 6 words): 200 for every input, 400 above either', async () => {
    const user = await createUser();
    await createItem('exams', { title: `${'a'.repeat(60)} ${HANGUL} %_\\ é a a`, description: 'x'.repeat(60) });
    const words = (q: string) => (parseSearch(q) ?? []).flat().length;
    for (const q of hostile(200)) {
      for (const extra of ['', '&status=available&sort=popular']) {
        const res = await raw(`/api/exams?search=${encodeURIComponent(q)}${extra}`, { token: user.access });
        const want = words(q) > MAX_SEARCH_WORDS ? 400 : 200;
        expect({ q, status: res.status }).toEqual({ q, status: want });
      }
    }
    await expectProblem(await api.exams.$get({ query: { search: 'a'.repeat(201) } }, authed(user.access)), 400, 'INPUT_VALIDATION_ERROR');
  });

  it('catalog search is bounded in words (OR alternatives included): more than 6 is 400 SEARCH_TOO_COMPLEX on every plan and page', async () => {
    expect(MAX_SEARCH_WORDS).toBe(6);
    const user = await createUser();
    const exam = await createItem('exams', { title: 'bounded alpha beta gamma delta epsilon', description: 'zeta' });
    const list = (q: string, extra = '') => raw(`/api/exams?search=${encodeURIComponent(q)}${extra}`, { token: user.access });
    const ids = async (res: Response) => ((await res.json()) as { results: { id: number }[] }).results.map((r) => r.id);
    // Six words, ANDed or ORed, and operators or wordless tokens (which are not searched) besides: answered.
    for (const q of [
      'bounded alpha beta gamma delta epsilon',
      'alpha OR beta OR gamma OR delta OR epsilon OR zeta',
      'bounded alpha OR OR %% -- beta gamma delta zeta',
    ]) {
      for (const extra of ['', '&status=available&sort=popular', '&sort=popular&cursor=WzEsMV0']) {
        const res = await list(q, extra);
        expect({ q, extra, status: res.status }).toEqual({ q, extra, status: 200 });
        if (!extra.includes('cursor')) expect(await ids(res)).toContain(exam.id);
      }
    }
    // Seven words, and the shape of the attack (17 common words ORed and one random word, popular and available).
    const attack = `${Array.from({ length: 17 }, (_, i) => `w${i}`).join(' OR ')} r${Date.now()}`;
    for (const q of ['bounded alpha beta gamma delta epsilon zeta', 'a OR b OR c OR d OR e OR f OR g', attack]) {
      for (const extra of ['', '&status=available&sort=popular', '&cursor=WzFd']) {
        const body = await expectProblem(await list(q, extra), 400, 'SEARCH_TOO_COMPLEX');
        expect(body).toMatchObject({ max_words: 6 });
      }
    }
  });

  it('payment history search (≤ 200 characters): 200 for every input, matching rows found, 400 above', async () => {
    const user = await createUser();
    const title = `${'a'.repeat(60)} ${HANGUL} %_\\ é x${'x'.repeat(59)}`;
    const exam = await createItem('exams', { title, price: 10_000 });
    await bodyOf(await register('exams', exam.id, user.access, { amount: 10_000, payment_method: 'card' }), 201);
    for (const q of hostile(200)) {
      const res = await api.me.payments.$get({ query: { search: q } }, authed(user.access));
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
    await expectProblem(await api.me.payments.$get({ query: { search: 'a'.repeat(201) } }, authed(user.access)), 400, 'INPUT_VALIDATION_ERROR');
  });

  it('machine search (≤ 100 characters): 200 for every input, literal matching, 400 above', async () => {
    const user = await createUser();
    const m = await newMachine(user.access, { name: `${'a'.repeat(49)} ${HANGUL}`, location: `%_\\ hall ${'a'.repeat(60)}` });
    // With `owner` the owner's machines are scanned; without it the trigram index answers first.
    for (const scope of [{ owner: 'me' as const }, {}]) {
      for (const q of hostile(100)) {
        const res = await api.machines.$get({ query: { search: q, ...scope } }, authed(user.access));
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
    await expectProblem(await api.machines.$get({ query: { search: 'a'.repeat(101) } }, authed(user.access)), 400, 'INPUT_VALIDATION_ERROR');
  });
});
