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
const SUBJECTS = ['Calculus', 'Algebra', 'Geometry', 'Statistics', 'Physics', 'Chemistry', 'Biology', 'History', 'Geography', 'Economics',
  'Accounting', 'Marketing', 'Korean', 'English', 'Japanese', 'Chinese', 'Spanish', 'Python', 'JavaScript', 'TypeScript', 'Databases',
  'Networks', 'Security', 'Design', 'Photography', 'Music', 'Drawing', 'Writing', 'Philosophy', 'Psychology', 'Law', 'Finance',
  'Management', 'Nursing', 'Cooking', 'Robotics', 'Astronomy', 'Linguistics', 'Sociology', 'Architecture'];
const LEVELS = ['Introductory', 'Basic', 'Intermediate', 'Advanced', 'Expert', 'Practical', 'Applied', 'Essential', 'Complete', 'Intensive'];
const WORDS = ('practice test review theory problems solutions weekly online offline certificate mock final midterm ' +
  'chapter unit lesson project lab exercises questions answers skills fundamentals concepts methods tools analysis ' +
  'writing reading listening speaking grammar vocabulary exam course students beginners professionals career job ' +
  'interview preparation strategy tips schedule hours minutes score grade level module workshop seminar lecture ' +
  'video notes quiz assignment feedback mentor tutor group team community 시험 강의 기초 심화 실전 모의고사 자격증 ' +
  'data science machine learning cloud mobile web design history culture art science math language business').split(' ');

const pick = (random, list) => list[Math.floor(random() * list.length)];

function metadata(method, amount) {
  const rate = { kakaopay: 0.029, card: 0.032, bank_transfer: 0.005 }[method];
  return JSON.stringify({ payment_gateway: method, supports_refund: true, processing_fee_rate: rate, estimated_fee: Math.round(amount * rate) });
}

/** Drops what slows bulk inserts (FTS triggers, secondary indexes) and returns the SQL to restore it. */
function dropForBulk(db, tables) {
  const list = tables.map((t) => `'${t}'`).join(',');
  const rows = db.prepare(`SELECT type, name, sql FROM sqlite_master WHERE tbl_name IN (${list}) AND sql IS NOT NULL
    AND (type = 'trigger' OR (type = 'index' AND name NOT LIKE 'sqlite_%'))`).all();
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
  return { kind, n, created, start, end, price, counts: new Int32Array(n), title: (i) => `${LEVELS[i % 10]} ${SUBJECTS[Math.floor(i / 10) % 40]} ${kind === 'exams' ? 'exam' : 'course'} ${i + 1}` };
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
        stmt.run(baseId + i + 1, items.title(i), words.join(' '), items.price[i], items.start[i], items.end[i], items.created[i], Math.min(now, items.created[i] + DAY), items.counts[i]);
      }
    });
  }
}

/** Picks distinct (user, item) pairs among items already open, and fills the registration counts. */
function planPayments(n, users, pools, random, now) {
  const seen = new Set();
  const plan = [];
  let guard = 0;
  while (plan.length < n && guard++ < n * 20) {
    const pool = pools.length === 1 || random() < 0.5 ? pools[0] : pools[1];
    const i = Math.floor(random() * pool.n);
    if (pool.start[i] >= now) continue;
    const u = Math.floor(random() * users.length);
    const key = (i * 2 + (pool.kind === 'exams' ? 0 : 1)) * 65536 + u;
    if (seen.has(key)) continue;
    seen.add(key);
    const paidAt = Math.floor(pool.start[i] + random() * (Math.min(now, pool.end[i]) - pool.start[i]));
    const r = random();
    const status = r < 0.1 ? 'cancelled' : r < 0.25 ? 'completed' : 'active';
    if (status !== 'cancelled') pool.counts[i] += 1;
    plan.push({ pool, i, user: users[u], paidAt, status, method: pick(random, ['kakaopay', 'card', 'card', 'bank_transfer']) });
  }
  plan.sort((a, b) => a.paidAt - b.paidAt);
  return plan;
}

function insertPayments(db, ctx, plan, baseIds, now) {
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
        const p = plan[k];
        const type = p.pool.kind === 'exams' ? 'exam' : 'course';
        const amount = p.pool.price[p.i];
        const itemId = baseIds[p.pool.kind] + p.i + 1;
        const later = Math.min(now, p.paidAt + Math.floor(ctx.random() * 7 * DAY));
        const cancelled = p.status === 'cancelled';
        const { lastInsertRowid } = pay.run(p.user, type, itemId, p.pool.title(p.i), amount, p.method, cancelled ? 'cancelled' : 'paid',
          `tx_seed_${stamp}_${k}`, metadata(p.method, amount), p.paidAt, cancelled ? later : null, cancelled ? 'seeded refund' : null);
        const status = cancelled ? 'cancelled' : p.status === 'completed' ? 'completed' : type === 'exam' ? 'applied' : 'enrolled';
        reg.run(p.user, type, itemId, status, lastInsertRowid, p.paidAt, p.status === 'completed' ? later : null, cancelled ? later : null);
      }
    });
  }
}

export async function seed(db, opts, ctx) {
  const kinds = [['exams', opts.exams], ['courses', opts.courses]].filter(([, n]) => n > 0);
  if (kinds.length === 0 && opts.payments === 0) return null;
  if (opts.payments > 0 && !(ctx.userIds?.length > 0)) throw new UsageError('--payments needs seeded users (--users N)');
  if (opts.payments > 0 && kinds.length === 0) throw new UsageError('--payments needs --exams and/or --courses');
  const now = Date.now();
  let t = Date.now();
  const lap = (what) => {
    ctx.log(`catalog: ${what} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
    t = Date.now();
  };

  const pools = kinds.map(([kind, n]) => makeItems(kind, n, ctx.random, now));
  const plan = planPayments(opts.payments, ctx.userIds ?? [], pools, ctx.random, now);
  lap(`planned ${pools.map((p) => `${p.n} ${p.kind}`).join(', ')} and ${plan.length} payments`);

  const restore = dropForBulk(db, ['exams', 'courses', 'payments', 'registrations']);
  const baseIds = {};
  for (const pool of pools) {
    baseIds[pool.kind] = db.prepare(`SELECT coalesce(max(id), 0) AS m FROM ${pool.kind}`).get().m;
    insertItems(db, ctx, pool, baseIds[pool.kind], now);
    lap(`inserted ${pool.n} ${pool.kind}`);
  }
  insertPayments(db, ctx, plan, baseIds, now);
  lap(`inserted ${plan.length} payments and registrations`);
  for (const sql of restore.filter((s) => !/^CREATE TRIGGER/i.test(s))) db.exec(sql);
  lap('recreated indexes');
  for (const [kind] of [['exams'], ['courses']]) db.exec(`INSERT INTO ${kind}_fts(${kind}_fts) VALUES ('rebuild')`);
  lap('rebuilt the FTS indexes');
  for (const sql of restore.filter((s) => /^CREATE TRIGGER/i.test(s))) db.exec(sql);
  for (const kind of ['exams', 'courses']) {
    db.prepare(`UPDATE catalog_stats SET total = (SELECT count(*) FROM ${kind}), version = version + 1, available_until = 0 WHERE kind = ?`).run(kind);
  }
  return `${pools.map((p) => `${p.n} ${p.kind}`).join(', ')}, ${plan.length} payments`;
}
