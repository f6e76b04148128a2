// The worker: the HTTP app, the queue consumers, the cron job and the Durable Object classes.
import { app } from './app';
import type { Bindings } from './env';
import { handleQueue } from './modules/machines';
import { scheduledPurge } from './modules/system';

export { MachineDO } from './modules/machines';
export { UserLedger } from './modules/payments';

export default {
  fetch: app.fetch,
  queue: (batch, env) => handleQueue(batch, env),
  // One cron (wrangler.toml [triggers]): the purge of expired rows.
  scheduled: async (_controller, env) => {
    await scheduledPurge(env);
  },
} satisfies ExportedHandler<Bindings>;
