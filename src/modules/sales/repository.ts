// All sales data access, on D1 or Postgres: products, orders with the pre-aggregated tables written
// in the same batch, and the dashboard reads (which read only those tables).
//
// An order write and its aggregates go out as one store write: one D1 batch, or one Postgres
// transaction that first takes the sales lock. The aggregates (hours, customers' hours, products'
// cumulative rows, checkpoints) are shared by every order and each statement reads the state it
// changes inside SQL, so order writes must not overlap: D1 has one writer; on Postgres the sales
// lock orders them (and only them: accounts, payments and machines never wait for it). A status
// change's `guard` (true only if the batch's own conditional UPDATE won) makes a lost race change
// nothing. Statements are drizzle `sql` templates valid in both dialects (bound integers are CAST where
// Postgres cannot infer their type, upsert columns are qualified, boolean comparisons become CASE);
// JSON tables and aggregation, the clock and the collation come from src/db/dialect/sql.ts.
import { eq, inArray, sql, type SQL } from 'drizzle-orm';
import { binaryOrder, clockMs, jsonArray, jsonArrayInOrder, jsonGroupArray, jsonObject, jsonTable, jsonValue } from '../../db/dialect/sql';
import { columnsOf, outboxEvent } from '../webhooks';
import { GAP_COLUMNS, type OrderStatus, type orderItems, type orders, type products } from '../../db/schema';
import { fromRow } from '../../db/rows';
import { raw, type Lock, type Row, type Store } from '../../db/store';

export type ProductRow = typeof products.$inferSelect;
export type OrderRow = typeof orders.$inferSelect;
export type ItemRow = typeof orderItems.$inferSelect;
export type NewOrder = Omit<OrderRow, 'id'>;
export type NewItem = Omit<ItemRow, 'id' | 'orderId'>;

// ---- statements and batches ----------------------------------------------------------------

/** Order writes are alone on the aggregates on Postgres (see the header). */
const SALES_LOCK: Lock[] = [['sales', 0]];

/** A bound integer in a place where Postgres cannot infer its type (select lists, `? AS x`). */
const int = (v: number) => sql`CAST(${v} AS BIGINT)`;

/** The lines of an order ([product_id, quantity, amount] per product) as a derived table pid, q, a. */
const linesTable = (s: Store, lines: [number, number, number][]) =>
  jsonTable(s.dialect, JSON.stringify(lines), [
    ['pid', 'bigint'],
    ['q', 'bigint'],
    ['a', 'bigint'],
  ]);

// ---- rows read with raw SQL (snake_case columns), mapped as drizzle would ------------------

// Rows of raw statements, read with this backend's column definitions.
const productFromRow =
  (s: Store) =>
  (r: Row): ProductRow =>
    fromRow(s.t.products, r);
const orderFromRow = (s: Store, r: Row): OrderRow => fromRow(s.t.orders, r);
const itemFromRow =
  (s: Store) =>
  (r: Row): ItemRow =>
    fromRow(s.t.orderItems, r);

// ---- products ------------------------------------------------------------------------------

export async function insertProduct(s: Store, values: Omit<ProductRow, 'id' | 'soldQuantity' | 'soldAmount'>): Promise<ProductRow> {
  const { products } = s.t;
  return (await s.run(s.db.insert(products).values(values).returning()))[0]!;
}

/** The product count and one page, in one batch. */
export async function productPage(s: Store, limit: number, offset: number): Promise<{ count: number; rows: ProductRow[] }> {
  const [total, page] = await s.read([
    raw<{ n: number }>(sql`SELECT count(*) AS n FROM products`),
    raw(sql`SELECT * FROM products ORDER BY id LIMIT ${limit} OFFSET ${offset}`),
  ]);
  return { count: Number(total[0]?.n ?? 0), rows: page.map(productFromRow(s)) };
}

export async function updateProductRow(
  s: Store,
  id: number,
  values: Partial<Pick<ProductRow, 'name' | 'price' | 'updatedAt'>>,
): Promise<ProductRow | null> {
  const { products } = s.t;
  return (await s.run(s.db.update(products).set(values).where(eq(products.id, id)).returning()))[0] ?? null;
}

export async function productsByIds(s: Store, ids: number[]): Promise<ProductRow[]> {
  const { products } = s.t;
  return s.select(s.db.select().from(products).where(inArray(products.id, ids)));
}

// ---- orders --------------------------------------------------------------------------------

/** An order with its items, read in one batch; null if there is no such order. */
export async function readOrder(s: Store, id: number): Promise<{ order: OrderRow; items: ItemRow[] } | null> {
  const [order, items] = await s.read([
    raw(sql`SELECT * FROM orders WHERE id = ${id}`),
    raw(sql`SELECT * FROM order_items WHERE order_id = ${id} ORDER BY id`),
  ]);
  const row = order[0];
  return row ? { order: orderFromRow(s, row), items: items.map(itemFromRow(s)) } : null;
}

/** GET /api/orders filters; created_at bounds in epoch ms (from inclusive, to exclusive). */
export interface OrderFilter {
  status?: OrderStatus;
  customerId?: number;
  from?: number;
  to?: number;
  minTotal?: number;
}

/** An order of a list with its items (as a JSON array of [product_id, product_name, unit_price, quantity]). */
export interface ListedOrder {
  order: OrderRow;
  items: Pick<ItemRow, 'productId' | 'productName' | 'unitPrice' | 'quantity'>[];
}

type ItemTuple = [number, string, number, number];

/**
 * Up to `limit` orders newest first by (created_at, id), after the keyset position `after` if any,
 * each with its items: one statement, so one round trip on either backend. Each filter reads an
 * index in key order and stops after the page: `customer_id` → orders_customer_created, else `status`
 * → orders_status_created, else orders_created (from/to bound the range; min_total is tested on the
 * rows walked). With both customer_id and status the status term is written `status || ''` so that
 * neither planner walks the status index (thousands of a status's orders) instead of the customer's
 * few.
 */
export async function listOrders(s: Store, f: OrderFilter, after: [number, number] | null, limit: number): Promise<ListedOrder[]> {
  const where: SQL[] = [];
  if (f.customerId !== undefined) where.push(sql`o.customer_id = ${f.customerId}`);
  if (f.status !== undefined) where.push(f.customerId !== undefined ? sql`o.status || '' = ${f.status}` : sql`o.status = ${f.status}`);
  if (f.from !== undefined) where.push(sql`o.created_at >= ${f.from}`);
  if (f.to !== undefined) where.push(sql`o.created_at < ${f.to}`);
  if (f.minTotal !== undefined) where.push(sql`o.total_price >= ${f.minTotal}`);
  // The keyset bound as a range on the index's first ordered column (created_at ≤ c), then the tie on
  // id: an OR on its own would not bound the index walk (a page 45 days back read every newer row).
  if (after) where.push(sql`o.created_at <= ${after[0]} AND (o.created_at < ${after[0]} OR o.id < ${after[1]})`);
  const item = jsonArray(s.dialect, sql`i.product_id, i.product_name, i.unit_price, i.quantity`);
  const items = jsonArrayInOrder(s.dialect, item, sql`(SELECT * FROM order_items WHERE order_id = o.id)`, sql`i.id`);
  const rows = await s.rows<Row & { items_json: unknown }>(
    sql`SELECT o.*, ${items} AS items_json FROM orders o
      ${where.length > 0 ? sql`WHERE ${sql.join(where, sql` AND `)}` : sql``}
      ORDER BY o.created_at DESC, o.id DESC LIMIT ${limit}`,
  );
  return rows.map((r) => {
    // SQLite hands JSON over as text; node-postgres parses json values itself.
    const json = r.items_json ?? [];
    const tuples = (typeof json === 'string' ? JSON.parse(json) : json) as ItemTuple[];
    return {
      order: orderFromRow(s, r),
      items: tuples.map(([productId, productName, unitPrice, quantity]) => ({ productId, productName, unitPrice, quantity })),
    };
  });
}

export interface OrderFigures {
  customerId: number;
  /** The UTC hour of the latest local midnight (DASHBOARD_TIMEZONE) for a product checkpoint, if any. */
  checkpoint: number | null;
  totalPrice: number;
  discountPrice: number;
  /** Per product: [product_id, quantity, amount], one entry per product. */
  lines: [number, number, number][];
}

/** The UTC hour of an order's paid_at, read from its row. */
const paidHour = (orderId: number | SQL) => sql`(SELECT CAST(paid_at / 3600000 AS BIGINT) FROM orders WHERE id = ${orderId})`;

/**
 * Records an order and its items, and (given its figures, for a counted order) adds it to the
 * aggregates and settles the customer's first purchase, all in one batch. A counted order without
 * paid_at is paid now: the database's clock (clockMs), read inside the batch, so orders take their
 * paid_at in the order the writer commits them and a later write never finds an earlier "now" (a
 * Worker's Date.now() read before the batch waited for its turn could be earlier than that of a
 * batch committed before it, and would move a first purchase already answered).
 */
// ---- events (the outbox: src/modules/webhooks/outbox.ts) ----------------------------------------

/** An order's event object over `orders o`, as GET /api/orders/{id} answers it (staff endpoints only). */
function orderObject(s: Store) {
  const line = jsonObject(s.dialect, columnsOf('i', ['product_id', 'product_name', 'unit_price', 'quantity']));
  const lines = sql`(SELECT ${jsonGroupArray(s.dialect, s.dialect === 'postgres' ? sql`CAST(${line} AS json)` : sql`json(${line})`)}
    FROM (SELECT * FROM order_items WHERE order_id = o.id ORDER BY id) i)`;
  return {
    ...columnsOf('o', ['id', 'customer_id', 'status', 'item_price', 'discount_price', 'delivery_price', 'total_price', 'is_first_purchase']),
    ...columnsOf('o', ['payment_method', 'paid_at']),
    currency: sql`CAST(NULL AS text)`,
    items: lines,
    ...columnsOf('o', ['created_at', 'updated_at']),
  };
}

const orderEvent = (s: Store, type: 'order.created' | 'order.status_changed', where: SQL) =>
  outboxEvent(s, { type, from: sql`orders o WHERE ${where}`, userId: null, object: orderObject(s) });

export async function insertOrder(s: Store, row: NewOrder, items: NewItem[], figures: OrderFigures | null): Promise<OrderRow> {
  const { orders } = s.t;
  // The batch runs with no other order write in between (D1; Postgres: the sales lock), so the new
  // order is max(id).
  const newId = sql`(SELECT max(id) FROM orders)`;
  const paidAt = row.paidAt ?? (figures ? clockMs(s.dialect) : null);
  const aggregates = figures ? [...applyOrder(s, figures, paidHour(newId), 1, ALWAYS), ...settleFirstPurchase(row.customerId)] : [];
  const results = await s.write(
    [
      s.db.insert(orders).values({ ...row, paidAt }),
      raw(insertItems(s, newId, items)),
      ...aggregates.map((q) => raw(q)),
      // order.created, with the order as it stands after the batch (first purchase settled).
      orderEvent(s, 'order.created', sql`o.id = ${newId}`),
      raw(sql`SELECT * FROM orders WHERE id = ${newId}`),
    ],
    SALES_LOCK,
  );
  return orderFromRow(s, (results[results.length - 1] as Row[])[0]!);
}

/**
 * The items as one JSON parameter (an order may have 100 lines: five bound values each would pass
 * D1's limit on bound parameters), inserted in their order so that ids follow it.
 */
function insertItems(s: Store, orderId: SQL, items: NewItem[]): SQL {
  const json = JSON.stringify(items.map((i) => [i.productId, i.productName, i.unitPrice, i.quantity]));
  const lines = jsonTable(s.dialect, json, [
    ['product_id', 'bigint'],
    ['product_name', 'text'],
    ['unit_price', 'bigint'],
    ['quantity', 'bigint'],
  ]);
  return sql`INSERT INTO order_items (order_id, product_id, product_name, unit_price, quantity)
    SELECT ${orderId}, l.product_id, l.product_name, l.unit_price, l.quantity FROM ${lines} AS l ORDER BY l.ord`;
}

export interface StatusChange {
  status: OrderStatus;
  /** Into a counted status: an order not paid yet is paid now (clockMs). */
  counted: boolean;
  updatedAt: number;
  /** The new `rev` (random): later statements of the batch see whether the UPDATE won. */
  rev: number;
  /** Moves the order into (1) or out of (−1) the aggregates with these figures, if it changes sides. */
  move: { figures: OrderFigures; sign: 1 | -1 } | null;
}

/**
 * Applies a status change read at `current.rev`, with its aggregate moves, in one batch. Returns the
 * updated order, or null when a concurrent change won (then nothing was changed).
 */
export async function changeStatus(s: Store, current: OrderRow, change: StatusChange): Promise<OrderRow | null> {
  const id = current.id;
  const moves = change.move
    ? [...applyOrder(s, change.move.figures, paidHour(id), change.move.sign, wonRace(id, change.rev)), ...settleFirstPurchase(current.customerId)]
    : [];
  const paidAt = change.counted ? sql`COALESCE(paid_at, ${clockMs(s.dialect)})` : sql`paid_at`;
  const results = await s.write(
    [
      raw(sql`UPDATE orders SET status = ${change.status}, paid_at = ${paidAt}, updated_at = ${change.updatedAt}, rev = ${change.rev}
        WHERE id = ${id} AND rev = ${current.rev} RETURNING id`),
      ...moves.map((q) => raw(q)),
      // order.status_changed, only if this batch's UPDATE won (its rev is the row's).
      orderEvent(s, 'order.status_changed', sql`o.id = ${id} AND o.rev = ${change.rev}`),
      raw(sql`SELECT * FROM orders WHERE id = ${id}`),
    ],
    SALES_LOCK,
  );
  return results[0]!.length === 1 ? orderFromRow(s, results[results.length - 1]![0]!) : null;
}

// ---- aggregates: statements for the batch of an order write --------------------------------

/** True in every batch that inserts its order (the insert itself fails the batch otherwise). */
const ALWAYS = sql`1 = 1`;

/** True once this batch's `UPDATE orders … SET rev = newRev WHERE rev = oldRev` has changed the row. */
const wonRace = (orderId: number, rev: number) => sql`EXISTS (SELECT 1 FROM orders WHERE id = ${orderId} AND rev = ${rev})`;

const GAP_NAMES = Array.from({ length: GAP_COLUMNS }, (_, k) => `c${k}`);
const gapList = sql.raw(GAP_NAMES.join(', '));
// Qualified: in a Postgres upsert a bare column name is ambiguous with excluded's.
const addGaps = sql.raw(GAP_NAMES.map((c) => `${c} = sales_hours.${c} + excluded.${c}`).join(', '));
const gapValues = (expr: (k: number) => string) => sql.raw(GAP_NAMES.map((_, k) => expr(k)).join(', '));
/** 1 or 0 (Postgres comparisons are booleans, which do not subtract). */
const bit = (cond: string) => `(CASE WHEN ${cond} THEN 1 ELSE 0 END)`;

/**
 * Adds (sign 1) or removes (sign −1) a counted order from every aggregate. `hour` is its UTC hour,
 * read from the order row inside the batch (its paid_at may be stamped there).
 */
function applyOrder(s: Store, o: OrderFigures, hour: SQL, sign: 1 | -1, guard: SQL): SQL[] {
  return [hourTotals(o, hour, sign, guard), ...customerHour(o.customerId, hour, sign, guard), ...productSales(s, o, hour, sign, guard)];
}

function hourTotals(o: OrderFigures, hour: SQL, sign: 1 | -1, guard: SQL): SQL {
  return sql`INSERT INTO sales_hours (hour, total_amount, order_count, coupon_amount)
    SELECT ${hour}, ${int(sign * o.totalPrice)}, ${int(sign)}, ${int(sign * o.discountPrice)} WHERE ${guard}
    ON CONFLICT (hour) DO UPDATE SET total_amount = sales_hours.total_amount + excluded.total_amount,
      order_count = sales_hours.order_count + excluded.order_count, coupon_amount = sales_hours.coupon_amount + excluded.coupon_amount`;
}

/**
 * Distinct customers. Only a customer's first order in an hour (or the removal of its last one)
 * changes them: then the customer's "previous counted hour" changes for this hour and for its next
 * counted hour, and the gap columns cK of both hours move accordingly (see salesHours).
 */
function customerHour(customerId: number, hour: SQL, sign: 1 | -1, guard: SQL): SQL[] {
  const prev = sql`COALESCE((SELECT max(hour) FROM customer_hours WHERE customer_id = ${customerId} AND hour < ${hour}), ${hour} - 100000)`;
  const next = sql`(SELECT min(hour) FROM customer_hours WHERE customer_id = ${customerId} AND hour > ${hour})`;
  const changes =
    sign > 0
      ? sql`NOT EXISTS (SELECT 1 FROM customer_hours WHERE customer_id = ${customerId} AND hour = ${hour})`
      : sql`EXISTS (SELECT 1 FROM customer_hours WHERE customer_id = ${customerId} AND hour = ${hour} AND orders = 1)`;
  const s = String(sign);
  const stmts: SQL[] = [
    sql`INSERT INTO sales_hours (hour, ${gapList})
      SELECT n, ${gapValues((k) => `${s} * (${bit(`n - h > ${k}`)} - ${bit(`n - p > ${k}`)})`)}
      FROM (SELECT ${next} AS n, ${hour} AS h, ${prev} AS p) AS x
      WHERE n IS NOT NULL AND ${changes} AND ${guard}
      ON CONFLICT (hour) DO UPDATE SET ${addGaps}`,
    sql`INSERT INTO sales_hours (hour, ${gapList})
      SELECT h, ${gapValues((k) => `${s} * ${bit(`h - p > ${k}`)}`)}
      FROM (SELECT ${hour} AS h, ${prev} AS p) AS x
      WHERE ${changes} AND ${guard}
      ON CONFLICT (hour) DO UPDATE SET ${addGaps}`,
  ];
  if (sign > 0) {
    stmts.push(
      sql`INSERT INTO customer_hours (customer_id, hour, orders) SELECT ${int(customerId)}, ${hour}, 1 WHERE ${guard}
        ON CONFLICT (customer_id, hour) DO UPDATE SET orders = customer_hours.orders + 1`,
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
function productSales(s: Store, o: OrderFigures, hour: SQL, sign: 1 | -1, guard: SQL): SQL[] {
  return [
    // First, so that a checkpoint taken now reads the state before this order.
    ...productCheckpoints(s, o, hour, sign, guard),
    sql`INSERT INTO product_sales (product_id, hour, quantity, amount)
      SELECT j.pid, ${hour},
        COALESCE((SELECT quantity FROM product_sales WHERE product_id = j.pid AND hour < ${hour} ORDER BY hour DESC LIMIT 1), 0),
        COALESCE((SELECT amount FROM product_sales WHERE product_id = j.pid AND hour < ${hour} ORDER BY hour DESC LIMIT 1), 0)
      FROM ${linesTable(s, o.lines)} AS j
      WHERE ${guard}
      ON CONFLICT (product_id, hour) DO NOTHING`,
    sql`UPDATE product_sales SET quantity = quantity + ${int(sign)} * d.q, amount = amount + ${int(sign)} * d.a
      FROM ${linesTable(s, o.lines)} AS d
      WHERE product_sales.product_id = d.pid AND product_sales.hour >= ${hour} AND ${guard}`,
    sql`UPDATE products SET sold_quantity = sold_quantity + ${int(sign)} * d.q, sold_amount = sold_amount + ${int(sign)} * d.a
      FROM ${linesTable(s, o.lines)} AS d
      WHERE products.id = d.pid AND ${guard}`,
  ];
}

/**
 * Takes today's checkpoint if this is the first write since the local midnight, then shifts every
 * checkpoint after the order's hour (an upsert: a product may have no row yet).
 */
function productCheckpoints(s: Store, o: OrderFigures, hour: SQL, sign: 1 | -1, guard: SQL): SQL[] {
  const stmts: SQL[] = [];
  if (o.checkpoint !== null) {
    stmts.push(sql`INSERT INTO product_checkpoints (hour, product_id, quantity, amount)
      SELECT ${int(o.checkpoint)}, p.id, s.quantity, s.amount FROM products p
      JOIN product_sales s ON s.product_id = p.id
        AND s.hour = (SELECT max(hour) FROM product_sales WHERE product_id = p.id AND hour < ${o.checkpoint})
      WHERE NOT EXISTS (SELECT 1 FROM product_checkpoints WHERE hour = ${o.checkpoint}) AND ${guard}
      ON CONFLICT (hour, product_id) DO NOTHING`);
  }
  stmts.push(sql`INSERT INTO product_checkpoints (hour, product_id, quantity, amount)
    SELECT c.hour, d.pid, ${int(sign)} * d.q, ${int(sign)} * d.a
    FROM (SELECT DISTINCT hour FROM product_checkpoints WHERE hour > ${hour}) AS c, ${linesTable(s, o.lines)} AS d
    WHERE ${guard}
    ON CONFLICT (hour, product_id) DO UPDATE SET quantity = product_checkpoints.quantity + excluded.quantity,
      amount = product_checkpoints.amount + excluded.amount`);
  return stmts;
}

/**
 * Puts `is_first_purchase` on the customer's earliest counted order (by paid_at, then id) and
 * moves its first-purchase figures with it. Idempotent and derived from the committed state, so it
 * is safe after any write; the partial unique index refuses a second flag whatever happens.
 */
function settleFirstPurchase(customerId: number): SQL[] {
  // 0 when the customer has no counted order (ids start at 1): then every flag is stale.
  const first = sql`COALESCE((SELECT id FROM orders WHERE customer_id = ${customerId} AND status IN ('PAID', 'SHIPPING', 'COMPLETED')
    ORDER BY paid_at, id LIMIT 1), 0)`;
  const moveFigures = (where: SQL, sign: string) =>
    sql`INSERT INTO sales_hours (hour, first_purchase_count, first_purchase_amount)
      SELECT CAST(paid_at / 3600000 AS BIGINT), ${sql.raw(sign)}1, ${sql.raw(sign)}total_price FROM orders WHERE ${where}
      ON CONFLICT (hour) DO UPDATE SET first_purchase_count = sales_hours.first_purchase_count + excluded.first_purchase_count,
        first_purchase_amount = sales_hours.first_purchase_amount + excluded.first_purchase_amount`;
  const stale = sql`customer_id = ${customerId} AND is_first_purchase = 1 AND id <> ${first}`;
  const rightful = sql`id = ${first} AND is_first_purchase = 0`;
  return [
    moveFigures(stale, '-'),
    sql`UPDATE orders SET is_first_purchase = 0 WHERE ${stale}`,
    moveFigures(rightful, ''),
    sql`UPDATE orders SET is_first_purchase = 1 WHERE ${rightful}`,
  ];
}

// ---- dashboards ----------------------------------------------------------------------------

/** [bucket index, total_amount, customer_count, coupon_amount, first_purchase_count, first_purchase_amount] */
export type BucketFigures = [number, ...(number | null)[]];

/** A bucket: the half-open range [start, end) of UTC hours. */
export interface HourRange {
  start: number;
  end: number;
}

// Distinct customers of a window starting at hour s: at each hour h, those whose previous counted
// hour lies before s, i.e. more than h − s hours earlier (column c(h − s)).
const WINDOW_CUSTOMERS = sql.raw(`SUM(CASE h.hour - b.s ${Array.from({ length: 25 }, (_, k) => `WHEN ${k} THEN h.c${k}`).join(' ')} END)`);

/**
 * The figures of each bucket, as rows keyed by bucket index (buckets without any hour row may be
 * missing, or come back with nulls). Hour buckets are one UTC hour each: a plain range read in key
 * order, where c0 is the hour's distinct customers. Day buckets: per bucket, one primary-key range
 * read of its hours yields all five figures (no sorting).
 *
 * The buckets come back as one JSON array in one row: D1 hands over a single value instead of
 * hundreds of row objects, which is most of the cost of a 744-bucket answer.
 */
export async function bucketFigures(s: Store, buckets: HourRange[], interval: 'hour' | 'day'): Promise<BucketFigures[]> {
  const query = interval === 'hour' ? hourFigures(s, buckets[0]!.start, buckets[buckets.length - 1]!.end) : dayFigures(s, buckets);
  const [row] = await s.rows<{ figures: unknown }>(query);
  const figures = row?.figures ?? '[]';
  // SQLite hands JSON over as text; node-postgres parses json values itself.
  return (typeof figures === 'string' ? JSON.parse(figures) : figures) as BucketFigures[];
}

function hourFigures(s: Store, first: number, end: number): SQL {
  const figures = jsonArray(
    s.dialect,
    sql`h.hour - ${int(first)}, h.total_amount, h.c0, h.coupon_amount, h.first_purchase_count, h.first_purchase_amount`,
  );
  return sql`SELECT ${jsonGroupArray(s.dialect, figures)} AS figures FROM sales_hours h WHERE h.hour >= ${first} AND h.hour < ${end}`;
}

function dayFigures(s: Store, buckets: HourRange[]): SQL {
  const bucketTable = jsonTable(s.dialect, JSON.stringify(buckets.map((b) => [b.start, b.end])), [
    ['s', 'bigint'],
    ['e', 'bigint'],
  ]);
  const columns = sql`b.ord, SUM(h.total_amount), ${WINDOW_CUSTOMERS}, SUM(h.coupon_amount), SUM(h.first_purchase_count), SUM(h.first_purchase_amount)`;
  const bucket = sql`(SELECT ${jsonArray(s.dialect, columns)} FROM sales_hours h WHERE h.hour >= b.s AND h.hour < b.e)`;
  return sql`SELECT ${jsonGroupArray(s.dialect, jsonValue(s.dialect, bucket))} AS figures FROM ${bucketTable} AS b`;
}

/**
 * Cumulative sales of product `p` before `hour`: the all-time totals when the hour is past the latest
 * sale, a checkpoint when one was taken at that hour (a few contiguous pages for all products), else
 * the product's last `product_sales` row before it (one seek). CASE evaluates only the branch taken.
 */
function soldBefore(column: 'quantity' | 'amount', hour: number): SQL {
  const col = sql.raw(column);
  return sql`CASE
    WHEN ${hour} > (SELECT COALESCE(max(hour), 0) FROM sales_hours) THEN p.${sql.raw(`sold_${column}`)}
    WHEN EXISTS (SELECT 1 FROM product_checkpoints WHERE hour = ${hour})
      THEN COALESCE((SELECT ${col} FROM product_checkpoints WHERE hour = ${hour} AND product_id = p.id), 0)
    ELSE COALESCE((SELECT ${col} FROM product_sales WHERE product_id = p.id AND hour < ${hour} ORDER BY hour DESC LIMIT 1), 0)
  END`;
}

export interface ChartRow {
  product_id: number;
  product_name: string;
  total_amount: number;
  quantity: number;
}

/** Products ranked by quantity sold in the UTC hours [start, end): cumulative sales before the end minus before the start. */
export async function productRanking(s: Store, start: number, end: number, limit: number): Promise<ChartRow[]> {
  // Names sort by code point on both (SQLite's BINARY; Postgres would use the database's locale).
  const byName = binaryOrder(s.dialect, sql`product_name`);
  return s.rows<ChartRow>(
    sql`SELECT product_id, product_name, total_amount, quantity FROM (
      SELECT p.id AS product_id, p.name AS product_name,
        ${soldBefore('quantity', end)} - ${soldBefore('quantity', start)} AS quantity,
        ${soldBefore('amount', end)} - ${soldBefore('amount', start)} AS total_amount
      FROM products p
    ) AS ranked
    WHERE quantity > 0
    ORDER BY quantity DESC, total_amount DESC, ${byName}, product_id
    LIMIT ${limit}`,
  );
}
