// An event as it is sent: `{ id, type, created_at, data: { object } }`, where `object` is the resource
// as the API returns it. The outbox keeps the object's fields as the row had them (outbox.ts); the
// API's shape differs from them in three ways only, all applied here: times are ISO 8601 strings (the
// fields named `*_at` and `request_datetime`), `transaction_metadata` is an object, and a money-bearing
// object carries `currency` after its `amount`.
import type { WebhookEventRow } from '../../db/schema';

const isTime = (key: string) => key.endsWith('_at') || key === 'request_datetime';

export function renderObject(row: Record<string, unknown>, currency: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    if (isTime(key) && value !== null && value !== undefined) out[key] = new Date(Number(value)).toISOString();
    else if (key === 'transaction_metadata' && typeof value === 'string') out[key] = JSON.parse(value);
    else out[key] = value;
    if (key === 'amount') out.currency = currency;
  }
  return out;
}

/** The event's JSON body: the same bytes on every attempt (webhook-id = the event id). */
export function eventBody(e: Pick<WebhookEventRow, 'eventId' | 'type' | 'createdAt' | 'payload'>, currency: string): string {
  return JSON.stringify({
    id: e.eventId,
    type: e.type,
    created_at: new Date(e.createdAt).toISOString(),
    data: { object: renderObject(JSON.parse(e.payload) as Record<string, unknown>, currency) },
  });
}
