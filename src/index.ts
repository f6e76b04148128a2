// The worker: the HTTP app, the queue consumers and the Durable Object classes.
import { app } from './app';
import { withStore } from './db/store';
import { handleQueue } from './modules/machines/consumer';

export { MachineDO } from './modules/machines/machine.do';
export { UserLedger } from './modules/payments/user-ledger';

export default {
  fetch: app.fetch,
  queue: (batch, env) => withStore(env, (scoped) => handleQueue(batch, scoped)),
} satisfies ExportedHandler<Cloudflare.Env>;
