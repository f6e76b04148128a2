// PortOne V2 through its official server SDK (@portone/server-sdk). The browser SDK creates the
// payment with the id we choose (our reference) after the server pre-registers its amount and
// currency (preRegisterPayment), so PortOne itself refuses any other amount. PORTONE_API_BASE points
// the SDK at a local fake in tests. PortOne's cancel has no idempotency key; its equivalent is
// `currentCancellableAmount`: the cancel happens only while that much is still cancellable, so a
// retried refund never refunds twice (an already-cancelled payment answers PAYMENT_ALREADY_CANCELLED).
import { PaymentClient, PortOneError, Webhook } from '@portone/server-sdk';
import type { Config } from '../../../env';
import { portoneChannelKeys } from '../../../env';
import { withTimeout } from '../../../lib/timeout';
import { type PaymentProvider, ProviderError, type ProviderPayment } from './types';

const PAY_METHODS = { card: 'CARD', kakaopay: 'EASY_PAY', bank_transfer: 'TRANSFER' } as const;

/** Error types that mean "no usable answer": PortOne could not reach the PG. */
const UNANSWERED = new Set(['PG_PROVIDER']);

function errorType(err: unknown): string | null {
  const data = (err as { data?: { type?: unknown } }).data;
  return err instanceof PortOneError && typeof data?.type === 'string' ? data.type : null;
}

function classify(err: unknown): ProviderError {
  if (err instanceof ProviderError) return err;
  const type = errorType(err);
  // A typed error body is PortOne's answer; anything else (timeout, network, a 5xx page) is not.
  if (type !== null && !UNANSWERED.has(type)) return new ProviderError('refused', `portone: ${type}`, { cause: err });
  return new ProviderError('unavailable', `portone: ${type ?? (err instanceof Error ? err.message : String(err))}`, { cause: err });
}

export function portoneProvider(config: Config): PaymentProvider {
  const client = PaymentClient({ secret: config.PORTONE_API_SECRET!, baseUrl: config.PORTONE_API_BASE, storeId: config.PORTONE_STORE_ID });
  const channels = portoneChannelKeys(config) ?? {};
  const call = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await withTimeout(fn(), config.PAYMENT_PROVIDER_TIMEOUT_MS);
    } catch (err) {
      throw classify(err);
    }
  };
  const retrieve = async (id: string): Promise<ProviderPayment> => {
    let payment: Awaited<ReturnType<typeof client.getPayment>>;
    try {
      payment = await call(() => client.getPayment({ paymentId: id }));
    } catch (err) {
      // Pre-registered but never requested by the browser: not paid (yet).
      if (err instanceof ProviderError && errorType(err.cause) === 'PAYMENT_NOT_FOUND') {
        return { id, status: 'pending', amount: 0, currency: '', reference: id };
      }
      throw err;
    }
    if (!('id' in payment)) return { id, status: 'pending', amount: 0, currency: '', reference: null };
    const status =
      payment.status === 'PAID'
        ? 'paid'
        : payment.status === 'FAILED'
          ? 'failed'
          : payment.status === 'CANCELLED' || payment.status === 'PARTIAL_CANCELLED'
            ? 'cancelled'
            : 'pending';
    return { id: payment.id, status, amount: payment.amount.total, currency: String(payment.currency), reference: payment.id };
  };

  return {
    name: 'portone',
    async create(req) {
      const channel = channels[req.method];
      if (!channel) throw new ProviderError('refused', `portone: no channel key for ${req.method}`);
      await call(() => client.preRegisterPayment({ paymentId: req.reference, totalAmount: req.amount, currency: req.currency as 'KRW' }));
      return {
        id: req.reference,
        checkout: {
          provider: 'portone',
          store_id: config.PORTONE_STORE_ID!,
          channel_key: channel,
          payment_id: req.reference,
          order_name: req.orderName,
          total_amount: req.amount,
          currency: req.currency,
          pay_method: PAY_METHODS[req.method],
        },
      };
    },
    retrieve,
    async refund(req) {
      try {
        await call(() =>
          client.cancelPayment({ paymentId: req.id, reason: req.reason || 'cancelled by the customer', currentCancellableAmount: req.amount }),
        );
      } catch (err) {
        const type = err instanceof ProviderError ? errorType(err.cause) : null;
        if (type === 'PAYMENT_ALREADY_CANCELLED') return;
        // The cancellable amount moved: an earlier attempt refunded it if the payment is cancelled now.
        if (type === 'CANCELLABLE_AMOUNT_CONSISTENCY_BROKEN' && (await retrieve(req.id)).status === 'cancelled') return;
        throw err;
      }
    },
    async cancelUnpaid() {
      // A pre-registered payment that was never paid has nothing to void; one paid late is refunded.
    },
    async verifyWebhook(body, headers) {
      const record: Record<string, string> = {};
      for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
        const value = headers.get(name);
        if (value !== null) record[name] = value;
      }
      let event: Awaited<ReturnType<typeof Webhook.verify>>;
      try {
        event = await Webhook.verify(config.PORTONE_WEBHOOK_SECRET!, body, record);
      } catch (err) {
        throw new ProviderError('invalid_signature', 'portone: webhook verification failed', { cause: err });
      }
      const data = 'data' in event ? (event.data as { paymentId?: unknown }) : {};
      return { eventId: record['webhook-id']!, paymentId: typeof data.paymentId === 'string' ? data.paymentId : null };
    },
  };
}
