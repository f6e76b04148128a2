// The outbox (contract section 8): an event is one more statement in the atomic write of the change
// it describes (a D1 batch, a Postgres transaction), so a change and its event commit together or
// not at all, and a crash after the commit loses nothing: the dispatcher (dispatch.ts) finds every
// row not yet fanned out, right after the write (waitUntil) and from the scheduled job.
//
// The statement is `INSERT … SELECT` from the changed row itself, guarded by the same predicate as
// the change (for instance "this payment, cancelled at this instant"): a write that changed nothing
// inserts no event, and one that changed the row inserts exactly one. The event's object is a
// snapshot of the row's API fields taken in that statement (`object`: field → SQL over the row;
// times as epoch ms), rendered into the API's shape when it is sent (render.ts).
//
// Usage, from any module (payments, machines, sales):
//   s.write([change, outboxEvent(s, { type: 'payment.paid', from: sql`payments p WHERE …`, userId: sql`p.user_id`, object: {…} })], locks)
import { sql, type SQL } from 'drizzle-orm';
import { jsonObject } from '../../db/dialect/sql';
import type { WebhookEventType } from '../../db/schema';
import { raw, type Raw, type Store } from '../../db/store';
import { messageId } from '../../lib/signing';

export interface EventSource {
  type: WebhookEventType;
  /** `<table> <alias> WHERE …`: exactly the changed row (none: no event). */
  from: SQL;
  /** The user whose resource this is (an expression over the row); null: staff endpoints only. */
  userId: SQL | null;
  /** The object's fields as the API names them, each an expression over the row. */
  object: Record<string, SQL>;
  /**
   * A deterministic event id for a change that happens once by nature (an operation's result):
   * a second write of it is ignored (the event id is unique). Default: a random `evt_…`.
   */
  eventId?: string;
}

/** The outbox statement of one event, to put in the change's own write. */
export function outboxEvent(s: Store, e: EventSource, now = Date.now()): Raw {
  const user = e.userId ? sql`CAST(${e.userId} AS bigint)` : sql`CAST(NULL AS bigint)`;
  return raw(sql`INSERT INTO webhook_events (event_id, type, user_id, payload, created_at)
    SELECT CAST(${e.eventId ?? messageId('evt')} AS text), CAST(${e.type} AS text), ${user}, ${jsonObject(s.dialect, e.object)}, CAST(${now} AS bigint)
    FROM ${e.from}
    ON CONFLICT (event_id) DO NOTHING`);
}

/** `alias.column` for each name: the common case of an object whose fields are the row's columns. */
export function columnsOf(alias: string, names: readonly string[]): Record<string, SQL> {
  return Object.fromEntries(names.map((n) => [n, sql.raw(`${alias}.${n}`)]));
}
