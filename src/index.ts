// The worker: the HTTP app, the queue consumers, the cron job and the Durable Object classes.
import { app } from './app';
import type { Bindings } from './env';
import { handleQueue } from './modules/machines';
import { scheduledPurge } from './modules/system';
import { DELIVERY_QUEUE, handleDeliveryBatch, SWEEP_CRON, sweepWebhooks } from './modules/webhooks';

export { MachineDO } from './modules/machines';
export { UserLedger } from './modules/payments';

export default {
  fetch: app.fetch,
  queue: (batch: MessageBatch<unknown>, env: Bindings, ctx?: ExecutionContext) =>
    // The webhook consumer attempts deliveries in the background (ctx.waitUntil): a batch never waits for an endpoint.
    batch.queue.startsWith(DELIVERY_QUEUE) ? handleDeliveryBatch(batch, env, (p) => (ctx ? ctx.waitUntil(p) : void p)) : handleQueue(batch, env),
  // Two crons (wrangler.toml [triggers]): the hourly purge of expired rows, the webhook sweep every minute.
  scheduled: async (controller, env) => {
    if (controller?.cron === SWEEP_CRON) await sweepWebhooks(env);
    else await scheduledPurge(env);
  },
} satisfies ExportedHandler<Bindings>;
