import { sql } from 'drizzle-orm';
import { check, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { ORDER_STATUSES } from '../../contract';
import { users } from './accounts';

/** Statuses whose orders count as sales (and may hold `is_first_purchase`). */
export const COUNTED_STATUSES = ['PAID', 'SHIPPING', 'COMPLETED'] as const;
// The order statuses live in src/contract.ts, which the web console shares.
export { ORDER_STATUSES };
export type { OrderStatus } from '../../contract';

/**
 * Every figure stays a number that JSON carries exactly (≤ 2^53 − 1): a product's all-time amount
 * (the chart's cumulative rows are never larger), and an hour's sums, capped at 2^53 / 32 so that a
 * day bucket (at most 25 hours) is exact too. CHECK constraints refuse the write of an order that
 * would pass them, atomically with the rest of its batch.
 */
export const MAX_EXACT = Number.MAX_SAFE_INTEGER;
export const HOUR_AMOUNT_CAP = 2 ** 53 / 32;

/** The hour cap on each of these columns, as one CHECK expression (shared with the Postgres schema). */
export function hourCap(...columns: unknown[]) {
  const cap = sql.raw(String(HOUR_AMOUNT_CAP));
  return sql.join(
    columns.map((c) => sql`${c} <= ${cap}`),
    sql` AND `,
  );
}

/** Widest gap (in hours) the distinct-customer columns distinguish: a DST day has 25 hours. */
export const GAP_COLUMNS = 25;

/**
 * `sold_quantity` / `sold_amount`: all-time counted sales, kept with product_sales; they answer the
 * upper bound of a chart range that reaches past the latest sale without a seek.
 */
// sold_amount ≤ MAX_EXACT: a trigger (migrations/0008), because SQLite adds a CHECK only by rebuilding
// the table, which order_items' foreign key to products forbids on D1. Postgres: a CHECK.
export const products = sqliteTable('products', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull(),
  price: integer('price').notNull(),
  soldQuantity: integer('sold_quantity').notNull().default(0),
  soldAmount: integer('sold_amount').notNull().default(0),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

/**
 * Orders. Money is in the currency's minor unit. `paid_at` (epoch ms) places a counted order in its
 * UTC hour bucket; `rev` changes on every status change, so a batch can tell whether its own
 * conditional UPDATE won (later statements check `rev`).
 */
export const orders = sqliteTable(
  'orders',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    customerId: integer('customer_id')
      .notNull()
      .references(() => users.id),
    status: text('status', { enum: ORDER_STATUSES }).notNull(),
    itemPrice: integer('item_price').notNull(),
    discountPrice: integer('discount_price').notNull(),
    deliveryPrice: integer('delivery_price').notNull(),
    totalPrice: integer('total_price').notNull(),
    isFirstPurchase: integer('is_first_purchase', { mode: 'boolean' }).notNull().default(false),
    paymentMethod: text('payment_method'),
    paidAt: integer('paid_at'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    rev: integer('rev').notNull(),
  },
  (t) => [
    // Exactly one first purchase per customer, whatever races happen above it.
    uniqueIndex('orders_one_first_purchase').on(t.customerId).where(sql`is_first_purchase = 1`),
    // The customer's earliest counted order (the rightful first purchase) in one seek.
    index('orders_customer_counted').on(t.customerId, t.paidAt, t.id).where(sql`status IN ('PAID', 'SHIPPING', 'COMPLETED')`),
    // GET /api/orders, newest first by (created_at, id): every filter reads one of these in key order
    // and stops after a page (src/modules/sales/repository.ts, listOrders).
    index('orders_created').on(t.createdAt, t.id),
    index('orders_customer_created').on(t.customerId, t.createdAt, t.id),
    index('orders_status_created').on(t.status, t.createdAt, t.id),
  ],
);

/** Order lines; product name and unit price are snapshots taken when the order was recorded. */
export const orderItems = sqliteTable(
  'order_items',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    orderId: integer('order_id')
      .notNull()
      .references(() => orders.id),
    productId: integer('product_id')
      .notNull()
      .references(() => products.id),
    productName: text('product_name').notNull(),
    unitPrice: integer('unit_price').notNull(),
    quantity: integer('quantity').notNull(),
  },
  (t) => [index('order_items_order').on(t.orderId)],
);

function gapColumns() {
  const cols: Record<string, ReturnType<typeof integer>> = {};
  for (let k = 0; k < GAP_COLUMNS; k++) cols[`c${k}`] = integer(`c${k}`).notNull().default(0);
  return cols as Record<`c${number}`, ReturnType<typeof integer>>;
}

/**
 * Sales per UTC hour (`hour` = floor(paid_at / 3600000)) of counted orders. `cK` counts the
 * customers with a counted order in this hour whose previous counted hour is more than K hours
 * earlier (or who have none): the distinct customers of any window of at most 25 hours starting at
 * hour s are then Σ_h c(h − s) (each customer is counted at its first hour inside the window).
 * `c0` alone is the hour's distinct customers.
 */
export const salesHours = sqliteTable(
  'sales_hours',
  {
    hour: integer('hour').primaryKey(),
    totalAmount: integer('total_amount').notNull().default(0),
    orderCount: integer('order_count').notNull().default(0),
    couponAmount: integer('coupon_amount').notNull().default(0),
    firstPurchaseCount: integer('first_purchase_count').notNull().default(0),
    firstPurchaseAmount: integer('first_purchase_amount').notNull().default(0),
    ...gapColumns(),
  },
  (t) => [check('sales_hours_amounts_exact', hourCap(t.totalAmount, t.couponAmount, t.firstPurchaseAmount))],
);

/** Counted orders per (customer, UTC hour): finds a customer's previous and next counted hour. */
export const customerHours = sqliteTable(
  'customer_hours',
  {
    customerId: integer('customer_id').notNull(),
    hour: integer('hour').notNull(),
    orders: integer('orders').notNull(),
  },
  (t) => [primaryKey({ columns: [t.customerId, t.hour] })],
);

/**
 * Cumulative sales per product up to and including each UTC hour in which it sold: any range
 * [a, b) is the row before b minus the row before a, two seeks per product whatever the length.
 */
export const productSales = sqliteTable(
  'product_sales',
  {
    productId: integer('product_id').notNull(),
    hour: integer('hour').notNull(),
    quantity: integer('quantity').notNull(),
    amount: integer('amount').notNull(),
  },
  (t) => [primaryKey({ columns: [t.productId, t.hour] })],
);

/**
 * Full snapshots of `product_sales` at some UTC hours: cumulative sales of every product before
 * `hour`. One is taken at the latest local midnight of DASHBOARD_TIMEZONE by the first order write
 * after it, and every later write to an earlier hour updates it, so a chart range starting at a
 * checkpoint reads its lower bound from a few contiguous pages instead of one seek per product.
 * A product without a row has sold nothing before `hour`.
 */
export const productCheckpoints = sqliteTable(
  'product_checkpoints',
  {
    hour: integer('hour').notNull(),
    productId: integer('product_id').notNull(),
    quantity: integer('quantity').notNull(),
    amount: integer('amount').notNull(),
  },
  (t) => [primaryKey({ columns: [t.hour, t.productId] })],
);
