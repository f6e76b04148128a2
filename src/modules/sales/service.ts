// Sales: products, orders (with their aggregates written in the same batch) and the dashboards,
// which read only the pre-aggregated tables. Services take the bindings and plain values.
import { asc, count, eq, inArray, sql } from 'drizzle-orm';
import { getDb, type DB } from '../../db/client';
import { COUNTED_STATUSES, orderItems, orders, products, users, type OrderStatus } from '../../db/schema';
import { config, type Bindings } from '../../env';
import { isoOrNull, validationError } from '../../lib/openapi';
import { offsetOf, type PageArgs } from '../../lib/pagination';
import { ApiError } from '../../lib/problem';
import { ALWAYS, applyOrder, runBatch, settleFirstPurchase, wonRace, type OrderFigures } from './aggregates';
import { chartHours, dayBuckets, hourBuckets, lastMidnightHour, parseRange, type Bucket } from './buckets';
import './codes';
import { HOUR_MS } from './dates';

type ProductRow = typeof products.$inferSelect;
type OrderRow = typeof orders.$inferSelect;
type ItemRow = typeof orderItems.$inferSelect;

const iso = (ms: number) => new Date(ms).toISOString();

export const isCounted = (status: OrderStatus) => (COUNTED_STATUSES as readonly string[]).includes(status);

// ---- products ------------------------------------------------------------------------------

export function productView(env: Bindings, p: ProductRow) {
  return { id: p.id, name: p.name, price: p.price, currency: config(env).CURRENCY, created_at: iso(p.createdAt), updated_at: iso(p.updatedAt) };
}

export async function createProduct(env: Bindings, input: { name: string; price: number }): Promise<ProductRow> {
  const now = Date.now();
  return getDb(env.DB).insert(products).values({ ...input, createdAt: now, updatedAt: now }).returning().get();
}

export async function listProducts(env: Bindings, q: PageArgs): Promise<{ count: number; rows: ProductRow[] }> {
  const db = getDb(env.DB);
  const [total, rows] = await db.batch([
    db.select({ n: count() }).from(products),
    db.select().from(products).orderBy(asc(products.id)).limit(q.page_size).offset(offsetOf(q)),
  ]);
  return { count: total[0]?.n ?? 0, rows };
}

export async function updateProduct(env: Bindings, id: number, input: { name?: string; price?: number }): Promise<ProductRow> {
  const row = await getDb(env.DB)
    .update(products)
    .set({ ...input, updatedAt: Date.now() })
    .where(eq(products.id, id))
    .returning()
    .get();
  if (!row) throw new ApiError('NOT_FOUND');
  return row;
}

// ---- orders --------------------------------------------------------------------------------

export function orderView(env: Bindings, o: OrderRow, items: Pick<ItemRow, 'productId' | 'productName' | 'unitPrice' | 'quantity'>[]) {
  return {
    id: o.id,
    customer_id: o.customerId,
    status: o.status,
    item_price: o.itemPrice,
    discount_price: o.discountPrice,
    delivery_price: o.deliveryPrice,
    total_price: o.totalPrice,
    is_first_purchase: o.isFirstPurchase,
    payment_method: o.paymentMethod,
    paid_at: isoOrNull(o.paidAt),
    currency: config(env).CURRENCY,
    items: items.map((i) => ({ product_id: i.productId, product_name: i.productName, unit_price: i.unitPrice, quantity: i.quantity })),
    created_at: iso(o.createdAt),
    updated_at: iso(o.updatedAt),
  };
}

/** An `orders` row read with raw SQL (snake_case columns) as drizzle would map it. */
function orderFromRow(r: Record<string, unknown>): OrderRow {
  const n = (k: string) => r[k] as number;
  return {
    id: n('id'),
    customerId: n('customer_id'),
    status: r.status as OrderStatus,
    itemPrice: n('item_price'),
    discountPrice: n('discount_price'),
    deliveryPrice: n('delivery_price'),
    totalPrice: n('total_price'),
    isFirstPurchase: r.is_first_purchase === 1,
    paymentMethod: (r.payment_method as string | null) ?? null,
    paidAt: (r.paid_at as number | null) ?? null,
    createdAt: n('created_at'),
    updatedAt: n('updated_at'),
    rev: n('rev'),
  };
}

/** A fresh value for `orders.rev` (53 random bits): tells a batch whether its own UPDATE won. */
function newRev(): number {
  const [hi, lo] = crypto.getRandomValues(new Uint32Array(2));
  return (hi! & 0x1fffff) * 2 ** 32 + lo!;
}

function figures(
  env: Bindings,
  o: Pick<OrderRow, 'customerId' | 'paidAt' | 'totalPrice' | 'discountPrice'>,
  items: Pick<ItemRow, 'productId' | 'unitPrice' | 'quantity'>[],
): OrderFigures {
  const byProduct = new Map<number, [number, number, number]>();
  for (const i of items) {
    const line = byProduct.get(i.productId) ?? [i.productId, 0, 0];
    line[1] += i.quantity;
    line[2] += i.unitPrice * i.quantity;
    byProduct.set(i.productId, line);
  }
  return {
    customerId: o.customerId,
    hour: Math.floor(o.paidAt! / HOUR_MS),
    checkpoint: lastMidnightHour(Date.now(), config(env).DASHBOARD_TIMEZONE),
    totalPrice: o.totalPrice,
    discountPrice: o.discountPrice,
    lines: [...byProduct.values()],
  };
}

export interface CreateOrderInput {
  customer_id: number;
  items: { product_id: number; quantity: number }[];
  discount_price: number;
  delivery_price: number;
  payment_method?: string;
  status: OrderStatus;
  paid_at?: string;
}

async function loadProducts(db: DB, ids: number[]): Promise<Map<number, ProductRow>> {
  const rows = await db.select().from(products).where(inArray(products.id, [...new Set(ids)]));
  return new Map(rows.map((p) => [p.id, p]));
}

/** Records an order with its items and aggregates in one batch. */
export async function createOrder(env: Bindings, input: CreateOrderInput) {
  const db = getDb(env.DB);
  const [customer, catalogue] = await Promise.all([
    db.select({ id: users.id }).from(users).where(eq(users.id, input.customer_id)).get(),
    loadProducts(db, input.items.map((i) => i.product_id)),
  ]);
  if (!customer) throw new ApiError('NOT_FOUND', { detail: `No user ${input.customer_id}.` });
  const items = input.items.map((i) => {
    const p = catalogue.get(i.product_id);
    if (!p) throw new ApiError('NOT_FOUND', { detail: `No product ${i.product_id}.` });
    return { productId: p.id, productName: p.name, unitPrice: p.price, quantity: i.quantity };
  });
  const itemPrice = items.reduce((sum, i) => sum + i.unitPrice * i.quantity, 0);
  const totalPrice = itemPrice - input.discount_price + input.delivery_price;
  if (totalPrice < 0) throw validationError([{ path: 'discount_price', message: 'the discount exceeds item_price + delivery_price' }]);
  const now = Date.now();
  const counted = isCounted(input.status);
  const paidAt = input.paid_at ? Date.parse(input.paid_at) : counted ? now : null;
  const row = {
    customerId: input.customer_id,
    status: input.status,
    itemPrice,
    discountPrice: input.discount_price,
    deliveryPrice: input.delivery_price,
    totalPrice,
    isFirstPurchase: false,
    paymentMethod: input.payment_method ?? null,
    paidAt,
    createdAt: now,
    updatedAt: now,
    rev: newRev(),
  };
  // D1 runs a batch as one transaction with no other writer in between, so the new order is max(id).
  const newId = sql`(SELECT max(id) FROM orders)`;
  const aggregates = counted ? [...applyOrder(figures(env, row, items), 1, ALWAYS), ...settleFirstPurchase(row.customerId)] : [];
  const results = await runBatch(env.DB, [
    db.insert(orders).values(row),
    db.insert(orderItems).values(items.map((i) => ({ ...i, orderId: newId }))),
    ...aggregates,
    sql`SELECT * FROM orders WHERE id = ${newId}`,
  ]);
  const saved = orderFromRow(results[results.length - 1]!.results[0]!);
  return orderView(env, saved, items);
}

/**
 * Allowed moves. CANCELLED is final; COMPLETED may still be cancelled (a refund). Setting the
 * current status again is a no-op.
 */
const TRANSITIONS: Record<OrderStatus, OrderStatus[]> = {
  PENDING: ['PAID', 'CANCELLED'],
  PAID: ['SHIPPING', 'COMPLETED', 'CANCELLED'],
  SHIPPING: ['COMPLETED', 'CANCELLED'],
  COMPLETED: ['CANCELLED'],
  CANCELLED: [],
};

/**
 * Changes an order's status; a move into or out of the counted statuses moves the order into or out
 * of the aggregates and re-settles the customer's first purchase, all in one batch. The UPDATE is
 * conditional on the `rev` read here, so a concurrent change makes this batch a no-op; it then
 * retries from the new state.
 */
export async function changeOrderStatus(env: Bindings, id: number, status: OrderStatus) {
  const db = getDb(env.DB);
  for (let attempt = 0; attempt < 5; attempt++) {
    const [order, items] = await db.batch([
      db.select().from(orders).where(eq(orders.id, id)),
      db.select().from(orderItems).where(eq(orderItems.orderId, id)).orderBy(asc(orderItems.id)),
    ]);
    const current = order[0];
    if (!current) throw new ApiError('NOT_FOUND');
    if (current.status === status) return orderView(env, current, items);
    if (!TRANSITIONS[current.status].includes(status)) {
      throw new ApiError('INVALID_STATUS_TRANSITION', { extras: { from: current.status, to: status } });
    }
    const was = isCounted(current.status);
    const will = isCounted(status);
    const now = Date.now();
    const rev = newRev();
    const next = { ...current, status, paidAt: current.paidAt ?? (will ? now : null), updatedAt: now, rev };
    const moves =
      was === will ? [] : [...applyOrder(figures(env, next, items), will ? 1 : -1, wonRace(id, rev)), ...settleFirstPurchase(current.customerId)];
    const results = await runBatch(env.DB, [
      sql`UPDATE orders SET status = ${status}, paid_at = ${next.paidAt}, updated_at = ${now}, rev = ${rev}
        WHERE id = ${id} AND rev = ${current.rev}`,
      ...moves,
      sql`SELECT * FROM orders WHERE id = ${id}`,
    ]);
    if (results[0]!.meta.changes === 1) return orderView(env, orderFromRow(results[results.length - 1]!.results[0]!), items);
  }
  throw new Error(`order ${id}: status change lost the race 5 times`);
}

export async function getOrder(env: Bindings, id: number) {
  const db = getDb(env.DB);
  const [order, items] = await db.batch([
    db.select().from(orders).where(eq(orders.id, id)),
    db.select().from(orderItems).where(eq(orderItems.orderId, id)).orderBy(asc(orderItems.id)),
  ]);
  if (!order[0]) throw new ApiError('NOT_FOUND');
  return orderView(env, order[0], items);
}

// ---- dashboards ----------------------------------------------------------------------------

export interface LiveSalesInput {
  start: string;
  end?: string;
  interval: 'hour' | 'day';
  timezone?: string;
}

/** [bucket index, total_amount, customer_count, coupon_amount, first_purchase_count, first_purchase_amount] */
type BucketFigures = [number, ...(number | null)[]];

// Distinct customers of a window starting at hour s: at each hour h, those whose previous counted
// hour lies before s, i.e. more than h − s hours earlier (column c(h − s)).
const WINDOW_CUSTOMERS = sql.raw(`SUM(CASE h.hour - b.s ${Array.from({ length: 25 }, (_, k) => `WHEN ${k} THEN h.c${k}`).join(' ')} END)`);

// The buckets come back as one JSON array in one row: D1 hands over a single value instead of
// hundreds of row objects, which is most of the cost of a 744-bucket answer.
async function bucketFigures(db: DB, buckets: Bucket[], interval: 'hour' | 'day'): Promise<BucketFigures[]> {
  const first = buckets[0]!.start;
  const query =
    interval === 'hour'
      ? // One bucket per UTC hour: a plain range read in key order; c0 is the hour's distinct customers.
        sql`SELECT json_group_array(json_array(h.hour - ${first}, h.total_amount, h.c0, h.coupon_amount, h.first_purchase_count,
            h.first_purchase_amount)) AS figures
          FROM sales_hours h WHERE h.hour >= ${first} AND h.hour < ${buckets[buckets.length - 1]!.end}`
      : // Per bucket, one primary-key range read of its hours yields all five figures (no sorting).
        sql`SELECT json_group_array(json((SELECT json_array(b.i, SUM(h.total_amount), ${WINDOW_CUSTOMERS}, SUM(h.coupon_amount),
              SUM(h.first_purchase_count), SUM(h.first_purchase_amount))
            FROM sales_hours h WHERE h.hour >= b.s AND h.hour < b.e))) AS figures
          FROM (SELECT CAST(key AS INTEGER) AS i, json_extract(value, '$[0]') AS s, json_extract(value, '$[1]') AS e
                FROM json_each(${JSON.stringify(buckets.map((b) => [b.start, b.end]))})) AS b`;
  const row = await db.get<{ figures: string }>(query);
  return JSON.parse(row?.figures ?? '[]') as BucketFigures[];
}

export async function liveSales(env: Bindings, input: LiveSalesInput, now = Date.now()) {
  const tz = input.timezone ?? config(env).DASHBOARD_TIMEZONE;
  const { from, to } = parseRange({ start: input.start, end: input.end, tz, now });
  const buckets = input.interval === 'hour' ? hourBuckets(from, to, tz) : dayBuckets(from, to, tz);
  const byIndex = new Map((await bucketFigures(getDb(env.DB), buckets, input.interval)).map((r) => [r[0], r]));
  return {
    results: buckets.map((b, i) => {
      // A bucket without any hour row comes back as nulls (day) or not at all (hour).
      const r = byIndex.get(i) ?? EMPTY;
      return {
        datetime: b.datetime,
        total_amount: r[1] ?? 0,
        customer_count: r[2] ?? 0,
        coupon_amount: r[3] ?? 0,
        first_purchase_count: r[4] ?? 0,
        first_purchase_amount: r[5] ?? 0,
      };
    }),
  };
}

const EMPTY: BucketFigures = [0, 0, 0, 0, 0, 0];

export interface SalesChartInput {
  start: string;
  end?: string;
  limit: number;
  timezone?: string;
}

/**
 * Cumulative sales of product `p` before `hour`: the all-time totals when the hour is past the latest
 * sale, a checkpoint when one was taken at that hour (a few contiguous pages for all products), else
 * the product's last `product_sales` row before it (one seek). CASE evaluates only the branch taken.
 */
function soldBefore(column: 'quantity' | 'amount', hour: number) {
  const col = sql.raw(column);
  return sql`CASE
    WHEN ${hour} > (SELECT COALESCE(max(hour), 0) FROM sales_hours) THEN p.${sql.raw(`sold_${column}`)}
    WHEN EXISTS (SELECT 1 FROM product_checkpoints WHERE hour = ${hour})
      THEN COALESCE((SELECT ${col} FROM product_checkpoints WHERE hour = ${hour} AND product_id = p.id), 0)
    ELSE COALESCE((SELECT ${col} FROM product_sales WHERE product_id = p.id AND hour < ${hour} ORDER BY hour DESC LIMIT 1), 0)
  END`;
}

/** Products ranked by quantity sold in [start, end): cumulative sales before the end minus before the start. */
export async function salesChart(env: Bindings, input: SalesChartInput, now = Date.now()) {
  const tz = input.timezone ?? config(env).DASHBOARD_TIMEZONE;
  const { from, to } = parseRange({ start: input.start, end: input.end, tz, now });
  const { start, end } = chartHours(from, to, tz);
  const results = await getDb(env.DB).all<{ product_id: number; product_name: string; total_amount: number; quantity: number }>(sql`
    SELECT product_id, product_name, total_amount, quantity FROM (
      SELECT p.id AS product_id, p.name AS product_name,
        ${soldBefore('quantity', end)} - ${soldBefore('quantity', start)} AS quantity,
        ${soldBefore('amount', end)} - ${soldBefore('amount', start)} AS total_amount
      FROM products p
    )
    WHERE quantity > 0
    ORDER BY quantity DESC, total_amount DESC, product_name, product_id
    LIMIT ${input.limit}`);
  return { results };
}
