// The worker: the HTTP app, the queue consumers, the cron job and the Durable Object classes.
import { app } from './app';
import type { Bindings } from './env';
import { handleQueue } from './modules/machines';
import { handleRefunds, REFUND_QUEUE, scheduledSettlement } from './modules/payments';
import { scheduledPurge } from './modules/system';

export { MachineDO } from './modules/machines';
export { UserLedger } from './modules/payments';

export default {
  fetch: app.fetch,
  // Each consumer by its queue: payment refunds here, the machines' command queues (and their dead letters) there.
  queue: (batch, env) => (batch.queue.startsWith(REFUND_QUEUE) ? handleRefunds(batch, env) : handleQueue(batch, env)),
  // One cron (wrangler.toml [triggers]): the purge of expired rows, and the settlement of payments
  // (expiry, stuck refunds). One failing does not stop the other; the run fails if either did.
  scheduled: async (_controller, env) => {
    const results = await Promise.allSettled([scheduledPurge(env), scheduledSettlement(env)]);
    for (const r of results) if (r.status === 'rejected') throw r.reason;
  },
} satisfies ExportedHandler<Bindings>;
