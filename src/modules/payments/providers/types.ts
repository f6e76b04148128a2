// One interface for every payment provider (contract 4.1): create a payment, read it back, refund
// it, void an unpaid one, verify a webhook. The service never sees a provider's own shapes: only
// ProviderPayment, a normalised reading, and ProviderError, which says whether the provider refused
// (a definitive answer) or whether the outcome is unknown (timeout, 5xx, network: retry later with
// the same idempotency key).
import type { Checkout, PaymentMethod, PaymentProviderName } from '../../../contract';

export type { Checkout } from '../../../contract';

export interface CreateRequest {
  /** Our reference: the provider payment must carry it back (and must be this one). */
  reference: string;
  userId: number;
  amount: number;
  currency: string;
  method: PaymentMethod;
  orderName: string;
}

/** A provider's payment as the service reads it. */
export interface ProviderPayment {
  /** The provider's payment id (our external_transaction_id). */
  id: string;
  /** paid: money taken (and not given back); pending: not yet; failed / cancelled: never will be. */
  status: 'pending' | 'paid' | 'failed' | 'cancelled';
  amount: number;
  /** Upper case (ISO 4217). */
  currency: string;
  /** The reference the provider payment carries (null when it carries none). */
  reference: string | null;
}

export interface RefundRequest {
  id: string;
  amount: number;
  reason: string;
  /** The same for every attempt of one refund: the provider refunds once. */
  idempotencyKey: string;
}

/** A verified webhook: the provider payment it is about (null: an event this service ignores). */
export interface WebhookEvent {
  eventId: string;
  paymentId: string | null;
}

export interface PaymentProvider {
  readonly name: PaymentProviderName;
  create(req: CreateRequest): Promise<{ id: string; checkout: Checkout | null }>;
  retrieve(id: string): Promise<ProviderPayment>;
  refund(req: RefundRequest): Promise<void>;
  /** Voids a payment that is not paid (best effort: a paid one stays paid). */
  cancelUnpaid(id: string): Promise<void>;
  /** Throws ProviderError('invalid_signature') for a bad, missing or stale signature. */
  verifyWebhook(body: string, headers: Headers): Promise<WebhookEvent>;
}

/**
 * refused: the provider answered no (nothing happened there); unavailable: no usable answer
 * (timeout, 5xx, network), so the operation may or may not have happened; invalid_signature: a
 * webhook that is not the provider's.
 */
export class ProviderError extends Error {
  constructor(
    readonly kind: 'refused' | 'unavailable' | 'invalid_signature',
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'ProviderError';
  }
}
