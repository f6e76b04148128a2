// `--products N --orders N`: products, then orders of the seeded users over the last 90 days with a
// daily and hourly shape (quiet nights, evening peak in Asia/Seoul, busier weekends, slow growth).
// The pre-aggregated tables (sales_hours, customer_hours, product_sales, product_checkpoints,
// products.sold_*) are computed in memory in the same pass, exactly as the API's batches would have
// left them. Orders go in paid_at order, so ids grow with time. Existing orders are only replaced
// with --fresh.

import { UsageError } from '../lib.mjs';

export const name = 'sales';
export const order = 20;
export const options = {
  products: [0, 'products'],
  orders: [0, 'orders over the last --days days, with the dashboards’ aggregates (needs --users and --products)'],
  days: [90, 'the window the orders are spread over'],
};

const HOUR = 3_600_000;
const GAPS = 25;
const SEOUL = 9; // the seed's shape is Seoul wall-clock time (the default DASHBOARD_TIMEZONE)
const HOURLY = [0.3, 0.2, 0.12, 0.08, 0.06, 0.07, 0.15, 0.3, 0.5, 0.7, 0.85, 0.95, 1.1, 1.0, 0.95, 0.9, 0.9, 1.0, 1.1, 1.3, 1.5, 1.6, 1.3, 0.8];
const WORDS = ['Wireless', 'Organic', 'Classic', 'Smart', 'Compact', 'Premium', 'Eco', 'Travel', 'Kids', 'Pro'];
const THINGS = ['mouse', 'tea', 'mug', 'lamp', 'backpack', 'speaker', 'notebook', 'pillow', 'bottle', 'charger', 'jacket', 'shampoo'];

function seedProducts(db, opts, ctx) {
  const have = db.prepare('SELECT count(*) AS n FROM products').get().n;
  const insert = db.prepare('INSERT INTO products (name, price, created_at, updated_at) VALUES (?, ?, ?, ?)');
  const now = Date.now();
  ctx.tx(() => {
    for (let i = have; i < opts.products; i++) {
      const name = `${WORDS[i % WORDS.length]} ${THINGS[Math.floor(i / WORDS.length) % THINGS.length]} #${i + 1}`;
      insert.run(name, Math.round((1_000 + ctx.random() ** 2 * 99_000) / 100) * 100, now, now);
    }
  });
  return Math.max(0, opts.products - have);
}

/** Cumulative weights over the hours of the window: inverse-CDF sampling of an order's hour. */
function hourWeights(firstHour, hours) {
  const cum = new Float64Array(hours);
  let total = 0;
  for (let i = 0; i < hours; i++) {
    const local = new Date((firstHour + i) * HOUR + SEOUL * HOUR);
    const weekend = local.getUTCDay() === 0 || local.getUTCDay() === 6 ? 1.2 : 1;
    total += HOURLY[local.getUTCHours()] * weekend * (0.8 + (0.4 * i) / hours);
    cum[i] = total;
  }
  return { cum, total };
}

function pickIndex(cum, x) {
  let lo = 0;
  let hi = cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cum[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function statusOf(r, ageHours) {
  if (r < 0.05) return 'CANCELLED';
  if (r < 0.07 && ageHours < 48) return 'PENDING';
  if (ageHours > 24 * 7) return 'COMPLETED';
  return ageHours > 48 ? 'SHIPPING' : 'PAID';
}

/** Running aggregates, fed orders in paid_at order (so a customer's previous hour is its last one). */
class Aggregates {
  hours = new Map(); // hour → [total, count, coupon, fpCount, fpAmount, c0..c24]
  lastHour = new Map(); // customer → last counted hour
  customerRows = []; // [customer, hour, orders]
  openRow = new Map(); // customer → its customerRows entry for lastHour
  product = new Map(); // product → { hour, q, a }
  productRows = []; // [product, hour, cumulative q, cumulative a]
  checkpointRows = []; // [hour, product, cumulative q, cumulative a before that hour]

  /** A product checkpoint at UTC hour `h`: called before the first order at or after `h`. */
  checkpoint(h) {
    for (const [product, p] of this.product) this.checkpointRows.push([h, product, p.q, p.a]);
  }

  hour(h) {
    let row = this.hours.get(h);
    if (!row) this.hours.set(h, (row = new Array(5 + GAPS).fill(0)));
    return row;
  }

  addOrder(customer, h, total, coupon, first, lines) {
    const row = this.hour(h);
    row[0] += total;
    row[1] += 1;
    row[2] += coupon;
    if (first) {
      row[3] += 1;
      row[4] += total;
    }
    const last = this.lastHour.get(customer);
    if (last === h) this.openRow.get(customer)[2] += 1;
    else {
      const gap = last === undefined ? Infinity : h - last;
      for (let k = 0; k < GAPS; k++) if (gap > k) row[5 + k] += 1;
      const entry = [customer, h, 1];
      this.customerRows.push(entry);
      this.openRow.set(customer, entry);
      this.lastHour.set(customer, h);
    }
    for (const [product, q, a] of lines) this.addProduct(product, h, q, a);
  }

  addProduct(product, h, q, a) {
    let p = this.product.get(product);
    if (!p) this.product.set(product, (p = { hour: h, q: 0, a: 0 }));
    if (p.hour !== h) {
      this.productRows.push([product, p.hour, p.q, p.a]);
      p.hour = h;
    }
    p.q += q;
    p.a += a;
  }

  finish() {
    for (const [product, p] of this.product) this.productRows.push([product, p.hour, p.q, p.a]);
  }
}

function wipe(db) {
  for (const t of ['order_items', 'orders', 'sales_hours', 'customer_hours', 'product_sales', 'product_checkpoints']) db.exec(`DELETE FROM ${t}`);
  db.exec("DELETE FROM sqlite_sequence WHERE name IN ('orders', 'order_items')");
  db.exec('UPDATE products SET sold_quantity = 0, sold_amount = 0');
}

function generate(opts, ctx) {
  const nowHour = Math.floor(Date.now() / HOUR);
  const hours = opts.days * 24;
  const firstHour = nowHour - hours + 1;
  const { cum, total } = hourWeights(firstHour, hours);
  const rnd = ctx.random;
  const times = new Float64Array(opts.orders);
  for (let i = 0; i < opts.orders; i++) {
    const h = firstHour + pickIndex(cum, rnd() * total);
    times[i] = Math.min(Date.now() - 1, h * HOUR + Math.floor(rnd() * HOUR));
  }
  times.sort();
  return { times, nowHour };
}

function seedOrders(db, opts, ctx) {
  const existing = db.prepare('SELECT count(*) AS n FROM orders').get().n;
  if (existing > 0 && !opts.fresh) throw new UsageError(`${existing} orders exist already; add --fresh to replace them`);
  const customers = ctx.userIds ?? [];
  const catalogue = db.prepare('SELECT id, name, price FROM products ORDER BY id').all();
  if (customers.length === 0 || catalogue.length === 0) throw new UsageError('--orders needs seeded users (--users N) and products (--products N)');
  const rnd = ctx.random;
  const { times, nowHour } = generate(opts, ctx);
  const agg = new Aggregates();
  const firstDone = new Set();
  const insertOrder = db.prepare(
    `INSERT INTO orders (id, customer_id, status, item_price, discount_price, delivery_price, total_price, is_first_purchase,
       payment_method, paid_at, created_at, updated_at, rev) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertItem = db.prepare('INSERT INTO order_items (order_id, product_id, product_name, unit_price, quantity) VALUES (?, ?, ?, ?, ?)');
  const methods = ['card', 'card', 'card', 'bank_transfer', 'kakao_pay', 'naver_pay'];
  ctx.tx(() => {
    if (opts.fresh) wipe(db);
    // Checkpoints at every Seoul midnight of the window, as the API takes them at the default zone.
    let midnight = Math.ceil((Math.floor(times[0] / HOUR) + SEOUL) / 24) * 24 - SEOUL;
    for (let i = 0; i < times.length; i++) {
      if (i % 100_000 === 0) ctx.progress('sales: orders', i, times.length);
      const id = i + 1;
      const paidAt = times[i];
      const h = Math.floor(paidAt / HOUR);
      for (; midnight <= h; midnight += 24) agg.checkpoint(midnight);
      // Customers join over the window (30 % at the start, all by the end), so first purchases keep
      // coming; a few loyal ones buy much more often than most (r² skews towards low indexes).
      const active = Math.max(1, Math.floor(customers.length * (0.3 + (0.7 * i) / times.length)));
      const customer = customers[Math.floor(rnd() ** 2 * active)];
      const n = rnd() < 0.6 ? 1 : rnd() < 0.75 ? 2 : 3;
      const lines = new Map();
      const items = [];
      let itemPrice = 0;
      for (let k = 0; k < n; k++) {
        // Zipf-like popularity so the chart has a clear ranking.
        const p = catalogue[Math.floor(catalogue.length * rnd() ** 3)];
        const q = 1 + Math.floor(rnd() ** 2 * 3);
        items.push([p, q]);
        itemPrice += p.price * q;
        const line = lines.get(p.id) ?? [p.id, 0, 0];
        line[1] += q;
        line[2] += p.price * q;
        lines.set(p.id, line);
      }
      const discount = rnd() < 0.2 ? Math.round((itemPrice * (0.05 + rnd() * 0.15)) / 100) * 100 : 0;
      const delivery = itemPrice < 50_000 ? 3_000 : 0;
      const totalPrice = itemPrice - discount + delivery;
      const status = statusOf(rnd(), nowHour - h);
      const counted = status !== 'PENDING' && status !== 'CANCELLED';
      const first = counted && !firstDone.has(customer);
      if (first) firstDone.add(customer);
      const storedPaidAt = status === 'PENDING' ? null : paidAt;
      insertOrder.run(id, customer, status, itemPrice, discount, delivery, totalPrice, first ? 1 : 0,
        methods[Math.floor(rnd() * methods.length)], storedPaidAt, paidAt - 60_000, paidAt, id);
      for (const [p, q] of items) insertItem.run(id, p.id, p.name, p.price, q);
      if (counted) agg.addOrder(customer, h, totalPrice, discount, first, lines.values());
    }
    for (; midnight <= nowHour; midnight += 24) agg.checkpoint(midnight);
    agg.finish();
    writeAggregates(db, agg);
  });
  return times.length;
}

function writeAggregates(db, agg) {
  const gapNames = Array.from({ length: GAPS }, (_, k) => `c${k}`);
  const hourInsert = db.prepare(
    `INSERT INTO sales_hours (hour, total_amount, order_count, coupon_amount, first_purchase_count, first_purchase_amount, ${gapNames.join(', ')})
     VALUES (${Array(6 + GAPS).fill('?').join(', ')})`,
  );
  for (const [h, row] of [...agg.hours].sort((a, b) => a[0] - b[0])) hourInsert.run(h, ...row);
  const customerInsert = db.prepare('INSERT INTO customer_hours (customer_id, hour, orders) VALUES (?, ?, ?)');
  agg.customerRows.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  for (const r of agg.customerRows) customerInsert.run(r[0], r[1], r[2]);
  const productInsert = db.prepare('INSERT INTO product_sales (product_id, hour, quantity, amount) VALUES (?, ?, ?, ?)');
  agg.productRows.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  for (const r of agg.productRows) productInsert.run(r[0], r[1], r[2], r[3]);
  const checkpointInsert = db.prepare('INSERT INTO product_checkpoints (hour, product_id, quantity, amount) VALUES (?, ?, ?, ?)');
  agg.checkpointRows.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  for (const r of agg.checkpointRows) checkpointInsert.run(r[0], r[1], r[2], r[3]);
  const totals = db.prepare('UPDATE products SET sold_quantity = ?, sold_amount = ? WHERE id = ?');
  for (const [product, p] of agg.product) totals.run(p.q, p.a, product);
}

export async function seed(db, opts, ctx) {
  const out = [];
  const t0 = Date.now();
  const products = seedProducts(db, opts, ctx);
  if (products) out.push(`${products} products`);
  if (opts.orders > 0) {
    const n = seedOrders(db, opts, ctx);
    out.push(`${n} orders over ${opts.days} days (+ items and aggregates, ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }
  return out.length ? out.join(', ') : null;
}
