// Postgres mirror of src/db/schema/webhooks.ts: same tables, columns and index names (tests/schema-parity.test.ts
// fails when they drift). Integers are bigint (times are epoch ms), booleans stay 0/1 integers.
import { sql } from 'drizzle-orm';
import { bigint, index, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { DELIVERY_STATUSES, EVENT_ROW_TYPES } from '../../schema/webhooks';
import { users } from './accounts';
import { intBool } from './types';

export const webhookEndpoints = pgTable(
  'webhook_endpoints',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    ownerId: bigint('owner_id', { mode: 'number' })
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    url: text('url').notNull(),
    description: text('description'),
    events: text('events').notNull(),
    secret: text('secret').notNull(),
    secretPrevious: text('secret_previous'),
    secretPreviousUntil: bigint('secret_previous_until', { mode: 'number' }),
    disabled: intBool('disabled').notNull().default(sql`0`),
    disabledReason: text('disabled_reason'),
    failingSince: bigint('failing_since', { mode: 'number' }),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
  },
  (t) => [index('webhook_endpoints_owner').on(t.ownerId, t.id)],
);

export const webhookEvents = pgTable(
  'webhook_events',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    eventId: text('event_id').notNull(),
    type: text('type', { enum: EVENT_ROW_TYPES }).notNull(),
    userId: bigint('user_id', { mode: 'number' }),
    payload: text('payload').notNull(),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    dispatchedAt: bigint('dispatched_at', { mode: 'number' }),
  },
  (t) => [uniqueIndex('webhook_events_event_id').on(t.eventId), index('webhook_events_dispatched').on(t.dispatchedAt, t.id)],
);

export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    endpointId: bigint('endpoint_id', { mode: 'number' })
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: 'cascade' }),
    eventRowId: bigint('event_row_id', { mode: 'number' })
      .notNull()
      .references(() => webhookEvents.id, { onDelete: 'cascade' }),
    eventId: text('event_id').notNull(),
    eventType: text('event_type').notNull(),
    status: text('status', { enum: DELIVERY_STATUSES }).notNull().default('pending'),
    attempts: bigint('attempts', { mode: 'number' }).notNull().default(0),
    lastStatusCode: bigint('last_status_code', { mode: 'number' }),
    lastError: text('last_error'),
    nextAttemptAt: bigint('next_attempt_at', { mode: 'number' }),
    lockedUntil: bigint('locked_until', { mode: 'number' }),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    deliveredAt: bigint('delivered_at', { mode: 'number' }),
  },
  (t) => [
    uniqueIndex('webhook_deliveries_endpoint_event').on(t.endpointId, t.eventRowId),
    index('webhook_deliveries_endpoint').on(t.endpointId, t.id),
    index('webhook_deliveries_due').on(t.status, t.nextAttemptAt),
  ],
);
