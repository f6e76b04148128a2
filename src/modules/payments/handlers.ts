import type { Context } from 'hono';
import type { AppEnv } from '../../context';
import { router, validationError } from '../../lib/openapi';
import { receive } from '../../lib/outcome';
import { KINDS, type KindConfig } from '../catalog';
import { requestHash, type Replayable } from './idempotency';
import { ApiError } from '../../lib/problem';
import type { PaymentProviderName } from '../../contract';
import { ProviderError, providerFor } from './providers';
import * as repo from './repository';
import { cancelRoute, confirmRoute, historyRoute, paymentRoute, portoneWebhookRoute, registrationRoutes, stripeWebhookRoute } from './routes';
import * as service from './service';
import { ledger } from './user-ledger';
import { requestUrl } from '../../lib/links';
import { fanOutAfterResponse } from '../webhooks';

/** After a write that may have added events: fan them out after the response (the sweep is the backstop). */
const kick = (c: Context<AppEnv>) => fanOutAfterResponse(c.var.ctx);

async function idempotencyOf(c: Context<AppEnv>, key: string | undefined, body: unknown) {
  return key === undefined ? undefined : { key, hash: await requestHash(c.req.method, c.req.path, body) };
}

/** A ledger outcome as the HTTP answer (a replay says so); its error is thrown like everywhere else. */
function answer<T>(c: Context<AppEnv>, r: Replayable<T>): T {
  if (r.replayed) c.header('Idempotent-Replayed', 'true');
  return receive(c.var.ctx.store, r);
}

const AMOUNT_REQUIRED = { path: 'amount', message: 'Invalid input: expected number, received undefined' };

function registrationRouter(k: KindConfig) {
  const r = registrationRoutes(k);
  const app = router();

  app.openapi(r.register, async (c) => {
    const input = c.req.valid('json');
    // The simulated provider takes the amount from the body (a real provider never does): a schema
    // failure there, answered before the Idempotency-Key is claimed, so it is never stored.
    if (input.amount === undefined && c.var.ctx.config.PAYMENT_PROVIDER === 'simulated') throw validationError([AMOUNT_REQUIRED]);
    const userId = c.get('auth').user.id;
    const idem = await idempotencyOf(c, c.req.valid('header')['idempotency-key'], input);
    const result = await ledger(c.var.ctx, userId).register(k.kind, userId, c.req.valid('param').id, input, idem);
    kick(c);
    return c.json(answer(c, result), 201);
  });

  app.openapi(r.complete, async (c) => {
    const registration = await service.complete(c.var.ctx, k, c.get('auth').user.id, c.req.valid('param').id);
    kick(c);
    return c.json(registration, 200);
  });

  return app;
}

export const payments = router().route('/', registrationRouter(KINDS.exams)).route('/', registrationRouter(KINDS.courses));

payments.openapi(historyRoute, async (c) => {
  return c.json(await service.listPayments(c.var.ctx, c.get('auth').user.id, c.req.valid('query'), requestUrl(c)), 200);
});

payments.openapi(paymentRoute, async (c) => {
  return c.json(await service.getPayment(c.var.ctx, c.get('auth').user.id, c.req.valid('param').id), 200);
});

payments.openapi(cancelRoute, async (c) => {
  const body = c.req.valid('json') ?? {};
  const userId = c.get('auth').user.id;
  const idem = await idempotencyOf(c, c.req.valid('header')['idempotency-key'], body);
  const result = await ledger(c.var.ctx, userId).cancel(userId, c.req.valid('param').id, body.reason ?? null, idem);
  kick(c);
  return c.json(answer(c, result), 200);
});

payments.openapi(confirmRoute, async (c) => {
  const userId = c.get('auth').user.id;
  const result = await ledger(c.var.ctx, userId).confirm(userId, c.req.valid('param').id);
  kick(c);
  return c.json(answer(c, result), 200);
});

/**
 * A provider's webhook: verified over the raw body first, then only the payment it names is
 * settled, from the provider's own answer (settlement.ts), through the payer's ledger.
 */
async function webhook(c: Context<AppEnv>, name: Exclude<PaymentProviderName, 'simulated'>) {
  const ctx = c.var.ctx;
  const configured = name === 'stripe' ? ctx.config.STRIPE_WEBHOOK_SECRET : ctx.config.PORTONE_WEBHOOK_SECRET;
  if (!configured) throw new ApiError('NOT_FOUND');
  const provider = providerFor(ctx.config, name);
  const body = await c.req.text();
  let event: Awaited<ReturnType<typeof provider.verifyWebhook>>;
  try {
    event = await provider.verifyWebhook(body, c.req.raw.headers);
  } catch (err) {
    if (err instanceof ProviderError && err.kind === 'invalid_signature') throw new ApiError('INVALID_SIGNATURE');
    throw err;
  }
  const ref = event.paymentId === null ? null : await repo.paymentByExternalId(ctx.store, name, event.paymentId);
  if (!ref) return { received: true as const, payment_id: null, status: null };
  const status = receive(ctx.store, await ledger(ctx, ref.user_id).settle(ref.user_id, ref.id, false));
  kick(c);
  return { received: true as const, payment_id: ref.id, status: isStatus(status) ? status : null };
}

const STATUSES = new Set<string>(['pending', 'paid', 'cancelled', 'refund_pending', 'expired', 'failed']);
const isStatus = (s: string): s is 'paid' => STATUSES.has(s);

payments.openapi(stripeWebhookRoute, async (c) => c.json(await webhook(c, 'stripe'), 200));
payments.openapi(portoneWebhookRoute, async (c) => c.json(await webhook(c, 'portone'), 200));
