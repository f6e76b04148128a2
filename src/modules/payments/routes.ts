import { createRoute } from '@hono/zod-openapi';
import { auth, readAuth } from '../../lib/auth';
import { bearer, IdParam, jsonBody, jsonResponse } from '../../lib/openapi';
import { errorResponses } from '../../lib/problem';
import type { KindConfig } from '../catalog/kinds';
import './codes';
import {
  CancelBody,
  HistoryQuery,
  IdempotencyHeaders,
  PaymentPage,
  PaymentSchema,
  RegisterBody,
  RegisterResultSchema,
  RegistrationSchema,
} from './schemas';

const IDEMPOTENCY = `\`Idempotency-Key\` (optional, Stripe semantics, per user): the first response is kept 24 h and
replayed with status and body (plus \`Idempotent-Replayed: true\`) for a repeat with the same body; the same key
with another body or path is 422 \`IDEMPOTENCY_KEY_REUSED\`; a repeat while the first runs is 409
\`IDEMPOTENCY_IN_PROGRESS\`. Requests failing their schema are not stored.`;

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
N concurrent identical requests give one 201 and N−1 × 409. ${IDEMPOTENCY}`,
      request: { params: IdParam, headers: IdempotencyHeaders, body: jsonBody(RegisterBody) },
      responses: {
        201: jsonResponse(RegisterResultSchema, 'The registration and its payment.'),
        ...errorResponses(
          ['NOT_FOUND', 'ALREADY_REGISTERED', 'NOT_IN_PERIOD', 'AMOUNT_MISMATCH', 'PAYMENT_LIMIT_EXCEEDED', 'IDEMPOTENCY_KEY_REUSED', 'IDEMPOTENCY_IN_PROGRESS'],
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
can no longer be cancelled. No body.`,
      request: { params: IdParam },
      responses: {
        200: jsonResponse(RegistrationSchema, 'The completed registration.'),
        ...errorResponses(['REGISTRATION_NOT_FOUND', 'ALREADY_COMPLETED', 'REGISTRATION_CANCELLED'], { auth: true }),
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
${IDEMPOTENCY}`,
  request: {
    params: IdParam,
    headers: IdempotencyHeaders,
    body: { required: false, content: { 'application/json': { schema: CancelBody } } },
  },
  responses: {
    200: jsonResponse(PaymentSchema, 'The cancelled payment.'),
    ...errorResponses(['NOT_FOUND', 'PAYMENT_ALREADY_CANCELLED', 'REGISTRATION_COMPLETED', 'IDEMPOTENCY_KEY_REUSED', 'IDEMPOTENCY_IN_PROGRESS'], {
      auth: true,
      body: true,
    }),
  },
});
