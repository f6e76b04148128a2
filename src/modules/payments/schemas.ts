import { z } from '@hono/zod-openapi';
import { CursorQuery, pageSchema } from '../../lib/pagination';

import { PAYMENT_METHODS, PAYMENT_STATUSES, REGISTRATION_STATUSES } from '../../contract';

export { PAYMENT_METHODS };
export type { PaymentMethod } from '../../contract';

export const RegisterBody = z
  .object({
    amount: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional().openapi({
      example: 45000,
      description:
        'Must equal the price. Required with the `simulated` provider (400 `INPUT_VALIDATION_ERROR` without it); optional with a real provider, which always charges the server’s price.',
    }),
    payment_method: z.enum(PAYMENT_METHODS),
  })
  .openapi('RegisterRequest');
export type RegisterInput = z.output<typeof RegisterBody>;
/** A registration's input once its amount is known (the simulated provider requires it in the body). */
export type PricedInput = RegisterInput & { amount: number };

export const IdempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(255)
    .optional()
    .openapi({ param: { name: 'idempotency-key', in: 'header' }, description: 'Stripe semantics, scoped to the caller, kept 24 h.' }),
});

export const CancelBody = z.object({ reason: z.string().trim().max(500).optional() }).openapi('CancelPaymentRequest');

export const RegistrationSchema = z
  .object({
    id: z.number().int(),
    kind: z.enum(['exam', 'course']),
    item_id: z.number().int(),
    status: z.enum(REGISTRATION_STATUSES).openapi({
      description:
        '`pending` waits for its payment (real providers): not active, not counted; it becomes applied/enrolled when the payment is paid, or cancelled when it expires or fails.',
    }),
    applied_at: z.string(),
    completed_at: z.string().nullable(),
    cancelled_at: z.string().nullable(),
  })
  .openapi('Registration');

const StripeCheckout = z
  .object({
    provider: z.literal('stripe'),
    client_secret: z.string().openapi({ description: 'For Stripe.js (Payment Element, confirmPayment).' }),
    publishable_key: z.string(),
  })
  .openapi('StripeCheckout');
const PortOneCheckout = z
  .object({
    provider: z.literal('portone'),
    store_id: z.string(),
    channel_key: z.string(),
    payment_id: z.string(),
    order_name: z.string(),
    total_amount: z.number().int(),
    currency: z.string(),
    pay_method: z.enum(['CARD', 'EASY_PAY', 'TRANSFER']),
  })
  .openapi('PortOneCheckout', { description: "The arguments of PortOne's browser SDK `requestPayment`." });
export const CheckoutSchema = z.discriminatedUnion('provider', [StripeCheckout, PortOneCheckout]).openapi('Checkout');

export const PaymentSchema = z
  .object({
    id: z.number().int(),
    payment_type: z.enum(['exam', 'course']),
    target_id: z.number().int(),
    target_title: z.string().openapi({ description: 'Snapshot at payment time.' }),
    amount: z.number().int().openapi({ description: 'Snapshot at payment time.' }),
    currency: z.string(),
    payment_method: z.enum(PAYMENT_METHODS),
    status: z.enum(PAYMENT_STATUSES).openapi({
      description: `pending: created at the provider, waiting to be paid (until expires_at); paid: money received, registration active;
cancelled: refunded (or abandoned before paying); refund_pending: cancelled, the provider's refund answer was lost and is being retried;
expired: not paid in time; failed: the provider refused it, or its amount/currency/reference did not match (refunded). The simulated
provider only writes paid and cancelled.`,
    }),
    external_transaction_id: z.string().openapi({ description: "The provider's payment id (Stripe PaymentIntent id, PortOne paymentId)." }),
    transaction_metadata: z.object({
      payment_gateway: z.string(),
      supports_refund: z.boolean(),
      processing_fee_rate: z.number(),
      estimated_fee: z.number().int(),
    }),
    paid_at: z.string().nullable().openapi({ description: 'Null while pending, and for expired or failed payments.' }),
    cancelled_at: z.string().nullable(),
    refund_reason: z.string().nullable(),
    registration_status: z.enum(REGISTRATION_STATUSES),
    expires_at: z.string().nullable().openapi({ description: 'A pending payment not paid by then becomes expired.' }),
    checkout: CheckoutSchema.nullable().openapi({ description: 'What the client needs to pay a pending payment; null otherwise.' }),
  })
  .openapi('Payment');

export const RegisterResultSchema = z.object({ registration: RegistrationSchema, payment: PaymentSchema }).openapi('RegisterResult');
export const PaymentPage = pageSchema(PaymentSchema, 'PaymentPage');

const day = z.iso.date().openapi({ example: '2026-11-01', description: 'UTC date, inclusive.' });
export const HistoryQuery = CursorQuery.extend({
  status: z.enum(PAYMENT_STATUSES).optional(),
  payment_type: z.enum(['exam', 'course']).optional(),
  from: day.optional(),
  to: day.optional(),
  search: z.string().max(200).optional().openapi({ description: 'Words of the target title (snapshot), all must appear, case-insensitive.' }),
}).superRefine((v, ctx) => {
  if (v.from && v.to && v.from > v.to) ctx.addIssue({ code: 'custom', path: ['from'], message: 'from must not be after to' });
});
export type HistoryQueryInput = z.output<typeof HistoryQuery>;

/** A provider's webhook body, as documented: the handler verifies the raw bytes and never validates or trusts it. */
export const WebhookBody = z.record(z.string(), z.unknown()).openapi('ProviderWebhookBody', { description: "The provider's event, verbatim." });

export const WebhookAck = z
  .object({
    received: z.literal(true),
    payment_id: z.number().int().nullable().openapi({ description: 'The payment the event was about; null when ignored.' }),
    status: z.enum(PAYMENT_STATUSES).nullable().openapi({ description: 'Its status after the settlement; null when ignored.' }),
  })
  .openapi('WebhookAck');
