// Exams, courses, registrations, payments and idempotency records.
//
// Indexes, one per access path of the contract (section 4), chosen so every list is an index range
// scan with LIMIT, never a table scan or a sort of the whole table:
// - `<kind>_created` (id, start_at, end_at): the default list, newest first = creation order = id desc
//   (SQLite scans it backwards), its page/offset and keyset cursor; start_at/end_at ride along so
//   `status=available` filters inside this narrow index (covering: deep offsets never touch the table).
// - `<kind>_popular` (registration_count, id, start_at, end_at): `sort=popular`, same idea.
// - search, newest first, walks the FTS5 index itself by descending rowid (= id) and stops after a page.
// - `<kind>_period` (end_at, start_at): counting `status=available` (end_at >= now AND start_at <= now)
//   as an index-only scan, and the next time an item leaves the available set.
// - `<kind>_start` (start_at): the next time an item enters the available set.
// - `<kind>_fts` (FTS5, external content, migration catalog_fts): `search`.
// - registrations unique (user_id, kind, item_id): one row per user and item (the last line of defence
//   against double registration), `is_registered` of a page in one probe per row, complete.
// - payments (user_id, paid_at, id): the caller's history newest first with keyset cursors; its other
//   filters (status, type, dates, title) only narrow one user's rows.
// - payments unique external_transaction_id: statements of one apply batch find the payment they wrote.
// Counts: `catalog_stats` keeps the total per kind (changed in the same batch as create/delete) and a
// cached `status=available` count valid until the next start/end boundary (see catalog/service.ts).
import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { PAYMENT_PROVIDERS, PAYMENT_STATUSES, REGISTRATION_STATUSES } from '../../contract';

/** One table per kind, same shape: the generic catalog module picks the table by kind. */
function itemTable<N extends string>(name: N) {
  return sqliteTable(
    name,
    {
      id: integer('id').primaryKey({ autoIncrement: true }),
      title: text('title').notNull(),
      description: text('description').notNull().default(''),
      price: integer('price').notNull(),
      startAt: integer('start_at').notNull(),
      endAt: integer('end_at').notNull(),
      createdAt: integer('created_at').notNull(),
      updatedAt: integer('updated_at').notNull(),
      registrationCount: integer('registration_count').notNull().default(0),
    },
    (t) => [
      index(`${name}_created`).on(t.id, t.startAt, t.endAt),
      index(`${name}_popular`).on(t.registrationCount, t.id, t.startAt, t.endAt),
      index(`${name}_period`).on(t.endAt, t.startAt),
      index(`${name}_start`).on(t.startAt),
    ],
  );
}

export const exams = itemTable('exams');
export const courses = itemTable('courses');

/** Per-kind counters kept exact in the same batch as every create/delete. */
export const catalogStats = sqliteTable('catalog_stats', {
  kind: text('kind').primaryKey(),
  total: integer('total').notNull().default(0),
  /** Bumped by every catalog write: a recomputed available count is stored only if nothing changed. */
  version: integer('version').notNull().default(0),
  availableCount: integer('available_count').notNull().default(0),
  /** The cached available count holds while now < available_until (the next start/end boundary). */
  availableUntil: integer('available_until').notNull().default(0),
});

/** One row per user and item; a cancelled registration is re-activated by the next apply/enroll. */
export const registrations = sqliteTable(
  'registrations',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    userId: integer('user_id').notNull(),
    kind: text('kind', { enum: ['exam', 'course'] }).notNull(),
    itemId: integer('item_id').notNull(),
    status: text('status', { enum: REGISTRATION_STATUSES }).notNull(),
    /** The payment of the current (or last) activation. */
    paymentId: integer('payment_id').notNull(),
    appliedAt: integer('applied_at').notNull(),
    completedAt: integer('completed_at'),
    cancelledAt: integer('cancelled_at'),
  },
  (t) => [uniqueIndex('registrations_user_item').on(t.userId, t.kind, t.itemId)],
);

export const payments = sqliteTable(
  'payments',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    userId: integer('user_id').notNull(),
    paymentType: text('payment_type', { enum: ['exam', 'course'] }).notNull(),
    targetId: integer('target_id').notNull(),
    /** Snapshot of the item at payment time. */
    targetTitle: text('target_title').notNull(),
    amount: integer('amount').notNull(),
    paymentMethod: text('payment_method', { enum: ['kakaopay', 'card', 'bank_transfer'] }).notNull(),
    status: text('status', { enum: PAYMENT_STATUSES }).notNull(),
    externalTransactionId: text('external_transaction_id').notNull(),
    /** JSON: { payment_gateway, supports_refund, processing_fee_rate, estimated_fee }. */
    transactionMetadata: text('transaction_metadata').notNull(),
    paidAt: integer('paid_at').notNull(),
    cancelledAt: integer('cancelled_at'),
    refundReason: text('refund_reason'),
    /** `simulated`, `stripe` or `portone`: who moved (or did not move) this payment's money. */
    provider: text('provider', { enum: PAYMENT_PROVIDERS }).notNull().default('simulated'),
    /** Our reference at the provider (Stripe metadata, PortOne paymentId): a provider payment must name it. */
    reference: text('reference'),
    /** A pending payment not paid by then is expired by the scheduled job. */
    expiresAt: integer('expires_at'),
    /** JSON: what the client needs to pay (a pending payment's `checkout`). */
    checkout: text('checkout'),
    /** A refund was asked of the provider then (cleared by its answer): after a crash the scheduled job settles it. */
    refundRequestedAt: integer('refund_requested_at'),
  },
  // payments_settle: the scheduled job's pending payments, by expires_at; payments_refund_requested:
  // refunds in flight (refund_pending, or asked and never written: a crash in between). Both are
  // partial: they hold only those few rows, and no other query can use them. A full (status, …)
  // index was chosen by SQLite for `user_id = ? AND status = 'paid'` on a database migrated after
  // its statistics were taken (ANALYZE had not seen it): a scan of every paid payment, 3 s at 1M.
  (t) => [
    index('payments_user_paid').on(t.userId, t.paidAt, t.id),
    uniqueIndex('payments_external_tx').on(t.externalTransactionId),
    index('payments_settle').on(t.expiresAt).where(sql`status = 'pending'`),
    index('payments_refund_requested').on(t.refundRequestedAt).where(sql`refund_requested_at IS NOT NULL`),
  ],
);

/** Stripe-style idempotency: the first response per (user, key), replayed for 24 h. */
export const idempotencyKeys = sqliteTable(
  'idempotency_keys',
  {
    userId: integer('user_id').notNull(),
    key: text('key').notNull(),
    requestHash: text('request_hash').notNull(),
    /** NULL while the first request runs. */
    responseStatus: integer('response_status'),
    responseBody: text('response_body'),
    /** The payment this key's request created or cancelled, written in the same transaction: a
     *  crash before the response was stored still replays it. */
    paymentId: integer('payment_id'),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  // expires_at: the scheduled purge's range (src/modules/system/purge.ts).
  (t) => [primaryKey({ columns: [t.userId, t.key] }), index('idempotency_keys_expires').on(t.expiresAt)],
);
