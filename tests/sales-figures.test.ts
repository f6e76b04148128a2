// The dashboards against a small data set counted by hand (Asia/Seoul is UTC+9, no DST).
//
// customers A, B, C; products P1 (10,000) and P2 (3,000)
//   o1  A  P1×2  disc 2,000 deliv 3,000 → 21,000  2026-03-10 10:15 KST  PAID
//   o2  B  P2×1                         →  3,000  2026-03-10 10:40 KST  PAID, later CANCELLED (was B's first)
//   o3  A  P2×3                         →  9,000  2026-03-10 10:50 KST  PAID
//   (11:00 KST: no orders)
//   o4  C  P1×1                         → 10,000  2026-03-10 12:10 KST  PENDING (never counts)
//   o5  B  P1×1  disc 1,000             →  9,000  2026-03-10 12:30 KST  PAID (B's first once o2 is cancelled)
//   o6  C  P2×2                         →  6,000  2026-03-10 23:30 KST  PAID (C's first)
//   o7  C  P1×1                         → 10,000  2026-03-11 00:30 KST  PAID (other side of the day boundary)
//   o8  A  P1×1                         → 10,000  2026-03-09 23:59 KST  PAID, recorded after o1..o7: older
//                                                                       than o1, so it becomes A's first purchase
//   d1  D  P2×1                         →  3,000  2026-11-01 00:30 EDT  PAID (first and last hour of the
//   d2  D  P2×1                         →  3,000  2026-11-01 23:30 EST  PAID  25-hour New York day)
import { beforeAll, describe, expect, it } from 'vitest';
import type { InferRequestType } from 'hono/client';
import { api, authed, bodyOf, createUser, type TestUser } from './helpers';

let staff: TestUser;
const ids: Record<string, number> = {};
type OrderJson = InferRequestType<typeof api.orders.$post>['json'];
let orders: Record<`o${1 | 2 | 3 | 4 | 5 | 6 | 7 | 8}`, Awaited<ReturnType<typeof postOrder>>>;

const as = () => authed(staff.access);
const postProduct = async (json: { name: string; price: number }) => bodyOf(await api.products.$post({ json }, as()), 201);
const postOrder = async (json: OrderJson) => bodyOf(await api.orders.$post({ json }, as()), 201);
const orderOf = async (id: number) => bodyOf(await api.orders[':id'].$get({ param: { id: String(id) } }, as()), 200);
const liveSales = async (query: InferRequestType<(typeof api.dashboards)['live-sales']['$get']>['query']) =>
  bodyOf(await api.dashboards['live-sales'].$get({ query }, as()), 200);
const salesChart = async (query: InferRequestType<(typeof api.dashboards)['sales-chart']['$get']>['query']) =>
  bodyOf(await api.dashboards['sales-chart'].$get({ query }, as()), 200);

const zero = { total_amount: 0, customer_count: 0, coupon_amount: 0, first_purchase_count: 0, first_purchase_amount: 0 };

beforeAll(async () => {
  staff = await createUser({ staff: true });
  for (const name of ['A', 'B', 'C', 'D']) ids[name] = (await createUser()).id;
  ids.P1 = (await postProduct({ name: 'P1 keyboard', price: 10_000 })).id;
  ids.P2 = (await postProduct({ name: 'P2 cable', price: 3_000 })).id;
  const order = (customer: string, items: [string, number][], paidAt: string, extra: Partial<OrderJson> = {}) =>
    postOrder({
      customer_id: ids[customer]!,
      items: items.map(([p, quantity]) => ({ product_id: ids[p]!, quantity })),
      paid_at: paidAt,
      ...extra,
    });
  orders = {
    o1: await order('A', [['P1', 2]], '2026-03-10T10:15:00+09:00', { discount_price: 2_000, delivery_price: 3_000 }),
    o2: await order('B', [['P2', 1]], '2026-03-10T10:40:00+09:00'),
    o3: await order('A', [['P2', 3]], '2026-03-10T10:50:00+09:00'),
    o4: await order('C', [['P1', 1]], '2026-03-10T12:10:00+09:00', { status: 'PENDING' }),
    o5: await order('B', [['P1', 1]], '2026-03-10T12:30:00+09:00', { discount_price: 1_000 }),
    o6: await order('C', [['P2', 2]], '2026-03-10T23:30:00+09:00'),
    o7: await order('C', [['P1', 1]], '2026-03-11T00:30:00+09:00'),
    o8: await order('A', [['P1', 1]], '2026-03-09T23:59:00+09:00'),
  };
  // Customer D buys P2 in the first and the last hour of the 25-hour New York day of 2026-11-01.
  for (const paidAt of ['2026-11-01T00:30:00-04:00', '2026-11-01T23:30:00-05:00']) {
    await postOrder({ customer_id: ids.D!, items: [{ product_id: ids.P2!, quantity: 1 }], paid_at: paidAt });
  }
  const cancelled = await api.orders[':id'].$patch({ param: { id: String(orders.o2.id) }, json: { status: 'CANCELLED' } }, as());
  expect(cancelled.status).toBe(200);
  // A later price change must not touch recorded figures (items keep their snapshot).
  const repriced = await api.products[':id'].$patch({ param: { id: String(ids.P1) }, json: { price: 99_999 } }, as());
  expect(repriced.status).toBe(200);
});

describe('orders as recorded', () => {
  it('computes totals and snapshots items', () => {
    expect(orders.o1).toMatchObject({ item_price: 20_000, discount_price: 2_000, delivery_price: 3_000, total_price: 21_000, status: 'PAID' });
    expect(orders.o1.items).toEqual([{ product_id: ids.P1, product_name: 'P1 keyboard', unit_price: 10_000, quantity: 2 }]);
  });

  it('leaves exactly one first purchase per customer, on the earliest counted order', async () => {
    const flags: Record<string, boolean> = {};
    for (const [name, o] of Object.entries(orders)) flags[name] = (await orderOf(o.id)).is_first_purchase;
    expect(flags).toEqual({ o1: false, o2: false, o3: false, o4: false, o5: true, o6: true, o7: false, o8: true });
  });
});

describe('live-sales', () => {
  it('hour buckets in Asia/Seoul, with an empty hour, a PENDING order and a cancelled first purchase', async () => {
    const body = await liveSales({ 'start-date': '2026-03-10T10:00:00+09:00', 'end-date': '2026-03-10T13:00:00+09:00' });
    expect(body.results).toEqual([
      {
        datetime: '2026-03-10T10:00:00+09:00',
        total_amount: 30_000,
        customer_count: 1,
        coupon_amount: 2_000,
        first_purchase_count: 0,
        first_purchase_amount: 0,
      },
      { datetime: '2026-03-10T11:00:00+09:00', ...zero },
      {
        datetime: '2026-03-10T12:00:00+09:00',
        total_amount: 9_000,
        customer_count: 1,
        coupon_amount: 1_000,
        first_purchase_count: 1,
        first_purchase_amount: 9_000,
      },
      { datetime: '2026-03-10T13:00:00+09:00', ...zero },
    ]);
  });

  it('day buckets in Asia/Seoul (the default zone): orders on both sides of midnight', async () => {
    const body = await liveSales({ 'start-date': '2026-03-09', 'end-date': '2026-03-11', interval: 'day' });
    expect(body.results).toEqual([
      {
        datetime: '2026-03-09T00:00:00+09:00',
        total_amount: 10_000,
        customer_count: 1,
        coupon_amount: 0,
        first_purchase_count: 1,
        first_purchase_amount: 10_000,
      },
      {
        datetime: '2026-03-10T00:00:00+09:00',
        total_amount: 45_000,
        customer_count: 3,
        coupon_amount: 3_000,
        first_purchase_count: 2,
        first_purchase_amount: 15_000,
      },
      {
        datetime: '2026-03-11T00:00:00+09:00',
        total_amount: 10_000,
        customer_count: 1,
        coupon_amount: 0,
        first_purchase_count: 0,
        first_purchase_amount: 0,
      },
    ]);
  });

  it('day buckets in UTC regroup the same orders (C buys twice that day: counted once)', async () => {
    const body = await liveSales({ 'start-date': '2026-03-09', 'end-date': '2026-03-10', interval: 'day', timezone: 'UTC' });
    expect(body.results).toEqual([
      {
        datetime: '2026-03-09T00:00:00+00:00',
        total_amount: 10_000,
        customer_count: 1,
        coupon_amount: 0,
        first_purchase_count: 1,
        first_purchase_amount: 10_000,
      },
      {
        datetime: '2026-03-10T00:00:00+00:00',
        total_amount: 55_000,
        customer_count: 3,
        coupon_amount: 3_000,
        first_purchase_count: 2,
        first_purchase_amount: 15_000,
      },
    ]);
  });

  it('a bare end date covers its whole day; hours across Seoul midnight', async () => {
    const body = await liveSales({ 'start-date': '2026-03-10T23:00:00+09:00', 'end-date': '2026-03-11' });
    expect(body.results).toHaveLength(25);
    expect(body.results[0]).toEqual({
      datetime: '2026-03-10T23:00:00+09:00',
      total_amount: 6_000,
      customer_count: 1,
      coupon_amount: 0,
      first_purchase_count: 1,
      first_purchase_amount: 6_000,
    });
    expect(body.results[1]).toEqual({
      datetime: '2026-03-11T00:00:00+09:00',
      total_amount: 10_000,
      customer_count: 1,
      coupon_amount: 0,
      first_purchase_count: 0,
      first_purchase_amount: 0,
    });
    expect(body.results[24]?.datetime).toBe('2026-03-11T23:00:00+09:00');
  });
});

describe('sales-chart', () => {
  it('ranks by quantity on the Seoul day (snapshotted unit prices)', async () => {
    const body = await salesChart({ 'start-date': '2026-03-10', 'end-date': '2026-03-10' });
    expect(body.results).toEqual([
      { product_id: ids.P2, product_name: 'P2 cable', quantity: 5, total_amount: 15_000 },
      { product_id: ids.P1, product_name: 'P1 keyboard', quantity: 3, total_amount: 30_000 },
    ]);
  });

  it('breaks a quantity tie by total_amount and honours limit', async () => {
    const body = await salesChart({ 'start-date': '2026-03-09', 'end-date': '2026-03-11' });
    expect(body.results).toEqual([
      { product_id: ids.P1, product_name: 'P1 keyboard', quantity: 5, total_amount: 50_000 },
      { product_id: ids.P2, product_name: 'P2 cable', quantity: 5, total_amount: 15_000 },
    ]);
    const one = await salesChart({ 'start-date': '2026-03-09', 'end-date': '2026-03-11', limit: '1' });
    expect(one.results.map((r: { product_id: number }) => r.product_id)).toEqual([ids.P1]);
  });

  it('a range past the latest sale reads the all-time totals (here with the November orders of D)', async () => {
    const body = await salesChart({ 'start-date': '2026-03-09', 'end-date': '2027-01-31' });
    expect(body.results).toEqual([
      { product_id: ids.P2, product_name: 'P2 cable', quantity: 7, total_amount: 21_000 },
      { product_id: ids.P1, product_name: 'P1 keyboard', quantity: 5, total_amount: 50_000 },
    ]);
    const fromMarch11 = await salesChart({ 'start-date': '2026-03-11', 'end-date': '2027-01-31' });
    expect(fromMarch11.results).toEqual([
      { product_id: ids.P2, product_name: 'P2 cable', quantity: 2, total_amount: 6_000 },
      { product_id: ids.P1, product_name: 'P1 keyboard', quantity: 1, total_amount: 10_000 },
    ]);
  });

  it('is empty for a range without sales', async () => {
    expect((await salesChart({ 'start-date': '2026-03-12', 'end-date': '2026-03-12' })).results).toEqual([]);
  });
});

describe('DST: America/New_York', () => {
  it('day buckets carry the offset in force and span 23 and 25 hours', async () => {
    const spring = await liveSales({ 'start-date': '2026-03-07', 'end-date': '2026-03-09', interval: 'day', timezone: 'America/New_York' });
    expect(spring.results.map((r: { datetime: string }) => r.datetime)).toEqual([
      '2026-03-07T00:00:00-05:00',
      '2026-03-08T00:00:00-05:00',
      '2026-03-09T00:00:00-04:00',
    ]);
    const springHours = await liveSales({ 'start-date': '2026-03-08', 'end-date': '2026-03-08', timezone: 'America/New_York' });
    expect(springHours.results).toHaveLength(23);
    expect(springHours.results.slice(1, 3).map((r: { datetime: string }) => r.datetime)).toEqual([
      '2026-03-08T01:00:00-05:00',
      '2026-03-08T03:00:00-04:00',
    ]);
    const fallHours = await liveSales({ 'start-date': '2026-11-01', 'end-date': '2026-11-01', timezone: 'America/New_York' });
    expect(fallHours.results).toHaveLength(25);
    expect(fallHours.results.slice(1, 3).map((r: { datetime: string }) => r.datetime)).toEqual([
      '2026-11-01T01:00:00-04:00',
      '2026-11-01T01:00:00-05:00',
    ]);
  });

  it('counts a customer once across the whole 25-hour day', async () => {
    const fall = await liveSales({ 'start-date': '2026-10-31', 'end-date': '2026-11-02', interval: 'day', timezone: 'America/New_York' });
    expect(fall.results).toEqual([
      { datetime: '2026-10-31T00:00:00-04:00', ...zero },
      {
        datetime: '2026-11-01T00:00:00-04:00',
        total_amount: 6_000,
        customer_count: 1,
        coupon_amount: 0,
        first_purchase_count: 1,
        first_purchase_amount: 3_000,
      },
      { datetime: '2026-11-02T00:00:00-05:00', ...zero },
    ]);
  });
});
