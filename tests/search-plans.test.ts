// Search plans (issue 14): a catalog search page is read either match-first or by walking the
// order's index and testing each row (src/modules/catalog/plan.ts chooses by how common the words
// are), and the machines `search` goes through a trigram index. Neither may change a single row or
// its place: every page of every plan is compared with a brute-force answer over a fixture of
// common, rare and bunched-up words (catalog), and with today's contains() test evaluated by the
// database itself (machines). Runs on both backends (`npm test`, `npm run test:pg`).
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { contains, jsonTable } from '../src/db/dialect/sql';
import { openStore } from '../src/db/store';
import { KINDS } from '../src/modules/catalog/kinds';
import { choosePlan, FREQUENCY_CAP, type SearchPlan } from '../src/modules/catalog/plan';
import { listPage, type PageRequest, searchFrequency } from '../src/modules/catalog/repository';
import { parseSearch } from '../src/modules/catalog/search';
import { db, sql } from './db';
import type { InferRequestType } from 'hono/client';
import { api, authed, bodyOf, createUser, openapiDoc, type TestUser } from './helpers';
import { newMachine } from './machines-helpers';

const dialect = env.DB_BACKEND === 'postgres' ? 'postgres' : 'sqlite';
/** What these tests read of a page (courses or machines). */
type IdPage = { results: { id: number }[]; count?: number; next_cursor?: string | null };
/** What these tests read of the OpenAPI document. */
type SearchDoc = {
  components: { schemas: Record<string, { properties: { count: { description: string } } }> };
  paths: Record<string, { get: { parameters: { name: string; description?: string }[] } }>;
};
type CatalogQuery = InferRequestType<typeof api.courses.$get>['query'];
type MachineQuery = InferRequestType<typeof api.machines.$get>['query'];
/** A page of courses or exams (asserts 200). */
const catalogPage = async (kind: 'courses' | 'exams', query: CatalogQuery, token: string): Promise<IdPage> =>
  bodyOf(await api[kind].$get({ query }, authed(token)), 200);
/** A page of machines (asserts 200). */
const machinePage = async (query: MachineQuery, token: string): Promise<IdPage> => bodyOf(await api.machines.$get({ query }, authed(token)), 200);
const HOUR = 3600_000;
const DAY = 24 * HOUR;
const now = Date.now();

// ---- catalog ---------------------------------------------------------------------------------

const N = 200;
interface Fixture {
  words: string[];
  registrations: number;
  available: boolean;
}

/** Item i (oldest first): `common` in every 2nd, `frequent` in every 3rd (all open now), `rare` twice, `bunched` in the oldest half. */
function fixture(i: number): Fixture {
  const words = [`item${i}`];
  if (i % 2 === 0) words.push('common');
  if (i % 3 === 0) words.push('frequent');
  if (i === 37 || i === 151) words.push('rare');
  if (i < N / 2) words.push('bunched');
  return { words, registrations: (i * 37) % 13, available: i % 3 !== 2 };
}

interface Item extends Fixture {
  id: number;
}
let items: Item[] = [];

/** The catalog's answer by brute force: AND of groups, each an OR of words (the fixture has one token per word). */
function expected(q: string, sort: 'created' | 'popular', available: boolean): number[] {
  const groups = parseSearch(q)!;
  const hits = items.filter((it) => (!available || it.available) && groups.every((g) => g.some((w) => it.words.includes(w.toLowerCase()))));
  const order = sort === 'created' ? (a: Item, b: Item) => b.id - a.id : (a: Item, b: Item) => b.registrations - a.registrations || b.id - a.id;
  return hits.sort(order).map((it) => it.id);
}

const QUERIES = ['common', 'frequent', 'rare', 'bunched', 'common frequent', 'rare OR frequent', 'bunched OR rare', 'nothing'];
const SORTS = ['created', 'popular'] as const;
const courses = KINDS.courses;

beforeAll(async () => {
  const rows = Array.from({ length: N }, (_, i) => {
    const f = fixture(i);
    const [start, end] = f.available ? [now - HOUR, now + DAY] : [now - 2 * DAY, now - DAY];
    return [`Course ${f.words.join(' ')}`, i % 5 === 0 ? 'Extra words about the subject' : '', start, end, f.registrations];
  });
  const source = jsonTable(dialect, JSON.stringify(rows), [
    ['title', 'text'],
    ['description', 'text'],
    ['start_at', 'bigint'],
    ['end_at', 'bigint'],
    ['registration_count', 'bigint'],
  ]);
  // Ids follow the source order (one INSERT … SELECT … ORDER BY), as items created one after another.
  await db.batch([
    sql`INSERT INTO courses (title, description, price, start_at, end_at, created_at, updated_at, registration_count)
      SELECT title, description, 10000, start_at, end_at, ${now}, ${now}, registration_count FROM ${source} AS s ORDER BY s.ord`,
    sql`UPDATE catalog_stats SET total = (SELECT count(*) FROM courses), version = version + 1, available_until = 0 WHERE kind = 'courses'`,
  ]);
  const ids = await db.rows<{ id: number; title: string }>(sql`SELECT id, title FROM courses ORDER BY id`);
  expect(ids).toHaveLength(N);
  items = ids.map((r, i) => ({ id: r.id, ...fixture(i) }));
  expect(items.every((it, i) => ids[i]!.title === `Course ${it.words.join(' ')}`)).toBe(true);
});

describe('catalog search plans', () => {
  it('choose the walk for common words and match-first for rare ones, deep pages and few matches', () => {
    expect(choosePlan({ total: 1_000_000, hits: 10_000, probeCost: 4 }, 20)).toEqual({ kind: 'walk', budget: 8000 });
    expect(choosePlan({ total: 1_000_000, hits: 2_500, probeCost: 4 }, 20)).toEqual({ kind: 'match' });
    expect(choosePlan({ total: 1_000_000, hits: 10_000, probeCost: 4 }, 1000)).toEqual({ kind: 'match' });
    expect(choosePlan({ total: 400, hits: 200, probeCost: 4 }, 20)).toEqual({ kind: 'walk', budget: 200 });
    expect(choosePlan({ total: 400, hits: 100, probeCost: 4 }, 20)).toEqual({ kind: 'match' });
    expect(choosePlan({ total: 400, hits: 3, probeCost: 4 }, 5)).toEqual({ kind: 'match' });
    // Postgres prices a walked row higher (its document is built per row): a 10% word is still walked,
    // a 1% word is listed (the estimates of the seeded million: 97,667 and 10,000).
    expect(choosePlan({ total: 1_000_000, hits: 97_667, probeCost: 16 }, 20)).toEqual({ kind: 'walk', budget: 820 });
    expect(choosePlan({ total: 1_000_000, hits: 10_000, probeCost: 16 }, 20)).toEqual({ kind: 'match' });
    // This file's fixture: `common` and `bunched` are walked, by a page of 10 (11 rows with a cursor).
    expect(choosePlan({ total: N, hits: 100, probeCost: 4 }, 11)).toEqual({ kind: 'walk', budget: 200 });
    expect(choosePlan({ total: N, hits: 67, probeCost: 4 }, 11)).toEqual({ kind: 'match' });
  });

  it('measures how common the words are: counted up to the cap on D1, estimated by the planner on Postgres', async () => {
    const s = openStore(env);
    try {
      const common = await searchFrequency(s, courses, parseSearch('common')!, 50);
      const absent = await searchFrequency(s, courses, parseSearch('nothing')!, 50);
      expect(common.total).toBe(N);
      expect(common.probeCost).toBe(dialect === 'postgres' ? 16 : 4);
      if (dialect === 'sqlite') {
        expect([common.hits, absent.hits]).toEqual([50, 0]);
        expect((await searchFrequency(s, courses, parseSearch('rare')!, 50)).hits).toBe(2);
      } else {
        // An estimate (EXPLAIN): not capped (it costs the same at any size), and at most the table.
        expect(common.hits).toBeGreaterThan(0);
        expect(common.hits).toBeLessThanOrEqual(N);
      }
    } finally {
      await s.close();
    }
  });

  // Each plan, forced, against the brute-force answer: first page, a later offset page and a keyset
  // page. A walk with a budget of 7 rows runs out on nearly every page and must fall back to match-first.
  const plans: SearchPlan[] = [{ kind: 'match' }, { kind: 'walk', budget: 10_000 }, { kind: 'walk', budget: 7 }];
  it.each(plans)('%o returns the same rows in the same order as brute force', async (plan) => {
    const s = openStore(env);
    try {
      for (const q of QUERIES) {
        for (const sort of SORTS) {
          for (const available of [false, true]) {
            const all = expected(q, sort, available);
            const base: PageRequest = { userId: 0, sort, available, search: parseSearch(q), after: null, limit: 5, offset: 0, now, plan };
            const ids = async (r: Partial<PageRequest>) => (await listPage(s, courses, { ...base, ...r })).map((row) => row.id);
            const what = { q, sort, available, plan };
            expect({ ...what, ids: await ids({}) }).toEqual({ ...what, ids: all.slice(0, 5) });
            expect({ ...what, ids: await ids({ offset: 10 }) }).toEqual({ ...what, ids: all.slice(10, 15) });
            const fifth = items.find((it) => it.id === all[4]);
            if (!fifth) continue;
            const after = sort === 'created' ? [fifth.id] : [fifth.registrations, fifth.id];
            expect({ ...what, ids: await ids({ after, limit: 6 }) }).toEqual({ ...what, ids: all.slice(5, 11) });
          }
        }
      }
    } finally {
      await s.close();
    }
  });

  it('pages over HTTP by page and by cursor, with exact counts, whichever plan is chosen', { timeout: 180_000 }, async () => {
    const user = await createUser();
    const size = 10;
    for (const q of QUERIES) {
      for (const sort of SORTS) {
        for (const status of ['', 'available'] as const) {
          const all = expected(q, sort, status !== '');
          const query: CatalogQuery = { search: q, sort, page_size: String(size), ...(status ? { status } : {}) };
          const last = Math.max(1, Math.ceil(all.length / size));
          for (const page of new Set([1, last])) {
            const body = await catalogPage('courses', { ...query, page: String(page) }, user.access);
            const ids = body.results.map((r) => r.id);
            const want = all.slice((page - 1) * size, page * size);
            expect({ q, sort, status, page, count: body.count, ids }).toEqual({ q, sort, status, page, count: all.length, ids: want });
          }
          // Every page by cursor where the walk is chosen (a cursor page starts the walk at its position).
          if (q !== 'common' && q !== 'bunched') continue;
          const byCursor: number[] = [];
          let next: CatalogQuery | null = query;
          while (next) {
            const body: IdPage = await catalogPage('courses', next, user.access);
            byCursor.push(...body.results.map((r) => r.id));
            next = body.next_cursor ? { ...query, cursor: body.next_cursor } : null;
          }
          expect({ q, sort, status, byCursor }).toEqual({ q, sort, status, byCursor: all });
        }
      }
    }
  });
});

describe('a walk that runs short over HTTP', () => {
  // The fixture above has exactly the walk's minimum budget of rows, so its walks never run out.
  // Here (exams) the word is common enough to be walked, but every match sits behind 220 rows the
  // walk must test first in `popular` order: the walk's 200 rows hold none, and the page must come
  // from the match-first plan.
  const FAR = 200;
  const NEAR = 220;
  let far: number[] = [];

  beforeAll(async () => {
    const rows = Array.from({ length: FAR + NEAR }, (_, i) => (i < FAR ? [`Exam faraway ${i}`, 0] : [`Exam nearby ${i}`, 1]));
    const source = jsonTable(dialect, JSON.stringify(rows), [
      ['title', 'text'],
      ['registration_count', 'bigint'],
    ]);
    await db.batch([
      sql`INSERT INTO exams (title, description, price, start_at, end_at, created_at, updated_at, registration_count)
        SELECT title, '', 10000, ${now - HOUR}, ${now + DAY}, ${now}, ${now}, registration_count FROM ${source} AS s ORDER BY s.ord`,
      sql`UPDATE catalog_stats SET total = (SELECT count(*) FROM exams), version = version + 1, available_until = 0 WHERE kind = 'exams'`,
    ]);
    if (dialect === 'postgres') await db.run(sql`ANALYZE exams`); // the planner's estimate chooses the plan there
    const ids = await db.rows<{ id: number }>(sql`SELECT id FROM exams WHERE title LIKE 'Exam faraway %' ORDER BY id DESC`);
    far = ids.map((r) => r.id);
    expect(far).toHaveLength(FAR);
  });

  it('is read again match-first: the right rows, the exact count, by page and by cursor', async () => {
    const s = openStore(env);
    try {
      // The precondition: this search is walked, with the minimum budget (fewer rows than the 220 before the first match).
      const f = await searchFrequency(s, KINDS.exams, parseSearch('faraway')!, FREQUENCY_CAP);
      expect(choosePlan(f, 2)).toEqual({ kind: 'walk', budget: 200 });
      expect(choosePlan(f, 4)).toEqual({ kind: 'walk', budget: 200 });
    } finally {
      await s.close();
    }
    const user = await createUser();
    const query: CatalogQuery = { search: 'faraway', sort: 'popular', page_size: '2' };
    for (const page of [1, 2]) {
      const body = await catalogPage('exams', { ...query, page: String(page) }, user.access);
      expect({ page, count: body.count, ids: body.results.map((r) => r.id) }).toEqual({ page, count: FAR, ids: far.slice(page * 2 - 2, page * 2) });
    }
    const first = await catalogPage('exams', query, user.access);
    const next = await catalogPage('exams', { ...query, cursor: first.next_cursor! }, user.access);
    expect(next.results.map((r) => r.id)).toEqual(far.slice(2, 4));
  });
});

describe('search plans in the OpenAPI document', () => {
  it('says what a catalog count is, how a search page is read, and what a short machines search does', async () => {
    const doc = (await openapiDoc()) as unknown as SearchDoc;
    for (const page of ['CoursePage', 'ExamPage'])
      expect(doc.components.schemas[page]?.properties.count.description).toMatch(/once per catalog version/);
    const param = (path: string) => doc.paths[path]?.get.parameters.find((p) => p.name === 'search')?.description;
    expect(param('/api/courses')).toMatch(/walks the order/);
    expect(param('/api/machines')).toMatch(/trigram index.*A search of 1 or 2 characters/);
  });
});

// ---- machines ----------------------------------------------------------------------------------

describe('machines search through the trigram index', () => {
  let owner: TestUser;
  const made: number[] = [];
  // Upper and lower case, Hangul, non-ASCII letters (SQLite's lower() folds ASCII only, the trigram index
  // every letter, and U+212A KELVIN SIGN folds to an ASCII k there), LIKE and FTS syntax, quotes.
  const MACHINES = [
    ['Press ALPHA', 'Hall A, line 17'],
    ['press alpha', 'hall a, line 171'],
    ['ÉCLAIR oven', 'Café annex'],
    ['éclair oven', 'CAFÉ ANNEX'],
    ['\u212Aelvin probe', 'Lab K'],
    ['Kelvin probe', 'lab k'],
    ['Straße 5', 'STRASSE 5'],
    ['%_\\ rig', 'wing "north"'],
    ["it's", 'line 1'],
    ['ab', 'x'],
    ['서울 공장 프레스 A', '부산 2공장, 라인 3'],
    ['대구 공장', '라인 17'],
  ];
  const NEEDLES = [
    'a',
    'AB',
    'ab',
    'line 17',
    'LINE 1',
    'line',
    'press alpha',
    'ÉCLAIR',
    'éclair',
    'clair',
    'café',
    'CAFÉ',
    'kelvin',
    'KELVIN',
    '\u212Aelvin',
    'elvin',
    'straße',
    'STRASSE',
    '%_\\',
    '%',
    '_',
    '"north"',
    'wing "',
    "it's",
    "'",
    'e a',
    'nothing like it',
    'a, line 17',
    '공장',
    '공장 프레스',
    '2공장',
    '라인 17',
    '라인',
    '프레스 a',
    '서울 공장 프레스 A',
    '대구 공장 없음',
  ];

  beforeAll(async () => {
    owner = await createUser();
    for (const [name, location] of MACHINES) made.push((await newMachine(owner.access, { name, location })).id);
  });

  // Both ways the search is answered: through the trigram index (no `owner`) and by a scan of the
  // owner's machines (`owner=me`). Without `owner` every machine in the database is a candidate.
  const SCOPES = [
    { name: 'all machines (trigram index)', query: {}, mine: false },
    { name: 'owner=me (scan of the owner’s machines)', query: { owner: 'me' }, mine: true },
  ];

  /** Today's semantics, evaluated by the database: contains() on name or location, newest first. */
  async function reference(needle: string, mine = true, status?: string): Promise<number[]> {
    const scope = sql.join([...(mine ? [sql`owner_id = ${owner.id} AND`] : []), ...(status ? [sql`status = ${status} AND`] : [])], sql` `);
    const rows = await db.rows<{ id: number }>(
      sql`SELECT id FROM machines WHERE ${scope} (${contains(dialect, sql.raw('name'), needle)} OR ${contains(dialect, sql.raw('location'), needle)}) ORDER BY id DESC`,
    );
    return rows.map((r) => r.id);
  }

  async function found(needle: string, extra: MachineQuery = { owner: 'me' }): Promise<{ ids: number[]; count?: number }> {
    const body = await machinePage({ page_size: '100', search: needle, ...extra }, owner.access);
    return { ids: body.results.map((r) => r.id), count: body.count };
  }

  it.each(SCOPES)('finds exactly what a substring scan finds, for short and long needles, any case, any character: $name', async (scope) => {
    for (const needle of NEEDLES) {
      const ids = await reference(needle, scope.mine);
      expect({ needle, ...(await found(needle, scope.query)) }).toEqual({ needle, ids: ids.slice(0, 100), count: ids.length });
    }
    // The fixture really tells the semantics apart (a test that cannot fail is a defect).
    expect(await reference('line 17')).toEqual([made[1], made[0]]);
    expect((await reference('kelvin')).length).toBeGreaterThan(0);
    expect(await reference('공장')).toEqual([made[11], made[10]]);
    expect(await reference('라인 17')).toEqual([made[11]]);
  });

  it('pages by cursor and combines with the status filter', async () => {
    const all = await reference('e');
    expect(all.length).toBeGreaterThan(4);
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const body: IdPage = await machinePage({ owner: 'me', page_size: '3', search: 'e', ...(cursor ? { cursor } : {}) }, owner.access);
      seen.push(...body.results.map((r) => r.id));
      cursor = body.next_cursor ?? null;
    } while (cursor);
    expect(seen).toEqual(all);
    const poweroff = await found('line', { owner: 'me', status: 'POWEROFF' });
    expect(poweroff.ids).toEqual(await reference('line'));
    expect((await found('line', { owner: 'me', status: 'RUNNING' })).ids).toEqual([]);
    // The same through the index (no owner).
    expect((await found('line', { status: 'POWEROFF' })).ids).toEqual((await reference('line', false, 'POWEROFF')).slice(0, 100));
    expect((await found('line', { status: 'RUNNING' })).ids).toEqual((await reference('line', false, 'RUNNING')).slice(0, 100));
  });

  it('follows renames, moves and deletes (the index is kept in sync)', async () => {
    const m = await newMachine(owner.access, { name: 'Quartzite mill', location: 'Basement vault' });
    // Through the index (no owner): is the machine found by `needle`?
    const hit = async (needle: string) => (await found(needle, {})).ids.includes(m.id);
    expect(await hit('quartzite')).toBe(true);
    const param = { id: String(m.id) };
    expect((await api.machines[':id'].$patch({ param, json: { name: 'Granitoid mill' } }, authed(owner.access))).status).toBe(200);
    expect([await hit('quartzite'), await hit('granitoid')]).toEqual([false, true]);
    expect((await api.machines[':id'].$patch({ param, json: { location: 'Roof deck' } }, authed(owner.access))).status).toBe(200);
    expect([await hit('basement vault'), await hit('roof d')]).toEqual([false, true]);
    expect((await api.machines[':id'].$delete({ param }, authed(owner.access))).status).toBe(204);
    expect(await hit('granitoid')).toBe(false);
  });
});
