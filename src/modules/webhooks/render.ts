// An event as it is sent: `{ id, type, created_at, data: { object } }`, where `object` is the resource
// as the API returns it. The outbox keeps the object's fields as the row had them (outbox.ts); the
// API's shape differs from them in a few ways only, all applied here: times are ISO 8601 strings (the
// fields named `*_at` and `request_datetime`), `transaction_metadata`, `checkout` and an order's `items` are JSON
// (a snapshot may hold them as text), `is_*` flags are booleans (stored 0/1), and a `currency` field
// (a null placeholder in the snapshot, where the API puts it) is the configured currency.
import type { WebhookEventRow } from '../../db/schema';

const isTime = (key: string) => key.endsWith('_at') || key === 'request_datetime';
/** Fields the API answers as JSON that a snapshot may hold as text. */
const JSON_FIELDS = new Set(['transaction_metadata', 'items', 'checkout']);

export function renderObject(row: Record<string, unknown>, currency: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    if (isTime(key) && value !== null && value !== undefined) out[key] = new Date(Number(value)).toISOString();
    else if (JSON_FIELDS.has(key) && typeof value === 'string') out[key] = JSON.parse(value);
    else if (key.startsWith('is_') && value !== null) out[key] = value === true || Number(value) === 1;
    else if (key === 'currency') out[key] = currency;
    else out[key] = value;
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
