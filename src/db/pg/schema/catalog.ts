// Postgres mirror of src/db/schema/catalog.ts: same tables, columns and index names (tests/schema-parity.test.ts
// fails when they drift). Integers are bigint (SQLite integers are 64-bit; times are epoch ms), booleans
// stay 0/1 integers so raw SQL is the same on both backends.
import { sql } from 'drizzle-orm';
import { index, bigint, primaryKey, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { PAYMENT_PROVIDERS, PAYMENT_STATUSES, REGISTRATION_STATUSES } from '../../../contract';

function itemTable<N extends string>(name: N) {
  return pgTable(
    name,
    {
      id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
      title: text('title').notNull(),
      description: text('description').notNull().default(''),
      price: bigint('price', { mode: 'number' }).notNull(),
      startAt: bigint('start_at', { mode: 'number' }).notNull(),
      endAt: bigint('end_at', { mode: 'number' }).notNull(),
      createdAt: bigint('created_at', { mode: 'number' }).notNull(),
      updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
      registrationCount: bigint('registration_count', { mode: 'number' }).notNull().default(0),
    },
    (t) => [
      index(`${name}_created`).on(t.id, t.startAt, t.endAt),
      index(`${name}_popular`).on(t.registrationCount, t.id, t.startAt, t.endAt),
      index(`${name}_period`).on(t.endAt, t.startAt),
      index(`${name}_start`).on(t.startAt),
      // `search`: Postgres full-text search over the same words FTS5 indexes (the 'simple' configuration
      // folds case and does not stem, like FTS5's unicode61), as an expression index: no extra column.
      index(`${name}_fts`).using('gin', sql`to_tsvector('simple', ${t.title} || ' ' || ${t.description})`),
    ],
  );
}

export const exams = itemTable('exams');
export const courses = itemTable('courses');

export const catalogStats = pgTable('catalog_stats', {
  kind: text('kind').primaryKey(),
  total: bigint('total', { mode: 'number' }).notNull().default(0),
  version: bigint('version', { mode: 'number' }).notNull().default(0),
  availableCount: bigint('available_count', { mode: 'number' }).notNull().default(0),
  availableUntil: bigint('available_until', { mode: 'number' }).notNull().default(0),
});

export const registrations = pgTable(
  'registrations',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    userId: bigint('user_id', { mode: 'number' }).notNull(),
    kind: text('kind', { enum: ['exam', 'course'] }).notNull(),
    itemId: bigint('item_id', { mode: 'number' }).notNull(),
    status: text('status', { enum: REGISTRATION_STATUSES }).notNull(),
    paymentId: bigint('payment_id', { mode: 'number' }).notNull(),
    appliedAt: bigint('applied_at', { mode: 'number' }).notNull(),
    completedAt: bigint('completed_at', { mode: 'number' }),
    cancelledAt: bigint('cancelled_at', { mode: 'number' }),
  },
  (t) => [uniqueIndex('registrations_user_item').on(t.userId, t.kind, t.itemId)],
);

export const payments = pgTable(
  'payments',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    userId: bigint('user_id', { mode: 'number' }).notNull(),
    paymentType: text('payment_type', { enum: ['exam', 'course'] }).notNull(),
    targetId: bigint('target_id', { mode: 'number' }).notNull(),
    targetTitle: text('target_title').notNull(),
    amount: bigint('amount', { mode: 'number' }).notNull(),
    paymentMethod: text('payment_method', { enum: ['kakaopay', 'card', 'bank_transfer'] }).notNull(),
    status: text('status', { enum: PAYMENT_STATUSES }).notNull(),
    externalTransactionId: text('external_transaction_id').notNull(),
    transactionMetadata: text('transaction_metadata').notNull(),
    paidAt: bigint('paid_at', { mode: 'number' }).notNull(),
    cancelledAt: bigint('cancelled_at', { mode: 'number' }),
    refundReason: text('refund_reason'),
    /** `simulated`, `stripe` or `portone`: who moved (or did not move) this payment's money. */
    provider: text('provider', { enum: PAYMENT_PROVIDERS }).notNull().default('simulated'),
    /** Our reference at the provider (Stripe metadata, PortOne paymentId): a provider payment must name it. */
    reference: text('reference'),
    /** A pending payment not paid by then is expired by the scheduled job. */
    expiresAt: bigint('expires_at', { mode: 'number' }),
    /** JSON: what the client needs to pay (a pending payment's `checkout`). */
    checkout: text('checkout'),
    /** A refund was asked of the provider then (cleared by its answer): after a crash the scheduled job settles it. */
    refundRequestedAt: bigint('refund_requested_at', { mode: 'number' }),
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

export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    userId: bigint('user_id', { mode: 'number' }).notNull(),
    key: text('key').notNull(),
    requestHash: text('request_hash').notNull(),
    responseStatus: bigint('response_status', { mode: 'number' }),
    responseBody: text('response_body'),
    /** The payment this key's request created or cancelled, written in the same transaction: a
     *  crash before the response was stored still replays it. */
    paymentId: bigint('payment_id', { mode: 'number' }),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    expiresAt: bigint('expires_at', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.key] }), index('idempotency_keys_expires').on(t.expiresAt)],
);
