// A local Stripe: the parts of its HTTP API this service's SDK calls (PaymentIntents create,
// retrieve, cancel; Refunds create), as the SDK calls them — form-encoded bodies, Bearer auth,
// Idempotency-Key replays, Stripe's error bodies — with every answer typed by the SDK's own types
// (Stripe.PaymentIntent, Stripe.Refund, Stripe.Event), so the compiler notices when the fake and
// the real API part. Tests drive the customer's side with pay() / decline(), as Stripe.js would.
import Stripe from 'stripe';
import { FakeHttp, json } from './http';

export const STRIPE_BASE = 'http://stripe.fake';
export const STRIPE_SECRET = 'sk_test_fake_0123456789';
export const STRIPE_PUBLISHABLE = 'pk_test_fake_0123456789';
export const STRIPE_WEBHOOK_SECRET = 'whsec_test_fake_secret_0123456789';

type RawError = { error: Stripe.StripeRawError };

const now = () => Math.floor(Date.now() / 1000);
let seq = 0;
const id = (prefix: string) => `${prefix}_fake${Date.now().toString(36)}${(seq++).toString(36)}`;

function paymentIntent(p: {
  amount: number;
  currency: string;
  types: string[];
  description: string | null;
  metadata: Record<string, string>;
}): Stripe.PaymentIntent {
  const piId = id('pi');
  return {
    id: piId,
    object: 'payment_intent',
    allowed_payment_method_types: p.types,
    amount: p.amount,
    amount_capturable: 0,
    amount_received: 0,
    application: null,
    application_fee_amount: null,
    automatic_payment_methods: null,
    canceled_at: null,
    cancellation_reason: null,
    capture_method: 'automatic',
    client_secret: `${piId}_secret_${crypto.randomUUID().replaceAll('-', '')}`,
    confirmation_method: 'automatic',
    created: now(),
    currency: p.currency,
    customer: null,
    customer_account: null,
    description: p.description,
    excluded_payment_method_types: null,
    last_payment_error: null,
    latest_charge: null,
    livemode: false,
    managed_payments: null,
    metadata: p.metadata,
    next_action: null,
    on_behalf_of: null,
    payment_method: null,
    payment_method_configuration_details: null,
    payment_method_options: null,
    payment_method_types: p.types,
    payment_record: null,
    processing: null,
    receipt_email: null,
    review: null,
    setup_future_usage: null,
    shipping: null,
    source: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: 'requires_payment_method',
    transfer_group: null,
  };
}

function refundOf(pi: Stripe.PaymentIntent, amount: number, reason: Stripe.Refund.Reason | null, metadata: Record<string, string>): Stripe.Refund {
  return {
    id: id('re'),
    object: 'refund',
    amount,
    application: null,
    balance_transaction: null,
    charge: typeof pi.latest_charge === 'string' ? pi.latest_charge : null,
    created: now(),
    currency: pi.currency,
    customer: null,
    customer_account: null,
    metadata,
    payment_intent: pi.id,
    payment_method: null,
    reason,
    receipt_number: null,
    source_transfer_reversal: null,
    status: 'succeeded',
    transfer_reversal: null,
  };
}

const error = (status: number, e: Stripe.StripeRawError) => json({ error: e } satisfies RawError, status);

/** Nested form keys (`metadata[reference]`, `allowed_payment_method_types[0]`) as Stripe reads them. */
function form(body: string) {
  const params = new URLSearchParams(body);
  const map = (prefix: string) => {
    const out: Record<string, string> = {};
    for (const [k, v] of params) if (k.startsWith(`${prefix}[`)) out[k.slice(prefix.length + 1, -1)] = v;
    return out;
  };
  return { get: (k: string) => params.get(k), map, list: (prefix: string) => Object.values(map(prefix)) };
}

export class FakeStripe extends FakeHttp {
  readonly intents = new Map<string, Stripe.PaymentIntent>();
  readonly refunds: Stripe.Refund[] = [];
  /** Idempotency-Key → the first answer (body and status), replayed like Stripe does. */
  private readonly replies = new Map<string, { status: number; body: string }>();

  constructor() {
    super(STRIPE_BASE, (req, url, body) => this.route(req, url, body));
  }

  private async route(req: Request, url: URL, body: string): Promise<Response> {
    // Stripe.js confirming with the publishable key and the client secret (tests/browser's stub).
    const confirmPath = /^\/v1\/payment_intents\/([^/]+)\/confirm$/.exec(url.pathname);
    if (req.method === 'POST' && confirmPath) return this.confirmFromBrowser(decodeURIComponent(confirmPath[1]!), form(body));
    if (req.headers.get('authorization') !== `Bearer ${STRIPE_SECRET}`) {
      return error(401, { type: 'invalid_request_error', message: 'Invalid API Key provided' });
    }
    const key = req.headers.get('idempotency-key');
    const replay = key ? this.replies.get(`${req.method} ${url.pathname} ${key}`) : undefined;
    if (replay)
      return new Response(replay.body, { status: replay.status, headers: { 'content-type': 'application/json', 'idempotent-replayed': 'true' } });
    const res = this.answer(req.method, url.pathname, form(body));
    if (key && req.method === 'POST')
      this.replies.set(`${req.method} ${url.pathname} ${key}`, { status: res.status, body: await res.clone().text() });
    return res;
  }

  private answer(method: string, path: string, f: ReturnType<typeof form>): Response {
    if (method === 'POST' && path === '/v1/payment_intents') {
      const amount = Number(f.get('amount'));
      if (!Number.isInteger(amount) || amount < 1)
        return error(400, { type: 'invalid_request_error', code: 'parameter_invalid_integer', param: 'amount' });
      const pi = paymentIntent({
        amount,
        currency: f.get('currency') ?? '',
        types: f.list('allowed_payment_method_types'),
        description: f.get('description'),
        metadata: f.map('metadata'),
      });
      this.intents.set(pi.id, pi);
      return json(pi);
    }
    const intent = /^\/v1\/payment_intents\/([^/]+)(\/cancel)?$/.exec(path);
    if (intent) {
      const pi = this.intents.get(decodeURIComponent(intent[1]!));
      if (!pi) return error(404, { type: 'invalid_request_error', code: 'resource_missing', message: 'No such payment_intent' });
      if (method === 'GET' && !intent[2]) return json(pi);
      if (method === 'POST' && intent[2]) {
        if (pi.status === 'succeeded' || pi.status === 'canceled') {
          return error(400, { type: 'invalid_request_error', code: 'payment_intent_unexpected_state', message: `status ${pi.status}` });
        }
        Object.assign(pi, {
          status: 'canceled',
          canceled_at: now(),
          cancellation_reason: 'requested_by_customer',
        } satisfies Partial<Stripe.PaymentIntent>);
        return json(pi);
      }
    }
    if (method === 'POST' && path === '/v1/refunds') {
      const pi = this.intents.get(f.get('payment_intent') ?? '');
      if (!pi) return error(404, { type: 'invalid_request_error', code: 'resource_missing', param: 'payment_intent' });
      if (pi.status !== 'succeeded') return error(400, { type: 'invalid_request_error', code: 'payment_intent_unexpected_state' });
      const refunded = this.refundedAmount(pi.id);
      const amount = f.get('amount') ? Number(f.get('amount')) : pi.amount_received - refunded;
      if (refunded + amount > pi.amount_received)
        return error(400, { type: 'invalid_request_error', code: 'charge_already_refunded', message: 'already refunded' });
      const refund = refundOf(pi, amount, (f.get('reason') as Stripe.Refund.Reason | null) ?? null, f.map('metadata'));
      this.refunds.push(refund);
      return json(refund);
    }
    return error(404, { type: 'invalid_request_error', message: `Unrecognized request URL (${method}: ${path})` });
  }

  /** POST /v1/payment_intents/{id}/confirm as Stripe.js sends it: `key` (publishable) and `client_secret` in the form. */
  private confirmFromBrowser(piId: string, f: ReturnType<typeof form>): Response {
    if (f.get('key') !== STRIPE_PUBLISHABLE) return error(401, { type: 'invalid_request_error', message: 'Invalid API Key provided' });
    const pi = this.intents.get(piId);
    if (!pi || pi.client_secret !== f.get('client_secret')) return error(404, { type: 'invalid_request_error', code: 'resource_missing' });
    if (pi.status !== 'requires_payment_method') return error(400, { type: 'invalid_request_error', code: 'payment_intent_unexpected_state' });
    return json(this.pay(pi.id));
  }

  refundedAmount(piId: string): number {
    return this.refunds.filter((r) => r.payment_intent === piId).reduce((sum, r) => sum + r.amount, 0);
  }

  /** The intent the worker created for a client secret (what Stripe.js knows). */
  byClientSecret(secret: string): Stripe.PaymentIntent {
    const pi = [...this.intents.values()].find((p) => p.client_secret === secret);
    if (!pi) throw new Error('no such client secret');
    return pi;
  }

  /** The customer pays (Stripe.js confirmPayment succeeded); `amount` lets a test pay another amount. */
  pay(piId: string, over: Partial<Pick<Stripe.PaymentIntent, 'amount' | 'currency' | 'metadata'>> = {}): Stripe.PaymentIntent {
    const pi = this.intents.get(piId)!;
    Object.assign(pi, over);
    Object.assign(pi, { status: 'succeeded', amount_received: pi.amount, latest_charge: id('ch') } satisfies Partial<Stripe.PaymentIntent>);
    return pi;
  }

  /** The card was declined: the intent waits for another payment method. */
  decline(piId: string): Stripe.PaymentIntent {
    const pi = this.intents.get(piId)!;
    pi.last_payment_error = { type: 'card_error', code: 'card_declined', message: 'Your card was declined.' };
    return pi;
  }

  /** A signed webhook delivery for the intent's current state, as Stripe sends it. */
  async webhook(
    pi: Stripe.PaymentIntent,
    type: 'payment_intent.succeeded' | 'payment_intent.payment_failed' | 'payment_intent.canceled' = 'payment_intent.succeeded',
    opts: { secret?: string; timestamp?: number } = {},
  ): Promise<{ body: string; signature: string; event: Stripe.Event }> {
    const base = {
      id: id('evt'),
      object: 'event',
      api_version: Stripe.API_VERSION,
      created: now(),
      data: { object: structuredClone(pi) },
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
    } satisfies Omit<Stripe.PaymentIntentSucceededEvent, 'type'>;
    const event: Stripe.Event =
      type === 'payment_intent.succeeded' ? { ...base, type } : type === 'payment_intent.payment_failed' ? { ...base, type } : { ...base, type };
    const body = JSON.stringify(event);
    const signature = await Stripe.webhooks.generateTestHeaderStringAsync({
      payload: body,
      secret: opts.secret ?? STRIPE_WEBHOOK_SECRET,
      timestamp: opts.timestamp,
      cryptoProvider: Stripe.createSubtleCryptoProvider(),
    });
    return { body, signature, event };
  }

  /** Re-signs an earlier delivery's body (a replay, or a late duplicate). */
  async sign(body: string, opts: { secret?: string; timestamp?: number } = {}): Promise<string> {
    return Stripe.webhooks.generateTestHeaderStringAsync({
      payload: body,
      secret: opts.secret ?? STRIPE_WEBHOOK_SECRET,
      timestamp: opts.timestamp,
      cryptoProvider: Stripe.createSubtleCryptoProvider(),
    });
  }
}

/** The worker's variables for this fake. */
export const STRIPE_VARS = {
  PAYMENT_PROVIDER: 'stripe',
  STRIPE_API_BASE: STRIPE_BASE,
  STRIPE_SECRET_KEY: STRIPE_SECRET,
  STRIPE_PUBLISHABLE_KEY: STRIPE_PUBLISHABLE,
  STRIPE_WEBHOOK_SECRET: STRIPE_WEBHOOK_SECRET,
  PAYMENT_PROVIDER_TIMEOUT_MS: '300',
};
