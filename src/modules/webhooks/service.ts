// Event webhook endpoints (contract section 8): a user manages their own (staff: everyone's); the
// secret is answered once, on create and on rotation, and stored sealed. Deliveries are the log of
// what was sent where; a finished one can be sent again, a ping sent at any time.
import type { Ctx } from '../../context';
import { STAFF_EVENT_TYPES, type WebhookDeliveryRow, type WebhookEndpointRow } from '../../db/schema';
import type { UserRow } from '../accounts';
import { isoOrNull, validationError } from '../../lib/openapi';
import { controllerUrlProblem } from '../../lib/outbound-url';
import { offsetOf, offsetPage } from '../../lib/pagination';
import { ApiError } from '../../lib/problem';
import { seal } from '../../lib/secret-box';
import { messageId, newSigningSecret, ROTATION_OVERLAP_MS } from '../../lib/signing';
import { enqueue, SECRET_CONTEXT } from './delivery';
import * as repo from './repository';
import type { CreateEndpointInput, DeliveryQueryInput, PatchEndpointInput } from './schemas';

export function endpointView(e: WebhookEndpointRow) {
  return {
    id: e.id,
    owner_id: e.ownerId,
    url: e.url,
    description: e.description,
    events: JSON.parse(e.events) as string[],
    disabled: e.disabled,
    disabled_reason: e.disabledReason,
    created_at: new Date(e.createdAt).toISOString(),
    updated_at: new Date(e.updatedAt).toISOString(),
  };
}

export function deliveryView(d: WebhookDeliveryRow) {
  return {
    id: d.id,
    event_id: d.eventId,
    event_type: d.eventType,
    status: d.status,
    attempts: d.attempts,
    last_status_code: d.lastStatusCode,
    last_error: d.lastError,
    next_attempt_at: d.status === 'pending' ? isoOrNull(d.nextAttemptAt) : null,
    created_at: new Date(d.createdAt).toISOString(),
    delivered_at: isoOrNull(d.deliveredAt),
  };
}

function checkUrl(ctx: Ctx, url: string | undefined): void {
  if (url === undefined) return;
  const problem = controllerUrlProblem(url, ctx.config.ALLOW_INSECURE_CONTROLLER_URLS);
  if (problem) throw validationError([{ path: 'url', message: problem }]);
}

/** Order events are about no one user: only staff may subscribe to them by name (400 otherwise). */
function checkEvents(user: UserRow, events: string[] | undefined): void {
  if (!events || user.isStaff) return;
  const staffOnly = events.filter((e) => (STAFF_EVENT_TYPES as readonly string[]).includes(e));
  if (staffOnly.length) throw validationError([{ path: 'events', message: `staff only: ${staffOnly.join(', ')}` }]);
}

/** `["*"]` stays alone; otherwise the types, each once, in a stable order. */
const normalEvents = (events: string[]) => (events.includes('*') ? ['*'] : [...new Set(events)].sort());

/** The endpoint if the caller may manage it (owner or staff); 404 for anyone else (private, like payments). */
export async function managedEndpoint(ctx: Ctx, user: UserRow, id: number): Promise<WebhookEndpointRow> {
  const row = await repo.findEndpoint(ctx.store, id);
  if (!row || (row.ownerId !== user.id && !user.isStaff)) throw new ApiError('NOT_FOUND');
  return row;
}

export async function createEndpoint(ctx: Ctx, user: UserRow, input: CreateEndpointInput) {
  checkUrl(ctx, input.url);
  checkEvents(user, input.events);
  const secret = newSigningSecret();
  const row = await repo.insertEndpoint(
    ctx.store,
    {
      ownerId: user.id,
      url: input.url,
      description: input.description ?? null,
      events: normalEvents(input.events),
      secret: await seal(ctx.config, secret, SECRET_CONTEXT),
    },
    ctx.config.WEBHOOK_ENDPOINTS_PER_USER,
  );
  if (!row) throw new ApiError('TOO_MANY_ENDPOINTS', { extras: { limit: ctx.config.WEBHOOK_ENDPOINTS_PER_USER } });
  return { ...endpointView(row), secret };
}

/** The caller's endpoints, newest first; staff see everyone's. */
export async function listEndpoints(ctx: Ctx, user: UserRow, q: { page: number; page_size: number }, url: string) {
  const { rows, count } = await repo.listEndpoints(ctx.store, user.isStaff ? undefined : user.id, q.page_size, offsetOf(q));
  return offsetPage(url, q, count, rows.map(endpointView));
}

export async function updateEndpoint(ctx: Ctx, user: UserRow, id: number, input: PatchEndpointInput) {
  await managedEndpoint(ctx, user, id);
  checkUrl(ctx, input.url);
  checkEvents(user, input.events);
  const row = await repo.updateEndpoint(ctx.store, id, {
    url: input.url,
    events: input.events && normalEvents(input.events),
    description: input.description,
    disabled: input.disabled,
    // Re-enabled (or disabled by its owner): the service's reason and the failure run are over.
    ...(input.disabled === undefined ? {} : { disabledReason: null, failingSince: null }),
  });
  if (!row) throw new ApiError('NOT_FOUND');
  return endpointView(row);
}

export async function deleteEndpoint(ctx: Ctx, user: UserRow, id: number): Promise<void> {
  await managedEndpoint(ctx, user, id);
  await repo.deleteEndpoint(ctx.store, id);
}

export async function rotateSecret(ctx: Ctx, user: UserRow, id: number) {
  await managedEndpoint(ctx, user, id);
  const secret = newSigningSecret();
  const until = Date.now() + ROTATION_OVERLAP_MS;
  if (!(await repo.rotateEndpointSecret(ctx.store, id, await seal(ctx.config, secret, SECRET_CONTEXT), until))) throw new ApiError('NOT_FOUND');
  return { secret, previous_valid_until: new Date(until).toISOString() };
}

/** A `ping` event to this endpoint only (also when it is disabled: a way to check it before re-enabling). */
export async function sendPing(ctx: Ctx, user: UserRow, id: number) {
  const endpoint = await managedEndpoint(ctx, user, id);
  const now = Date.now();
  const payload = JSON.stringify({ endpoint_id: endpoint.id, url: endpoint.url });
  const delivery = await repo.insertPing(ctx.store, endpoint, messageId('evt'), payload, now);
  await enqueue(ctx.env, [delivery.id]);
  return deliveryView(delivery);
}

export async function listDeliveries(ctx: Ctx, user: UserRow, id: number, q: DeliveryQueryInput, url: string) {
  await managedEndpoint(ctx, user, id);
  const { rows, count } = await repo.listDeliveries(ctx.store, id, { status: q.status, eventType: q.event_type }, q.page_size, offsetOf(q));
  return offsetPage(url, q, count, rows.map(deliveryView));
}

/** Sends a finished delivery (succeeded or failed) once more, now; a pending one is 409 DELIVERY_PENDING. */
export async function retryDelivery(ctx: Ctx, user: UserRow, id: number, deliveryId: number) {
  await managedEndpoint(ctx, user, id);
  const row = await repo.requeueDelivery(ctx.store, id, deliveryId, Date.now());
  if (!row) {
    if (await repo.findDelivery(ctx.store, id, deliveryId)) throw new ApiError('DELIVERY_PENDING');
    throw new ApiError('NOT_FOUND');
  }
  await enqueue(ctx.env, [row.id]);
  return deliveryView(row);
}
