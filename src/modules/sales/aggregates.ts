// The statements that keep the pre-aggregated tables in step with the orders. Each builder returns
// statements for one D1 batch (one transaction), so an order write and its aggregates commit
// together. Every statement reads the state it changes inside SQL, and `guard` (true only if the
// batch's own conditional order UPDATE won) makes a lost race change nothing.
import { sql, type SQL } from 'drizzle-orm';
import { SQLiteAsyncDialect } from 'drizzle-orm/sqlite-core';
import { GAP_COLUMNS } from '../../db/schema';

type Statement = SQL;
type Compilable = SQL | { toSQL(): { sql: string; params: unknown[] } };

const dialect = new SQLiteAsyncDialect();

/**
 * Runs statements as one D1 batch (one transaction). drizzle's own `db.batch` cannot carry raw
 * `sql` statements with parameters (drizzle-orm 0.45: SQLiteRaw has no prepared statement), so
 * the queries are compiled by drizzle and bound here.
 */
export function runBatch(d1: D1Database, queries: Compilable[]): Promise<D1Result<Record<string, unknown>>[]> {
  return d1.batch(
    queries.map((q) => {
      const { sql: text, params } = 'toSQL' in q ? q.toSQL() : dialect.sqlToQuery(q);
      return d1.prepare(text).bind(...params);
    }),
  );
}

/** 1 for every batch that inserts its order (the insert itself fails the batch otherwise). */
export const ALWAYS = sql`1`;

/** True once this batch's `UPDATE orders … SET rev = newRev WHERE rev = oldRev` has changed the row. */
export const wonRace = (orderId: number, rev: number) => sql`EXISTS (SELECT 1 FROM orders WHERE id = ${orderId} AND rev = ${rev})`;

const GAP_NAMES = Array.from({ length: GAP_COLUMNS }, (_, k) => `c${k}`);
const gapList = sql.raw(GAP_NAMES.join(', '));
const addGaps = sql.raw(GAP_NAMES.map((c) => `${c} = ${c} + excluded.${c}`).join(', '));
const gapValues = (expr: (k: number) => string) => sql.raw(GAP_NAMES.map((_, k) => expr(k)).join(', '));

export interface OrderFigures {
  customerId: number;
  hour: number;
  /** The UTC hour of the latest local midnight (DASHBOARD_TIMEZONE) for a product checkpoint, if any. */
  checkpoint: number | null;
  totalPrice: number;
  discountPrice: number;
  /** Per product: [product_id, quantity, amount], one entry per product. */
  lines: [number, number, number][];
}

/** Adds (sign 1) or removes (sign −1) a counted order from every aggregate. */
export function applyOrder(o: OrderFigures, sign: 1 | -1, guard: SQL): Statement[] {
  return [hourTotals(o, sign, guard), ...customerHour(o.customerId, o.hour, sign, guard), ...productSales(o, sign, guard)];
}

function hourTotals(o: OrderFigures, sign: 1 | -1, guard: SQL): Statement {
  return sql`INSERT INTO sales_hours (hour, total_amount, order_count, coupon_amount)
    SELECT ${o.hour}, ${sign * o.totalPrice}, ${sign}, ${sign * o.discountPrice} WHERE ${guard}
    ON CONFLICT (hour) DO UPDATE SET total_amount = total_amount + excluded.total_amount,
      order_count = order_count + excluded.order_count, coupon_amount = coupon_amount + excluded.coupon_amount`;
}

/**
 * Distinct customers. Only a customer's first order in an hour (or the removal of its last one)
 * changes them: then the customer's "previous counted hour" changes for this hour and for its next
 * counted hour, and the gap columns cK of both hours move accordingly (see salesHours).
 */
function customerHour(customerId: number, hour: number, sign: 1 | -1, guard: SQL): Statement[] {
  const prev = sql`COALESCE((SELECT max(hour) FROM customer_hours WHERE customer_id = ${customerId} AND hour < ${hour}), ${hour - 100_000})`;
  const next = sql`(SELECT min(hour) FROM customer_hours WHERE customer_id = ${customerId} AND hour > ${hour})`;
  const changes =
    sign > 0
      ? sql`NOT EXISTS (SELECT 1 FROM customer_hours WHERE customer_id = ${customerId} AND hour = ${hour})`
      : sql`EXISTS (SELECT 1 FROM customer_hours WHERE customer_id = ${customerId} AND hour = ${hour} AND orders = 1)`;
  const s = String(sign);
  const stmts: Statement[] = [
    sql`INSERT INTO sales_hours (hour, ${gapList})
      SELECT n, ${gapValues((k) => `${s} * ((n - h > ${k}) - (n - p > ${k}))`)}
      FROM (SELECT ${next} AS n, ${hour} AS h, ${prev} AS p)
      WHERE n IS NOT NULL AND ${changes} AND ${guard}
      ON CONFLICT (hour) DO UPDATE SET ${addGaps}`,
    sql`INSERT INTO sales_hours (hour, ${gapList})
      SELECT h, ${gapValues((k) => `${s} * (h - p > ${k})`)}
      FROM (SELECT ${hour} AS h, ${prev} AS p)
      WHERE ${changes} AND ${guard}
      ON CONFLICT (hour) DO UPDATE SET ${addGaps}`,
  ];
  if (sign > 0) {
    stmts.push(
      sql`INSERT INTO customer_hours (customer_id, hour, orders) SELECT ${customerId}, ${hour}, 1 WHERE ${guard}
        ON CONFLICT (customer_id, hour) DO UPDATE SET orders = orders + 1`,
    );
  } else {
    stmts.push(
      sql`UPDATE customer_hours SET orders = orders - 1 WHERE customer_id = ${customerId} AND hour = ${hour} AND ${guard}`,
      sql`DELETE FROM customer_hours WHERE customer_id = ${customerId} AND hour = ${hour} AND orders <= 0`,
    );
  }
  return stmts;
}

/** Cumulative per-product sales: start a row at this hour if needed, then shift it, later rows and the all-time totals. */
function productSales(o: OrderFigures, sign: 1 | -1, guard: SQL): Statement[] {
  const lines = JSON.stringify(o.lines);
  return [
    // First, so that a checkpoint taken now reads the state before this order.
    ...productCheckpoints(o, sign, guard),
    sql`INSERT INTO product_sales (product_id, hour, quantity, amount)
      SELECT j.pid, ${o.hour},
        COALESCE((SELECT quantity FROM product_sales WHERE product_id = j.pid AND hour < ${o.hour} ORDER BY hour DESC LIMIT 1), 0),
        COALESCE((SELECT amount FROM product_sales WHERE product_id = j.pid AND hour < ${o.hour} ORDER BY hour DESC LIMIT 1), 0)
      FROM (SELECT json_extract(value, '$[0]') AS pid FROM json_each(${lines})) AS j
      WHERE ${guard}
      ON CONFLICT (product_id, hour) DO NOTHING`,
    sql`UPDATE product_sales SET quantity = quantity + ${sign} * d.q, amount = amount + ${sign} * d.a
      FROM (SELECT json_extract(value, '$[0]') AS pid, json_extract(value, '$[1]') AS q, json_extract(value, '$[2]') AS a
            FROM json_each(${lines})) AS d
      WHERE product_sales.product_id = d.pid AND product_sales.hour >= ${o.hour} AND ${guard}`,
    sql`UPDATE products SET sold_quantity = sold_quantity + ${sign} * d.q, sold_amount = sold_amount + ${sign} * d.a
      FROM (SELECT json_extract(value, '$[0]') AS pid, json_extract(value, '$[1]') AS q, json_extract(value, '$[2]') AS a
            FROM json_each(${lines})) AS d
      WHERE products.id = d.pid AND ${guard}`,
  ];
}

/**
 * Takes today's checkpoint if this is the first write since the local midnight, then shifts every
 * checkpoint after the order's hour (an upsert: a product may have no row yet).
 */
function productCheckpoints(o: OrderFigures, sign: 1 | -1, guard: SQL): Statement[] {
  const lines = JSON.stringify(o.lines);
  const stmts: Statement[] = [];
  if (o.checkpoint !== null) {
    stmts.push(sql`INSERT INTO product_checkpoints (hour, product_id, quantity, amount)
      SELECT ${o.checkpoint}, p.id, s.quantity, s.amount FROM products p
      JOIN product_sales s ON s.product_id = p.id
        AND s.hour = (SELECT max(hour) FROM product_sales WHERE product_id = p.id AND hour < ${o.checkpoint})
      WHERE NOT EXISTS (SELECT 1 FROM product_checkpoints WHERE hour = ${o.checkpoint}) AND ${guard}
      ON CONFLICT (hour, product_id) DO NOTHING`);
  }
  stmts.push(sql`INSERT INTO product_checkpoints (hour, product_id, quantity, amount)
    SELECT c.hour, json_extract(d.value, '$[0]'), ${sign} * json_extract(d.value, '$[1]'), ${sign} * json_extract(d.value, '$[2]')
    FROM (SELECT DISTINCT hour FROM product_checkpoints WHERE hour > ${o.hour}) AS c, json_each(${lines}) AS d
    WHERE ${guard}
    ON CONFLICT (hour, product_id) DO UPDATE SET quantity = quantity + excluded.quantity, amount = amount + excluded.amount`);
  return stmts;
}

/**
 * Puts `is_first_purchase` on the customer's earliest counted order (by paid_at, then id) and
 * moves its first-purchase figures with it. Idempotent and derived from the committed state, so it
 * is safe after any write; the partial unique index refuses a second flag whatever happens.
 */
export function settleFirstPurchase(customerId: number): Statement[] {
  const first = sql`(SELECT id FROM orders WHERE customer_id = ${customerId} AND status IN ('PAID', 'SHIPPING', 'COMPLETED')
    ORDER BY paid_at, id LIMIT 1)`;
  const moveFigures = (where: SQL, sign: string) =>
    sql`INSERT INTO sales_hours (hour, first_purchase_count, first_purchase_amount)
      SELECT CAST(paid_at / 3600000 AS INTEGER), ${sql.raw(sign)}1, ${sql.raw(sign)}total_price FROM orders WHERE ${where}
      ON CONFLICT (hour) DO UPDATE SET first_purchase_count = first_purchase_count + excluded.first_purchase_count,
        first_purchase_amount = first_purchase_amount + excluded.first_purchase_amount`;
  const stale = sql`customer_id = ${customerId} AND is_first_purchase = 1 AND id IS NOT ${first}`;
  const rightful = sql`id = ${first} AND is_first_purchase = 0`;
  return [
    moveFigures(stale, '-'),
    sql`UPDATE orders SET is_first_purchase = 0 WHERE ${stale}`,
    moveFigures(rightful, ''),
    sql`UPDATE orders SET is_first_purchase = 1 WHERE ${rightful}`,
  ];
}
