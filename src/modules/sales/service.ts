// Sales: products, orders (with their aggregates written in the same batch) and the dashboards,
// which read only the pre-aggregated tables. Services take the unit of work's context (`Ctx`: store,
// config, bindings) and plain values; the data access is in repository.ts.
import { COUNTED_STATUSES, type OrderStatus } from '../../db/schema';
import type { Store } from '../../db/store';
import type { Ctx } from '../../context';
import { isoOrNull, validationError } from '../../lib/openapi';
import { cursorPage, decodeCursor, offsetOf, type PageArgs } from '../../lib/pagination';
import { ApiError } from '../../lib/problem';
import { userExists } from '../accounts';
import { chartHours, dayBuckets, hourBuckets, lastMidnightHour, parseRange } from './buckets';
import { parseDateParam, rangeEnd, rangeStart } from './dates';
import type { OrderListInput } from './schemas';
import * as repo from './repository';
import type { BucketFigures, ItemRow, OrderFigures, OrderRow, ProductRow } from './repository';
import { checkViolation } from '../../db/errors';

const iso = (ms: number) => new Date(ms).toISOString();

export const isCounted = (status: OrderStatus) => (COUNTED_STATUSES as readonly string[]).includes(status);

// ---- products ------------------------------------------------------------------------------

export function productView(ctx: Ctx, p: ProductRow) {
  return { id: p.id, name: p.name, price: p.price, currency: ctx.config.CURRENCY, created_at: iso(p.createdAt), updated_at: iso(p.updatedAt) };
}

export async function createProduct(ctx: Ctx, input: { name: string; price: number }): Promise<ProductRow> {
  const now = Date.now();
  return repo.insertProduct(ctx.store, { ...input, createdAt: now, updatedAt: now });
}

export async function listProducts(ctx: Ctx, q: PageArgs): Promise<{ count: number; rows: ProductRow[] }> {
  return repo.productPage(ctx.store, q.page_size, offsetOf(q));
}

export async function updateProduct(ctx: Ctx, id: number, input: { name?: string; price?: number }): Promise<ProductRow> {
  const row = await repo.updateProductRow(ctx.store, id, { ...input, updatedAt: Date.now() });
  if (!row) throw new ApiError('NOT_FOUND');
  return row;
}

// ---- orders --------------------------------------------------------------------------------

export function orderView(ctx: Ctx, o: OrderRow, items: Pick<ItemRow, 'productId' | 'productName' | 'unitPrice' | 'quantity'>[]) {
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
    currency: ctx.config.CURRENCY,
    items: items.map((i) => ({ product_id: i.productId, product_name: i.productName, unit_price: i.unitPrice, quantity: i.quantity })),
    created_at: iso(o.createdAt),
    updated_at: iso(o.updatedAt),
  };
}

/** A fresh value for `orders.rev` (53 random bits): tells a batch whether its own UPDATE won. */
function newRev(): number {
  const [hi, lo] = crypto.getRandomValues(new Uint32Array(2));
  return (hi! & 0x1fffff) * 2 ** 32 + lo!;
}

function figures(
  ctx: Ctx,
  o: Pick<OrderRow, 'customerId' | 'totalPrice' | 'discountPrice'>,
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
    checkpoint: lastMidnightHour(Date.now(), ctx.config.DASHBOARD_TIMEZONE),
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

async function loadProducts(s: Store, ids: number[]): Promise<Map<number, ProductRow>> {
  const rows = await repo.productsByIds(s, [...new Set(ids)]);
  return new Map(rows.map((p) => [p.id, p]));
}

/** Records an order with its items and aggregates in one batch. */
export async function createOrder(ctx: Ctx, input: CreateOrderInput) {
  const s = ctx.store;
  const [customer, catalogue] = await Promise.all([
    userExists(s, input.customer_id),
    loadProducts(
      s,
      input.items.map((i) => i.product_id),
    ),
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
  const row = {
    customerId: input.customer_id,
    status: input.status,
    itemPrice,
    discountPrice: input.discount_price,
    deliveryPrice: input.delivery_price,
    totalPrice,
    isFirstPurchase: false,
    paymentMethod: input.payment_method ?? null,
    // A counted order without paid_at is paid when the batch commits (the repository stamps it).
    paidAt: input.paid_at ? Date.parse(input.paid_at) : null,
    createdAt: now,
    updatedAt: now,
    rev: newRev(),
  };
  const saved = await exactFigures(repo.insertOrder(s, row, items, counted ? figures(ctx, row, items) : null));
  return orderView(ctx, saved, items);
}

/** The checks that keep every stored figure exact (src/db/schema/sales.ts) refused the whole batch. */
async function exactFigures<T>(write: Promise<T>): Promise<T> {
  try {
    return await write;
  } catch (err) {
    if (checkViolation(err, ['sales_hours_amounts_exact', 'products_sold_amount_exact'])) throw new ApiError('SALES_LIMIT_EXCEEDED');
    throw err;
  }
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
export async function changeOrderStatus(ctx: Ctx, id: number, status: OrderStatus) {
  const s = ctx.store;
  for (let attempt = 0; attempt < 5; attempt++) {
    const found = await repo.readOrder(s, id);
    if (!found) throw new ApiError('NOT_FOUND');
    const { order: current, items } = found;
    if (current.status === status) return orderView(ctx, current, items);
    if (!TRANSITIONS[current.status].includes(status)) {
      throw new ApiError('INVALID_STATUS_TRANSITION', { extras: { from: current.status, to: status } });
    }
    const was = isCounted(current.status);
    const will = isCounted(status);
    const now = Date.now();
    const move = was === will ? null : { figures: figures(ctx, current, items), sign: will ? (1 as const) : (-1 as const) };
    const saved = await exactFigures(repo.changeStatus(s, current, { status, counted: will, updatedAt: now, rev: newRev(), move }));
    if (saved) return orderView(ctx, saved, items);
  }
  throw new Error(`order ${id}: status change lost the race 5 times`);
}

export async function getOrder(ctx: Ctx, id: number) {
  const found = await repo.readOrder(ctx.store, id);
  if (!found) throw new ApiError('NOT_FOUND');
  return orderView(ctx, found.order, found.items);
}

/**
 * GET /api/orders: newest first by (created_at, id), keyset-paged only (a page at any depth is one
 * index range read; an exact count of millions of orders would be a scan, so there is none).
 */
export async function listOrders(ctx: Ctx, q: OrderListInput, url: string) {
  const tz = ctx.config.DASHBOARD_TIMEZONE;
  const day = (text: string | undefined, path: 'from' | 'to') => {
    if (text === undefined) return undefined;
    const parsed = parseDateParam(text, tz);
    if (parsed?.kind !== 'date') throw validationError([{ path, message: 'expected a date YYYY-MM-DD' }]);
    return parsed;
  };
  const from = day(q.from, 'from');
  const to = day(q.to, 'to');
  const filter: repo.OrderFilter = {
    status: q.status,
    customerId: q.customer_id,
    minTotal: q.min_total,
    from: from && rangeStart(from, tz),
    // rangeEnd is the day's last millisecond; the filter's upper bound is exclusive.
    to: to && rangeEnd(to, tz) + 1,
  };
  if (filter.from !== undefined && filter.to !== undefined && filter.from >= filter.to) throw new ApiError('INVALID_DATE_RANGE');
  const after = q.cursor ? (decodeCursor(q.cursor, 2) as [number, number]) : null;
  const rows = await repo.listOrders(ctx.store, filter, after, q.page_size + 1);
  const page = cursorPage(url, q.page_size, rows, (r) => [r.order.createdAt, r.order.id]);
  return { ...page, previous: null, results: page.results.map((r) => orderView(ctx, r.order, r.items)) };
}

// ---- dashboards ----------------------------------------------------------------------------

export interface LiveSalesInput {
  start: string;
  end?: string;
  interval: 'hour' | 'day';
  timezone?: string;
}

export async function liveSales(ctx: Ctx, input: LiveSalesInput, now = Date.now()) {
  const tz = input.timezone ?? ctx.config.DASHBOARD_TIMEZONE;
  const { from, to } = parseRange({ start: input.start, end: input.end, tz, now });
  const buckets = input.interval === 'hour' ? hourBuckets(from, to, tz) : dayBuckets(from, to, tz);
  const byIndex = new Map((await repo.bucketFigures(ctx.store, buckets, input.interval)).map((r) => [r[0], r]));
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

/** Products ranked by quantity sold in [start, end): cumulative sales before the end minus before the start. */
export async function salesChart(ctx: Ctx, input: SalesChartInput, now = Date.now()) {
  const tz = input.timezone ?? ctx.config.DASHBOARD_TIMEZONE;
  const { from, to } = parseRange({ start: input.start, end: input.end, tz, now });
  const { start, end } = chartHours(from, to, tz);
  return { results: await repo.productRanking(ctx.store, start, end, input.limit) };
}
