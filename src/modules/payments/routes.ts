import { createRoute } from '@hono/zod-openapi';
import { auth, readAuth } from '../accounts';
import { bearer, IdParam, jsonBody, jsonResponse, publicRoute } from '../../lib/openapi';
import { errorResponses } from '../../lib/problem';
import type { KindConfig } from '../catalog';
import {
  CancelBody,
  HistoryQuery,
  IdempotencyHeaders,
  PaymentPage,
  PaymentSchema,
  RegisterBody,
  RegisterResultSchema,
  RegistrationSchema,
  WebhookAck,
  WebhookBody,
} from './schemas';

const IDEMPOTENCY = `\`Idempotency-Key\` (optional, Stripe semantics, per user): the first response is kept 24 h and
replayed with status and body (plus \`Idempotent-Replayed: true\`) for a repeat with the same body; the same key
with another body or path is 422 \`IDEMPOTENCY_KEY_REUSED\`; a repeat while the first runs is 409
\`IDEMPOTENCY_IN_PROGRESS\`. Requests failing their schema are not stored.`;

const REAL_PROVIDER = `**With a real payment provider** (\`PAYMENT_PROVIDER\` \`stripe\` or \`portone\`, docs/payments-providers.md): \`amount\`
is optional (when sent it must equal the price: the provider always charges the server's price); the answer is 201 with
\`payment.status = "pending"\`, \`registration.status = "pending"\`, \`payment.expires_at\` and \`payment.checkout\` (what the
client needs to pay with the provider's browser SDK). A pending registration is not active and not counted. A second apply
while one is pending is 409 \`PAYMENT_PENDING\` (with \`payment_id\`); Stripe does not offer \`bank_transfer\` (400
\`PAYMENT_METHOD_UNAVAILABLE\`); a provider that cannot create the payment is 502 \`PAYMENT_PROVIDER_ERROR\` and nothing is
written. Then pay, and \`POST /api/payments/{id}/confirm\` (or let the provider's webhook do it).`;

/** Apply (exams) or enroll (courses), and complete, for one kind. */
export function registrationRoutes<K extends KindConfig>(k: K) {
  const tags = [k.kind];
  return {
    register: createRoute({
      operationId: k.action === 'apply' ? 'applyForExam' : 'enrollInCourse',
      method: 'post',
      path: `/api/${k.kind}/{id}/${k.action}` as const,
      tags,
      security: bearer,
      middleware: [auth] as const,
      summary: `${k.action === 'apply' ? 'Apply for an exam' : 'Enroll in a course'} and pay`,
      description: `Checks, in order: schema → ${k.noun} exists (404 \`NOT_FOUND\`) → not already actively registered
(409 \`ALREADY_REGISTERED\`) → now within start_at..end_at inclusive (400 \`NOT_IN_PERIOD\`) → \`amount == price\`
(400 \`AMOUNT_MISMATCH\`, with \`price\`) → per-method limits (400 \`PAYMENT_LIMIT_EXCEEDED\`, with \`min\`/\`max\`;
kakaopay 100–50,000,000, card 1,000–100,000,000, bank_transfer 1,000–200,000,000). Then one transaction writes a
\`paid\` payment (title and amount snapshot), an active registration (a cancelled one is re-activated) and
increments registration_count. All payment operations of one user are serialised (one Durable Object per user):
N concurrent identical requests give one 201 and N−1 × 409. ${IDEMPOTENCY}

${REAL_PROVIDER}`,
      request: { params: IdParam, headers: IdempotencyHeaders, body: jsonBody(RegisterBody) },
      responses: {
        201: jsonResponse(RegisterResultSchema, 'The registration and its payment.'),
        ...errorResponses(
          [
            'NOT_FOUND',
            'ALREADY_REGISTERED',
            'NOT_IN_PERIOD',
            'AMOUNT_MISMATCH',
            'PAYMENT_LIMIT_EXCEEDED',
            'IDEMPOTENCY_KEY_REUSED',
            'IDEMPOTENCY_IN_PROGRESS',
            'PAYMENT_PENDING',
            'PAYMENT_METHOD_UNAVAILABLE',
            'PAYMENT_PROVIDER_ERROR',
          ],
          { auth: true, body: true },
        ),
      },
    }),
    complete: createRoute({
      operationId: `complete${k.label}`,
      method: 'post',
      path: `/api/${k.kind}/{id}/complete` as const,
      tags,
      security: bearer,
      middleware: [auth] as const,
      summary: `Mark the caller's ${k.noun} registration completed`,
      description: `The caller's own registration only. A completed registration still counts in registration_count and
can no longer be cancelled. A registration still waiting for its payment (real providers) is 409 \`PAYMENT_PENDING\`. No body.`,
      request: { params: IdParam },
      responses: {
        200: jsonResponse(RegistrationSchema, 'The completed registration.'),
        ...errorResponses(['REGISTRATION_NOT_FOUND', 'ALREADY_COMPLETED', 'REGISTRATION_CANCELLED', 'PAYMENT_PENDING'], { auth: true }),
      },
    }),
  };
}

const tags = ['payments'];

export const historyRoute = createRoute({
  operationId: 'listMyPayments',
  method: 'get',
  path: '/api/me/payments',
  tags,
  security: bearer,
  middleware: [readAuth] as const,
  summary: "The caller's payments, newest first",
  description: `Filters: \`status\`, \`payment_type\`, \`from\`/\`to\` (UTC dates, inclusive, on paid_at; from after to is 400),
\`search\` (every word must appear in the title snapshot, case-insensitive: ASCII letters on D1, all letters on Postgres). Paging: page/page_size, or
\`cursor\` (\`next_cursor\` of the previous page; \`count\` omitted). \`registration_status\` is the status of the
registration this payment paid for (\`cancelled\` once the payment is cancelled).`,
  request: { query: HistoryQuery },
  responses: { 200: jsonResponse(PaymentPage, 'A page of payments.'), ...errorResponses(['NOT_FOUND'], { auth: true }) },
});

export const paymentRoute = createRoute({
  operationId: 'getMyPayment',
  method: 'get',
  path: '/api/me/payments/{id}',
  tags,
  security: bearer,
  middleware: [readAuth] as const,
  summary: 'One of the caller’s payments',
  description: 'Another user’s payment is 404 `NOT_FOUND`, like a missing one.',
  request: { params: IdParam },
  responses: { 200: jsonResponse(PaymentSchema, 'The payment.'), ...errorResponses(['NOT_FOUND'], { auth: true }) },
});

export const cancelRoute = createRoute({
  operationId: 'cancelPayment',
  method: 'post',
  path: '/api/payments/{id}/cancel',
  tags,
  security: bearer,
  middleware: [auth] as const,
  summary: 'Cancel (refund) a payment',
  description: `Only the payer (another user's payment is 404), only while the registration is not completed (409
\`REGISTRATION_COMPLETED\`); a cancelled payment is 409 \`PAYMENT_ALREADY_CANCELLED\`. One transaction cancels the
payment (cancelled_at, refund_reason), cancels the registration (kept, not deleted) and decrements
registration_count; serialised per user, so N concurrent cancels give one 200. The body (\`reason\`) is optional.
${IDEMPOTENCY}

With a real provider the payment is refunded at the provider first (with an idempotency key: a retried cancel never
refunds twice), then cancelled. The provider refuses → 502 \`PAYMENT_PROVIDER_ERROR\` and nothing changes; its answer is
lost (timeout) → 200 with \`status = "refund_pending"\` (registration cancelled, no longer counted): the refund is retried
through a queue until the provider settles it, then the payment is \`cancelled\`. A pending payment is voided at the
provider (a payment found paid there is refunded as above). Expired, failed and refund_pending payments are 409
\`PAYMENT_ALREADY_CANCELLED\`.`,
  request: {
    params: IdParam,
    headers: IdempotencyHeaders,
    body: { required: false, content: { 'application/json': { schema: CancelBody } } },
  },
  responses: {
    200: jsonResponse(PaymentSchema, 'The cancelled payment.'),
    ...errorResponses(
      [
        'NOT_FOUND',
        'PAYMENT_ALREADY_CANCELLED',
        'REGISTRATION_COMPLETED',
        'IDEMPOTENCY_KEY_REUSED',
        'IDEMPOTENCY_IN_PROGRESS',
        'PAYMENT_PROVIDER_ERROR',
      ],
      {
        auth: true,
        body: true,
      },
    ),
  },
});

export const confirmRoute = createRoute({
  operationId: 'confirmPayment',
  method: 'post',
  path: '/api/payments/{id}/confirm',
  tags,
  security: bearer,
  middleware: [auth] as const,
  summary: 'Confirm a pending payment with the provider',
  description: `The payer only (another user's payment is 404); no body. Asks the provider about the payment and, if it is paid
with this payment's amount, currency and reference, makes it \`paid\`, the registration active and counted (atomically,
serialised per user) → 200 payment. Not paid yet → 409 \`PAYMENT_NOT_COMPLETED\` (with \`payment_status\`: pending, or expired/failed
when it never will be); paid with another amount, currency or reference → 409 \`PAYMENT_AMOUNT_MISMATCH\` (never accepted:
refunded at the provider, the payment is failed); the provider does not answer → 502 \`PAYMENT_PROVIDER_ERROR\` (nothing
changes; try again). A paid (or since cancelled) payment answers 200 with it, as does every simulated payment.`,
  request: { params: IdParam },
  responses: {
    200: jsonResponse(PaymentSchema, 'The payment, paid.'),
    ...errorResponses(['NOT_FOUND', 'PAYMENT_NOT_COMPLETED', 'PAYMENT_AMOUNT_MISMATCH', 'PAYMENT_PROVIDER_ERROR'], { auth: true }),
  },
});

const WEBHOOK = `Public; for the provider only. The signature is verified over the raw body with the provider's own library
before anything else (missing, wrong or older than 5 minutes → 400 \`INVALID_SIGNATURE\`, nothing changes). The body is never
trusted: the payment it names is read back from the provider and settled exactly as confirm does (paid and matching → paid;
paid but not matching → refunded, failed; failed or cancelled there → failed). Events for payments this service does not know,
and event types it does not use, are acknowledged and ignored. Duplicate, late and out-of-order events change nothing twice:
each is a re-read of the provider's current state. A provider that does not answer the re-read → 502, so the provider retries
the delivery. 404 \`NOT_FOUND\` when this provider is not configured.`;

export const stripeWebhookRoute = createRoute({
  operationId: 'stripeWebhook',
  method: 'post',
  path: '/api/payments/webhooks/stripe',
  tags,
  security: publicRoute,
  summary: 'Stripe webhook (payment_intent.*)',
  description: `${WEBHOOK}

Stripe: header \`Stripe-Signature\`, secret \`STRIPE_WEBHOOK_SECRET\`; events used: \`payment_intent.succeeded\`,
\`payment_intent.payment_failed\`, \`payment_intent.canceled\` (any other \`payment_intent.*\` only triggers a re-read).`,
  request: {
    body: {
      required: true,
      description: 'A Stripe Event (verified, never parsed before).',
      content: { 'application/json': { schema: WebhookBody } },
    },
  },
  responses: {
    200: jsonResponse(WebhookAck, 'Received.'),
    ...errorResponses(['NOT_FOUND', 'INVALID_SIGNATURE', 'PAYMENT_PROVIDER_ERROR'], { body: true }),
  },
});

export const portoneWebhookRoute = createRoute({
  operationId: 'portoneWebhook',
  method: 'post',
  path: '/api/payments/webhooks/portone',
  tags,
  security: publicRoute,
  summary: 'PortOne webhook (Transaction.*)',
  description: `${WEBHOOK}

PortOne (V2 webhooks, Standard Webhooks): headers \`webhook-id\`, \`webhook-timestamp\`, \`webhook-signature\`, secret
\`PORTONE_WEBHOOK_SECRET\`; events used: \`Transaction.Paid\`, \`Transaction.Failed\`, \`Transaction.Cancelled\` (any other
\`Transaction.*\` only triggers a re-read).`,
  request: {
    body: {
      required: true,
      description: 'A PortOne webhook (verified, never parsed before).',
      content: { 'application/json': { schema: WebhookBody } },
    },
  },
  responses: {
    200: jsonResponse(WebhookAck, 'Received.'),
    ...errorResponses(['NOT_FOUND', 'INVALID_SIGNATURE', 'PAYMENT_PROVIDER_ERROR'], { body: true }),
  },
});
