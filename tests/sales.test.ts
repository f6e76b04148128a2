import { beforeAll, describe, expect, it } from 'vitest';
import type { InferRequestType } from 'hono/client';
import { api, authed, type BodyOf, bodyOf, createUser, expectProblem, openapiDoc, raw, type TestUser } from './helpers';
import { uniqueViolation } from '../src/db/errors';
import { cachedTimeZones, offsetAt, TIME_ZONE_CACHE_SIZE } from '../src/modules/sales/dates';
import { db, sql } from './db';

let staff: TestUser;
let member: TestUser;
let product: Product;

type Product = BodyOf<Awaited<ReturnType<typeof api.products.$post>>, 201>;
type OrderJson = InferRequestType<typeof api.orders.$post>['json'];
type OrderStatus = InferRequestType<(typeof api.orders)[':id']['$patch']>['json']['status'];
type Live = BodyOf<Awaited<ReturnType<(typeof api.dashboards)['live-sales']['$get']>>, 200>;

const newProduct = async (name: string, price: number) => bodyOf(await api.products.$post({ json: { name, price } }, authed(staff.access)), 201);

beforeAll(async () => {
  [staff, member] = await Promise.all([createUser({ staff: true }), createUser()]);
  product = await newProduct('Mug', 12_000);
});

/** The zone's name with its letters' case flipped by the bits of `n` (Intl reads zone names in any case). */
const spelling = (zone: string, n: number) => {
  let bit = 0;
  return zone.replace(/[a-z]/gi, (ch) => ((n >> bit++) & 1 ? (ch === ch.toUpperCase() ? ch.toLowerCase() : ch.toUpperCase()) : ch));
};

/** Untyped request options, for the bodies and query strings the schemas refuse. */
const as = (token: string, method = 'GET', body?: unknown) => ({ method, body, token });

async function newOrder(body: Omit<OrderJson, 'items'> & { items?: OrderJson['items'] }) {
  return bodyOf(await api.orders.$post({ json: { items: [{ product_id: product.id, quantity: 1 }], ...body } }, authed(staff.access)), 201);
}

async function setStatus(id: number, status: OrderStatus) {
  return api.orders[':id'].$patch({ param: { id: String(id) }, json: { status } }, authed(staff.access));
}

const orderOf = async (id: number) => bodyOf(await api.orders[':id'].$get({ param: { id: String(id) } }, authed(staff.access)), 200);
const liveSales = async (query: InferRequestType<(typeof api.dashboards)['live-sales']['$get']>['query']) =>
  bodyOf(await api.dashboards['live-sales'].$get({ query }, authed(staff.access)), 200);
const salesChart = async (query: InferRequestType<(typeof api.dashboards)['sales-chart']['$get']>['query']) =>
  bodyOf(await api.dashboards['sales-chart'].$get({ query }, authed(staff.access)), 200);

describe('staff only', () => {
  const routes: [string, string, unknown?][] = [
    ['POST', '/api/products', { name: 'x', price: 1 }],
    ['GET', '/api/products'],
    ['PATCH', '/api/products/1', { price: 1 }],
    ['POST', '/api/orders', { customer_id: 1, items: [{ product_id: 1, quantity: 1 }] }],
    ['GET', '/api/orders/1'],
    ['PATCH', '/api/orders/1', { status: 'PAID' }],
    ['GET', '/api/dashboards/live-sales?start-date=2026-01-01'],
    ['GET', '/api/dashboards/sales-chart?start-date=2026-01-01'],
  ];

  it('401 TOKEN_NOT_FOUND without a token, 403 PERMISSION_DENIED for non-staff', async () => {
    for (const [method, path, body] of routes) {
      const anon = await raw(path, { method, body });
      await expectProblem(anon, 401, 'TOKEN_NOT_FOUND');
      expect(anon.headers.get('www-authenticate')).toBe('Bearer');
      await expectProblem(await raw(path, as(member.access, method, body)), 403, 'PERMISSION_DENIED');
    }
  });

  it('non-staff tokens get 403 before the query is validated or any work is done', async () => {
    const zones = cachedTimeZones();
    for (const query of [
      '',
      'start-date=yesterday',
      'start-date=2000-01-01&end-date=2026-01-01',
      'start-date=2026-01-01&timezone=Mars/Olympus',
      // A spelling never seen before: validating it would build (and cache) a formatter.
      `start-date=2026-01-01&timezone=${spelling('America/Argentina/Buenos_Aires', 1)}`,
    ]) {
      await expectProblem(await raw(`/api/dashboards/live-sales?${query}`, { token: member.access }), 403, 'PERMISSION_DENIED');
      await expectProblem(await raw(`/api/dashboards/sales-chart?${query}&limit=1000`, { token: member.access }), 403, 'PERMISSION_DENIED');
    }
    expect(cachedTimeZones()).toBe(zones);
  });

  it('403 in Korean carries the original text', async () => {
    const res = await raw('/api/dashboards/live-sales?start-date=2026-01-01', { token: member.access, headers: { 'accept-language': 'ko' } });
    expect((await expectProblem(res, 403, 'PERMISSION_DENIED')).detail).toBe('권한이 없습니다.');
  });
});

describe('products', () => {
  it('creates, lists with pagination, and updates', async () => {
    const pen = await newProduct('  Pen  ', 1_500);
    expect(pen).toMatchObject({ name: 'Pen', price: 1_500, currency: 'KRW' });
    expect(pen.created_at).toMatch(/Z$/);
    const page = await bodyOf(await api.products.$get({ query: { page_size: 1, page: 2 } }, authed(staff.access)), 200);
    expect(page.count).toBeGreaterThanOrEqual(2);
    expect(page.results).toHaveLength(1);
    expect(page.previous).toContain('page=1');
    const patched = await bodyOf(
      await api.products[':id'].$patch({ param: { id: String(pen.id) }, json: { price: 1_700 } }, authed(staff.access)),
      200,
    );
    expect(patched).toMatchObject({ id: pen.id, name: 'Pen', price: 1_700 });
  });

  it('validates bodies and answers 404 for unknown products and pages', async () => {
    const bad = await expectProblem(await raw('/api/products', as(staff.access, 'POST', { name: '', price: -1 })), 400, 'INPUT_VALIDATION_ERROR');
    expect(bad.errors!.map((e) => e.path).sort()).toEqual(['name', 'price']);
    await expectProblem(await raw('/api/products/1', as(staff.access, 'PATCH', {})), 400, 'INPUT_VALIDATION_ERROR');
    await expectProblem(await raw('/api/products/999999', as(staff.access, 'PATCH', { price: 1 })), 404, 'NOT_FOUND');
    await expectProblem(await raw('/api/products?page=9999', as(staff.access)), 404, 'NOT_FOUND');
  });
});

describe('orders', () => {
  it('computes prices on the server and ignores client totals', async () => {
    const customer = await createUser();
    const res = await raw(
      '/api/orders',
      as(staff.access, 'POST', {
        customer_id: customer.id,
        items: [{ product_id: product.id, quantity: 3 }],
        discount_price: 5_000,
        delivery_price: 2_500,
        payment_method: 'card',
        total_price: 1,
        is_first_purchase: false,
      }),
    );
    expect(res.status).toBe(201);
    const order: BodyOf<Awaited<ReturnType<typeof api.orders.$post>>, 201> = await res.json();
    expect(order).toMatchObject({
      customer_id: customer.id,
      status: 'PAID',
      item_price: 36_000,
      discount_price: 5_000,
      delivery_price: 2_500,
      total_price: 33_500,
      is_first_purchase: true,
      payment_method: 'card',
      currency: 'KRW',
    });
    expect(order.paid_at).toMatch(/Z$/);
  });

  it('records an order of 100 lines (the maximum) with its items in order, names as snapshotted', async () => {
    const customer = await createUser();
    const names = ['Tea "Earl" Grey', 'Café au lait', '찻잔 ☕'];
    const products = await Promise.all(names.map((name, i) => newProduct(name, 1_000 * (i + 1))));
    const items = Array.from({ length: 100 }, (_, i) => ({ product_id: products[i % 3]!.id, quantity: 1 + (i % 7) }));
    // Paid long ago: clear of the ranges the brute-force chart checks below.
    const order = await newOrder({ customer_id: customer.id, items, paid_at: '2024-01-01T00:00:00Z' });
    const expected = items.map((i, k) => ({
      product_id: i.product_id,
      product_name: names[k % 3],
      unit_price: 1_000 * ((k % 3) + 1),
      quantity: i.quantity,
    }));
    expect(order.items).toEqual(expected);
    expect(order.item_price).toBe(expected.reduce((n, i) => n + i.unit_price * i.quantity, 0));
    expect((await orderOf(order.id)).items).toEqual(expected);
    // Its lines reach the per-product aggregates: the chart of that day is the sum of the items.
    const chart = await salesChart({ 'start-date': '2024-01-01', 'end-date': '2024-01-01' });
    const sums = products.map((p, k) => {
      const mine = expected.filter((i) => i.product_id === p.id);
      return {
        product_id: p.id,
        product_name: names[k],
        quantity: mine.reduce((n, i) => n + i.quantity, 0),
        total_amount: mine.reduce((n, i) => n + i.quantity * i.unit_price, 0),
      };
    });
    expect(chart.results).toEqual(sums.sort((a, b) => b.quantity - a.quantity || b.total_amount - a.total_amount));
  });

  it('every order total is exact: the largest order allowed, and 400 above the bounds', async () => {
    const customer = await createUser();
    const dear = await newProduct('Press line', 1_000_000_000);
    const items = Array.from({ length: 100 }, () => ({ product_id: dear.id, quantity: 1_000 }));
    const order = await newOrder({
      customer_id: customer.id,
      items,
      discount_price: 1,
      delivery_price: 999_999_999,
      paid_at: '2023-05-01T00:00:00Z',
    });
    expect(order).toMatchObject({ item_price: 100_000_000_000_000, total_price: 100_000_999_999_998 });
    expect(Number.isSafeInteger(order.total_price)).toBe(true);
    const chart = await salesChart({ 'start-date': '2023-05-01', 'end-date': '2023-05-01' });
    expect(chart.results).toEqual([{ product_id: dear.id, product_name: 'Press line', quantity: 100_000, total_amount: 100_000_000_000_000 }]);
    const over = [
      ['/api/products', { name: 'x', price: 1_000_000_001 }, 'price'],
      ['/api/orders', { customer_id: customer.id, items: [{ product_id: dear.id, quantity: 1_001 }] }, 'items.0.quantity'],
      ['/api/orders', { customer_id: customer.id, items: [{ product_id: dear.id, quantity: 1 }], delivery_price: 1_000_000_001 }, 'delivery_price'],
      ['/api/orders', { customer_id: customer.id, items: [{ product_id: dear.id, quantity: 1 }], discount_price: 1_000_000_001 }, 'discount_price'],
    ] as const;
    for (const [path, body, field] of over) {
      const problem = await expectProblem(await raw(path, as(staff.access, 'POST', body)), 400, 'INPUT_VALIDATION_ERROR');
      expect(problem.errors!.map((e) => e.path)).toEqual([field]);
    }
  });

  it('no stored figure can pass what a JSON number holds exactly: an order that would is a 409 and changes nothing', async () => {
    const customer = await createUser();
    const dear = await newProduct('Mould set', 1_000_000_000);
    const big = {
      customer_id: customer.id,
      items: Array.from({ length: 100 }, () => ({ product_id: dear.id, quantity: 1_000 })),
      paid_at: '2023-06-01T05:00:00Z',
    };
    // An hour holds at most 2^53 / 32 (its day's sum of 25 hours stays exact): two of these orders fit, the third does not.
    expect((await raw('/api/orders', as(staff.access, 'POST', big))).status).toBe(201);
    expect((await raw('/api/orders', as(staff.access, 'POST', big))).status).toBe(201);
    const before = await liveSales({ 'start-date': '2023-06-01T05:00:00Z', 'end-date': '2023-06-01T05:00:00Z' });
    await expectProblem(await raw('/api/orders', as(staff.access, 'POST', big)), 409, 'SALES_LIMIT_EXCEEDED');
    const after = await liveSales({ 'start-date': '2023-06-01T05:00:00Z', 'end-date': '2023-06-01T05:00:00Z' });
    expect(after).toEqual(before);
    expect(before.results[0]!.total_amount).toBe(200_000_000_000_000);
    // A product's all-time amount stays ≤ 2^53 − 1: near it, an order that would pass it is refused whole.
    await db.run(sql`UPDATE products SET sold_amount = ${Number.MAX_SAFE_INTEGER - 50_000_000_000_000} WHERE id = ${dear.id}`);
    const orders = await db.value(sql`SELECT count(*) AS n FROM orders WHERE customer_id = ${customer.id}`, 'n');
    await expectProblem(await raw('/api/orders', as(staff.access, 'POST', { ...big, paid_at: '2023-06-02T05:00:00Z' })), 409, 'SALES_LIMIT_EXCEEDED');
    expect(await db.value(sql`SELECT count(*) AS n FROM orders WHERE customer_id = ${customer.id}`, 'n')).toBe(orders);
    // Moving a pending order into the figures is checked the same way.
    const pending = await newOrder({ ...big, status: 'PENDING', paid_at: '2023-06-03T05:00:00Z' });
    await expectProblem(await setStatus(pending.id, 'PAID'), 409, 'SALES_LIMIT_EXCEEDED');
    expect((await orderOf(pending.id)).status).toBe('PENDING');
  });

  it('400 for bad bodies, a negative total, and 404 for an unknown customer or product', async () => {
    const customer = await createUser();
    const bad = await raw(
      '/api/orders',
      as(staff.access, 'POST', { customer_id: customer.id, items: [{ product_id: product.id, quantity: 0 }], status: 'LOST' }),
    );
    const body = await expectProblem(bad, 400, 'INPUT_VALIDATION_ERROR');
    expect(body.errors!.map((e) => e.path).sort()).toEqual(['items.0.quantity', 'status']);
    await expectProblem(await raw('/api/orders', as(staff.access, 'POST', { customer_id: customer.id, items: [] })), 400, 'INPUT_VALIDATION_ERROR');
    const negative = await raw(
      '/api/orders',
      as(staff.access, 'POST', { customer_id: customer.id, items: [{ product_id: product.id, quantity: 1 }], discount_price: 20_000 }),
    );
    expect((await expectProblem(negative, 400, 'INPUT_VALIDATION_ERROR')).errors![0]!.path).toBe('discount_price');
    await expectProblem(
      await raw('/api/orders', as(staff.access, 'POST', { customer_id: 99_999_999, items: [{ product_id: product.id, quantity: 1 }] })),
      404,
      'NOT_FOUND',
    );
    await expectProblem(
      await raw('/api/orders', as(staff.access, 'POST', { customer_id: customer.id, items: [{ product_id: 99_999_999, quantity: 1 }] })),
      404,
      'NOT_FOUND',
    );
    await expectProblem(await raw('/api/orders/99999999', as(staff.access)), 404, 'NOT_FOUND');
    await expectProblem(await setStatus(99_999_999, 'PAID'), 404, 'NOT_FOUND');
    await expectProblem(await raw('/api/orders/abc', as(staff.access)), 400, 'INPUT_VALIDATION_ERROR');
  });

  it('8 concurrent first orders of one customer leave exactly one first purchase', async () => {
    const customer = await createUser();
    const created = await Promise.all(Array.from({ length: 8 }, () => newOrder({ customer_id: customer.id })));
    expect(created.filter((o) => o.is_first_purchase)).toHaveLength(1);
    const rows = await db.first<{ n: number }>(sql`SELECT count(*) AS n FROM orders WHERE customer_id = ${customer.id} AND is_first_purchase = 1`);
    expect(rows!.n).toBe(1);
  });

  it('the partial unique index refuses a second first purchase', async () => {
    const customer = await createUser();
    await newOrder({ customer_id: customer.id });
    const second = await newOrder({ customer_id: customer.id });
    const refused = await db.run(sql`UPDATE orders SET is_first_purchase = 1 WHERE id = ${second.id}`).catch((err: unknown) => err);
    expect(uniqueViolation(refused)).toEqual(['customer_id']);
  });

  it('cancelling the first purchase moves the flag to the next counted order, and PENDING never holds it', async () => {
    const customer = await createUser();
    const first = await newOrder({ customer_id: customer.id, paid_at: '2026-01-05T10:00:00Z' });
    const pending = await newOrder({ customer_id: customer.id, status: 'PENDING' });
    const second = await newOrder({ customer_id: customer.id, paid_at: '2026-01-06T10:00:00Z' });
    expect([first.is_first_purchase, pending.is_first_purchase, second.is_first_purchase]).toEqual([true, false, false]);
    expect(pending.paid_at).toBeNull();
    expect(await (await setStatus(first.id, 'CANCELLED')).json()).toMatchObject({ status: 'CANCELLED', is_first_purchase: false });
    expect((await orderOf(second.id)).is_first_purchase).toBe(true);
    // The pending order is paid now: later than `second`, so the flag stays where it is.
    const paid = await bodyOf(await setStatus(pending.id, 'PAID'), 200);
    expect(paid).toMatchObject({ status: 'PAID', is_first_purchase: false });
    expect(Date.parse(paid.paid_at!)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('allows only the documented transitions; repeating the current status is a no-op', async () => {
    const customer = await createUser();
    const order = await newOrder({ customer_id: customer.id, status: 'PENDING' });
    const skip = await expectProblem(await setStatus(order.id, 'SHIPPING'), 400, 'INVALID_STATUS_TRANSITION');
    expect(skip).toMatchObject({ from: 'PENDING', to: 'SHIPPING' });
    for (const status of ['PAID', 'PAID', 'SHIPPING', 'COMPLETED', 'CANCELLED'] as const) {
      const res = await setStatus(order.id, status);
      expect({ code: res.status, status: (await res.json()).status }).toEqual({ code: 200, status });
      // The change is stored, not only echoed.
      expect((await orderOf(order.id)).status).toBe(status);
    }
    await expectProblem(await setStatus(order.id, 'PAID'), 400, 'INVALID_STATUS_TRANSITION');
    await expectProblem(await raw(`/api/orders/${order.id}`, as(staff.access, 'PATCH', { status: 'nope' })), 400, 'INPUT_VALIDATION_ERROR');
  });

  it('concurrent cancels of one order remove it from the figures once', async () => {
    const customer = await createUser();
    const order = await newOrder({ customer_id: customer.id, paid_at: '2025-06-01T03:10:00Z' });
    await newOrder({ customer_id: customer.id, paid_at: '2025-06-01T03:20:00Z' });
    const results = await Promise.all(Array.from({ length: 6 }, () => setStatus(order.id, 'CANCELLED')));
    expect(results.map((r) => r.status)).toEqual(Array(6).fill(200));
    const live = await liveSales({ 'start-date': '2025-06-01T03:00:00Z', 'end-date': '2025-06-01T03:00:00Z' });
    expect(live.results).toEqual([
      {
        datetime: '2025-06-01T12:00:00+09:00',
        total_amount: 12_000,
        customer_count: 1,
        coupon_amount: 0,
        first_purchase_count: 1,
        first_purchase_amount: 12_000,
      },
    ]);
  });
});

describe('dashboard parameters', () => {
  const live = (q: string, headers?: Record<string, string>) => raw(`/api/dashboards/live-sales?${q}`, { token: staff.access, headers });
  const chart = (q: string) => raw(`/api/dashboards/sales-chart?${q}`, { token: staff.access });

  it('INVALID_DATE_RANGE, with the original Korean text', async () => {
    const res = await live('start-date=2026-03-02&end-date=2026-03-01', { 'accept-language': 'ko' });
    expect((await expectProblem(res, 400, 'INVALID_DATE_RANGE')).detail).toBe('시작일이 종료일보다 늦을 수 없습니다.');
    await expectProblem(await chart('start-date=2026-03-02&end-date=2026-03-01'), 400, 'INVALID_DATE_RANGE');
    await expectProblem(await live('start-date=2999-01-01'), 400, 'INVALID_DATE_RANGE');
    // The same day as start and end is one whole day.
    expect((await liveSales({ 'start-date': '2026-03-01', 'end-date': '2026-03-01' })).results).toHaveLength(24);
  });

  it('RANGE_TOO_LARGE above 1,000 buckets', async () => {
    await expectProblem(await live('start-date=2026-01-01&end-date=2026-03-01'), 400, 'RANGE_TOO_LARGE');
    expect((await liveSales({ 'start-date': '2026-01-01T00:00:00Z', 'end-date': '2026-02-11T15:00:00Z' })).results).toHaveLength(1000);
    await expectProblem(await live('start-date=2026-01-01T00:00:00Z&end-date=2026-02-11T16:00:00Z'), 400, 'RANGE_TOO_LARGE');
    await expectProblem(await live('start-date=2020-01-01&end-date=2026-01-01&interval=day'), 400, 'RANGE_TOO_LARGE');
    await expectProblem(await chart('start-date=2020-01-01&end-date=2026-01-01'), 400, 'RANGE_TOO_LARGE');
  });

  it('INPUT_VALIDATION_ERROR for missing or malformed dates, intervals, limits and zones', async () => {
    const cases: [Response, string][] = [
      [await live(''), 'start-date'],
      [await live('start-date=yesterday'), 'start-date'],
      [await live('start-date=2026-02-30'), 'start-date'],
      [await live('start-date=2026-03-01&end-date=2026-13-01'), 'end-date'],
      [await live('start-date=2026-03-01&interval=week'), 'interval'],
      [await live('start-date=2026-03-01&timezone=Mars/Olympus'), 'timezone'],
      [await live('start-date=2026-03-01&timezone=Asia/Kolkata'), 'timezone'],
      [await live('start-date=2026-03-01&interval=day&timezone=Asia/Kathmandu'), 'timezone'],
      [await chart('start-date=2026-03-01&limit=101'), 'limit'],
      [await chart('start-date=2026-03-01&timezone=Asia/Kolkata'), 'timezone'],
    ];
    for (const [res, path] of cases) expect((await expectProblem(res, 400, 'INPUT_VALIDATION_ERROR')).errors![0]!.path).toBe(path);
  });

  it('a zone in any spelling is one cached formatter, and the cache is bounded', async () => {
    const before = cachedTimeZones();
    for (let i = 0; i < 12; i++) {
      const zone = spelling('Europe/Lisbon', i);
      const query = { 'start-date': '2026-03-01', 'end-date': '2026-03-01', interval: 'day' } as const;
      expect(await liveSales({ ...query, timezone: zone })).toEqual(await liveSales({ ...query, timezone: 'Europe/Lisbon' }));
    }
    expect(cachedTimeZones()).toBeLessThanOrEqual(before + 1);
    // Every zone Intl knows, in two spellings each: the cache stays within its bound.
    const zones = Intl.supportedValuesOf('timeZone');
    expect(zones.length).toBeGreaterThan(TIME_ZONE_CACHE_SIZE);
    for (const zone of zones) expect(offsetAt(Date.UTC(2026, 0, 1), zone)).toBe(offsetAt(Date.UTC(2026, 0, 1), zone.toUpperCase()));
    expect(cachedTimeZones()).toBeLessThanOrEqual(TIME_ZONE_CACHE_SIZE);
  });

  it('accepts date-times with Z, offsets or none (wall-clock in the zone) and a trailing slash', async () => {
    const a: Live = await (
      await raw('/api/dashboards/live-sales/?start-date=2026-03-01T00:30:00Z&end-date=2026-03-01T01:10:00Z&timezone=UTC', as(staff.access))
    ).json();
    expect(a.results.map((r) => r.datetime)).toEqual(['2026-03-01T00:00:00+00:00', '2026-03-01T01:00:00+00:00']);
    const b = await liveSales({ 'start-date': '2026-03-01T09:00', 'end-date': '2026-03-01T09:59:59' });
    expect(b.results.map((r) => r.datetime)).toEqual(['2026-03-01T09:00:00+09:00']);
  });
});

describe('aggregates match a brute-force count after random writes', () => {
  const COUNTED = new Set(['PAID', 'SHIPPING', 'COMPLETED']);
  // Ten days ago at UTC midnight: recent enough for the all-time-totals path of the chart, and
  // clear of the orders the other tests place now or on fixed dates.
  const BASE = Math.floor(Date.now() / 86_400_000 - 10) * 86_400_000;
  const ymd = (ms: number) => new Date(ms).toISOString().slice(0, 10);

  it('for hours and days in several zones', async () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const customers = await Promise.all([createUser(), createUser(), createUser()]);
    const created: Awaited<ReturnType<typeof newOrder>>[] = [];
    for (let i = 0; i < 40; i++) {
      const customer = customers[Math.floor(rand() * customers.length)]!;
      const paidAt = new Date(BASE + Math.floor(rand() * 3 * 24) * 3_600_000 + Math.floor(rand() * 3_600_000)).toISOString();
      const status = rand() < 0.2 ? 'PENDING' : 'PAID';
      created.push(await newOrder({ customer_id: customer.id, paid_at: paidAt, status, discount_price: Math.floor(rand() * 5) * 100 }));
      if (created.length > 3 && rand() < 0.3) {
        const victim = created[Math.floor(rand() * created.length)]!;
        await setStatus(victim.id, rand() < 0.5 ? 'CANCELLED' : 'PAID');
      }
    }
    const ids = customers.map((c) => c.id);
    const rows = await db.rows<{
      customer_id: number;
      status: string;
      total_price: number;
      discount_price: number;
      is_first_purchase: number;
      paid_at: number;
    }>(sql`SELECT customer_id, status, total_price, discount_price, is_first_purchase, paid_at FROM orders WHERE customer_id IN ${ids}`);
    const counted = rows.filter((r) => COUNTED.has(r.status));
    expect(counted.length).toBeGreaterThan(20);
    expect(rows.length - counted.length).toBeGreaterThan(3);
    // Exactly one first purchase per customer with counted orders, on the earliest one.
    for (const id of ids) {
      const mine = counted.filter((r) => r.customer_id === id).sort((a, b) => a.paid_at - b.paid_at);
      expect(rows.filter((r) => r.customer_id === id && r.is_first_purchase === 1)).toEqual(mine.length ? [mine[0]] : []);
    }
    for (const [tz, interval] of [
      ['Asia/Seoul', 'day'],
      ['America/New_York', 'day'],
      ['UTC', 'hour'],
      ['Europe/London', 'day'],
    ]) {
      const range = `start-date=${ymd(BASE - 86_400_000)}&end-date=${ymd(BASE + 3 * 86_400_000)}`;
      const res = await raw(`/api/dashboards/live-sales?${range}&interval=${interval}&timezone=${tz}`, as(staff.access));
      const page: Live = await res.json();
      const buckets = page.results;
      const starts = buckets.map((b) => Date.parse(b.datetime));
      const expected = buckets.map((b, i) => {
        const end = starts[i + 1] ?? starts[i]! + (interval === 'hour' ? 3_600_000 : 86_400_000);
        const inside = counted.filter((r) => r.paid_at >= starts[i]! && r.paid_at < end);
        const first = inside.filter((r) => r.is_first_purchase === 1);
        return {
          datetime: b.datetime,
          total_amount: inside.reduce((s, r) => s + r.total_price, 0),
          customer_count: new Set(inside.map((r) => r.customer_id)).size,
          coupon_amount: inside.reduce((s, r) => s + r.discount_price, 0),
          first_purchase_count: first.length,
          first_purchase_amount: first.reduce((s, r) => s + r.total_price, 0),
        };
      });
      expect(buckets).toEqual(expected);
    }
    // The chart against the items, for a range inside the data and one past the latest sale.
    const day2 = ymd(BASE + 86_400_000);
    // Today (Seoul) starts at a checkpoint taken by the first write after midnight and shifted by
    // every backdated write and cancel since: the chart reads its lower bound there.
    const today = ymd(Date.now() + 9 * 3_600_000);
    const midnight = Date.parse(`${today}T00:00:00+09:00`);
    const checkpoint = await db.first<{ n: number }>(sql`SELECT count(*) AS n FROM product_checkpoints WHERE hour = ${midnight / 3_600_000}`);
    expect(checkpoint!.n).toBeGreaterThan(0);
    const ranges = [
      [day2, day2, Date.parse(`${day2}T00:00:00+09:00`) + 86_400_000],
      [day2, ymd(Date.now() + 30 * 86_400_000), Infinity],
      [today, today, midnight + 86_400_000],
    ] as const;
    for (const [start, end, until] of ranges) {
      const from = Date.parse(`${start}T00:00:00+09:00`);
      const items = await db.rows<{ quantity: number; unit_price: number; paid_at: number }>(
        sql`SELECT i.quantity, i.unit_price, o.paid_at FROM order_items i JOIN orders o ON o.id = i.order_id
          WHERE o.status IN ('PAID', 'SHIPPING', 'COMPLETED') AND i.product_id = ${product.id}`,
      );
      const inRange = items.filter((i) => i.paid_at >= from && i.paid_at < until);
      expect(inRange.length).toBeGreaterThan(0);
      const chart = await salesChart({ 'start-date': start, 'end-date': end });
      expect(chart.results).toEqual([
        {
          product_id: product.id,
          product_name: 'Mug',
          quantity: inRange.reduce((n, i) => n + i.quantity, 0),
          total_amount: inRange.reduce((n, i) => n + i.quantity * i.unit_price, 0),
        },
      ]);
    }
  });
});

describe('OpenAPI', () => {
  it('documents the sales routes with their error codes', async () => {
    const doc = await openapiDoc();
    for (const path of [
      '/api/products',
      '/api/products/{id}',
      '/api/orders',
      '/api/orders/{id}',
      '/api/dashboards/live-sales',
      '/api/dashboards/sales-chart',
    ]) {
      expect(doc.paths[path], path).toBeDefined();
    }
    const live = doc.paths['/api/dashboards/live-sales']!.get!;
    expect(live.responses['400']!.description).toContain('INVALID_DATE_RANGE');
    expect(live.responses['400']!.description).toContain('RANGE_TOO_LARGE');
    expect(live.responses['403']!.description).toContain('PERMISSION_DENIED');
    expect(doc.paths['/api/orders/{id}']!.patch!.responses['400']!.description).toContain('INVALID_STATUS_TRANSITION');
  });
});
