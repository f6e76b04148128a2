import { z } from '@hono/zod-openapi';
import { CursorQuery, pageSchema } from '../../lib/pagination';

import { PAYMENT_METHODS } from '../../contract';

export { PAYMENT_METHODS };
export type { PaymentMethod } from '../../contract';

export const RegisterBody = z
  .object({
    amount: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).openapi({ example: 45000, description: 'Must equal the price.' }),
    payment_method: z.enum(PAYMENT_METHODS),
  })
  .openapi('RegisterRequest');
export type RegisterInput = z.output<typeof RegisterBody>;

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
    status: z.enum(['applied', 'enrolled', 'completed', 'cancelled']),
    applied_at: z.string(),
    completed_at: z.string().nullable(),
    cancelled_at: z.string().nullable(),
  })
  .openapi('Registration');

export const PaymentSchema = z
  .object({
    id: z.number().int(),
    payment_type: z.enum(['exam', 'course']),
    target_id: z.number().int(),
    target_title: z.string().openapi({ description: 'Snapshot at payment time.' }),
    amount: z.number().int().openapi({ description: 'Snapshot at payment time.' }),
    currency: z.string(),
    payment_method: z.enum(PAYMENT_METHODS),
    status: z.enum(['paid', 'cancelled']),
    external_transaction_id: z.string(),
    transaction_metadata: z.object({
      payment_gateway: z.string(),
      supports_refund: z.boolean(),
      processing_fee_rate: z.number(),
      estimated_fee: z.number().int(),
    }),
    paid_at: z.string(),
    cancelled_at: z.string().nullable(),
    refund_reason: z.string().nullable(),
    registration_status: z.enum(['applied', 'enrolled', 'completed', 'cancelled']),
  })
  .openapi('Payment');

export const RegisterResultSchema = z.object({ registration: RegistrationSchema, payment: PaymentSchema }).openapi('RegisterResult');
export const PaymentPage = pageSchema(PaymentSchema, 'PaymentPage');

const day = z.iso.date().openapi({ example: '2026-11-01', description: 'UTC date, inclusive.' });
export const HistoryQuery = CursorQuery.extend({
  status: z.enum(['paid', 'cancelled']).optional(),
  payment_type: z.enum(['exam', 'course']).optional(),
  from: day.optional(),
  to: day.optional(),
  search: z.string().max(200).optional().openapi({ description: 'Words of the target title (snapshot), all must appear, case-insensitive.' }),
}).superRefine((v, ctx) => {
  if (v.from && v.to && v.from > v.to) ctx.addIssue({ code: 'custom', path: ['from'], message: 'from must not be after to' });
});
export type HistoryQueryInput = z.output<typeof HistoryQuery>;
