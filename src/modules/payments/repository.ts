// Payments, registrations and idempotency keys: all data access for both backends. Writes that must
// hold together are one D1 batch (one transaction on D1 and on Postgres) whose statements share one
// predicate, so a lost race changes zero rows everywhere. The SQL is shared; values whose type
// Postgres cannot infer from their position (SELECT lists of INSERT … SELECT) are CAST, which is
// valid SQL on both. The one dialect difference, substring search, comes from db/dialect.ts.
import { containsAllRaw } from '../../db/dialect';
import type { Store } from '../../db/store';
import { ACTIVE_SQL, type KindConfig } from '../catalog/kinds';
import type { PaymentMethod } from './schemas';

export type Status = 'applied' | 'enrolled' | 'completed' | 'cancelled';

export interface RegistrationRow {
  id: number;
  kind: 'exam' | 'course';
  item_id: number;
  status: Status;
  applied_at: number;
  completed_at: number | null;
  cancelled_at: number | null;
}

export interface PaymentRow {
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

export interface ItemState {
  price: number;
  start_at: number;
  end_at: number;
  reg_status: Status | null;
}

/** The payment row joined with the status of the registration it belongs to (if still current). */
const PAYMENT_COLUMNS = `p.id, p.payment_type, p.target_id, p.target_title, p.amount, p.payment_method, p.status,
  p.external_transaction_id, p.transaction_metadata, p.paid_at, p.cancelled_at, p.refund_reason,
  CASE WHEN r.payment_id = p.id THEN r.status ELSE 'cancelled' END AS registration_status`;
const PAYMENT_JOIN = `payments p LEFT JOIN registrations r ON r.user_id = p.user_id AND r.kind = p.payment_type AND r.item_id = p.target_id`;
const REGISTRATION_COLUMNS = 'id, kind, item_id, status, applied_at, completed_at, cancelled_at';

// ---- apply / enroll --------------------------------------------------------------------------

export function readItemState(s: Store, k: KindConfig, userId: number, itemId: number): Promise<ItemState | null> {
  return s.sql
    .prepare(
      `SELECT i.price, i.start_at, i.end_at, r.status AS reg_status FROM ${k.table} i
       LEFT JOIN registrations r ON r.user_id = ?1 AND r.kind = '${k.type}' AND r.item_id = i.id WHERE i.id = ?2`,
    )
    .bind(userId, itemId)
    .first<ItemState>();
}

export interface NewRegistration {
  userId: number;
  itemId: number;
  amount: number;
  method: PaymentMethod;
  /** The payment's unique external transaction id (also how the registration finds its payment). */
  tx: string;
  metadata: string;
  now: number;
  /** The request's Idempotency-Key: it learns the new payment's id in the same transaction. */
  idemKey?: string;
}

/**
 * Counts, pays and registers in one transaction, if the item exists, its price is the amount, it is
 * open now and the user is not registered: the same predicate guards the count and the payment, and
 * the registration is written only if this batch's payment exists (found by its transaction id).
 * Null when the guard refused (nothing written).
 */
export async function insertRegistration(s: Store, k: KindConfig, n: NewRegistration): Promise<{ payment: PaymentRow; registration: RegistrationRow } | null> {
  // ?1 user, ?2 item, ?3 amount, ?4 now
  const guard = `i.id = ?2 AND i.price = ?3 AND i.start_at <= ?4 AND i.end_at >= ?4 AND NOT EXISTS (SELECT 1 FROM registrations r
    WHERE r.user_id = ?1 AND r.kind = '${k.type}' AND r.item_id = ?2 AND r.status IN ${ACTIVE_SQL})`;
  const [, paid, registered] = await s.sql.batch<Record<string, unknown>>([
    s.sql.prepare(`UPDATE ${k.table} AS i SET registration_count = registration_count + 1 WHERE ${guard}`).bind(n.userId, n.itemId, n.amount, n.now),
    s.sql
      .prepare(
        `INSERT INTO payments (user_id, payment_type, target_id, target_title, amount, payment_method, status,
           external_transaction_id, transaction_metadata, paid_at)
         SELECT CAST(?1 AS bigint), '${k.type}', i.id, i.title, i.price, CAST(?5 AS text), 'paid', CAST(?6 AS text), CAST(?7 AS text), CAST(?4 AS bigint)
         FROM ${k.table} i WHERE ${guard}
         RETURNING id, payment_type, target_id, target_title, amount, payment_method, status, external_transaction_id,
           transaction_metadata, paid_at, cancelled_at, refund_reason, '${k.activeStatus}' AS registration_status`,
      )
      .bind(n.userId, n.itemId, n.amount, n.now, n.method, n.tx, n.metadata),
    s.sql
      .prepare(
        `INSERT INTO registrations (user_id, kind, item_id, status, payment_id, applied_at)
         SELECT CAST(?1 AS bigint), '${k.type}', CAST(?2 AS bigint), '${k.activeStatus}', p.id, CAST(?3 AS bigint)
         FROM payments p WHERE p.external_transaction_id = ?4
         ON CONFLICT (user_id, kind, item_id) DO UPDATE SET status = excluded.status, payment_id = excluded.payment_id,
           applied_at = excluded.applied_at, completed_at = NULL, cancelled_at = NULL
         WHERE registrations.status = 'cancelled'
         RETURNING ${REGISTRATION_COLUMNS}`,
      )
      .bind(n.userId, n.itemId, n.now, n.tx),
    ...(n.idemKey === undefined ? [] : [markKey(s, n.userId, n.idemKey, 'SELECT id FROM payments WHERE external_transaction_id = ?3', n.tx)]),
  ]);
  const payment = paid!.results[0] as PaymentRow | undefined;
  const registration = registered!.results[0] as RegistrationRow | undefined;
  return payment && registration ? { payment, registration } : null;
}

/** The registration a payment belongs to (by user, kind and item). */
export function registrationOfPayment(s: Store, userId: number, paymentId: number): Promise<RegistrationRow | null> {
  return s.sql
    .prepare(
      `SELECT r.id, r.kind, r.item_id, r.status, r.applied_at, r.completed_at, r.cancelled_at FROM payments p
       JOIN registrations r ON r.user_id = p.user_id AND r.kind = p.payment_type AND r.item_id = p.target_id
       WHERE p.id = ?1 AND p.user_id = ?2`,
    )
    .bind(paymentId, userId)
    .first<RegistrationRow>();
}

// ---- complete --------------------------------------------------------------------------------

/** Marks an active registration completed; null when there is none. */
export function completeRegistration(s: Store, k: KindConfig, userId: number, itemId: number, now: number): Promise<RegistrationRow | null> {
  return s.sql
    .prepare(
      `UPDATE registrations SET status = 'completed', completed_at = ?4
       WHERE user_id = ?1 AND kind = ?2 AND item_id = ?3 AND status IN ('applied', 'enrolled')
       RETURNING ${REGISTRATION_COLUMNS}`,
    )
    .bind(userId, k.type, itemId, now)
    .first<RegistrationRow>();
}

export async function registrationStatus(s: Store, k: KindConfig, userId: number, itemId: number): Promise<Status | null> {
  const row = await s.sql
    .prepare('SELECT status FROM registrations WHERE user_id = ?1 AND kind = ?2 AND item_id = ?3')
    .bind(userId, k.type, itemId)
    .first<{ status: Status }>();
  return row?.status ?? null;
}

// ---- cancel ----------------------------------------------------------------------------------

export function readPayment(s: Store, userId: number, paymentId: number): Promise<PaymentRow | null> {
  return s.sql.prepare(`SELECT ${PAYMENT_COLUMNS} FROM ${PAYMENT_JOIN} WHERE p.id = ?1 AND p.user_id = ?2`).bind(paymentId, userId).first<PaymentRow>();
}

/**
 * Cancels a paid payment whose registration is current and not completed, in one transaction. The
 * count goes first (the predicate still holds), then the payment (which flips it), then the
 * registration, guarded by "this payment is cancelled and the registration still points at it and
 * is active". False when the guard refused (nothing written).
 */
export async function cancelPayment(
  s: Store,
  k: KindConfig,
  c: { userId: number; paymentId: number; itemId: number; reason: string | null; now: number; idemKey?: string },
): Promise<boolean> {
  const { userId, paymentId, itemId, reason, now } = c;
  // ?1 payment, ?2 user
  const live = `EXISTS (SELECT 1 FROM ${PAYMENT_JOIN} WHERE p.id = ?1 AND p.user_id = ?2 AND p.status = 'paid'
    AND r.payment_id = p.id AND r.status IN ('applied', 'enrolled'))`;
  const [, cancelled] = await s.sql.batch([
    s.sql.prepare(`UPDATE ${k.table} SET registration_count = registration_count - 1 WHERE id = ?3 AND ${live}`).bind(paymentId, userId, itemId),
    s.sql
      .prepare(
        `UPDATE payments SET status = 'cancelled', cancelled_at = ?3, refund_reason = ?4
         WHERE id = ?1 AND user_id = ?2 AND status = 'paid' AND ${live} RETURNING id`,
      )
      .bind(paymentId, userId, now, reason),
    s.sql
      .prepare(
        `UPDATE registrations SET status = 'cancelled', cancelled_at = ?3
         WHERE payment_id = ?1 AND user_id = ?2 AND status IN ('applied', 'enrolled')
           AND EXISTS (SELECT 1 FROM payments WHERE id = ?1 AND status = 'cancelled')`,
      )
      .bind(paymentId, userId, now),
    // This batch's refund is the one cancelled at `now` (one user's cancels are serialised).
    ...(c.idemKey === undefined
      ? []
      : [markKey(s, userId, c.idemKey, "SELECT id FROM payments WHERE id = ?3 AND status = 'cancelled' AND cancelled_at = ?4", paymentId, now)]),
  ]);
  return cancelled!.results.length === 1;
}

// ---- history ---------------------------------------------------------------------------------

export interface HistoryFilter {
  status?: 'paid' | 'cancelled';
  payment_type?: 'exam' | 'course';
  /** paid_at range, epoch ms: from inclusive, to exclusive. */
  from?: number;
  to?: number;
  /** Words that must all appear in the title (case-insensitive substrings). */
  words: string[];
}

/** The WHERE clause of a user's history and its values (?1 = the user). */
function historyWhere(s: Store, userId: number, f: HistoryFilter): { where: string[]; binds: unknown[]; param: (v: unknown) => string } {
  const binds: unknown[] = [userId];
  const param = (v: unknown) => {
    binds.push(v);
    return `?${binds.length}`;
  };
  const where = ['p.user_id = ?1'];
  if (f.status) where.push(`p.status = ${param(f.status)}`);
  if (f.payment_type) where.push(`p.payment_type = ${param(f.payment_type)}`);
  if (f.from !== undefined) where.push(`p.paid_at >= ${param(f.from)}`);
  if (f.to !== undefined) where.push(`p.paid_at < ${param(f.to)}`);
  // Only the caller's rows (an index range) are searched, so a substring test per row is enough.
  if (f.words.length > 0) where.push(containsAllRaw(s.dialect, 'p.target_title', param(JSON.stringify(f.words))));
  return { where, binds, param };
}

const HISTORY_ORDER = 'ORDER BY p.paid_at DESC, p.id DESC';

/** Up to `limit` payments after the keyset position (paid_at, id), newest first. */
export async function historyAfter(s: Store, userId: number, f: HistoryFilter, after: [number, number], limit: number): Promise<PaymentRow[]> {
  const { where, binds, param } = historyWhere(s, userId, f);
  where.push(`(p.paid_at, p.id) < (${param(after[0])}, ${param(after[1])})`);
  const sql = `SELECT ${PAYMENT_COLUMNS} FROM ${PAYMENT_JOIN} WHERE ${where.join(' AND ')} ${HISTORY_ORDER} LIMIT ${param(limit)}`;
  return (await s.sql.prepare(sql).bind(...binds).all<PaymentRow>()).results;
}

/** One offset page of payments, newest first, and the number of all that match (one snapshot). */
export async function historyPage(s: Store, userId: number, f: HistoryFilter, limit: number, offset: number): Promise<{ count: number; rows: PaymentRow[] }> {
  const { where, binds, param } = historyWhere(s, userId, f);
  const countSql = `SELECT count(*) AS n FROM payments p WHERE ${where.join(' AND ')}`;
  const countBinds = [...binds];
  const sql = `SELECT ${PAYMENT_COLUMNS} FROM ${PAYMENT_JOIN} WHERE ${where.join(' AND ')} ${HISTORY_ORDER}
    LIMIT ${param(limit)} OFFSET ${param(offset)}`;
  const [count, rows] = await s.sql.batch<Record<string, unknown>>([
    s.sql.prepare(countSql).bind(...countBinds),
    s.sql.prepare(sql).bind(...binds),
  ]);
  return { count: count!.results[0]!.n as number, rows: rows!.results as unknown as PaymentRow[] };
}

// ---- idempotency keys ------------------------------------------------------------------------

export interface KeyClaim {
  userId: number;
  key: string;
  hash: string;
  now: number;
  expiresAt: number;
  /** A claim created at or before this without a response is abandoned and may be taken over. */
  abandonedBefore: number;
}

/**
 * Claims (user, key) in one transaction: expired keys of this user go first (a range of the
 * primary key, so the table stays small), then one conditional upsert takes the key if it is new,
 * expired or abandoned. True when this request owns the key now.
 */
export async function claimKey(s: Store, c: KeyClaim): Promise<boolean> {
  const [, claim] = await s.sql.batch([
    s.sql.prepare('DELETE FROM idempotency_keys WHERE user_id = ?1 AND expires_at <= ?2 AND key <> ?3').bind(c.userId, c.now, c.key),
    s.sql
      .prepare(
        `INSERT INTO idempotency_keys (user_id, key, request_hash, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (user_id, key) DO UPDATE SET request_hash = excluded.request_hash, response_status = NULL,
           response_body = NULL, payment_id = NULL, created_at = excluded.created_at, expires_at = excluded.expires_at
         WHERE idempotency_keys.expires_at <= ?4
           OR (idempotency_keys.response_status IS NULL AND idempotency_keys.payment_id IS NULL AND idempotency_keys.created_at <= ?6)
         RETURNING key`,
      )
      .bind(c.userId, c.key, c.hash, c.now, c.expiresAt, c.abandonedBefore),
  ]);
  return claim!.results.length === 1;
}

export interface KeyRecord {
  request_hash: string;
  response_status: number | null;
  response_body: string | null;
  /** Set when the request's write committed (even if its response was never stored). */
  payment_id: number | null;
}

/** The statement that records, inside a write's batch, which payment the key's request wrote. */
function markKey(s: Store, userId: number, key: string, paymentSql: string, ...values: unknown[]): D1PreparedStatement {
  return s.sql
    .prepare(`UPDATE idempotency_keys SET payment_id = (${paymentSql}) WHERE user_id = ?1 AND key = ?2 AND EXISTS (${paymentSql})`)
    .bind(userId, key, ...values);
}

export function readKey(s: Store, userId: number, key: string): Promise<KeyRecord | null> {
  return s.sql
    .prepare('SELECT request_hash, response_status, response_body, payment_id FROM idempotency_keys WHERE user_id = ?1 AND key = ?2')
    .bind(userId, key)
    .first<KeyRecord>();
}

export async function saveResponse(s: Store, userId: number, key: string, status: number, body: string): Promise<void> {
  await s.sql
    .prepare('UPDATE idempotency_keys SET response_status = ?3, response_body = ?4 WHERE user_id = ?1 AND key = ?2')
    .bind(userId, key, status, body)
    .run();
}

export async function releaseKey(s: Store, userId: number, key: string): Promise<void> {
  await s.sql.prepare('DELETE FROM idempotency_keys WHERE user_id = ?1 AND key = ?2').bind(userId, key).run();
}
