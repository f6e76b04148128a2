// The worker: the HTTP app, the queue consumers and the Durable Object classes.
import { app } from './app';
import { handleQueue } from './modules/machines/consumer';

export { MachineDO } from './modules/machines/machine.do';
export { UserLedger } from './modules/payments/user-ledger';

export default {
  fetch: app.fetch,
  queue: (batch, env) => handleQueue(batch, env),
} satisfies ExportedHandler<Cloudflare.Env>;
