// Apply/enroll, complete, cancel and payment history. Writes are one D1 batch (one transaction)
// whose statements share one predicate, so a lost race changes zero rows everywhere: payment,
// registration and registration_count change together or not at all. The Durable Object in
// user-ledger.ts serialises one user's apply/enroll/cancel before they get here.
import './codes';
import { config, type Bindings } from '../../env';
import { isoOrNull } from '../../lib/openapi';
import { cursorPage, decodeCursor, encodeCursor, offsetOf, offsetPage } from '../../lib/pagination';
import { ApiError } from '../../lib/problem';
import { randomToken } from '../../lib/random';
import { ACTIVE_SQL, kindOfType, type KindConfig } from '../catalog/kinds';
import type { HistoryQueryInput, PaymentMethod, RegisterInput } from './schemas';

type Status = 'applied' | 'enrolled' | 'completed' | 'cancelled';

interface RegistrationRow {
  id: number;
  kind: 'exam' | 'course';
  item_id: number;
  status: Status;
  applied_at: number;
  completed_at: number | null;
  cancelled_at: number | null;
}

interface PaymentRow {
  id: number;
  payment_type: 'exam' | 'course';
  target_id: number;
  target_title: string;
  amount: number;
  payment_method: PaymentMethod;
  status: 'paid' | 'cancelled';
  external_transaction_id: string;
  transaction_metadata: string;
  paid_at: number;
  cancelled_at: number | null;
  refund_reason: string | null;
  registration_status: Status;
}

export function registrationView(r: RegistrationRow) {
  return {
    id: r.id,
    kind: r.kind,
    item_id: r.item_id,
    status: r.status,
    applied_at: isoOrNull(r.applied_at)!,
    completed_at: isoOrNull(r.completed_at),
    cancelled_at: isoOrNull(r.cancelled_at),
  };
}

export function paymentView(env: Bindings, p: PaymentRow) {
  return {
    id: p.id,
    payment_type: p.payment_type,
    target_id: p.target_id,
    target_title: p.target_title,
    amount: p.amount,
    currency: config(env).CURRENCY,
    payment_method: p.payment_method,
    status: p.status,
    external_transaction_id: p.external_transaction_id,
    transaction_metadata: JSON.parse(p.transaction_metadata) as TransactionMetadata,
    paid_at: isoOrNull(p.paid_at)!,
    cancelled_at: isoOrNull(p.cancelled_at),
    refund_reason: p.refund_reason,
    registration_status: p.registration_status,
  };
}

// ---- payment methods -------------------------------------------------------------------------

const METHODS: Record<PaymentMethod, { min: number; max: number; gateway: string; feeRate: number }> = {
  kakaopay: { min: 100, max: 50_000_000, gateway: 'kakaopay', feeRate: 0.029 },
  card: { min: 1_000, max: 100_000_000, gateway: 'card', feeRate: 0.032 },
  bank_transfer: { min: 1_000, max: 200_000_000, gateway: 'bank_transfer', feeRate: 0.005 },
};

export interface TransactionMetadata {
  payment_gateway: string;
  supports_refund: boolean;
  processing_fee_rate: number;
  estimated_fee: number;
}

export function transactionMetadata(method: PaymentMethod, amount: number): TransactionMetadata {
  const m = METHODS[method];
  return { payment_gateway: m.gateway, supports_refund: true, processing_fee_rate: m.feeRate, estimated_fee: Math.round(amount * m.feeRate) };
}

// ---- apply / enroll --------------------------------------------------------------------------

/** The payment row joined with the status of the registration it belongs to (if still current). */
const PAYMENT_COLUMNS = `p.id, p.payment_type, p.target_id, p.target_title, p.amount, p.payment_method, p.status,
  p.external_transaction_id, p.transaction_metadata, p.paid_at, p.cancelled_at, p.refund_reason,
  CASE WHEN r.payment_id = p.id THEN r.status ELSE 'cancelled' END AS registration_status`;
const PAYMENT_JOIN = `payments p LEFT JOIN registrations r ON r.user_id = p.user_id AND r.kind = p.payment_type AND r.item_id = p.target_id`;

interface ItemState {
  price: number;
  start_at: number;
  end_at: number;
  reg_status: Status | null;
}

/** The contract's checks, in order, against the current state; throws the first that fails. */
function checkRegister(item: ItemState | null, input: RegisterInput, now: number): void {
  if (!item) throw new ApiError('NOT_FOUND');
  if (item.reg_status !== null && item.reg_status !== 'cancelled') throw new ApiError('ALREADY_REGISTERED');
  if (now < item.start_at || now > item.end_at) throw new ApiError('NOT_IN_PERIOD');
  if (input.amount !== item.price) throw new ApiError('AMOUNT_MISMATCH', { extras: { price: item.price } });
  const m = METHODS[input.payment_method];
  if (input.amount < m.min || input.amount > m.max) {
    throw new ApiError('PAYMENT_LIMIT_EXCEEDED', { extras: { payment_method: input.payment_method, min: m.min, max: m.max } });
  }
}

async function readItemState(env: Bindings, k: KindConfig, userId: number, itemId: number): Promise<ItemState | null> {
  return env.DB.prepare(
    `SELECT i.price, i.start_at, i.end_at, r.status AS reg_status FROM ${k.table} i
     LEFT JOIN registrations r ON r.user_id = ?1 AND r.kind = '${k.type}' AND r.item_id = i.id WHERE i.id = ?2`,
  )
    .bind(userId, itemId)
    .first<ItemState>();
}

/**
 * The fast path writes first: the batch's guard is exactly the checks that need the database, so a
 * success means they all passed, and only a refusal (or a body outside the method's limits, which
 * is never written) pays for the read that names the first failing check in the contract's order.
 */
export async function register(env: Bindings, k: KindConfig, userId: number, itemId: number, input: RegisterInput, now = Date.now()) {
  const m = METHODS[input.payment_method];
  const writable = input.amount >= m.min && input.amount <= m.max;
  const written = writable ? await writeRegistration(env, k, userId, itemId, input, now) : null;
  if (written) return written;
  checkRegister(await readItemState(env, k, userId, itemId), input, now);
  // Every check passes now although the write was refused: a concurrent change that is gone again.
  throw new ApiError('ALREADY_REGISTERED');
}

async function writeRegistration(env: Bindings, k: KindConfig, userId: number, itemId: number, input: RegisterInput, now: number) {
  const tx = `tx_${randomToken(18)}`;
  const meta = JSON.stringify(transactionMetadata(input.payment_method, input.amount));
  // ?1 user, ?2 item, ?3 amount, ?4 now: the same predicate guards the count and the payment; the
  // registration is written only if this batch's payment exists (found by its transaction id).
  const guard = `i.id = ?2 AND i.price = ?3 AND i.start_at <= ?4 AND i.end_at >= ?4 AND NOT EXISTS (SELECT 1 FROM registrations r
    WHERE r.user_id = ?1 AND r.kind = '${k.type}' AND r.item_id = ?2 AND r.status IN ${ACTIVE_SQL})`;
  const [, paid, registered] = await env.DB.batch<Record<string, unknown>>([
    env.DB.prepare(`UPDATE ${k.table} AS i SET registration_count = registration_count + 1 WHERE ${guard}`).bind(userId, itemId, input.amount, now),
    env.DB.prepare(
      `INSERT INTO payments (user_id, payment_type, target_id, target_title, amount, payment_method, status,
         external_transaction_id, transaction_metadata, paid_at)
       SELECT ?1, '${k.type}', i.id, i.title, i.price, ?5, 'paid', ?6, ?7, ?4 FROM ${k.table} i WHERE ${guard}
       RETURNING id, payment_type, target_id, target_title, amount, payment_method, status, external_transaction_id,
         transaction_metadata, paid_at, cancelled_at, refund_reason, '${k.activeStatus}' AS registration_status`,
    ).bind(userId, itemId, input.amount, now, input.payment_method, tx, meta),
    env.DB.prepare(
      `INSERT INTO registrations (user_id, kind, item_id, status, payment_id, applied_at)
       SELECT ?1, '${k.type}', ?2, '${k.activeStatus}', p.id, ?3 FROM payments p WHERE p.external_transaction_id = ?4
       ON CONFLICT (user_id, kind, item_id) DO UPDATE SET status = excluded.status, payment_id = excluded.payment_id,
         applied_at = excluded.applied_at, completed_at = NULL, cancelled_at = NULL
       WHERE registrations.status = 'cancelled'
       RETURNING id, kind, item_id, status, applied_at, completed_at, cancelled_at`,
    ).bind(userId, itemId, now, tx),
  ]);
  const payment = paid!.results[0] as PaymentRow | undefined;
  const registration = registered!.results[0] as RegistrationRow | undefined;
  if (!payment || !registration) return null;
  return { registration: registrationView(registration), payment: paymentView(env, payment) };
}

// ---- complete --------------------------------------------------------------------------------

export async function complete(env: Bindings, k: KindConfig, userId: number, itemId: number, now = Date.now()) {
  const row = await env.DB.prepare(
    `UPDATE registrations SET status = 'completed', completed_at = ?4
     WHERE user_id = ?1 AND kind = ?2 AND item_id = ?3 AND status IN ('applied', 'enrolled')
     RETURNING id, kind, item_id, status, applied_at, completed_at, cancelled_at`,
  )
    .bind(userId, k.type, itemId, now)
    .first<RegistrationRow>();
  if (row) return registrationView(row);
  const current = await env.DB.prepare('SELECT status FROM registrations WHERE user_id = ?1 AND kind = ?2 AND item_id = ?3')
    .bind(userId, k.type, itemId)
    .first<{ status: Status }>();
  if (!current) throw new ApiError('REGISTRATION_NOT_FOUND');
  throw new ApiError(current.status === 'completed' ? 'ALREADY_COMPLETED' : 'REGISTRATION_CANCELLED');
}

// ---- cancel ----------------------------------------------------------------------------------

export async function readPayment(env: Bindings, userId: number, paymentId: number): Promise<PaymentRow | null> {
  return env.DB.prepare(`SELECT ${PAYMENT_COLUMNS} FROM ${PAYMENT_JOIN} WHERE p.id = ?1 AND p.user_id = ?2`).bind(paymentId, userId).first<PaymentRow>();
}

export async function getPayment(env: Bindings, userId: number, paymentId: number) {
  const row = await readPayment(env, userId, paymentId);
  if (!row) throw new ApiError('NOT_FOUND');
  return paymentView(env, row);
}

function checkCancel(p: PaymentRow | null): asserts p is PaymentRow {
  if (!p) throw new ApiError('NOT_FOUND');
  if (p.status === 'cancelled') throw new ApiError('PAYMENT_ALREADY_CANCELLED');
  if (p.registration_status === 'completed') throw new ApiError('REGISTRATION_COMPLETED');
}

export async function cancel(env: Bindings, userId: number, paymentId: number, reason: string | null, now = Date.now()) {
  const before = await readPayment(env, userId, paymentId);
  checkCancel(before);
  const k = kindOfType(before.payment_type);
  // ?1 payment, ?2 user: "paid, and its registration is current and not completed". The count goes
  // first (the predicate still holds), then the payment (which flips it), then the registration,
  // guarded by "this payment is cancelled and the registration still points at it and is active".
  const live = `EXISTS (SELECT 1 FROM ${PAYMENT_JOIN} WHERE p.id = ?1 AND p.user_id = ?2 AND p.status = 'paid'
    AND r.payment_id = p.id AND r.status IN ('applied', 'enrolled'))`;
  const [, cancelled] = await env.DB.batch([
    env.DB.prepare(`UPDATE ${k.table} SET registration_count = registration_count - 1 WHERE id = ?3 AND ${live}`).bind(paymentId, userId, before.target_id),
    env.DB.prepare(
      `UPDATE payments SET status = 'cancelled', cancelled_at = ?3, refund_reason = ?4
       WHERE id = ?1 AND user_id = ?2 AND status = 'paid' AND ${live} RETURNING id`,
    ).bind(paymentId, userId, now, reason),
    env.DB.prepare(
      `UPDATE registrations SET status = 'cancelled', cancelled_at = ?3
       WHERE payment_id = ?1 AND user_id = ?2 AND status IN ('applied', 'enrolled')
         AND EXISTS (SELECT 1 FROM payments WHERE id = ?1 AND status = 'cancelled')`,
    ).bind(paymentId, userId, now),
  ]);
  const after = await readPayment(env, userId, paymentId);
  if (cancelled!.results.length !== 1) {
    checkCancel(after);
    throw new ApiError('PAYMENT_ALREADY_CANCELLED');
  }
  return paymentView(env, after!);
}

// ---- history ---------------------------------------------------------------------------------

const DAY = 86_400_000;

export async function listPayments(env: Bindings, userId: number, q: HistoryQueryInput, url: string) {
  const binds: unknown[] = [userId];
  const param = (v: unknown) => {
    binds.push(v);
    return `?${binds.length}`;
  };
  const where = ['p.user_id = ?1'];
  if (q.status) where.push(`p.status = ${param(q.status)}`);
  if (q.payment_type) where.push(`p.payment_type = ${param(q.payment_type)}`);
  if (q.from) where.push(`p.paid_at >= ${param(Date.parse(`${q.from}T00:00:00Z`))}`);
  if (q.to) where.push(`p.paid_at < ${param(Date.parse(`${q.to}T00:00:00Z`) + DAY)}`);
  // Only the caller's rows (an index range) are searched, so LIKE per word is enough here.
  for (const word of (q.search ?? '').split(/\s+/).filter(Boolean)) {
    where.push(`p.target_title LIKE ${param(`%${word.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)} ESCAPE '\\'`);
  }
  const order = 'ORDER BY p.paid_at DESC, p.id DESC';
  const view = (r: PaymentRow) => paymentView(env, r);

  if (q.cursor) {
    const [paidAt, id] = decodeCursor(q.cursor, 2);
    where.push(`(p.paid_at, p.id) < (${param(paidAt)}, ${param(id)})`);
    const sql = `SELECT ${PAYMENT_COLUMNS} FROM ${PAYMENT_JOIN} WHERE ${where.join(' AND ')} ${order} LIMIT ${param(q.page_size + 1)}`;
    const rows = (await env.DB.prepare(sql).bind(...binds).all<PaymentRow>()).results;
    const page = cursorPage(url, q.page_size, rows, (r) => [r.paid_at, r.id]);
    return { ...page, results: page.results.map(view) };
  }
  const countSql = `SELECT count(*) AS n FROM payments p WHERE ${where.join(' AND ')}`;
  const countBinds = [...binds];
  const sql = `SELECT ${PAYMENT_COLUMNS} FROM ${PAYMENT_JOIN} WHERE ${where.join(' AND ')} ${order}
    LIMIT ${param(q.page_size)} OFFSET ${param(offsetOf(q))}`;
  const [count, rows] = await env.DB.batch<Record<string, unknown>>([
    env.DB.prepare(countSql).bind(...countBinds),
    env.DB.prepare(sql).bind(...binds),
  ]);
  const page = offsetPage(url, q, count!.results[0]!.n as number, rows!.results as unknown as PaymentRow[]);
  // First page of a time-ordered list also offers a cursor to continue in constant time.
  const last = page.results[page.results.length - 1];
  return { ...page, results: page.results.map(view), next_cursor: page.next && last ? encodeCursor([last.paid_at, last.id]) : null };
}
