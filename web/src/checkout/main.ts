// The checkout page (GET /api/payments/checkout?payment={id}, src/modules/payments/checkout-page.ts):
// pays one pending payment with the provider's browser SDK — Stripe.js's Payment Element, or PortOne's
// requestPayment — then asks the API to confirm it and goes back to the payments page. The card never
// touches this origin: Stripe's fields live in Stripe's iframe, PortOne opens the PG's own window.
// The API decides everything (amount, currency, reference are in the payment's `checkout`); the
// webhook settles the payment even if this page is closed before confirming.
import { loadStripe } from '@stripe/stripe-js';
import { requestPayment } from '@portone/browser-sdk/v2';
import { api, ApiProblem } from '../lib/api';
import { money } from '../lib/format';
import type { Checkout, Payment } from '../lib/types';

const root = document.getElementById('checkout')!;
const PAYMENTS = '/#/payments';

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}, ...children: (Node | string)[]) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

function show(...nodes: Node[]) {
  root.replaceChildren(el('h1', {}, 'Pay'), ...nodes);
}

function fail(text: string) {
  show(
    el('p', { className: 'notice error', role: 'alert' } as Partial<HTMLParagraphElement>, text),
    el('p', {}, el('a', { href: PAYMENTS }, 'Back to my payments')),
  );
}

/** Asks the API to settle the payment now that the provider took it; back to the payments page. */
async function confirm(payment: Payment): Promise<void> {
  try {
    await api<Payment>(`/api/payments/${payment.id}/confirm`, { method: 'POST' });
  } catch (err) {
    // Not settled yet at the provider (e.g. a bank's extra step): the webhook finishes it.
    if (!(err instanceof ApiProblem && err.code === 'PAYMENT_NOT_COMPLETED')) throw err;
  }
  location.assign(PAYMENTS);
}

async function payWithStripe(payment: Payment, checkout: Extract<Checkout, { provider: 'stripe' }>): Promise<void> {
  const stripe = await loadStripe(checkout.publishable_key);
  if (!stripe) throw new Error('Stripe.js did not load');
  const elements = stripe.elements({ clientSecret: checkout.client_secret });
  const mount = el('div', { id: 'payment-element' });
  const button = el('button', { type: 'submit', className: 'primary' }, `Pay ${money(payment.amount, payment.currency)}`);
  const message = el('p', { role: 'status' });
  const form = el(
    'form',
    {},
    el('p', {}, `“${payment.target_title}”`),
    mount,
    message,
    el('div', { className: 'actions' }, button, el('a', { href: PAYMENTS }, 'Not now')),
  );
  show(form);
  elements.create('payment').mount('#payment-element');
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    button.disabled = true;
    message.textContent = 'Paying…';
    void (async () => {
      const { error } = await stripe.confirmPayment({ elements, redirect: 'if_required', confirmParams: { return_url: location.origin + PAYMENTS } });
      if (error) {
        message.textContent = error.message ?? 'The payment did not go through.';
        button.disabled = false;
        return;
      }
      await confirm(payment);
    })().catch((err: unknown) => fail(String(err instanceof Error ? err.message : err)));
  });
}

async function payWithPortOne(payment: Payment, checkout: Extract<Checkout, { provider: 'portone' }>): Promise<void> {
  const button = el('button', { type: 'button', className: 'primary' }, `Pay ${money(payment.amount, payment.currency)}`);
  show(el('p', {}, `“${payment.target_title}”`), el('div', { className: 'actions' }, button, el('a', { href: PAYMENTS }, 'Not now')));
  button.addEventListener('click', () => {
    button.disabled = true;
    void (async () => {
      const response = await requestPayment({
        storeId: checkout.store_id,
        channelKey: checkout.channel_key,
        paymentId: checkout.payment_id,
        orderName: checkout.order_name,
        totalAmount: checkout.total_amount,
        currency: checkout.currency as 'KRW',
        payMethod: checkout.pay_method,
        ...(checkout.pay_method === 'EASY_PAY' ? { easyPay: { easyPayProvider: 'KAKAOPAY' as const } } : {}),
      });
      if (!response || response.code !== undefined) {
        fail(response?.message ?? 'The payment did not go through.');
        return;
      }
      await confirm(payment);
    })().catch((err: unknown) => fail(String(err instanceof Error ? err.message : err)));
  });
}

async function main(): Promise<void> {
  const id = Number(new URLSearchParams(location.search).get('payment'));
  if (!Number.isSafeInteger(id) || id < 1) return fail('No payment to pay.');
  const payment = await api<Payment>(`/api/me/payments/${id}`);
  if (payment.status !== 'pending' || !payment.checkout) {
    return show(el('p', {}, `This payment is ${payment.status.replace('_', ' ')}.`), el('p', {}, el('a', { href: PAYMENTS }, 'Back to my payments')));
  }
  if (payment.checkout.provider === 'stripe') return payWithStripe(payment, payment.checkout);
  return payWithPortOne(payment, payment.checkout);
}

main().catch((err: unknown) => fail(err instanceof ApiProblem ? err.detail : String(err instanceof Error ? err.message : err)));
