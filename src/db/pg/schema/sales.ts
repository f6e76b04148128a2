// Postgres mirror of src/db/schema/sales.ts: same tables, columns and index names (tests/schema-parity.test.ts
// fails when they drift). Integers are bigint (SQLite integers are 64-bit; times are epoch ms), booleans
// stay 0/1 integers so raw SQL is the same on both backends.
import { sql } from 'drizzle-orm';
import { check, index, bigint, primaryKey, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { intBool } from './types';
import { users } from './accounts';
import { ORDER_STATUSES, GAP_COLUMNS, MAX_EXACT, hourCap } from '../../schema/sales';

export const products = pgTable(
  'products',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    name: text('name').notNull(),
    price: bigint('price', { mode: 'number' }).notNull(),
    soldQuantity: bigint('sold_quantity', { mode: 'number' }).notNull().default(0),
    soldAmount: bigint('sold_amount', { mode: 'number' }).notNull().default(0),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
  },
  (t) => [check('products_sold_amount_exact', sql`${t.soldAmount} <= ${sql.raw(String(MAX_EXACT))}`)],
);

export const orders = pgTable(
  'orders',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    customerId: bigint('customer_id', { mode: 'number' })
      .notNull()
      .references(() => users.id),
    status: text('status', { enum: ORDER_STATUSES }).notNull(),
    itemPrice: bigint('item_price', { mode: 'number' }).notNull(),
    discountPrice: bigint('discount_price', { mode: 'number' }).notNull(),
    deliveryPrice: bigint('delivery_price', { mode: 'number' }).notNull(),
    totalPrice: bigint('total_price', { mode: 'number' }).notNull(),
    isFirstPurchase: intBool('is_first_purchase').notNull().default(sql`0`),
    paymentMethod: text('payment_method'),
    paidAt: bigint('paid_at', { mode: 'number' }),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
    rev: bigint('rev', { mode: 'number' }).notNull(),
  },
  (t) => [
    uniqueIndex('orders_one_first_purchase').on(t.customerId).where(sql`is_first_purchase = 1`),
    index('orders_customer_counted').on(t.customerId, t.paidAt, t.id).where(sql`status IN ('PAID', 'SHIPPING', 'COMPLETED')`),
    index('orders_created').on(t.createdAt, t.id),
    index('orders_customer_created').on(t.customerId, t.createdAt, t.id),
    index('orders_status_created').on(t.status, t.createdAt, t.id),
  ],
);

export const orderItems = pgTable(
  'order_items',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    orderId: bigint('order_id', { mode: 'number' })
      .notNull()
      .references(() => orders.id),
    productId: bigint('product_id', { mode: 'number' })
      .notNull()
      .references(() => products.id),
    productName: text('product_name').notNull(),
    unitPrice: bigint('unit_price', { mode: 'number' }).notNull(),
    quantity: bigint('quantity', { mode: 'number' }).notNull(),
  },
  (t) => [index('order_items_order').on(t.orderId)],
);

function gapColumns() {
  const cols: Record<string, ReturnType<typeof bigint>> = {};
  for (let k = 0; k < GAP_COLUMNS; k++) cols[`c${k}`] = bigint(`c${k}`, { mode: 'number' }).notNull().default(0);
  return cols as Record<`c${number}`, ReturnType<typeof bigint>>;
}

export const salesHours = pgTable(
  'sales_hours',
  {
    hour: bigint('hour', { mode: 'number' }).primaryKey(),
    totalAmount: bigint('total_amount', { mode: 'number' }).notNull().default(0),
    orderCount: bigint('order_count', { mode: 'number' }).notNull().default(0),
    couponAmount: bigint('coupon_amount', { mode: 'number' }).notNull().default(0),
    firstPurchaseCount: bigint('first_purchase_count', { mode: 'number' }).notNull().default(0),
    firstPurchaseAmount: bigint('first_purchase_amount', { mode: 'number' }).notNull().default(0),
    ...gapColumns(),
  },
  (t) => [check('sales_hours_amounts_exact', hourCap(t.totalAmount, t.couponAmount, t.firstPurchaseAmount))],
);

export const customerHours = pgTable(
  'customer_hours',
  {
    customerId: bigint('customer_id', { mode: 'number' }).notNull(),
    hour: bigint('hour', { mode: 'number' }).notNull(),
    orders: bigint('orders', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.customerId, t.hour] })],
);

export const productSales = pgTable(
  'product_sales',
  {
    productId: bigint('product_id', { mode: 'number' }).notNull(),
    hour: bigint('hour', { mode: 'number' }).notNull(),
    quantity: bigint('quantity', { mode: 'number' }).notNull(),
    amount: bigint('amount', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.productId, t.hour] })],
);

export const productCheckpoints = pgTable(
  'product_checkpoints',
  {
    hour: bigint('hour', { mode: 'number' }).notNull(),
    productId: bigint('product_id', { mode: 'number' }).notNull(),
    quantity: bigint('quantity', { mode: 'number' }).notNull(),
    amount: bigint('amount', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.hour, t.productId] })],
);
