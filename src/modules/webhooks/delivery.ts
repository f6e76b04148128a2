// From the outbox to the integrator (contract section 8):
//
//  1. dispatchOutbox(): events not fanned out yet become one delivery row per subscribed endpoint
//     (unique per endpoint and event: two dispatchers racing write each once), in one write that also
//     marks the events fanned out; the new deliveries go to the `webhook-deliveries` Queue. It runs
//     right after a write that added events (a `fan_out` message on the same queue, sent after the
//     response: the request itself makes no extra database round trip, and a batch of such messages
//     is one fan-out) and every minute (the scheduled sweep), so a crash between the commit and the
//     enqueue loses nothing.
//  2. The queue consumer takes each delivery's lease (a conditional UPDATE), acks the message and
//     makes the attempt in the background (waitUntil): a batch returns at once, so an endpoint that
//     hangs until its timeout holds no other endpoint's delivery (the lesson of the machines queue).
//  3. An attempt POSTs the event, signed by the Standard Webhooks scheme with the endpoint's secret
//     (both secrets during a rotation), `webhook-id` = the event id on every attempt. A 2xx within
//     WEBHOOK_TIMEOUT_MS is success; anything else (redirects are not followed) is retried after
//     base × 2^(n−1) seconds (5 s, 10 s, 20 s, … capped at 12 h) while the delivery is younger than
//     WEBHOOK_RETRY_WINDOW_SECONDS (3 days: about 17 attempts), then it is `failed`. An endpoint that
//     has failed every attempt for that long is disabled (its owner re-enables it with PATCH).
//  4. The sweep re-sends any pending delivery whose message was lost (past due by a minute with a
//     free lease), and an attempt whose worker died is taken over when its lease runs out.
// Messages that keep failing to be handled (the database down) reach `webhook-deliveries-dlq`, whose
// consumer logs them; their deliveries stay pending in the database, and the sweep sends them again.
import type { Ctx } from '../../context';
import type { WebhookDeliveryRow } from '../../db/schema';
import type { Bindings, Config } from '../../env';
import { errorSummary, logLine } from '../../lib/log';
import { controllerUrlProblem } from '../../lib/outbound-url';
import { open } from '../../lib/secret-box';
import { signMessage } from '../../lib/signing';
import { afterResponse, withUnitOfWork } from '../../lib/unit-of-work';
import { eventBody } from './render';
import * as repo from './repository';
import type { DeliveryMessage } from './message';
import { subscribes } from './subscriptions';

export const DELIVERY_QUEUE = 'webhook-deliveries';
export const DELIVERY_DLQ = 'webhook-deliveries-dlq';
/** Cron of the sweep (wrangler.toml [triggers]). */
export const SWEEP_CRON = '* * * * *';
/** The longest delay a Queue message may carry. */
const MAX_DELAY_SECONDS = 43_200;
/** A pending delivery this late with a free lease lost its message. */
const STRANDED_GRACE_MS = 60_000;
const FAN_OUT_BATCH = 100;
export const SECRET_CONTEXT = 'webhook_endpoints.secret';

export type { DeliveryMessage };

// ---- 1. fan-out ------------------------------------------------------------------------------------

/** Fans out every event not fanned out yet (up to `rounds` × 100), then queues the new deliveries. */
export async function dispatchOutbox(ctx: Ctx, rounds = 10): Promise<number> {
  let queued = 0;
  for (let round = 0; round < rounds; round++) {
    const events = await repo.undispatchedEvents(ctx.store, FAN_OUT_BATCH);
    if (events.length === 0) break;
    const userIds = [...new Set(events.flatMap((e) => (e.userId === null ? [] : [e.userId])))];
    const endpoints = await repo.candidateEndpoints(ctx.store, userIds);
    const pairs = events.flatMap((event) => endpoints.filter((ep) => subscribes(ep, event)).map((ep) => ({ endpointId: ep.id, event })));
    const ids = await repo.fanOut(
      ctx.store,
      pairs,
      events.map((e) => e.id),
      Date.now(),
    );
    await enqueue(ctx.env, ids);
    queued += ids.length;
    if (events.length < FAN_OUT_BATCH) break;
  }
  return queued;
}

/** Sends deliveries to the queue; a failure is logged (the sweep sends them later). */
export async function enqueue(env: Bindings, ids: number[], delaySeconds = 0): Promise<void> {
  for (let i = 0; i < ids.length; i += 100) {
    const messages = ids.slice(i, i + 100).map((id) => ({ body: { delivery_id: id } satisfies DeliveryMessage, delaySeconds }));
    try {
      await env.WEBHOOK_QUEUE.sendBatch(messages);
    } catch (err) {
      logLine('error', 'webhook deliveries not queued; the sweep sends them', { count: messages.length, error: errorSummary(err) });
    }
  }
}

const fanOutFailed = (err: unknown) => logLine('error', 'webhook fan-out failed; the sweep retries it', { error: errorSummary(err) });

/**
 * Right after a request's write that added events: once the response has gone, asks the queue's
 * consumer to fan them out (one `fan_out` message per request however many writes it made; the
 * request makes no database round trip for it). A lost message costs a minute: the sweep.
 */
export function fanOutAfterResponse(ctx: Ctx): void {
  if (ctx.after?.includes(fanOutTask)) return;
  void afterResponse(ctx, fanOutTask);
}
const fanOutTask = (ctx: Ctx) => requestFanOut(ctx.env);

async function requestFanOut(env: Bindings): Promise<void> {
  try {
    await env.WEBHOOK_QUEUE.send({ fan_out: true });
  } catch (err) {
    logLine('warn', 'webhook fan-out not requested; the sweep does it', { error: errorSummary(err) });
  }
}

/**
 * The fan-out of a Durable Object's writes (a machine's results and status changes): a `fan_out`
 * message in the background, at most one in flight per object (a kick while one is being sent
 * sends one more after it), so the object's calls never wait for it.
 */
export class OutboxKicker {
  private running: Promise<void> | null = null;
  private again = false;

  constructor(
    private readonly env: () => Bindings,
    private readonly waitUntil: (p: Promise<unknown>) => void,
  ) {}

  kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await requestFanOut(this.env());
      } while (this.again);
    })().finally(() => {
      this.running = null;
    });
    this.waitUntil(this.running);
  }
}

/** The scheduled sweep: fan out what is left, re-send stranded deliveries. */
export async function sweepWebhooks(env: Bindings): Promise<void> {
  await withUnitOfWork(env, async (ctx) => {
    const fanned = await dispatchOutbox(ctx);
    const stranded = await repo.strandedDeliveries(ctx.store, Date.now(), STRANDED_GRACE_MS, 1000);
    await enqueue(env, stranded);
    if (fanned || stranded.length) logLine('info', 'webhook sweep', { queued: fanned, resent: stranded.length });
  });
}

// ---- 2. the consumer -------------------------------------------------------------------------------

const isDeliveryMessage = (b: unknown): b is { delivery_id: number } =>
  typeof b === 'object' && b !== null && Number.isSafeInteger((b as { delivery_id?: unknown }).delivery_id);
const isFanOut = (b: unknown): boolean => typeof b === 'object' && b !== null && (b as { fan_out?: unknown }).fan_out === true;

/** How long an attempt may hold its delivery: the timeout, the signing and the record, with margin. */
const leaseMs = (cfg: Config) => cfg.WEBHOOK_TIMEOUT_MS + 20_000;

export async function handleDeliveryBatch(batch: MessageBatch<unknown>, env: Bindings, waitUntil: (p: Promise<unknown>) => void): Promise<void> {
  if (batch.queue.startsWith(DELIVERY_DLQ)) {
    for (const m of batch.messages) {
      logLine('error', 'webhook delivery message dead-lettered; the sweep sends it again', { body: m.body });
      m.ack();
    }
    return;
  }
  await withUnitOfWork(env, async (ctx) => {
    // Fan-out requests: one fan-out for the whole batch (its new deliveries are queued by it).
    const fanOuts = batch.messages.filter((m) => isFanOut(m.body));
    if (fanOuts.length > 0) {
      try {
        await dispatchOutbox(ctx, 1);
        for (const m of fanOuts) m.ack();
      } catch (err) {
        fanOutFailed(err);
        for (const m of fanOuts) m.retry();
      }
    }
    await Promise.all(
      batch.messages.map(async (m) => {
        if (isFanOut(m.body)) return;
        if (!isDeliveryMessage(m.body)) {
          logLine('error', 'malformed webhook delivery message', { id: m.id });
          return m.ack();
        }
        let claimed: repo.Claimed | undefined;
        try {
          claimed = await repo.claimDelivery(ctx.store, m.body.delivery_id, Date.now(), leaseMs(ctx.config));
        } catch (err) {
          logLine('warn', 'webhook delivery not claimed; the queue retries it', { delivery_id: m.body.delivery_id, error: errorSummary(err) });
          return m.retry();
        }
        m.ack();
        if (claimed) waitUntil(attemptInOwnUnit(env, claimed));
      }),
    );
  });
}

/** One attempt, recorded in its own unit of work (the batch's has closed by then). */
function attemptInOwnUnit(env: Bindings, claimed: repo.Claimed): Promise<void> {
  return withUnitOfWork(env, async (ctx) => void (await attemptDelivery(ctx, claimed))).catch((err: unknown) =>
    logLine('error', 'webhook attempt not recorded; its lease runs out and it is sent again', {
      delivery_id: claimed.delivery.id,
      error: errorSummary(err),
    }),
  );
}

// ---- 3. one attempt --------------------------------------------------------------------------------

/** The delay after failed attempt number `n` (1-based): base × 2^(n−1) seconds, at most 12 h. */
export function retryDelaySeconds(cfg: Config, n: number): number {
  return Math.min(cfg.WEBHOOK_RETRY_BASE_SECONDS * 2 ** Math.min(n - 1, 30), MAX_DELAY_SECONDS);
}

/** Sends one attempt of a claimed delivery and records it; a retry is queued with its delay. */
export async function attemptDelivery(ctx: Ctx, c: repo.Claimed): Promise<WebhookDeliveryRow['status']> {
  const cfg = ctx.config;
  const sent = await send(cfg, c);
  const now = Date.now();
  const n = c.delivery.attempts + 1;
  const windowMs = cfg.WEBHOOK_RETRY_WINDOW_SECONDS * 1000;
  const delay = retryDelaySeconds(cfg, n);
  const retry = !sent.ok && !sent.final && now - c.delivery.createdAt < windowMs;
  const failingSince = c.endpoint.failingSince ?? now;
  const disable = !sent.ok && now - failingSince >= windowMs ? 'failing for the whole retry window' : null;
  await repo.recordAttempt(
    ctx.store,
    c,
    { ok: sent.ok, statusCode: sent.statusCode, error: sent.error, nextAttemptAt: retry ? now + delay * 1000 : null, disable },
    now,
  );
  if (disable) logLine('warn', 'webhook endpoint disabled', { endpoint_id: c.endpoint.id, failing_since: failingSince });
  if (retry) await enqueue(ctx.env, [c.delivery.id], delay);
  return sent.ok ? 'succeeded' : retry ? 'pending' : 'failed';
}

interface Sent {
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  /** No retry can help (the endpoint is disabled, its URL is refused, its secret unreadable). */
  final?: boolean;
}

async function send(cfg: Config, c: repo.Claimed): Promise<Sent> {
  const { endpoint, event } = c;
  if (endpoint.disabled && event.type !== 'ping') return { ok: false, statusCode: null, error: 'the endpoint is disabled', final: true };
  // Checked again at send time: the policy may be stricter than when the URL was stored.
  const refused = controllerUrlProblem(endpoint.url, cfg.ALLOW_INSECURE_CONTROLLER_URLS);
  if (refused) return { ok: false, statusCode: null, error: `url refused: ${refused}`, final: true };
  let keys: Parameters<typeof signMessage>[0];
  try {
    const live = endpoint.secretPrevious && endpoint.secretPreviousUntil && Date.now() < endpoint.secretPreviousUntil;
    keys = {
      current: await open(cfg, endpoint.secret, SECRET_CONTEXT),
      previous: live ? await open(cfg, endpoint.secretPrevious!, SECRET_CONTEXT) : null,
      previousUntil: endpoint.secretPreviousUntil,
    };
  } catch {
    return { ok: false, statusCode: null, error: 'the endpoint secret cannot be read: rotate it', final: true };
  }
  const body = eventBody(event, cfg.CURRENCY);
  try {
    const res = await fetch(endpoint.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'edge-api-webhooks/1', ...signMessage(keys, event.eventId, body) },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(cfg.WEBHOOK_TIMEOUT_MS),
    });
    // Read to the end, within the timeout (cancelling the body of a kept-alive connection fails it).
    await res.arrayBuffer().catch(() => undefined);
    if (res.status >= 200 && res.status < 300) return { ok: true, statusCode: res.status, error: null };
    return { ok: false, statusCode: res.status, error: `HTTP ${res.status}` };
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
    return { ok: false, statusCode: null, error: timedOut ? `no answer in ${cfg.WEBHOOK_TIMEOUT_MS} ms` : 'network error' };
  }
}
