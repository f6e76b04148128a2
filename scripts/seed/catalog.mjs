// Exams, courses, payments and registrations at volume, e.g.
//   npm run seed -- --users 10000 --exams 1000000 --courses 1000000 --payments 1000000
// Items are created over the last two years (ids follow created_at), each open for 1-120 days after
// a 0-30 day lead; prices are 10,000-300,000 KRW. Payments go to distinct (user, item) pairs among
// items that had opened, paid within the item's period: 75% applied/enrolled, 15% completed, 10%
// cancelled (refunded). registration_count is computed from them, so it is exact.
// For speed the FTS triggers and secondary indexes of the touched tables are dropped while rows go
// in and recreated after (from their own SQL in sqlite_master), then the FTS index is rebuilt.

import { UsageError } from '../lib.mjs';

export const name = 'catalog';
export const order = 10;
export const options = {
  exams: [0, 'exams, created over two years'],
  courses: [0, 'courses, created over two years'],
  payments: [0, 'payments with their registrations, by the seeded users (needs --users and --exams/--courses)'],
};

const DAY = 86_400_000;
const SUBJECTS = [
  'Calculus',
  'Algebra',
  'Geometry',
  'Statistics',
  'Physics',
  'Chemistry',
  'Biology',
  'History',
  'Geography',
  'Economics',
  'Accounting',
  'Marketing',
  'Korean',
  'English',
  'Japanese',
  'Chinese',
  'Spanish',
  'Python',
  'JavaScript',
  'TypeScript',
  'Databases',
  'Networks',
  'Security',
  'Design',
  'Photography',
  'Music',
  'Drawing',
  'Writing',
  'Philosophy',
  'Psychology',
  'Law',
  'Finance',
  'Management',
  'Nursing',
  'Cooking',
  'Robotics',
  'Astronomy',
  'Linguistics',
  'Sociology',
  'Architecture',
];
const LEVELS = ['Introductory', 'Basic', 'Intermediate', 'Advanced', 'Expert', 'Practical', 'Applied', 'Essential', 'Complete', 'Intensive'];
const WORDS = (
  'practice test review theory problems solutions weekly online offline certificate mock final midterm ' +
  'chapter unit lesson project lab exercises questions answers skills fundamentals concepts methods tools analysis ' +
  'writing reading listening speaking grammar vocabulary exam course students beginners professionals career job ' +
  'interview preparation strategy tips schedule hours minutes score grade level module workshop seminar lecture ' +
  'video notes quiz assignment feedback mentor tutor group team community 시험 강의 기초 심화 실전 모의고사 자격증 ' +
  'data science machine learning cloud mobile web design history culture art science math language business'
).split(' ');

const pick = (random, list) => list[Math.floor(random() * list.length)];

// Words of known frequency for the bench's search scenarios (bench/scenarios/search.mjs), besides the
// title's level (each of LEVELS is in exactly 10% of the items: `advanced`) and subject (2.5% each):
// appended to the description of every 100th / 10,000th item by index, so they are exact, spread
// evenly over the catalog's age, and take nothing from the random stream (the rest of the data is the
// same as without them).
export const MARKERS = [
  { word: 'capstone', every: 100, at: 7 }, // 1%
  { word: 'olympiad', every: 10_000, at: 77 }, // 0.01%
];
const markers = (i) =>
  MARKERS.filter((m) => i % m.every === m.at)
    .map((m) => ` ${m.word}`)
    .join('');

function metadata(method, amount) {
  const rate = { kakaopay: 0.029, card: 0.032, bank_transfer: 0.005 }[method];
  return JSON.stringify({ payment_gateway: method, supports_refund: true, processing_fee_rate: rate, estimated_fee: Math.round(amount * rate) });
}

/** Drops what slows bulk inserts (FTS triggers, secondary indexes) and returns the SQL to restore it. */
function dropForBulk(db, tables) {
  const list = tables.map((t) => `'${t}'`).join(',');
  const rows = db
    .prepare(`SELECT type, name, sql FROM sqlite_master WHERE tbl_name IN (${list}) AND sql IS NOT NULL
    AND (type = 'trigger' OR (type = 'index' AND name NOT LIKE 'sqlite_%'))`)
    .all();
  for (const r of rows) db.exec(`DROP ${r.type.toUpperCase()} "${r.name}"`);
  // Indexes first, then triggers (so rebuilding the FTS index does not fire them).
  return rows.sort((a, b) => (a.type === b.type ? 0 : a.type === 'index' ? -1 : 1)).map((r) => r.sql);
}

function makeItems(kind, n, random, now) {
  const created = new Float64Array(n);
  const start = new Float64Array(n);
  const end = new Float64Array(n);
  const price = new Int32Array(n);
  const from = now - 730 * DAY;
  for (let i = 0; i < n; i++) {
    created[i] = Math.floor(from + (730 * DAY * i) / n + random() * 60_000);
    start[i] = created[i] + Math.floor(random() * 30 * DAY);
    end[i] = start[i] + DAY + Math.floor(random() * 119 * DAY);
    price[i] = (10 + Math.floor(random() * 291)) * 1000;
  }
  return {
    kind,
    n,
    created,
    start,
    end,
    price,
    counts: new Int32Array(n),
    title: (i) => `${LEVELS[i % 10]} ${SUBJECTS[Math.floor(i / 10) % 40]} ${kind === 'exams' ? 'exam' : 'course'} ${i + 1}`,
  };
}

function insertItems(db, ctx, items, baseId, now) {
  const random = ctx.random;
  const stmt = db.prepare(`INSERT INTO ${items.kind} (id, title, description, price, start_at, end_at, created_at, updated_at, registration_count)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const chunk = 100_000;
  for (let lo = 0; lo < items.n; lo += chunk) {
    ctx.progress(`catalog: ${items.kind}`, lo, items.n);
    ctx.tx(() => {
      for (let i = lo; i < Math.min(items.n, lo + chunk); i++) {
        const words = [];
        for (let w = 10 + Math.floor(random() * 12); w > 0; w--) words.push(pick(random, WORDS));
        stmt.run(
          baseId + i + 1,
          items.title(i),
          words.join(' ') + markers(i),
          items.price[i],
          items.start[i],
          items.end[i],
          items.created[i],
          Math.min(now, items.created[i] + DAY),
          items.counts[i],
        );
      }
    });
  }
}

const METHODS = ['kakaopay', 'card', 'card', 'bank_transfer'];
const STATUSES = ['active', 'completed', 'cancelled'];

/**
 * An exact set of integer keys (0 ≤ key < 2^53) in one Float64Array, open addressing at half load:
 * 16 bytes per key where a Set of numbers costs several times that (the plan of 10M payments).
 */
function keySet(capacity) {
  let size = 1024;
  while (size < capacity * 2) size *= 2;
  const slots = new Float64Array(size).fill(-1);
  const mask = size - 1;
  return {
    /** Adds `key`; false when it was already there. */
    add(key) {
      let h = Math.imul((key >>> 0) ^ Math.floor(key / 4294967296), 0x9e3779b1) & mask;
      while (slots[h] !== -1) {
        if (slots[h] === key) return false;
        h = (h + 1) & mask;
      }
      slots[h] = key;
      return true;
    },
  };
}

/**
 * Picks distinct (user, item) pairs among items already open, and fills the registration counts.
 * The plan is columns of typed arrays (about 20 bytes a payment, plus the key set's 16) and `order`,
 * the payments by paid time (ties in drawing order): the same draws from the same random stream,
 * so the same data, as when each payment was an object (about 190 bytes, 2.5 GB for ten million).
 */
function planPayments(n, users, pools, random, now) {
  const seen = keySet(n);
  const plan = {
    length: 0,
    pool: new Uint8Array(n),
    item: new Int32Array(n),
    user: new Int32Array(n),
    paidAt: new Float64Array(n),
    status: new Uint8Array(n),
    method: new Uint8Array(n),
    order: null,
  };
  let guard = 0;
  while (plan.length < n && guard++ < n * 20) {
    const p = pools.length === 1 || random() < 0.5 ? 0 : 1;
    const pool = pools[p];
    const i = Math.floor(random() * pool.n);
    if (pool.start[i] >= now) continue;
    const u = Math.floor(random() * users.length);
    if (!seen.add((i * 2 + (pool.kind === 'exams' ? 0 : 1)) * 65536 + u)) continue;
    const k = plan.length++;
    plan.pool[k] = p;
    plan.item[k] = i;
    plan.user[k] = users[u];
    plan.paidAt[k] = Math.floor(pool.start[i] + random() * (Math.min(now, pool.end[i]) - pool.start[i]));
    const r = random();
    const status = r < 0.1 ? 2 : r < 0.25 ? 1 : 0;
    plan.status[k] = status;
    if (status !== 2) pool.counts[i] += 1;
    plan.method[k] = Math.floor(random() * METHODS.length);
  }
  const order = new Uint32Array(plan.length);
  for (let k = 0; k < order.length; k++) order[k] = k;
  plan.order = order.sort((a, b) => plan.paidAt[a] - plan.paidAt[b] || a - b);
  return plan;
}

function insertPayments(db, ctx, pools, plan, baseIds, now) {
  const pay = db.prepare(`INSERT INTO payments (user_id, payment_type, target_id, target_title, amount, payment_method, status,
    external_transaction_id, transaction_metadata, paid_at, cancelled_at, refund_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const reg = db.prepare(`INSERT INTO registrations (user_id, kind, item_id, status, payment_id, applied_at, completed_at, cancelled_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
  const stamp = Date.now().toString(36);
  const chunk = 100_000;
  for (let lo = 0; lo < plan.length; lo += chunk) {
    ctx.progress('catalog: payments', lo, plan.length);
    ctx.tx(() => {
      for (let k = lo; k < Math.min(plan.length, lo + chunk); k++) {
        const x = plan.order[k];
        const pool = pools[plan.pool[x]];
        const i = plan.item[x];
        const user = plan.user[x];
        const paidAt = plan.paidAt[x];
        const planned = STATUSES[plan.status[x]];
        const method = METHODS[plan.method[x]];
        const type = pool.kind === 'exams' ? 'exam' : 'course';
        const amount = pool.price[i];
        const itemId = baseIds[pool.kind] + i + 1;
        const later = Math.min(now, paidAt + Math.floor(ctx.random() * 7 * DAY));
        const cancelled = planned === 'cancelled';
        const { lastInsertRowid } = pay.run(
          user,
          type,
          itemId,
          pool.title(i),
          amount,
          method,
          cancelled ? 'cancelled' : 'paid',
          `tx_seed_${stamp}_${k}`,
          metadata(method, amount),
          paidAt,
          cancelled ? later : null,
          cancelled ? 'seeded refund' : null,
        );
        const status = cancelled ? 'cancelled' : planned === 'completed' ? 'completed' : type === 'exam' ? 'applied' : 'enrolled';
        reg.run(user, type, itemId, status, lastInsertRowid, paidAt, planned === 'completed' ? later : null, cancelled ? later : null);
      }
    });
  }
}

/** Plans and inserts the items and payments; the plan is garbage once this returns (before the index builds). */
function insertRows(db, ctx, opts, kinds, now, lap) {
  const pools = kinds.map(([kind, n]) => makeItems(kind, n, ctx.random, now));
  const plan = planPayments(opts.payments, ctx.userIds ?? [], pools, ctx.random, now);
  lap(`planned ${pools.map((p) => `${p.n} ${p.kind}`).join(', ')} and ${plan.length} payments`);
  const baseIds = {};
  for (const pool of pools) {
    baseIds[pool.kind] = db.prepare(`SELECT coalesce(max(id), 0) AS m FROM ${pool.kind}`).get().m;
    insertItems(db, ctx, pool, baseIds[pool.kind], now);
    lap(`inserted ${pool.n} ${pool.kind}`);
  }
  insertPayments(db, ctx, pools, plan, baseIds, now);
  lap(`inserted ${plan.length} payments and registrations`);
  return `${pools.map((p) => `${p.n} ${p.kind}`).join(', ')}, ${plan.length} payments`;
}

export async function seed(db, opts, ctx) {
  const kinds = [
    ['exams', opts.exams],
    ['courses', opts.courses],
  ].filter(([, n]) => n > 0);
  if (kinds.length === 0 && opts.payments === 0) return null;
  if (opts.payments > 0 && !(ctx.userIds?.length > 0)) throw new UsageError('--payments needs seeded users (--users N)');
  if (opts.payments > 0 && kinds.length === 0) throw new UsageError('--payments needs --exams and/or --courses');
  const now = Date.now();
  let t = Date.now();
  const lap = (what) => {
    ctx.log(`catalog: ${what} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
    t = Date.now();
  };

  const restore = dropForBulk(db, ['exams', 'courses', 'payments', 'registrations']);
  const summary = insertRows(db, ctx, opts, kinds, now, lap);
  for (const sql of restore.filter((s) => !/^CREATE TRIGGER/i.test(s))) db.exec(sql);
  lap('recreated indexes');
  for (const [kind] of [['exams'], ['courses']]) db.exec(`INSERT INTO ${kind}_fts(${kind}_fts) VALUES ('rebuild')`);
  lap('rebuilt the FTS indexes');
  for (const sql of restore.filter((s) => /^CREATE TRIGGER/i.test(s))) db.exec(sql);
  for (const kind of ['exams', 'courses']) {
    db.prepare(`UPDATE catalog_stats SET total = (SELECT count(*) FROM ${kind}), version = version + 1, available_until = 0 WHERE kind = ?`).run(
      kind,
    );
  }
  return summary;
}
