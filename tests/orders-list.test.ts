// GET /api/orders: the staff list of orders with filters and cursor paging, against a brute-force
// answer computed from the table, on both backends (this file has its own database, so the orders
// here are all there are).
import { beforeAll, describe, expect, it } from 'vitest';
import type { InferRequestType } from 'hono/client';
import { api, authed, type BodyOf, bodyOf, createUser, expectProblem, raw, type TestUser } from './helpers';
import { db, sql } from './db';

type ListQuery = InferRequestType<typeof api.orders.$get>['query'];
type Page = BodyOf<Awaited<ReturnType<typeof api.orders.$get>>, 200>;
type Order = Page['results'][number];

let staff: TestUser;
let member: TestUser;
let customers: TestUser[];
const statuses = ['PAID', 'PENDING', 'SHIPPING', 'COMPLETED', 'CANCELLED'] as const;

// Seoul (the default DASHBOARD_TIMEZONE, +09:00, no DST): local midnight of 2026-03-02 is 2026-03-01T15:00Z.
const MAR2_SEOUL = Date.parse('2026-03-01T15:00:00Z');
const HOUR = 3_600_000;

interface Row {
  id: number;
  customer_id: number;
  status: string;
  total_price: number;
  created_at: number;
}

let rows: Row[] = [];

const list = async (query: ListQuery) => bodyOf(await api.orders.$get({ query }, authed(staff.access)), 200);

/** Every page of a query, following `next_cursor`; checks the envelope of each page. */
async function walk(query: ListQuery, pageSize: number): Promise<Order[]> {
  const out: Order[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 100; pages++) {
    const page = await list({ ...query, page_size: String(pageSize), ...(cursor ? { cursor } : {}) });
    expect(page.previous).toBeNull();
    expect(page.results.length).toBeLessThanOrEqual(pageSize);
    out.push(...page.results);
    if (!page.next_cursor) {
      expect(page.next).toBeNull();
      return out;
    }
    expect(page.results).toHaveLength(pageSize);
    // `next` is this URL with the cursor: the same filters, the next page.
    const next = new URL(page.next!);
    expect(next.searchParams.get('cursor')).toBe(page.next_cursor);
    for (const [k, v] of Object.entries(query)) expect(next.searchParams.get(k)).toBe(v);
    cursor = page.next_cursor;
  }
  throw new Error('more than 100 pages');
}

/** The brute-force answer: the table filtered in JS, newest first by (created_at, id). */
function expected(filter: (r: Row) => boolean): number[] {
  return rows
    .filter(filter)
    .sort((a, b) => b.created_at - a.created_at || b.id - a.id)
    .map((r) => r.id);
}

beforeAll(async () => {
  [staff, member, ...customers] = await Promise.all([createUser({ staff: true }), createUser(), createUser(), createUser(), createUser()]);
  const products = await Promise.all(
    [
      ['Tea', 3_000],
      ['Mug', 12_000],
      ['Lamp', 45_000],
    ].map(async ([name, price]) =>
      bodyOf(await api.products.$post({ json: { name: String(name), price: Number(price) } }, authed(staff.access)), 201),
    ),
  );
  // 36 orders: customers, statuses, totals and item lists vary with i.
  for (let i = 0; i < 36; i++) {
    const lines = products.slice(0, 1 + (i % 3)).map((p, k) => ({ product_id: p.id, quantity: 1 + ((i + k) % 4) }));
    const res = await api.orders.$post(
      {
        json: {
          customer_id: customers[i % 3]!.id,
          items: lines,
          status: statuses[i % 5]!,
          discount_price: (i % 4) * 500,
          paid_at: new Date(MAR2_SEOUL - 48 * HOUR + i * HOUR).toISOString(),
        },
      },
      authed(staff.access),
    );
    await bodyOf(res, 201);
  }
  // created_at spread over 2026-03-01..03 in Seoul, with runs of equal instants (ties broken by id,
  // across page boundaries) and the two instants either side of local midnight.
  const ids = (await db.rows<{ id: number }>(sql`SELECT id FROM orders ORDER BY id`)).map((r) => r.id);
  const at = (i: number) => {
    if (i < 4) return MAR2_SEOUL - 1; // 2026-03-01 23:59:59.999 in Seoul
    if (i < 8) return MAR2_SEOUL; // 2026-03-02 00:00 in Seoul
    return MAR2_SEOUL - 30 * HOUR + (i % 7) * 11 * HOUR; // a few per instant, both sides
  };
  await db.batch(ids.map((id, i) => sql`UPDATE orders SET created_at = ${at(i)} WHERE id = ${id}`));
  rows = await db.rows<Row>(sql`SELECT id, customer_id, status, total_price, created_at FROM orders`);
  expect(rows).toHaveLength(36);
});

describe('GET /api/orders', () => {
  it('lists every order newest first by created_at then id, each with its items as GET /api/orders/{id} shows it', async () => {
    const all = await walk({}, 5);
    expect(all.map((o) => o.id)).toEqual(expected(() => true));
    for (const o of all.slice(0, 6)) {
      expect(o).toEqual(await bodyOf(await api.orders[':id'].$get({ param: { id: String(o.id) } }, authed(staff.access)), 200));
    }
    // Items keep their recorded order and snapshots.
    const three = all.find((o) => o.items.length === 3)!;
    expect(three.items.map((i) => i.product_name)).toEqual(['Tea', 'Mug', 'Lamp']);
    expect(three.item_price).toBe(three.items.reduce((s, i) => s + i.unit_price * i.quantity, 0));
    // Default page size 20; no count (the list is never counted).
    const first = await list({});
    expect(first.results.map((o) => o.id)).toEqual(expected(() => true).slice(0, 20));
    expect(first).not.toHaveProperty('count');
  });

  it('every filter and their combinations match the brute-force answer on every page', async () => {
    const c = customers[1]!.id;
    const day = (d: string) => [Date.parse(`${d}T00:00:00+09:00`), Date.parse(`${d}T00:00:00+09:00`) + 24 * HOUR] as const;
    const [m1s, m1e] = day('2026-03-01');
    const [m2s] = day('2026-03-02');
    const [, m3e] = day('2026-03-03');
    const cases: [ListQuery, (r: Row) => boolean][] = [
      [{ status: 'PAID' }, (r) => r.status === 'PAID'],
      [{ status: 'CANCELLED' }, (r) => r.status === 'CANCELLED'],
      [{ customer_id: String(c) }, (r) => r.customer_id === c],
      [{ customer_id: String(c), status: 'PENDING' }, (r) => r.customer_id === c && r.status === 'PENDING'],
      [{ from: '2026-03-02' }, (r) => r.created_at >= m2s],
      [{ to: '2026-03-01' }, (r) => r.created_at < m1e],
      [{ from: '2026-03-01', to: '2026-03-01' }, (r) => r.created_at >= m1s && r.created_at < m1e],
      [{ from: '2026-03-02', to: '2026-03-03' }, (r) => r.created_at >= m2s && r.created_at < m3e],
      [{ min_total: '30000' }, (r) => r.total_price >= 30_000],
      [
        { min_total: '30000', status: 'SHIPPING', from: '2026-03-01' },
        (r) => r.total_price >= 30_000 && r.status === 'SHIPPING' && r.created_at >= m1s,
      ],
      [
        { customer_id: String(customers[0]!.id), to: '2026-03-02', min_total: '1' },
        (r) => r.customer_id === customers[0]!.id && r.created_at < m3e - 24 * HOUR,
      ],
      [{ customer_id: String(member.id) }, () => false],
      [{ from: '2027-01-01' }, () => false],
    ];
    for (const [query, filter] of cases) {
      const want = expected(filter);
      // At least one case per kind has several pages (page size 3) and one has none.
      const got = await walk(query, 3);
      expect({ query, ids: got.map((o) => o.id) }).toEqual({ query, ids: want });
    }
    expect(expected((r) => r.status === 'PAID').length).toBeGreaterThan(3);
  });

  it('from/to are local dates in DASHBOARD_TIMEZONE: 23:59:59.999 belongs to its day, midnight to the next', async () => {
    const before = rows.filter((r) => r.created_at === MAR2_SEOUL - 1).map((r) => r.id);
    const at = rows.filter((r) => r.created_at === MAR2_SEOUL).map((r) => r.id);
    expect([before.length, at.length]).toEqual([4, 4]);
    const mar1 = (await walk({ from: '2026-03-01', to: '2026-03-01' }, 100)).map((o) => o.id);
    const mar2 = (await walk({ from: '2026-03-02', to: '2026-03-02' }, 100)).map((o) => o.id);
    for (const id of before) expect([mar1.includes(id), mar2.includes(id)]).toEqual([true, false]);
    for (const id of at) expect([mar1.includes(id), mar2.includes(id)]).toEqual([false, true]);
    // Ties on created_at go by id, newest first, and a page boundary inside a tie loses nothing.
    const tie = await walk({ from: '2026-03-02', to: '2026-03-02', min_total: '0' }, 1);
    expect(tie.filter((o) => at.includes(o.id)).map((o) => o.id)).toEqual([...at].sort((a, b) => b - a));
  });

  it('an order recorded while paging neither repeats nor shifts the later pages', async () => {
    const want = expected(() => true);
    const first = await list({ page_size: '10' });
    expect(first.results.map((o) => o.id)).toEqual(want.slice(0, 10));
    const product = (await db.first<{ id: number }>(sql`SELECT id FROM products ORDER BY id LIMIT 1`))!;
    const added = await bodyOf(
      await api.orders.$post({ json: { customer_id: customers[0]!.id, items: [{ product_id: product.id, quantity: 1 }] } }, authed(staff.access)),
      201,
    );
    const second = await list({ page_size: '10', cursor: first.next_cursor! });
    expect(second.results.map((o) => o.id)).toEqual(want.slice(10, 20));
    // The new order is the newest: it heads a fresh first page.
    expect((await list({ page_size: '1' })).results[0]!.id).toBe(added.id);
    rows = await db.rows<Row>(sql`SELECT id, customer_id, status, total_price, created_at FROM orders`);
  });

  it('400 for bad filters, dates and cursors; INVALID_DATE_RANGE when from is after to', async () => {
    const bad = [
      'status=paid',
      'status=REFUNDED',
      'customer_id=0',
      'customer_id=abc',
      'customer_id=1.5',
      'min_total=-1',
      'min_total=1e3x',
      'from=2026-02-30',
      'from=2026-3-1',
      'to=2026-03-01T10:00:00Z',
      'page_size=0',
      'page_size=101',
      'cursor=not-a-cursor',
      `cursor=${btoa(JSON.stringify([1, 'x']))}`,
      `cursor=${btoa(JSON.stringify([1]))}`,
    ];
    for (const q of bad) {
      const res = await raw(`/api/orders?${q}`, { token: staff.access });
      const body = await expectProblem(res, 400, 'INPUT_VALIDATION_ERROR');
      const field = q.split('=')[0];
      expect({ q, paths: JSON.stringify(body) }).toEqual({ q, paths: expect.stringContaining(field!) });
    }
    await expectProblem(await raw('/api/orders?from=2026-03-02&to=2026-03-01', { token: staff.access }), 400, 'INVALID_DATE_RANGE');
    // The same day on both ends is one day, not an empty range.
    expect((await list({ from: '2026-03-01', to: '2026-03-01' })).results.length).toBeGreaterThan(0);
  });

  it('401 without a token; 403 PERMISSION_DENIED for a member, with nothing read out (the check rides with the read)', async () => {
    await expectProblem(await raw('/api/orders'), 401, 'TOKEN_NOT_FOUND');
    for (const path of ['/api/orders', `/api/orders?customer_id=${customers[0]!.id}`, `/api/orders/${rows[0]!.id}`, '/api/orders/999999999']) {
      await expectProblem(await raw(path, { token: member.access }), 403, 'PERMISSION_DENIED');
    }
    // A staff member demoted since the token was issued is refused at once (the check reads the user).
    const demoted = await createUser({ staff: true });
    expect((await raw('/api/orders', { token: demoted.access })).status).toBe(200);
    await db.run(sql`UPDATE users SET is_staff = 0 WHERE id = ${demoted.user.id}`);
    await expectProblem(await raw('/api/orders', { token: demoted.access }), 403, 'PERMISSION_DENIED');
    // No answer leaves before the check: a member's malformed query is a 403 too, a staff member's a 400.
    await expectProblem(await raw('/api/orders?status=nope', { token: member.access }), 403, 'PERMISSION_DENIED');
    await expectProblem(await raw('/api/orders?status=nope', { token: staff.access }), 400, 'INPUT_VALIDATION_ERROR');
  });
});
