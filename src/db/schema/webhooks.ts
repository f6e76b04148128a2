import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from '../../contract';
import { users } from './accounts';

export { WEBHOOK_EVENT_TYPES, type WebhookEventType } from '../../contract';
/** What an event row may be: a subscribable type, or the `ping` of POST /api/webhook-endpoints/{id}/test. */
export const EVENT_ROW_TYPES = [...WEBHOOK_EVENT_TYPES, 'ping'] as const;
/** Events about no one user's resources: only staff endpoints receive them. */
export const STAFF_EVENT_TYPES: readonly WebhookEventType[] = ['order.created', 'order.status_changed'];
export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/**
 * An integrator's endpoint. `events` is a JSON list of event types (or `["*"]`); `secret` is the
 * `whsec_…` signing secret, sealed (src/lib/secret-box.ts), with the previous one until
 * `secret_previous_until` after a rotation. `failing_since` is the first failure of the current run
 * of failures (null after any success); an endpoint failing for the retry window is disabled.
 */
export const webhookEndpoints = sqliteTable(
  'webhook_endpoints',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    ownerId: integer('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    url: text('url').notNull(),
    description: text('description'),
    events: text('events').notNull(),
    secret: text('secret').notNull(),
    secretPrevious: text('secret_previous'),
    secretPreviousUntil: integer('secret_previous_until'),
    disabled: integer('disabled', { mode: 'boolean' }).notNull().default(false),
    disabledReason: text('disabled_reason'),
    failingSince: integer('failing_since'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('webhook_endpoints_owner').on(t.ownerId, t.id)],
);

/**
 * The outbox: one row per event, inserted in the same atomic write as the change it describes.
 * `payload` is the event as sent (`{ id, type, created_at, data: { object } }`); `user_id` is the
 * user whose resource it is about (null: staff-only events). `dispatched_at` is set once its
 * deliveries exist (the dispatcher, src/modules/webhooks/dispatch.ts).
 */
export const webhookEvents = sqliteTable(
  'webhook_events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    eventId: text('event_id').notNull(),
    type: text('type', { enum: EVENT_ROW_TYPES }).notNull(),
    userId: integer('user_id'),
    payload: text('payload').notNull(),
    createdAt: integer('created_at').notNull(),
    dispatchedAt: integer('dispatched_at'),
  },
  (t) => [uniqueIndex('webhook_events_event_id').on(t.eventId), index('webhook_events_dispatched').on(t.dispatchedAt, t.id)],
);

/**
 * One row per (endpoint, event): the delivery log. The unique pair makes fan-out exactly once;
 * `locked_until` is the lease of the attempt under way (a crashed attempt's lease runs out and the
 * sweeper hands the delivery to the queue again).
 */
export const webhookDeliveries = sqliteTable(
  'webhook_deliveries',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    endpointId: integer('endpoint_id')
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: 'cascade' }),
    eventRowId: integer('event_row_id')
      .notNull()
      .references(() => webhookEvents.id, { onDelete: 'cascade' }),
    eventId: text('event_id').notNull(),
    eventType: text('event_type').notNull(),
    status: text('status', { enum: DELIVERY_STATUSES }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    lastStatusCode: integer('last_status_code'),
    lastError: text('last_error'),
    nextAttemptAt: integer('next_attempt_at'),
    lockedUntil: integer('locked_until'),
    createdAt: integer('created_at').notNull(),
    deliveredAt: integer('delivered_at'),
  },
  (t) => [
    uniqueIndex('webhook_deliveries_endpoint_event').on(t.endpointId, t.eventRowId),
    index('webhook_deliveries_endpoint').on(t.endpointId, t.id),
    index('webhook_deliveries_due').on(t.status, t.nextAttemptAt),
  ],
);

export type WebhookEndpointRow = typeof webhookEndpoints.$inferSelect;
export type WebhookEventRow = typeof webhookEvents.$inferSelect;
export type WebhookDeliveryRow = typeof webhookDeliveries.$inferSelect;
