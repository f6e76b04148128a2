// The worker: the HTTP app, the queue consumers, the cron job and the Durable Object classes.
import { app } from './app';
import type { Bindings } from './env';
import { handleQueue } from './modules/machines';
import { handleRefunds, REFUND_QUEUE, scheduledSettlement } from './modules/payments';
import { scheduledPurge } from './modules/system';
import { DELIVERY_QUEUE, handleDeliveryBatch, SWEEP_CRON, sweepWebhooks } from './modules/webhooks';

export { MachineDO } from './modules/machines';
export { UserLedger } from './modules/payments';

export default {
  fetch: app.fetch,
  // Each consumer by its queue: webhook deliveries (attempted in the background, ctx.waitUntil: a batch
  // never waits for an endpoint), payment refunds, and the machines' command queues (and their dead letters).
  queue: (batch: MessageBatch<unknown>, env: Bindings, ctx?: ExecutionContext) =>
    batch.queue.startsWith(DELIVERY_QUEUE)
      ? handleDeliveryBatch(batch, env, (p) => (ctx ? ctx.waitUntil(p) : void p))
      : batch.queue.startsWith(REFUND_QUEUE)
        ? handleRefunds(batch, env)
        : handleQueue(batch, env),
  // Two crons (wrangler.toml [triggers]): every minute the webhook sweep; hourly the purge of expired
  // rows and the settlement of payments (expiry, stuck refunds). One failing does not stop the
  // other; the run fails if either did.
  scheduled: async (controller, env) => {
    if (controller?.cron === SWEEP_CRON) return sweepWebhooks(env);
    const results = await Promise.allSettled([scheduledPurge(env), scheduledSettlement(env)]);
    for (const r of results) if (r.status === 'rejected') throw r.reason;
  },
} satisfies ExportedHandler<Bindings>;
