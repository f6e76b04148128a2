// Payments, registrations and idempotency keys: all data access for both backends, as drizzle `sql`
// templates. Writes that must hold together are one store write (a D1 batch; a Postgres
// transaction) whose statements share one predicate, so a lost race changes zero rows everywhere.
// Values whose type Postgres cannot infer from their position (SELECT lists of INSERT … SELECT) are
// CAST, which is valid SQL on both.
//
// Consistency on Postgres: the predicate ("not registered yet", "this payment is still paid") spans
// several statements and tables, which READ COMMITTED alone would not keep true between them. Every
// registration write of a user therefore takes that user's advisory lock first: one user's
// writes run one at a time (as the user's UserLedger already orders them), different users' run
// side by side. Counters on the shared item row are plain increments under its row lock.
import { sql, type SQL } from 'drizzle-orm';
import { containsAll } from '../../db/dialect/sql';
import type { SqlRow } from '../../db/rows';
import type { exams, payments, registrations } from '../../db/schema';
import { raw, type Lock, type Store } from '../../db/store';
import { ACTIVE_STATUSES, type KindConfig } from '../catalog';
import type { PaymentProviderName, PaymentStatus } from '../../contract';
import type { PaymentMethod } from './schemas';
import { columnsOf, outboxEvent } from '../webhooks';

type Registration = SqlRow<typeof registrations>;
export type Status = Registration['status'];

/** A registration as REGISTRATION_COLUMNS reads it. */
export type RegistrationRow = Omit<Registration, 'user_id' | 'payment_id'>;

/** A payment as PAYMENT_COLUMNS reads it: without its user, with the status of its registration. */
export type PaymentRow = Omit<SqlRow<typeof payments>, 'user_id'> & { registration_status: Status };

export type ItemState = Pick<SqlRow<typeof exams>, 'title' | 'price' | 'start_at' | 'end_at'> & {
  reg_status: Status | null;
  /** The payment of the registration (a pending one's: PAYMENT_PENDING names it). */
  reg_payment_id: number | null;
};

/** The user's registration writes run one at a time on Postgres (see the header). */
const userLock = (userId: number): Lock[] => [['user', userId]];

const table = (k: KindConfig) => sql.raw(k.table);
const pending = sql.raw(`('applied', 'enrolled')`);
/** A registration in one of these blocks another for its item: active, or waiting for its payment. */
const blocking = sql.raw(`(${[...ACTIVE_STATUSES, 'pending'].map((s) => `'${s}'`).join(',')})`);

/** The payment row joined with the status of the registration it belongs to (if still current). */
const PAYMENT_COLUMNS = sql.raw(`p.id, p.payment_type, p.target_id, p.target_title, p.amount, p.payment_method, p.status,
  p.external_transaction_id, p.transaction_metadata, p.paid_at, p.cancelled_at, p.refund_reason,
  p.provider, p.reference, p.expires_at, p.checkout, p.refund_requested_at,
  CASE WHEN r.payment_id = p.id THEN r.status ELSE 'cancelled' END AS registration_status`);
const PAYMENT_JOIN = sql.raw(`payments p LEFT JOIN registrations r ON r.user_id = p.user_id AND r.kind = p.payment_type AND r.item_id = p.target_id`);
const REGISTRATION_COLUMNS = sql.raw('id, kind, item_id, status, applied_at, completed_at, cancelled_at');
/** PAYMENT_COLUMNS of a payment an INSERT returns (without its registration's status). */
const RETURNED_PAYMENT = sql.raw(`id, payment_type, target_id, target_title, amount, payment_method, status, external_transaction_id,
  transaction_metadata, paid_at, cancelled_at, refund_reason, provider, reference, expires_at, checkout, refund_requested_at`);

// ---- events (the outbox: src/modules/webhooks/outbox.ts) ----------------------------------------

/**
 * A payment's event object over `payments p`, as GET /api/me/payments/{id} answers it (service.ts
 * paymentView: paid_at only once paid, expires_at and checkout only while pending).
 */
const paymentObject = (registrationStatus: string) => ({
  ...columnsOf('p', ['id', 'payment_type', 'target_id', 'target_title', 'amount']),
  currency: sql`CAST(NULL AS text)`,
  ...columnsOf('p', ['payment_method', 'status', 'external_transaction_id', 'transaction_metadata']),
  paid_at: sql.raw(`CASE WHEN p.status IN ('pending', 'expired', 'failed') THEN NULL ELSE p.paid_at END`),
  ...columnsOf('p', ['cancelled_at', 'refund_reason']),
  registration_status: sql`CAST(${sql.raw(`'${registrationStatus}'`)} AS text)`,
  expires_at: sql.raw(`CASE WHEN p.status = 'pending' THEN p.expires_at ELSE NULL END`),
  checkout: sql.raw(`CASE WHEN p.status = 'pending' THEN p.checkout ELSE NULL END`),
});

/** The event of a payment: one more statement of its write, matching only the row this write changed. */
const paymentEvent = (
  s: Store,
  type: 'payment.pending' | 'payment.paid' | 'payment.cancelled' | 'payment.refunded' | 'payment.expired',
  where: SQL,
  registrationStatus: string,
  now: number,
  eventId?: string,
) => outboxEvent(s, { type, from: sql`payments p WHERE ${where}`, userId: sql`p.user_id`, object: paymentObject(registrationStatus), eventId }, now);

/** A payment is cancelled, refunded or expired once in its life: these events carry fixed ids (a repeat is ignored). */
const onceId = (paymentId: number, what: 'cancelled' | 'refunded' | 'expired') => `evt_pay${paymentId}_${what}`;

// ---- apply / enroll --------------------------------------------------------------------------

export async function readItemState(s: Store, k: KindConfig, userId: number, itemId: number): Promise<ItemState | null> {
  const [row] = await s.rows<ItemState>(
    sql`SELECT i.title, i.price, i.start_at, i.end_at, r.status AS reg_status, r.payment_id AS reg_payment_id FROM ${table(k)} i
      LEFT JOIN registrations r ON r.user_id = ${userId} AND r.kind = ${k.type} AND r.item_id = i.id WHERE i.id = ${itemId}`,
  );
  return row ?? null;
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

export interface Written {
  payment: PaymentRow;
  registration: RegistrationRow;
}

/**
 * Counts, pays and registers, if the item exists, its price is the amount, it is open now and the
 * user is not registered: the same predicate guards the count and the payment, and the registration
 * is written only if this registration's payment exists (found by its transaction id). The three
 * (four, with an Idempotency-Key) statements of one registration; `read` takes their results.
 */
function registrationStatements(s: Store, k: KindConfig, n: NewRegistration) {
  const guard = sql`i.id = ${n.itemId} AND i.price = ${n.amount} AND i.start_at <= ${n.now} AND i.end_at >= ${n.now}
    AND NOT EXISTS (SELECT 1 FROM registrations r WHERE r.user_id = ${n.userId} AND r.kind = ${k.type} AND r.item_id = ${n.itemId}
      AND r.status IN ${blocking})`;
  const items = [
    raw(sql`UPDATE ${table(k)} AS i SET registration_count = registration_count + 1 WHERE ${guard}`),
    raw<PaymentRow>(sql`INSERT INTO payments (user_id, payment_type, target_id, target_title, amount, payment_method, status,
        external_transaction_id, transaction_metadata, paid_at)
      SELECT CAST(${n.userId} AS bigint), ${k.type}, i.id, i.title, i.price, CAST(${n.method} AS text), 'paid', CAST(${n.tx} AS text),
        CAST(${n.metadata} AS text), CAST(${n.now} AS bigint)
      FROM ${table(k)} i WHERE ${guard}
      RETURNING ${RETURNED_PAYMENT}, ${k.activeStatus} AS registration_status`),
    raw<RegistrationRow>(sql`INSERT INTO registrations (user_id, kind, item_id, status, payment_id, applied_at)
      SELECT CAST(${n.userId} AS bigint), ${k.type}, CAST(${n.itemId} AS bigint), ${k.activeStatus}, p.id, CAST(${n.now} AS bigint)
      FROM payments p WHERE p.external_transaction_id = ${n.tx}
      ON CONFLICT (user_id, kind, item_id) DO UPDATE SET status = excluded.status, payment_id = excluded.payment_id,
        applied_at = excluded.applied_at, completed_at = NULL, cancelled_at = NULL
      WHERE registrations.status = 'cancelled'
      RETURNING ${REGISTRATION_COLUMNS}`),
    ...(n.idemKey === undefined ? [] : [markKey(n.userId, n.idemKey, sql`SELECT id FROM payments WHERE external_transaction_id = ${n.tx}`)]),
    // payment.paid, written only when this registration's payment was (found by its transaction id).
    paymentEvent(s, 'payment.paid', sql`p.external_transaction_id = ${n.tx}`, k.activeStatus, n.now),
  ];
  const read = (results: unknown[]): Written | null => {
    const payment = (results[1] as PaymentRow[])[0];
    const registration = (results[2] as RegistrationRow[])[0];
    return payment && registration ? { payment, registration } : null;
  };
  return { items, read };
}

/**
 * Several registrations of one user in one write (one D1 batch; one Postgres transaction under the
 * user's lock): each keeps its own guard, so each is written whole or refused on its own (a refusal
 * changes zero rows), and a later one sees the earlier ones (two of one item: the second is refused).
 * Null for a refused one. A statement that fails outright fails them all; callers retry each alone
 * then.
 *
 * They run sorted by item (table, then id; arrival order among requests for one item), because each
 * locks its item's row on Postgres until the commit: two users' groups that met the same items in
 * different orders would deadlock. Results come back in the order of `writes`.
 */
export async function insertRegistrations(s: Store, userId: number, writes: { k: KindConfig; n: NewRegistration }[]): Promise<(Written | null)[]> {
  const order = writes.map((_, i) => i).sort((a, b) => compareItems(writes[a]!, writes[b]!) || a - b);
  const parts = order.map((i) => registrationStatements(s, writes[i]!.k, writes[i]!.n));
  const results = await s.write(
    parts.flatMap((p) => p.items),
    userLock(userId),
  );
  const written: (Written | null)[] = [];
  let at = 0;
  for (const [j, p] of parts.entries()) {
    written[order[j]!] = p.read(results.slice(at, at + p.items.length));
    at += p.items.length;
  }
  return written;
}

/** The one order in which writes lock item rows: by table, then by id. */
const compareItems = (a: { k: KindConfig; n: NewRegistration }, b: { k: KindConfig; n: NewRegistration }) =>
  a.k.table.localeCompare(b.k.table) || a.n.itemId - b.n.itemId;

/** The registration a payment belongs to (by user, kind and item). */
export async function registrationOfPayment(s: Store, userId: number, paymentId: number): Promise<RegistrationRow | null> {
  const [row] = await s.rows<RegistrationRow>(
    sql`SELECT r.id, r.kind, r.item_id, r.status, r.applied_at, r.completed_at, r.cancelled_at FROM payments p
      JOIN registrations r ON r.user_id = p.user_id AND r.kind = p.payment_type AND r.item_id = p.target_id
      WHERE p.id = ${paymentId} AND p.user_id = ${userId}`,
  );
  return row ?? null;
}

// ---- complete --------------------------------------------------------------------------------

/** Marks an active registration completed; null when there is none. */
export async function completeRegistration(s: Store, k: KindConfig, userId: number, itemId: number, now: number): Promise<RegistrationRow | null> {
  const [rows] = await s.write(
    [
      raw<RegistrationRow>(sql`UPDATE registrations SET status = 'completed', completed_at = ${now}
        WHERE user_id = ${userId} AND kind = ${k.type} AND item_id = ${itemId} AND status IN ${pending}
        RETURNING ${REGISTRATION_COLUMNS}`),
      // registration.completed: the row this write completed (at `now`), or none.
      outboxEvent(
        s,
        {
          type: 'registration.completed',
          from: sql`registrations r WHERE r.user_id = ${userId} AND r.kind = ${k.type} AND r.item_id = ${itemId}
            AND r.status = 'completed' AND r.completed_at = ${now}`,
          userId: sql`r.user_id`,
          object: columnsOf('r', ['id', 'kind', 'item_id', 'status', 'applied_at', 'completed_at', 'cancelled_at']),
        },
        now,
      ),
    ],
    userLock(userId),
  );
  return rows[0] ?? null;
}

export async function registrationStatus(s: Store, k: KindConfig, userId: number, itemId: number): Promise<Status | null> {
  const [row] = await s.rows<{ status: Status }>(
    sql`SELECT status FROM registrations WHERE user_id = ${userId} AND kind = ${k.type} AND item_id = ${itemId}`,
  );
  return row?.status ?? null;
}

// ---- cancel ----------------------------------------------------------------------------------

export async function readPayment(s: Store, userId: number, paymentId: number): Promise<PaymentRow | null> {
  const [row] = await s.rows<PaymentRow>(sql`SELECT ${PAYMENT_COLUMNS} FROM ${PAYMENT_JOIN} WHERE p.id = ${paymentId} AND p.user_id = ${userId}`);
  return row ?? null;
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
  c: {
    userId: number;
    paymentId: number;
    itemId: number;
    reason: string | null;
    now: number;
    idemKey?: string;
    /** `refund_pending` when the provider's answer to the refund was lost (the queue retries it). */
    to?: 'cancelled' | 'refund_pending';
  },
): Promise<boolean> {
  const { userId, paymentId, itemId, reason, now } = c;
  const to = c.to ?? 'cancelled';
  const live = sql`EXISTS (SELECT 1 FROM ${PAYMENT_JOIN} WHERE p.id = ${paymentId} AND p.user_id = ${userId} AND p.status = 'paid'
    AND r.payment_id = p.id AND r.status IN ${pending})`;
  const thisCancel = sql`p.id = ${paymentId} AND p.user_id = ${userId} AND p.status = ${to} AND p.cancelled_at = ${now}`;
  const [, cancelled] = await s.write(
    [
      raw(sql`UPDATE ${table(k)} SET registration_count = registration_count - 1 WHERE id = ${itemId} AND ${live}`),
      raw(sql`UPDATE payments SET status = ${to}, cancelled_at = ${now}, refund_reason = ${reason},
          refund_requested_at = ${to === 'cancelled' ? null : now}
        WHERE id = ${paymentId} AND user_id = ${userId} AND status = 'paid' AND ${live} RETURNING id`),
      raw(sql`UPDATE registrations SET status = 'cancelled', cancelled_at = ${now}
        WHERE payment_id = ${paymentId} AND user_id = ${userId} AND status IN ${pending}
          AND EXISTS (SELECT 1 FROM payments WHERE id = ${paymentId} AND status = ${to})`),
      // payment.cancelled, and payment.refunded when the refund is done now (the simulated provider, or
      // a provider that answered): this write's cancellation only (at `now`; one user's cancels are
      // serialised). A refund_pending one is refunded later (settleRefund).
      paymentEvent(s, 'payment.cancelled', thisCancel, 'cancelled', now, onceId(paymentId, 'cancelled')),
      ...(to === 'cancelled' ? [paymentEvent(s, 'payment.refunded', thisCancel, 'cancelled', now, onceId(paymentId, 'refunded'))] : []),
      // This batch's refund is the one cancelled at `now` (one user's cancels are serialised).
      ...(c.idemKey === undefined
        ? []
        : [markKey(userId, c.idemKey, sql`SELECT id FROM payments WHERE id = ${paymentId} AND status = ${to} AND cancelled_at = ${now}`)]),
    ],
    userLock(userId),
  );
  return cancelled.length === 1;
}

// ---- real providers: pending payments, settlement, refunds ---------------------------------

export interface NewPending extends NewRegistration {
  provider: PaymentProviderName;
  reference: string;
  expiresAt: number;
  /** JSON of the checkout. */
  checkout: string;
}

/**
 * A pending payment and its pending registration (a cancelled registration row is re-used), if the
 * item exists at this price, is open now and the user has no active or pending registration for it.
 * Nothing is counted: a pending registration is not active. Null when the guard refused.
 */
export async function insertPending(s: Store, k: KindConfig, n: NewPending): Promise<Written | null> {
  const guard = sql`i.id = ${n.itemId} AND i.price = ${n.amount} AND i.start_at <= ${n.now} AND i.end_at >= ${n.now}
    AND NOT EXISTS (SELECT 1 FROM registrations r WHERE r.user_id = ${n.userId} AND r.kind = ${k.type} AND r.item_id = ${n.itemId}
      AND r.status IN ${blocking})`;
  const results = await s.write(
    [
      raw<PaymentRow>(sql`INSERT INTO payments (user_id, payment_type, target_id, target_title, amount, payment_method, status,
          external_transaction_id, transaction_metadata, paid_at, provider, reference, expires_at, checkout)
        SELECT CAST(${n.userId} AS bigint), ${k.type}, i.id, i.title, i.price, CAST(${n.method} AS text), 'pending', CAST(${n.tx} AS text),
          CAST(${n.metadata} AS text), CAST(${n.now} AS bigint), CAST(${n.provider} AS text), CAST(${n.reference} AS text),
          CAST(${n.expiresAt} AS bigint), CAST(${n.checkout} AS text)
        FROM ${table(k)} i WHERE ${guard}
        RETURNING ${RETURNED_PAYMENT}, 'pending' AS registration_status`),
      raw<RegistrationRow>(sql`INSERT INTO registrations (user_id, kind, item_id, status, payment_id, applied_at)
        SELECT CAST(${n.userId} AS bigint), ${k.type}, CAST(${n.itemId} AS bigint), 'pending', p.id, CAST(${n.now} AS bigint)
        FROM payments p WHERE p.external_transaction_id = ${n.tx}
        ON CONFLICT (user_id, kind, item_id) DO UPDATE SET status = excluded.status, payment_id = excluded.payment_id,
          applied_at = excluded.applied_at, completed_at = NULL, cancelled_at = NULL
        WHERE registrations.status = 'cancelled'
        RETURNING ${REGISTRATION_COLUMNS}`),
      ...(n.idemKey === undefined ? [] : [markKey(n.userId, n.idemKey, sql`SELECT id FROM payments WHERE external_transaction_id = ${n.tx}`)]),
      // payment.pending, written only when this pending payment was.
      paymentEvent(s, 'payment.pending', sql`p.external_transaction_id = ${n.tx}`, 'pending', n.now),
    ],
    userLock(n.userId),
  );
  const payment = (results[0] as PaymentRow[])[0];
  const registration = (results[1] as RegistrationRow[])[0];
  return payment && registration ? { payment, registration } : null;
}

/**
 * A pending payment becomes paid: its registration active and counted, in one write guarded by
 * "this payment is pending and its registration still waits for it" (false: nothing written).
 */
export async function payPending(s: Store, k: KindConfig, c: { userId: number; paymentId: number; itemId: number; now: number }): Promise<boolean> {
  const { userId, paymentId, itemId, now } = c;
  const live = sql`EXISTS (SELECT 1 FROM ${PAYMENT_JOIN} WHERE p.id = ${paymentId} AND p.user_id = ${userId} AND p.status = 'pending'
    AND r.payment_id = p.id AND r.status = 'pending')`;
  const [, paid] = await s.write(
    [
      raw(sql`UPDATE ${table(k)} SET registration_count = registration_count + 1 WHERE id = ${itemId} AND ${live}`),
      // The checkout (Stripe's client secret) is of no use once settled: not kept.
      raw(
        sql`UPDATE payments SET status = 'paid', paid_at = ${now}, checkout = NULL WHERE id = ${paymentId} AND user_id = ${userId} AND ${live} RETURNING id`,
      ),
      raw(sql`UPDATE registrations SET status = ${k.activeStatus}, applied_at = ${now}
        WHERE payment_id = ${paymentId} AND user_id = ${userId} AND status = 'pending'
          AND EXISTS (SELECT 1 FROM payments WHERE id = ${paymentId} AND status = 'paid')`),
      // payment.paid, once (a payment is paid once in its life).
      paymentEvent(
        s,
        'payment.paid',
        sql`p.id = ${paymentId} AND p.user_id = ${userId} AND p.status = 'paid' AND p.paid_at = ${now}`,
        k.activeStatus,
        now,
        `evt_pay${paymentId}_paid`,
      ),
    ],
    userLock(userId),
  );
  return paid.length === 1;
}

/** A pending payment that will never be paid: expired, failed or cancelled; its registration cancelled. */
export async function closePending(
  s: Store,
  c: { userId: number; paymentId: number; to: 'expired' | 'failed' | 'cancelled'; reason?: string | null; now: number },
): Promise<boolean> {
  const { userId, paymentId, to, now } = c;
  const [closed] = await s.write(
    [
      raw(sql`UPDATE payments SET status = ${to}, cancelled_at = ${to === 'cancelled' ? now : null}, refund_reason = ${c.reason ?? null}, checkout = NULL
        WHERE id = ${paymentId} AND user_id = ${userId} AND status = 'pending' RETURNING id`),
      raw(sql`UPDATE registrations SET status = 'cancelled', cancelled_at = ${now}
        WHERE payment_id = ${paymentId} AND user_id = ${userId} AND status = 'pending'
          AND EXISTS (SELECT 1 FROM payments WHERE id = ${paymentId} AND status = ${to})`),
      // payment.expired or payment.cancelled, once (`failed` has no event type in the contract).
      ...(to === 'failed'
        ? []
        : [
            paymentEvent(
              s,
              `payment.${to}`,
              sql`p.id = ${paymentId} AND p.user_id = ${userId} AND p.status = ${to}`,
              'cancelled',
              now,
              onceId(paymentId, to),
            ),
          ]),
    ],
    userLock(userId),
  );
  return closed.length === 1;
}

/** Before a refund is asked of the provider: the intent, so a crash before its answer is written is found. */
export async function markRefundRequested(s: Store, userId: number, paymentId: number, reason: string | null, now: number): Promise<boolean> {
  const [rows] = await s.write([
    raw(sql`UPDATE payments SET refund_requested_at = ${now}, refund_reason = ${reason}
      WHERE id = ${paymentId} AND user_id = ${userId} AND status = 'paid' RETURNING id`),
  ]);
  return rows.length === 1;
}

/** The provider refused the refund: the payment stays paid, as it was. */
export async function clearRefundRequested(s: Store, userId: number, paymentId: number): Promise<void> {
  await s.write([
    raw(
      sql`UPDATE payments SET refund_requested_at = NULL, refund_reason = NULL WHERE id = ${paymentId} AND user_id = ${userId} AND status = 'paid'`,
    ),
  ]);
}

/** The provider settled a refund_pending payment's refund: it is cancelled (and payment.refunded, once). */
export async function finishRefund(s: Store, userId: number, paymentId: number): Promise<boolean> {
  const [rows] = await s.write([
    raw(sql`UPDATE payments SET status = 'cancelled', refund_requested_at = NULL
      WHERE id = ${paymentId} AND user_id = ${userId} AND status = 'refund_pending' RETURNING id`),
    paymentEvent(
      s,
      'payment.refunded',
      sql`p.id = ${paymentId} AND p.user_id = ${userId} AND p.status = 'cancelled'`,
      'cancelled',
      Date.now(),
      onceId(paymentId, 'refunded'),
    ),
  ]);
  return rows.length === 1;
}

export interface PaymentRef {
  id: number;
  user_id: number;
}

/** The payment a provider's payment id belongs to (a webhook's), if it is this service's. */
export async function paymentByExternalId(s: Store, provider: PaymentProviderName, externalId: string): Promise<PaymentRef | null> {
  const [row] = await s.rows<PaymentRef>(
    sql`SELECT id, user_id FROM payments WHERE external_transaction_id = ${externalId} AND provider = ${provider}`,
  );
  return row ?? null;
}

/**
 * What the scheduled job settles, a bounded number of each: pending payments past expires_at,
 * refund_pending ones (their queue message may be gone), and paid ones whose refund was asked
 * before `staleBefore` and never answered (a crash in between).
 */
export async function duePayments(s: Store, now: number, staleBefore: number, limit: number): Promise<PaymentRef[]> {
  const [expired, refunds, stale] = await s.read([
    raw<PaymentRef>(sql`SELECT id, user_id FROM payments WHERE status = 'pending' AND expires_at <= ${now} ORDER BY expires_at LIMIT ${limit}`),
    raw<PaymentRef>(sql`SELECT id, user_id FROM payments WHERE status = 'refund_pending' AND refund_requested_at <= ${staleBefore} LIMIT ${limit}`),
    raw<PaymentRef>(sql`SELECT id, user_id FROM payments WHERE refund_requested_at <= ${staleBefore} AND status = 'paid' LIMIT ${limit}`),
  ]);
  return [...expired, ...refunds, ...stale];
}

// ---- history ---------------------------------------------------------------------------------

export interface HistoryFilter {
  status?: PaymentStatus;
  payment_type?: 'exam' | 'course';
  /** paid_at range, epoch ms: from inclusive, to exclusive. */
  from?: number;
  to?: number;
  /** Words that must all appear in the title (case-insensitive substrings). */
  words: string[];
}

/** The WHERE terms of a user's history. */
function historyWhere(s: Store, userId: number, f: HistoryFilter): SQL[] {
  const where = [sql`p.user_id = ${userId}`];
  if (f.status) where.push(sql`p.status = ${f.status}`);
  if (f.payment_type) where.push(sql`p.payment_type = ${f.payment_type}`);
  if (f.from !== undefined) where.push(sql`p.paid_at >= ${f.from}`);
  if (f.to !== undefined) where.push(sql`p.paid_at < ${f.to}`);
  // Only the caller's rows (an index range) are searched, so a substring test per row is enough.
  if (f.words.length > 0) where.push(containsAll(s.dialect, sql.raw('p.target_title'), f.words));
  return where;
}

const and = (terms: SQL[]) => sql.join(terms, sql` AND `);
const HISTORY_ORDER = sql.raw('ORDER BY p.paid_at DESC, p.id DESC');

/** Up to `limit` payments after the keyset position (paid_at, id), newest first. */
export function historyAfter(s: Store, userId: number, f: HistoryFilter, after: [number, number], limit: number): Promise<PaymentRow[]> {
  const where = [...historyWhere(s, userId, f), sql`(p.paid_at, p.id) < (${after[0]}, ${after[1]})`];
  return s.rows<PaymentRow>(sql`SELECT ${PAYMENT_COLUMNS} FROM ${PAYMENT_JOIN} WHERE ${and(where)} ${HISTORY_ORDER} LIMIT ${limit}`);
}

/** One offset page of payments, newest first, and the number of all that match (one snapshot). */
export async function historyPage(
  s: Store,
  userId: number,
  f: HistoryFilter,
  limit: number,
  offset: number,
): Promise<{ count: number; rows: PaymentRow[] }> {
  const where = and(historyWhere(s, userId, f));
  const [count, rows] = await s.read([
    raw<{ n: number }>(sql`SELECT count(*) AS n FROM payments p WHERE ${where}`),
    raw<PaymentRow>(sql`SELECT ${PAYMENT_COLUMNS} FROM ${PAYMENT_JOIN} WHERE ${where} ${HISTORY_ORDER} LIMIT ${limit} OFFSET ${offset}`),
  ]);
  return { count: count[0]!.n, rows };
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
 * Claims (user, key): one conditional upsert takes the key if it is new, expired or abandoned (atomic
 * on its row on both backends). True when this request owns the key now. It touches no other row:
 * deleting the user's other expired keys here locked rows that concurrent claims of those keys were
 * taking, and two such claims deadlocked on Postgres. Expired keys are the scheduled purge's.
 */
export async function claimKey(s: Store, c: KeyClaim): Promise<boolean> {
  const [claim] = await s.write([
    raw(sql`INSERT INTO idempotency_keys (user_id, key, request_hash, created_at, expires_at)
      VALUES (${c.userId}, ${c.key}, ${c.hash}, ${c.now}, ${c.expiresAt})
      ON CONFLICT (user_id, key) DO UPDATE SET request_hash = excluded.request_hash, response_status = NULL,
        response_body = NULL, payment_id = NULL, created_at = excluded.created_at, expires_at = excluded.expires_at
      WHERE idempotency_keys.expires_at <= ${c.now}
        OR (idempotency_keys.response_status IS NULL AND idempotency_keys.payment_id IS NULL AND idempotency_keys.created_at <= ${c.abandonedBefore})
      RETURNING key`),
  ]);
  return claim.length === 1;
}

export interface KeyRecord {
  request_hash: string;
  response_status: number | null;
  response_body: string | null;
  /** Set when the request's write committed (even if its response was never stored). */
  payment_id: number | null;
}

/** The statement that records, inside a write's batch, which payment the key's request wrote. */
function markKey(userId: number, key: string, payment: SQL) {
  return raw(sql`UPDATE idempotency_keys SET payment_id = (${payment}) WHERE user_id = ${userId} AND key = ${key} AND EXISTS (${payment})`);
}

export async function readKey(s: Store, userId: number, key: string): Promise<KeyRecord | null> {
  const [row] = await s.rows<KeyRecord>(
    sql`SELECT request_hash, response_status, response_body, payment_id FROM idempotency_keys WHERE user_id = ${userId} AND key = ${key}`,
  );
  return row ?? null;
}

export async function saveResponse(s: Store, userId: number, key: string, status: number, body: string): Promise<void> {
  await s.changes(sql`UPDATE idempotency_keys SET response_status = ${status}, response_body = ${body} WHERE user_id = ${userId} AND key = ${key}`);
}

export async function releaseKey(s: Store, userId: number, key: string): Promise<void> {
  await s.changes(sql`DELETE FROM idempotency_keys WHERE user_id = ${userId} AND key = ${key}`);
}
