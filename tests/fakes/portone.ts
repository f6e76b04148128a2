// A local PortOne V2: the parts of its REST API this service's SDK calls (pre-register, get, cancel
// a payment), as @portone/server-sdk calls them — `Authorization: PortOne <secret>`, JSON bodies,
// typed error bodies — answered with the SDK's own types (Payment.PaidPayment, Payment.CancelledPayment,
// Payment.CancelPaymentResponse, the error types), so a drift is a type error. Tests play the browser
// SDK with pay(); webhooks are signed with `standardwebhooks`, as PortOne signs them.
import type { Common, Payment, Webhook as PortOneWebhook } from '@portone/server-sdk';
import { Webhook } from 'standardwebhooks';
import { FakeHttp, json } from './http';

export const PORTONE_BASE = 'http://portone.fake';
export const PORTONE_SECRET = 'portone-api-secret-fake';
export const PORTONE_STORE = 'store-00000000-fake';
export const PORTONE_CHANNELS = { card: 'channel-key-card', kakaopay: 'channel-key-kakaopay', bank_transfer: 'channel-key-transfer' };
/** A Standard Webhooks secret (base64 key after `whsec_`). */
export const PORTONE_WEBHOOK_SECRET = `whsec_${btoa('portone-webhook-secret-0123456789')}`;

type ErrorBody =
  | Payment.PaymentNotFoundError
  | Payment.PaymentAlreadyCancelledError
  | Payment.CancellableAmountConsistencyBrokenError
  | Payment.PaymentNotPaidError
  | Common.UnauthorizedError
  | Common.InvalidRequestError;

const iso = () => new Date().toISOString();
const error = (status: number, body: ErrorBody) => json(body, status);

interface Registered {
  totalAmount: number;
  currency: Common.Currency;
}

export class FakePortOne extends FakeHttp {
  readonly registered = new Map<string, Registered>();
  readonly payments = new Map<string, Payment.Payment>();
  readonly cancellations: { paymentId: string; amount: number }[] = [];

  constructor() {
    super(PORTONE_BASE, (req, url, body) => this.route(req, url, body));
  }

  private route(req: Request, url: URL, body: string): Response {
    if (req.headers.get('authorization') !== `PortOne ${PORTONE_SECRET}`) return error(401, { type: 'UNAUTHORIZED', message: 'invalid secret' });
    const m = /^\/payments\/([^/]+)(\/pre-register|\/cancel)?$/.exec(url.pathname);
    if (!m) return error(400, { type: 'INVALID_REQUEST', message: `no route ${req.method} ${url.pathname}` });
    const paymentId = decodeURIComponent(m[1]!);
    const input = body ? (JSON.parse(body) as Record<string, unknown>) : {};
    if (req.method === 'POST' && m[2] === '/pre-register') {
      this.registered.set(paymentId, { totalAmount: Number(input.totalAmount), currency: input.currency as Common.Currency });
      const answer: Payment.PreRegisterPaymentResponse = {};
      return json(answer);
    }
    const payment = this.payments.get(paymentId);
    if (req.method === 'GET' && !m[2]) return payment ? json(payment) : error(404, { type: 'PAYMENT_NOT_FOUND', message: 'not found' });
    if (req.method === 'POST' && m[2] === '/cancel') {
      if (!payment) return error(404, { type: 'PAYMENT_NOT_FOUND' });
      if (payment.status === 'CANCELLED') return error(409, { type: 'PAYMENT_ALREADY_CANCELLED' });
      if (payment.status !== 'PAID') return error(409, { type: 'PAYMENT_NOT_PAID' });
      if (input.currentCancellableAmount !== undefined && input.currentCancellableAmount !== payment.amount.total - payment.amount.cancelled) {
        return error(409, { type: 'CANCELLABLE_AMOUNT_CONSISTENCY_BROKEN' });
      }
      const cancellation: Payment.SucceededPaymentCancellation = {
        status: 'SUCCEEDED',
        id: `cancel-${crypto.randomUUID()}`,
        totalAmount: payment.amount.total,
        taxFreeAmount: 0,
        vatAmount: 0,
        reason: String(input.reason ?? ''),
        cancelledAt: iso(),
        requestedAt: iso(),
      };
      const cancelled: Payment.CancelledPayment = {
        ...payment,
        status: 'CANCELLED',
        amount: { ...payment.amount, cancelled: payment.amount.total },
        cancellations: [cancellation],
        cancelledAt: iso(),
        statusChangedAt: iso(),
      };
      this.payments.set(paymentId, cancelled);
      this.cancellations.push({ paymentId, amount: payment.amount.total });
      const answer: Payment.CancelPaymentResponse = { cancellation };
      return json(answer);
    }
    return error(400, { type: 'INVALID_REQUEST', message: `no route ${req.method} ${url.pathname}` });
  }

  /** The browser SDK's requestPayment succeeded (PortOne checks the pre-registered amount unless told). */
  pay(paymentId: string, over: { amount?: number; currency?: Common.Currency } = {}): Payment.PaidPayment {
    const reg = this.registered.get(paymentId);
    const total = over.amount ?? reg?.totalAmount ?? 0;
    const paid: Payment.PaidPayment = {
      status: 'PAID',
      id: paymentId,
      transactionId: crypto.randomUUID(),
      merchantId: 'merchant-fake',
      storeId: PORTONE_STORE,
      channel: { type: 'TEST', pgProvider: 'TOSSPAYMENTS', pgMerchantId: 'tosstest' },
      version: 'V2',
      requestedAt: iso(),
      updatedAt: iso(),
      statusChangedAt: iso(),
      orderName: 'order',
      amount: { total, taxFree: 0, discount: 0, paid: total, cancelled: 0, cancelledTaxFree: 0 },
      currency: over.currency ?? reg?.currency ?? 'KRW',
      customer: {},
      paidAt: iso(),
      disputes: [],
    };
    this.payments.set(paymentId, paid);
    return paid;
  }

  /** A signed Standard Webhooks delivery, as PortOne sends it. */
  webhook(
    paymentId: string,
    type: 'Transaction.Paid' | 'Transaction.Failed' | 'Transaction.Cancelled' = 'Transaction.Paid',
    opts: { secret?: string; at?: Date; id?: string } = {},
  ): { body: string; headers: Record<string, string> } {
    const data = { paymentId, storeId: PORTONE_STORE, transactionId: crypto.randomUUID() };
    const event: PortOneWebhook.WebhookTransaction =
      type === 'Transaction.Paid'
        ? ({ type, timestamp: iso(), data } satisfies PortOneWebhook.WebhookTransactionPaid)
        : type === 'Transaction.Failed'
          ? ({ type, timestamp: iso(), data } satisfies PortOneWebhook.WebhookTransactionFailed)
          : ({
              type,
              timestamp: iso(),
              data: { ...data, cancellationId: crypto.randomUUID() },
            } satisfies PortOneWebhook.WebhookTransactionCancelledCancelled);
    const body = JSON.stringify(event);
    return { body, headers: this.sign(body, opts) };
  }

  sign(body: string, opts: { secret?: string; at?: Date; id?: string } = {}): Record<string, string> {
    const id = opts.id ?? `msg_${crypto.randomUUID()}`;
    const at = opts.at ?? new Date();
    return {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': new Webhook(opts.secret ?? PORTONE_WEBHOOK_SECRET).sign(id, at, body),
    };
  }
}

export const PORTONE_VARS = {
  PAYMENT_PROVIDER: 'portone',
  PORTONE_API_BASE: PORTONE_BASE,
  PORTONE_API_SECRET: PORTONE_SECRET,
  PORTONE_STORE_ID: PORTONE_STORE,
  PORTONE_CHANNEL_KEYS: JSON.stringify(PORTONE_CHANNELS),
  PORTONE_WEBHOOK_SECRET: PORTONE_WEBHOOK_SECRET,
  PAYMENT_PROVIDER_TIMEOUT_MS: '300',
};
