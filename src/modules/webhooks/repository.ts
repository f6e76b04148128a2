// Webhook endpoints, the outbox's fan-out and the delivery log: all data access, for both backends.
// Each delivery row is one (endpoint, event) pair, unique, so fanning an event out twice (two
// dispatchers racing, a retry after a crash) writes it once. An attempt is claimed by a lease
// (`locked_until`): a conditional UPDATE, so two copies of a queue message never send twice at once,
// and an attempt that died with its worker is taken over when the lease has run out.
import { and, count, desc, eq, inArray, isNull, lt, lte, or, sql } from 'drizzle-orm';
import { fromRow } from '../../db/rows';
import type { DeliveryStatus, WebhookDeliveryRow, WebhookEndpointRow, WebhookEventRow } from '../../db/schema';
import { raw, type Store } from '../../db/store';

// ---- endpoints -----------------------------------------------------------------------------------

export interface NewEndpoint {
  ownerId: number;
  url: string;
  description: string | null;
  events: string[];
  /** Sealed. */
  secret: string;
}

/**
 * Inserts the endpoint if its owner has fewer than `limit` (one statement: the count and the insert
 * see one state on D1; on Postgres under the owner's lock). Undefined when the owner is at the limit.
 */
export async function insertEndpoint(s: Store, e: NewEndpoint, limit: number): Promise<WebhookEndpointRow | undefined> {
  const now = Date.now();
  const [rows] = await s.write(
    [
      raw(sql`INSERT INTO webhook_endpoints (owner_id, url, description, events, secret, disabled, created_at, updated_at)
        SELECT CAST(${e.ownerId} AS bigint), CAST(${e.url} AS text), CAST(${e.description} AS text), CAST(${JSON.stringify(e.events)} AS text),
          CAST(${e.secret} AS text), 0, CAST(${now} AS bigint), CAST(${now} AS bigint)
        WHERE (SELECT count(*) FROM webhook_endpoints WHERE owner_id = ${e.ownerId}) < ${limit}
        RETURNING *`),
    ],
    [['user', e.ownerId]],
  );
  const row = rows[0];
  return row ? fromRow(s.t.webhookEndpoints, row) : undefined;
}

export async function findEndpoint(s: Store, id: number): Promise<WebhookEndpointRow | undefined> {
  const { webhookEndpoints: t } = s.t;
  return (await s.select(s.db.select().from(t).where(eq(t.id, id))))[0];
}

/** Newest first; `ownerId` undefined: every user's (staff). */
export async function listEndpoints(s: Store, ownerId: number | undefined, limit: number, offset: number) {
  const { webhookEndpoints: t } = s.t;
  const where = ownerId === undefined ? undefined : eq(t.ownerId, ownerId);
  const [rows, total] = await s.read([
    s.db.select().from(t).where(where).orderBy(desc(t.id)).limit(limit).offset(offset),
    s.db.select({ n: count() }).from(t).where(where),
  ]);
  return { rows, count: total[0]?.n ?? 0 };
}

export type EndpointChanges = Partial<Pick<WebhookEndpointRow, 'url' | 'description' | 'disabled' | 'disabledReason' | 'failingSince'>> & {
  events?: string[];
};

export async function updateEndpoint(s: Store, id: number, c: EndpointChanges): Promise<WebhookEndpointRow | undefined> {
  const { webhookEndpoints: t } = s.t;
  const { events, ...rest } = c;
  const set = Object.fromEntries(Object.entries({ ...rest, events: events && JSON.stringify(events) }).filter(([, v]) => v !== undefined));
  return (
    await s.run(
      s.db
        .update(t)
        .set({ ...set, updatedAt: Date.now() })
        .where(eq(t.id, id))
        .returning(),
    )
  )[0];
}

export async function deleteEndpoint(s: Store, id: number): Promise<void> {
  const { webhookEndpoints: t } = s.t;
  await s.changes(s.db.delete(t).where(eq(t.id, id)));
}

/** The current secret becomes the previous one (signing until `until`), `sealed` the current one. */
export async function rotateEndpointSecret(s: Store, id: number, sealed: string, until: number): Promise<boolean> {
  const { webhookEndpoints: t } = s.t;
  const changed = await s.changes(
    s.db
      .update(t)
      .set({ secretPrevious: sql`${t.secret}`, secretPreviousUntil: until, secret: sealed, updatedAt: Date.now() })
      .where(eq(t.id, id)),
  );
  return changed === 1;
}

// ---- deliveries (the log) ------------------------------------------------------------------------

export interface DeliveryFilter {
  status?: DeliveryStatus;
  eventType?: string;
}

export async function listDeliveries(s: Store, endpointId: number, f: DeliveryFilter, limit: number, offset: number) {
  const { webhookDeliveries: t } = s.t;
  const where = and(
    eq(t.endpointId, endpointId),
    f.status ? eq(t.status, f.status) : undefined,
    f.eventType ? eq(t.eventType, f.eventType) : undefined,
  );
  const [rows, total] = await s.read([
    s.db.select().from(t).where(where).orderBy(desc(t.id)).limit(limit).offset(offset),
    s.db.select({ n: count() }).from(t).where(where),
  ]);
  return { rows, count: total[0]?.n ?? 0 };
}

export async function findDelivery(s: Store, endpointId: number, id: number): Promise<WebhookDeliveryRow | undefined> {
  const { webhookDeliveries: t } = s.t;
  return (
    await s.select(
      s.db
        .select()
        .from(t)
        .where(and(eq(t.id, id), eq(t.endpointId, endpointId))),
    )
  )[0];
}

/** A finished delivery back to pending, due now (undefined: it is pending already, or gone). */
export async function requeueDelivery(s: Store, endpointId: number, id: number, now: number): Promise<WebhookDeliveryRow | undefined> {
  const { webhookDeliveries: t } = s.t;
  return (
    await s.run(
      s.db
        .update(t)
        .set({ status: 'pending', nextAttemptAt: now, lockedUntil: null })
        .where(and(eq(t.id, id), eq(t.endpointId, endpointId), sql`${t.status} <> 'pending'`))
        .returning(),
    )
  )[0];
}

/** A ping: its event and its one delivery (to this endpoint only) in one write. */
export async function insertPing(s: Store, endpoint: WebhookEndpointRow, eventId: string, payload: string, now: number): Promise<WebhookDeliveryRow> {
  const { webhookEvents: ev } = s.t;
  const [, rows] = await s.write([
    s.db.insert(ev).values({ eventId, type: 'ping', userId: endpoint.ownerId, payload, createdAt: now, dispatchedAt: now }),
    raw(sql`INSERT INTO webhook_deliveries (endpoint_id, event_row_id, event_id, event_type, status, attempts, next_attempt_at, created_at)
      SELECT CAST(${endpoint.id} AS bigint), e.id, e.event_id, e.type, 'pending', 0, CAST(${now} AS bigint), CAST(${now} AS bigint)
      FROM webhook_events e WHERE e.event_id = ${eventId} RETURNING *`),
  ]);
  return fromRow(s.t.webhookDeliveries, rows[0]!);
}

// ---- fan-out ---------------------------------------------------------------------------------

/** Events not fanned out yet, oldest first. */
export async function undispatchedEvents(s: Store, limit: number): Promise<Pick<WebhookEventRow, 'id' | 'eventId' | 'type' | 'userId'>[]> {
  const { webhookEvents: t } = s.t;
  return s.select(
    s.db.select({ id: t.id, eventId: t.eventId, type: t.type, userId: t.userId }).from(t).where(isNull(t.dispatchedAt)).orderBy(t.id).limit(limit),
  );
}

export interface Candidate {
  id: number;
  ownerId: number;
  events: string;
  ownerIsStaff: boolean;
}

/** Enabled endpoints that may receive events about `userIds`: theirs, and every staff user's. */
export async function candidateEndpoints(s: Store, userIds: number[]): Promise<Candidate[]> {
  const rows = await s.rows<{ id: number; owner_id: number; events: string; is_staff: number | boolean }>(
    sql`SELECT e.id, e.owner_id, e.events, u.is_staff FROM webhook_endpoints e JOIN users u ON u.id = e.owner_id
      WHERE e.disabled = 0 AND (u.is_staff = 1${
        userIds.length
          ? sql` OR e.owner_id IN (${sql.join(
              userIds.map((id) => sql`${id}`),
              sql`, `,
            )})`
          : sql``
      })`,
  );
  return rows.map((r) => ({ id: Number(r.id), ownerId: Number(r.owner_id), events: r.events, ownerIsStaff: Number(r.is_staff) === 1 }));
}

/** D1 binds at most 100 values per statement: 9 per delivery row. */
const ROWS_PER_INSERT = 10;

/**
 * Writes the deliveries (ON CONFLICT DO NOTHING: a pair already written stays as it is) and marks the
 * events fanned out, in one write. Answers the ids of the deliveries this call created, in order.
 */
export async function fanOut(
  s: Store,
  pairs: { endpointId: number; event: Pick<WebhookEventRow, 'id' | 'eventId' | 'type'> }[],
  eventIds: number[],
  now: number,
): Promise<number[]> {
  const { webhookDeliveries: d, webhookEvents: ev } = s.t;
  const inserts = [];
  for (let i = 0; i < pairs.length; i += ROWS_PER_INSERT) {
    const values = pairs.slice(i, i + ROWS_PER_INSERT).map((p) => ({
      endpointId: p.endpointId,
      eventRowId: p.event.id,
      eventId: p.event.eventId,
      eventType: p.event.type,
      status: 'pending' as const,
      attempts: 0,
      nextAttemptAt: now,
      createdAt: now,
    }));
    inserts.push(s.db.insert(d).values(values).onConflictDoNothing().returning({ id: d.id }));
  }
  const marks = [];
  for (let i = 0; i < eventIds.length; i += 90) {
    marks.push(
      s.db
        .update(ev)
        .set({ dispatchedAt: now })
        .where(and(inArray(ev.id, eventIds.slice(i, i + 90)), isNull(ev.dispatchedAt))),
    );
  }
  const results = (await s.write([...inserts, ...marks])) as unknown[];
  return (results.slice(0, inserts.length) as { id: number }[][]).flat().map((r) => r.id);
}

// ---- attempts ------------------------------------------------------------------------------------

export interface Claimed {
  delivery: WebhookDeliveryRow;
  endpoint: WebhookEndpointRow;
  event: WebhookEventRow;
}

/**
 * Takes the lease of a pending, due delivery whose lease is free; with its endpoint and event.
 * Undefined: nothing to do (done, not due, under way elsewhere, or gone).
 */
export async function claimDelivery(s: Store, id: number, now: number, leaseMs: number): Promise<Claimed | undefined> {
  const { webhookDeliveries: d, webhookEndpoints: e, webhookEvents: ev } = s.t;
  const [claimed] = await s.run(
    s.db
      .update(d)
      .set({ lockedUntil: now + leaseMs })
      .where(
        and(
          eq(d.id, id),
          eq(d.status, 'pending'),
          or(isNull(d.lockedUntil), lt(d.lockedUntil, now)),
          or(isNull(d.nextAttemptAt), lte(d.nextAttemptAt, now + 1_000)),
        ),
      )
      .returning(),
  );
  if (!claimed) return undefined;
  const [endpoints, events] = await s.read([
    s.db.select().from(e).where(eq(e.id, claimed.endpointId)),
    s.db.select().from(ev).where(eq(ev.id, claimed.eventRowId)),
  ]);
  if (!endpoints[0] || !events[0]) return undefined;
  return { delivery: claimed, endpoint: endpoints[0], event: events[0] };
}

export interface AttemptResult {
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  /** The next attempt (epoch ms), or null: no more (succeeded, or failed for good). */
  nextAttemptAt: number | null;
  /** The endpoint failed for the whole retry window: disable it, with this reason. */
  disable: string | null;
}

/** Records one attempt and its endpoint's health, in one write; releases the lease. */
export async function recordAttempt(s: Store, c: Claimed, r: AttemptResult, now: number): Promise<void> {
  const { webhookDeliveries: d, webhookEndpoints: e } = s.t;
  const status: DeliveryStatus = r.ok ? 'succeeded' : r.nextAttemptAt === null ? 'failed' : 'pending';
  await s.write([
    s.db
      .update(d)
      .set({
        status,
        attempts: sql`${d.attempts} + 1`,
        lastStatusCode: r.statusCode,
        lastError: r.error,
        nextAttemptAt: r.nextAttemptAt,
        lockedUntil: null,
        deliveredAt: r.ok ? now : null,
      })
      .where(eq(d.id, c.delivery.id)),
    r.ok
      ? s.db.update(e).set({ failingSince: null }).where(eq(e.id, c.endpoint.id))
      : s.db
          .update(e)
          .set({
            failingSince: sql`COALESCE(${e.failingSince}, CAST(${now} AS bigint))`,
            ...(r.disable ? { disabled: true, disabledReason: r.disable } : {}),
          })
          .where(eq(e.id, c.endpoint.id)),
  ]);
}

/** Pending deliveries past due by `graceMs` whose lease is free: their queue message was lost. */
export async function strandedDeliveries(s: Store, now: number, graceMs: number, limit: number): Promise<number[]> {
  const { webhookDeliveries: d } = s.t;
  const rows = await s.select(
    s.db
      .select({ id: d.id })
      .from(d)
      .where(and(eq(d.status, 'pending'), lte(d.nextAttemptAt, now - graceMs), or(isNull(d.lockedUntil), lt(d.lockedUntil, now))))
      .orderBy(d.id)
      .limit(limit),
  );
  return rows.map((r) => r.id);
}
