// Stripe PaymentIntents through the official SDK, on its fetch HTTP client and SubtleCrypto provider
// (the Workers way). STRIPE_API_BASE points the SDK at a local fake in tests. The SDK's own network
// retries are off: an unanswered call is this service's to retry, always with the same idempotency
// key (the refund queue, the scheduled job), so an attempt never doubles.
import Stripe from 'stripe';
import type { Config } from '../../../env';
import { withTimeout } from '../../../lib/timeout';
import { type PaymentProvider, ProviderError, type ProviderPayment } from './types';

/** Stripe's payment method types per method of ours (bank_transfer is not offered: PAYMENT_METHOD_UNAVAILABLE). */
const METHOD_TYPES = { card: ['card'], kakaopay: ['kakao_pay'], bank_transfer: [] } as const;

/** Stripe's errors by what they mean for us: a 4xx is an answer, the rest is not. */
function classify(err: unknown): ProviderError {
  if (err instanceof ProviderError) return err;
  if (err instanceof Stripe.errors.StripeError) {
    const status = err.statusCode ?? 0;
    const unanswered = err instanceof Stripe.errors.StripeConnectionError || status === 0 || status >= 500 || status === 429 || status === 409;
    return new ProviderError(unanswered ? 'unavailable' : 'refused', `stripe: ${err.type} ${status} ${err.code ?? ''}`.trim(), { cause: err });
  }
  return new ProviderError('unavailable', `stripe: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

export function stripeProvider(config: Config): PaymentProvider {
  const base = new URL(config.STRIPE_API_BASE);
  const protocol = base.protocol === 'http:' ? 'http' : 'https';
  const stripe = new Stripe(config.STRIPE_SECRET_KEY!, {
    httpClient: Stripe.createFetchHttpClient(),
    host: base.hostname,
    port: base.port || (protocol === 'http' ? 80 : 443),
    protocol,
    maxNetworkRetries: 0,
    timeout: config.PAYMENT_PROVIDER_TIMEOUT_MS,
    telemetry: false,
  });
  const crypto = Stripe.createSubtleCryptoProvider();
  const call = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await withTimeout(fn(), config.PAYMENT_PROVIDER_TIMEOUT_MS);
    } catch (err) {
      throw classify(err);
    }
  };
  const read = (pi: Stripe.PaymentIntent): ProviderPayment => ({
    id: pi.id,
    status: pi.status === 'succeeded' ? 'paid' : pi.status === 'canceled' ? 'cancelled' : 'pending',
    amount: pi.amount_received && pi.status === 'succeeded' ? pi.amount_received : pi.amount,
    currency: pi.currency.toUpperCase(),
    reference: pi.metadata?.reference ?? null,
  });

  return {
    name: 'stripe',
    async create(req) {
      if (req.method === 'bank_transfer') throw new ProviderError('refused', 'stripe: bank_transfer is not offered');
      const pi = await call(() =>
        stripe.paymentIntents.create(
          {
            amount: req.amount,
            currency: req.currency.toLowerCase(),
            allowed_payment_method_types: [...METHOD_TYPES[req.method]],
            description: req.orderName,
            metadata: { reference: req.reference, user_id: String(req.userId) },
          },
          { idempotencyKey: `create-${req.reference}` },
        ),
      );
      if (!pi.client_secret) throw new ProviderError('refused', 'stripe: payment intent without a client secret');
      return { id: pi.id, checkout: { provider: 'stripe', client_secret: pi.client_secret, publishable_key: config.STRIPE_PUBLISHABLE_KEY! } };
    },
    async retrieve(id) {
      return read(await call(() => stripe.paymentIntents.retrieve(id)));
    },
    async refund(req) {
      try {
        const refund = await call(() =>
          stripe.refunds.create(
            { payment_intent: req.id, amount: req.amount, reason: 'requested_by_customer', metadata: { reason: req.reason.slice(0, 500) } },
            { idempotencyKey: req.idempotencyKey },
          ),
        );
        if (refund.status === 'failed' || refund.status === 'canceled') throw new ProviderError('refused', `stripe: refund ${refund.status}`);
      } catch (err) {
        // Refunded before (an attempt whose answer was lost, past the idempotency key's 24 h): done.
        if (err instanceof ProviderError && err.cause instanceof Stripe.errors.StripeError && err.cause.code === 'charge_already_refunded') return;
        throw err;
      }
    },
    async cancelUnpaid(id) {
      const pi = await call(() => stripe.paymentIntents.retrieve(id));
      if (pi.status === 'succeeded' || pi.status === 'canceled') return;
      await call(() => stripe.paymentIntents.cancel(id, {}, { idempotencyKey: `void-${id}` }));
    },
    async verifyWebhook(body, headers) {
      const signature = headers.get('stripe-signature');
      if (!signature) throw new ProviderError('invalid_signature', 'stripe: no Stripe-Signature header');
      let event: Stripe.Event;
      try {
        event = await stripe.webhooks.constructEventAsync(body, signature, config.STRIPE_WEBHOOK_SECRET!, undefined, crypto);
      } catch (err) {
        throw new ProviderError('invalid_signature', 'stripe: signature verification failed', { cause: err });
      }
      const object = event.data.object as { object?: string; id?: string };
      return { eventId: event.id, paymentId: object.object === 'payment_intent' && typeof object.id === 'string' ? object.id : null };
    },
  };
}
