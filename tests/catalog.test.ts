// Catalog (exams and courses from one module): staff CRUD, listing, paging, sorting, search.
import { env } from 'cloudflare:workers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ftsMatch, fullTextSource, tsQuery } from '../src/modules/catalog/full-text';
import { parseSearch } from '../src/modules/catalog/search';

/** The FTS5 MATCH expression of user text (null when it holds no searchable word). */
function ftsQuery(input: string): string | null {
  const groups = parseSearch(input);
  return groups && ftsMatch(groups);
}
import type { InferRequestType } from 'hono/client';
import { createItem, iso, KINDS, register, staffUser } from './catalog-helpers';
import { api, authed, bodyOf, createUser, expectProblem, openapiDoc, raw, uniq } from './helpers';
import { db, sql } from './db';

const HOUR = 3600_000;
type ListQuery = InferRequestType<typeof api.exams.$get>['query'];

describe.each(KINDS)('$kind catalog', ({ kind }) => {
  /** One page of the listing, as `token` sees it (asserts 200). */
  const list = async (token: string, query: ListQuery) => bodyOf(await api[kind].$get({ query }, authed(token)), 200);

  describe('staff CRUD', () => {
    it('creates, reads, updates and deletes an item', async () => {
      const staff = await staffUser();
      const now = Date.now();
      const res = await api[kind].$post(
        { json: { title: ' Mock test ', description: 'Full length', price: 45000, start_at: iso(now), end_at: iso(now + HOUR) } },
        authed(staff.access),
      );
      const item = await bodyOf(res, 201);
      expect(res.headers.get('location')).toBe(`http://api.test/api/${kind}/${item.id}`);
      expect(item).toMatchObject({
        title: 'Mock test',
        description: 'Full length',
        price: 45000,
        currency: 'KRW',
        registration_count: 0,
        is_registered: false,
      });
      expect(item.start_at).toBe(iso(now));
      expect(item.created_at).toMatch(/Z$/);

      const got = await api[kind][':id'].$get({ param: { id: String(item.id) } }, authed((await createUser()).access));
      expect(await got.json()).toEqual(item);

      const patched = await raw(`/api/${kind}/${item.id}/`, { method: 'PATCH', token: staff.access, body: { title: 'Renamed', price: 50000 } });
      expect(patched.status).toBe(200);
      expect(await patched.json()).toMatchObject({ id: item.id, title: 'Renamed', price: 50000, description: 'Full length' });

      const del = await raw(`/api/${kind}/${item.id}`, { method: 'DELETE', token: staff.access });
      expect(del.status).toBe(204);
      await expectProblem(await raw(`/api/${kind}/${item.id}`, { token: staff.access }), 404, 'NOT_FOUND');
      await expectProblem(await raw(`/api/${kind}/${item.id}`, { method: 'DELETE', token: staff.access }), 404, 'NOT_FOUND');
      await expectProblem(await raw(`/api/${kind}/${item.id}`, { method: 'PATCH', token: staff.access, body: { title: 'x' } }), 404, 'NOT_FOUND');
    });

    it('PATCH answers is_registered for the caller (staff can register too)', async () => {
      const staff = await staffUser();
      const item = await createItem(kind, { price: 10_000 });
      expect((await register(kind, item.id, staff.access, { amount: 10_000, payment_method: 'card' })).status).toBe(201);
      const patched = await api[kind][':id'].$patch({ param: { id: String(item.id) }, json: { description: 'changed' } }, authed(staff.access));
      expect(await patched.json()).toMatchObject({ is_registered: true, registration_count: 1, description: 'changed' });
    });

    it('403 for non-staff, 401 without a token', async () => {
      const user = await createUser();
      const body = { title: 'x', price: 1, start_at: iso(Date.now()), end_at: iso(Date.now() + HOUR) };
      await expectProblem(await raw(`/api/${kind}`, { token: user.access, body }), 403, 'PERMISSION_DENIED');
      await expectProblem(await raw(`/api/${kind}`, { body }), 401, 'TOKEN_NOT_FOUND');
      await expectProblem(await raw(`/api/${kind}`), 401, 'TOKEN_NOT_FOUND');
      const item = await createItem(kind);
      await expectProblem(
        await raw(`/api/${kind}/${item.id}`, { method: 'PATCH', token: user.access, body: { title: 'y' } }),
        403,
        'PERMISSION_DENIED',
      );
      await expectProblem(await raw(`/api/${kind}/${item.id}`, { method: 'DELETE', token: user.access }), 403, 'PERMISSION_DENIED');
    });

    it('400 for a bad body, an inverted period (create and merged patch) and a bad id', async () => {
      const staff = await staffUser();
      const now = Date.now();
      const bad = await raw(`/api/${kind}`, { token: staff.access, body: { title: '', price: -1, start_at: 'tomorrow', end_at: iso(now) } });
      const body = await expectProblem(bad, 400, 'INPUT_VALIDATION_ERROR');
      expect(body.errors!.map((e) => e.path).sort()).toEqual(['price', 'start_at', 'title']);
      const inverted = await raw(`/api/${kind}`, {
        token: staff.access,
        body: { title: 'x', price: 1, start_at: iso(now + HOUR), end_at: iso(now) },
      });
      expect((await expectProblem(inverted, 400, 'INPUT_VALIDATION_ERROR')).errors![0]!.path).toBe('end_at');
      const item = await createItem(kind);
      const merged = await raw(`/api/${kind}/${item.id}`, { method: 'PATCH', token: staff.access, body: { start_at: iso(now + 48 * HOUR) } });
      expect((await expectProblem(merged, 400, 'INPUT_VALIDATION_ERROR')).errors![0]!.path).toBe('end_at');
      await expectProblem(await raw(`/api/${kind}/abc`, { token: staff.access }), 400, 'INPUT_VALIDATION_ERROR');
      await expectProblem(await raw(`/api/${kind}/0`, { token: staff.access }), 400, 'INPUT_VALIDATION_ERROR');
    });

    it('409 HAS_REGISTRATIONS while a registration is active', async () => {
      const staff = await staffUser();
      const user = await createUser();
      const item = await createItem(kind, { price: 20_000 });
      const { payment } = await bodyOf(await register(kind, item.id, user.access, { amount: 20_000, payment_method: 'card' }), 201);
      await expectProblem(await raw(`/api/${kind}/${item.id}`, { method: 'DELETE', token: staff.access }), 409, 'HAS_REGISTRATIONS');
      expect((await raw(`/api/payments/${payment.id}/cancel`, { token: user.access, body: {} })).status).toBe(200);
      expect((await raw(`/api/${kind}/${item.id}`, { method: 'DELETE', token: staff.access })).status).toBe(204);
      // The payment survives with its snapshot.
      const after = await api.me.payments[':id'].$get({ param: { id: String(payment.id) } }, authed(user.access));
      expect(await after.json()).toMatchObject({ target_id: item.id, target_title: item.title, amount: 20_000, status: 'cancelled' });
    });
  });

  describe('listing', () => {
    it('newest first, page/page_size with absolute links, 404 past the end, count kept exact', async () => {
      const user = await createUser();
      const before = (await list(user.access, { page_size: 1 })).count;
      const tag = uniq('pg');
      const made = [];
      for (let i = 0; i < 5; i++) made.push(await createItem(kind, { title: `${tag} number ${i}` }));
      const all = await list(user.access, { page_size: 100 });
      expect(all.count).toBe(before! + 5);
      expect(all.results.slice(0, 5).map((r) => r.id)).toEqual(made.map((m) => m.id).reverse());

      const p1 = await list(user.access, { search: tag, page_size: 2 });
      expect(p1.count).toBe(5);
      expect(p1.previous).toBeNull();
      expect(p1.next).toMatch(/^http:\/\/api\.test\/api\/.+page=2/);
      const p3 = await list(user.access, { search: tag, page_size: 2, page: 3 });
      expect(p3.results.map((r) => r.id)).toEqual([made[0]!.id]);
      expect(p3.next).toBeNull();
      await expectProblem(await raw(`/api/${kind}?search=${tag}&page_size=2&page=4`, { token: user.access }), 404, 'NOT_FOUND');
      await expectProblem(await raw(`/api/${kind}?page_size=101`, { token: user.access }), 400, 'INPUT_VALIDATION_ERROR');
      await expectProblem(await raw(`/api/${kind}?sort=price`, { token: user.access }), 400, 'INPUT_VALIDATION_ERROR');

      await raw(`/api/${kind}/${made[0]!.id}`, { method: 'DELETE', token: (await staffUser()).access });
      expect((await list(user.access, { page_size: 1 })).count).toBe(before! + 4);
    });

    it('cursor paging walks every item once, in order, without count', async () => {
      const user = await createUser();
      const tag = uniq('cur');
      for (let i = 0; i < 7; i++) await createItem(kind, { title: `${tag} ${i}` });
      const expected = (await list(user.access, { search: tag, page_size: 100 })).results.map((r) => r.id);
      const first = await list(user.access, { search: tag, page_size: 3 });
      const seen = first.results.map((r) => r.id);
      let cursor = first.next_cursor;
      while (cursor) {
        const page = await list(user.access, { search: tag, page_size: 3, cursor });
        expect(page.count).toBeUndefined();
        seen.push(...page.results.map((r) => r.id));
        cursor = page.next_cursor;
        if (cursor) expect(page.next).toContain(`cursor=${cursor}`);
      }
      expect(seen).toEqual(expected);
      await expectProblem(await raw(`/api/${kind}?cursor=garbage`, { token: user.access }), 400, 'INPUT_VALIDATION_ERROR');
    });

    it('sort=popular orders by registration_count, then newest; cursor paging works there too', async () => {
      const tag = uniq('pop');
      const a = await createItem(kind, { title: `${tag} a`, price: 5000 });
      const b = await createItem(kind, { title: `${tag} b`, price: 5000 });
      const c = await createItem(kind, { title: `${tag} c`, price: 5000 });
      for (let i = 0; i < 2; i++) {
        const u = await createUser();
        expect((await register(kind, a.id, u.access, { amount: 5000, payment_method: 'card' })).status).toBe(201);
      }
      const u = await createUser();
      expect((await register(kind, b.id, u.access, { amount: 5000, payment_method: 'kakaopay' })).status).toBe(201);
      const page = await list(u.access, { search: tag, sort: 'popular' });
      expect(page.results.map((r) => [r.id, r.registration_count, r.is_registered])).toEqual([
        [a.id, 2, false],
        [b.id, 1, true],
        [c.id, 0, false],
      ]);
      const p1 = await list(u.access, { search: tag, sort: 'popular', page_size: 2 });
      const p2 = await list(u.access, { search: tag, sort: 'popular', page_size: 2, cursor: p1.next_cursor! });
      expect(p2.results.map((r) => r.id)).toEqual([c.id]);
      // A cursor of the other order is refused rather than misread.
      const created = await list(u.access, { search: tag, page_size: 1 });
      await expectProblem(await raw(`/api/${kind}?sort=popular&cursor=${created.next_cursor}`, { token: u.access }), 400, 'INPUT_VALIDATION_ERROR');
    });

    it('status=available keeps only items open now, with an exact count across writes', async () => {
      const user = await createUser();
      const tag = uniq('av');
      const now = Date.now();
      const open = await createItem(kind, { title: `${tag} open` });
      await createItem(kind, { title: `${tag} future`, start_at: iso(now + HOUR), end_at: iso(now + 2 * HOUR) });
      await createItem(kind, { title: `${tag} past`, start_at: iso(now - 2 * HOUR), end_at: iso(now - HOUR) });
      const page = await list(user.access, { search: tag, status: 'available' });
      expect(page.results.map((r) => r.id)).toEqual([open.id]);
      expect(page.count).toBe(1);

      const count = async () => (await list(user.access, { status: 'available', page_size: 1 })).count;
      const base = await count();
      const t = Date.now();
      expect(base).toBe(
        (await db.first<{ n: number }>(sql`SELECT count(*) AS n FROM ${sql.raw(kind)} WHERE start_at <= ${t} AND end_at >= ${t}`))!.n,
      );
      const extra = await createItem(kind, { title: `${tag} extra` });
      expect(await count()).toBe(base! + 1);
      await raw(`/api/${kind}/${extra.id}`, {
        method: 'PATCH',
        token: (await staffUser()).access,
        body: { start_at: iso(now + HOUR), end_at: iso(now + 2 * HOUR) },
      });
      expect(await count()).toBe(base);
    });
  });

  describe('search', () => {
    it('is case-insensitive over title and description, all words must match, OR matches either', async () => {
      const user = await createUser();
      const tag = uniq('s');
      const alpha = await createItem(kind, { title: `${tag} Advanced Calculus`, description: 'Limits and DERIVATIVES' });
      const beta = await createItem(kind, { title: `${tag} Basic Algebra`, description: 'equations' });
      const ids = async (q: string) => (await list(user.access, { search: q })).results.map((r) => r.id);
      expect(await ids(`${tag} calculus`)).toEqual([alpha.id]);
      expect(await ids(`${tag.toUpperCase()} derivatives`)).toEqual([alpha.id]);
      expect(await ids(`${tag} calculus equations`)).toEqual([]);
      expect(await ids(`${tag} calculus OR equations`)).toEqual([beta.id, alpha.id]);
      // OR binds tighter than the implicit AND: an item with "equations" but not the tag stays out.
      const other = await createItem(kind, { title: `${uniq('x')} equations calculus` });
      expect(await ids(`${tag} calculus OR equations`)).toEqual([beta.id, alpha.id]);
      expect(await ids(`${tag} OR`)).toEqual([beta.id, alpha.id]);
      expect((await ids(`OR equations calculus`)).slice(0, 1)).toEqual([other.id]);
      expect(await ids(`${tag}`)).toEqual([beta.id, alpha.id]);
    });

    it('never turns FTS syntax or SQL in the query into an error', async () => {
      const user = await createUser();
      const tag = uniq('esc');
      const item = await createItem(kind, { title: `${tag} title: NEAR quotes` });
      const nasty = [
        '"',
        '*',
        'NEAR(',
        'title:',
        'AND OR',
        "'; DROP TABLE exams; --",
        'a"b',
        '(',
        ')',
        '^x',
        'NOT',
        'OR',
        'x OR',
        'OR OR x',
        '-x',
        '{title}: x',
        'x*',
        '""""',
        '\\',
        '%',
        '_',
      ];
      for (const q of nasty) {
        const res = await api[kind].$get({ query: { search: q } }, authed(user.access));
        expect(res.status, q).toBe(200);
        const page = await bodyOf(res, 200);
        expect(typeof page.count).toBe('number');
      }
      const found = await list(user.access, { search: `${tag} title: NEAR(` });
      expect(found.results.map((r) => r.id)).toEqual([item.id]);
      expect((await db.first<{ n: number }>(sql`SELECT count(*) AS n FROM ${sql.raw(kind)}`))!.n).toBeGreaterThan(0);
    });

    it('splits words at punctuation into phrases and folds diacritics of the query, on either backend', async () => {
      const user = await createUser();
      const tag = uniq('tok');
      const item = await createItem(kind, { title: `${tag} e-mail cafe`, description: "Don't panic" });
      const ids = async (q: string) => (await list(user.access, { search: q })).results.map((r) => r.id);
      for (const q of [`${tag} mail`, `${tag} E-Mail`, `${tag} e.mail`, `${tag} café`, `${tag} don't`, `${tag} DON'T panic`, `${tag} "panic"`]) {
        expect(await ids(q), q).toEqual([item.id]);
      }
      for (const q of [`${tag} mail-e`, `${tag} panic-don`, `${tag} cafes`]) expect(await ids(q), q).toEqual([]);
    });

    it('follows renames (the index is kept in sync) and deletes', async () => {
      const user = await createUser();
      const staff = await staffUser();
      const tag = uniq('ren');
      const item = await createItem(kind, { title: `${tag} original` });
      await raw(`/api/${kind}/${item.id}`, { method: 'PATCH', token: staff.access, body: { title: `${tag} renamed` } });
      const find = async (q: string) => (await list(user.access, { search: q })).count;
      expect(await find(`${tag} original`)).toBe(0);
      expect(await find(`${tag} renamed`)).toBe(1);
      await raw(`/api/${kind}/${item.id}`, { method: 'DELETE', token: staff.access });
      expect(await find(`${tag}`)).toBe(0);
    });
  });
});

describe('ftsQuery', () => {
  it('quotes every word and groups OR tighter than AND', () => {
    expect(ftsQuery('a b OR c')).toBe('"a" AND ("b" OR "c")');
    expect(ftsQuery('OR a OR')).toBe('"a"');
    expect(ftsQuery('a"b NEAR( title:')).toBe('"a""b" AND "NEAR(" AND "title:"');
    expect(ftsQuery('* " ( )')).toBeNull();
    expect(ftsQuery('a OR b OR c d')).toBe('("a" OR "b" OR "c") AND "d"');
  });

  it('never produces an expression the backend rejects (property test over hostile input)', async () => {
    const alphabet = [
      'a',
      'B',
      '가',
      'é',
      '1',
      ' ',
      ' ',
      '"',
      "'",
      '*',
      '^',
      ':',
      '(',
      ')',
      '-',
      '+',
      '&',
      '|',
      '!',
      '<->',
      'OR',
      'AND',
      'NOT',
      'NEAR',
      '{',
      '}',
      ',',
      '\\',
      '%',
      '_',
      ';',
    ];
    const inputs = fc.sample(
      fc.array(fc.constantFrom(...alphabet), { maxLength: 12 }).map((parts) => parts.join('')),
      { numRuns: 300, seed: 7 },
    );
    const dialect = env.DB_BACKEND === 'postgres' ? 'postgres' : 'sqlite';
    // A known answer for every input: an item titled with a word no input holds is matched by the
    // input's search alone never (0), and by the same search with that word added to every OR-group
    // always (1), so each hostile expression runs and is also shown to mean what it says.
    const marker = 'zqxjvw';
    const item = await createItem('exams', { title: marker });
    const ft = { table: 'exams', fts: 'exams_fts', columns: ['title', 'description'] };
    const count = (groups: string[][]) => {
      const m = fullTextSource(dialect, ft, groups);
      return sql`(SELECT count(*) FROM ${m.from} WHERE ${m.where} AND exams.id = ${item.id})`;
    };
    let searched = 0;
    for (const input of inputs) {
      const groups = parseSearch(input);
      if (groups === null) continue;
      searched += 1;
      const row = await db.first(sql`SELECT ${count(groups)} AS bare, ${count(groups.map((g) => [...g, marker]))} AS widened`);
      expect(row, input).toEqual({ bare: 0, widened: 1 });
    }
    expect(searched).toBeGreaterThan(100);
  });
});

describe('tsQuery (Postgres)', () => {
  it('quotes every word as a lexeme, & for AND, | for OR, with the unicode61-style split as an alternative', () => {
    expect(tsQuery(parseSearch('a b OR c')!)).toBe("'a' & ('b' | 'c')");
    expect(tsQuery(parseSearch("it's a\\b x:* Café")!)).toBe(
      "('it''s' | 'it' <-> 's') & ('a\\\\b' | 'a' <-> 'b') & ('x:*' | 'x') & ('Café' | 'Cafe')",
    );
    expect(tsQuery(parseSearch('a OR b OR c d')!)).toBe("('a' | 'b' | 'c') & 'd'");
  });
});

describe('OpenAPI', () => {
  it('documents every catalog and payments route with its error codes', async () => {
    const doc = await openapiDoc();
    for (const path of [
      '/api/exams',
      '/api/courses',
      '/api/exams/{id}',
      '/api/courses/{id}',
      '/api/exams/{id}/apply',
      '/api/courses/{id}/enroll',
      '/api/exams/{id}/complete',
      '/api/courses/{id}/complete',
      '/api/me/payments',
      '/api/me/payments/{id}',
      '/api/payments/{id}/cancel',
    ]) {
      expect(doc.paths[path], path).toBeDefined();
    }
    expect(Object.keys(doc.paths['/api/exams/{id}']!)).toEqual(expect.arrayContaining(['get', 'patch', 'delete']));
    const apply = doc.paths['/api/exams/{id}/apply']!.post!;
    expect(apply.responses['409']!.description).toContain('ALREADY_REGISTERED');
    expect(apply.responses['409']!.description).toContain('IDEMPOTENCY_IN_PROGRESS');
    expect(apply.responses['422']!.description).toContain('IDEMPOTENCY_KEY_REUSED');
    expect(apply.responses['400']!.description).toContain('PAYMENT_LIMIT_EXCEEDED');
    expect(doc.paths['/api/exams/{id}']!.delete!.responses['409']!.description).toContain('HAS_REGISTRATIONS');
    expect(doc.paths['/api/payments/{id}/cancel']!.post!.responses['409']!.description).toContain('REGISTRATION_COMPLETED');
  });
});
