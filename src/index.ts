// The worker: the HTTP app (and, as modules arrive, the queue consumer and Durable Objects).
import { app } from './app';

export { UserLedger } from './modules/payments/user-ledger';

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Cloudflare.Env>;
