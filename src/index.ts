// The worker: the HTTP app, the queue consumers and the Durable Object classes.
import { app } from './app';
import type { Bindings } from './env';
import { handleQueue } from './modules/machines';

export { MachineDO } from './modules/machines';
export { UserLedger } from './modules/payments';

export default {
  fetch: app.fetch,
  queue: (batch, env) => handleQueue(batch, env),
} satisfies ExportedHandler<Bindings>;
