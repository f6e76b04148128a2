// Payments through a real provider (contract 4.1; docs/payments-providers.md has the state diagram).
// Every function here runs inside the payer's UserLedger, so one user's payments change one at a
// time; each write is still guarded by the state it expects (a lost race writes nothing). The
// provider is always asked (a webhook's body is never trusted), and a provider payment is accepted
// only when its amount, currency and reference are this payment's: anything else is refunded at the
// provider and never counted.
//
// Crash safety: apply writes only after the provider created the payment (a crash in between leaves
// an unpaid provider payment nobody can pay: its client secret was never handed out). A confirm that
// dies after the provider said "paid" leaves the payment pending: the next confirm, webhook or the
// scheduled job (which asks the provider before expiring) completes it. A refund is announced on the
// row (refund_requested_at) before the provider is asked, so a crash before its answer is written is
// found and finished by the scheduled job, with the same idempotency key.
import type { Ctx } from '../../context';
import { logLine } from '../../lib/log';
import { ApiError } from '../../lib/problem';
import { randomToken } from '../../lib/random';
import { kindOfType } from '../catalog';
import { type PaymentProvider, ProviderError, providerFor } from './providers';
import * as repo from './repository';
import type { PaymentRow } from './repository';
import type { RefundMessage } from './message';
import type { RegisterInput } from './schemas';
import * as service from './service';

const unavailable = (err: unknown): never => {
  if (err instanceof ProviderError) {
    logLine('warn', 'payment provider error', { kind: err.kind, error: err.message });
    throw new ApiError('PAYMENT_PROVIDER_ERROR');
  }
  throw err;
};

// ---- apply / enroll --------------------------------------------------------------------------

export async function register(ctx: Ctx, r: service.RegisterRequest<RegisterInput>): Promise<service.RegisterResult> {
  const s = ctx.store;
  const provider = providerFor(ctx.config);
  const item = await repo.readItemState(s, r.k, r.userId, r.itemId);
  const amount = r.input.amount ?? item?.price ?? 0;
  service.checkRegister(item, { ...r.input, amount }, r.now);
  if (provider.name === 'stripe' && r.input.payment_method === 'bank_transfer') throw new ApiError('PAYMENT_METHOD_UNAVAILABLE');
  const reference = `pay_${randomToken(18)}`;
  const created = await provider
    .create({ reference, userId: r.userId, amount, currency: ctx.config.CURRENCY, method: r.input.payment_method, orderName: item!.title })
    .catch(unavailable);
  const written = await repo.insertPending(s, r.k, {
    userId: r.userId,
    itemId: r.itemId,
    amount,
    method: r.input.payment_method,
    tx: created.id,
    metadata: JSON.stringify({ ...service.transactionMetadata(r.input.payment_method, amount), payment_gateway: provider.name }),
    now: r.now,
    idemKey: r.idemKey,
    provider: provider.name,
    reference,
    expiresAt: r.now + ctx.config.PAYMENT_PENDING_TTL_SECONDS * 1000,
    checkout: JSON.stringify(created.checkout),
  });
  if (!written) {
    // Refused by its guard (a change since the read): the provider payment is never paid.
    await provider.cancelUnpaid(created.id).catch(() => undefined);
    service.checkRegister(await repo.readItemState(s, r.k, r.userId, r.itemId), { ...r.input, amount }, r.now);
    throw new ApiError('ALREADY_REGISTERED');
  }
  return { registration: service.registrationView(written.registration), payment: service.paymentView(ctx, written.payment) };
}

// ---- confirm, webhooks, expiry -----------------------------------------------------------------

export type Settled = { row: PaymentRow; mismatch: boolean };

/**
 * Asks the provider about a payment that is not settled yet and applies what it says: paid (and
 * matching) → paid and counted; paid but not matching, or paid after it expired → refunded at the
 * provider, never counted; failed or cancelled there → failed; still unpaid → unchanged, or expired
 * when `expire` and its time has passed (voided at the provider first).
 */
export async function settle(ctx: Ctx, row: PaymentRow, userId: number, opts: { expire?: boolean; now?: number } = {}): Promise<Settled> {
  if (row.provider === 'simulated' || !['pending', 'expired', 'failed'].includes(row.status)) return { row, mismatch: false };
  const provider = providerFor(ctx.config, row.provider);
  const now = opts.now ?? Date.now();
  const remote = await provider.retrieve(row.external_transaction_id).catch(unavailable);
  const matches = remote.reference === row.reference && remote.amount === row.amount && remote.currency === ctx.config.CURRENCY;
  const s = ctx.store;
  if (remote.status === 'paid') {
    if (matches && row.status === 'pending') {
      await repo.payPending(s, kindOfType(row.payment_type), { userId, paymentId: row.id, itemId: row.target_id, now });
    } else {
      // Never accepted: the money goes back (once: the key is this payment's), then it is failed.
      await provider
        .refund({ id: remote.id, amount: remote.amount, reason: 'payment not accepted', idempotencyKey: `reject-${row.reference}` })
        .catch(unavailable);
      logLine('warn', 'provider payment refused and refunded', { payment_id: row.id, matches, status: row.status });
      if (row.status === 'pending') await repo.closePending(s, { userId, paymentId: row.id, to: 'failed', now });
    }
  } else if (remote.status === 'failed' || remote.status === 'cancelled') {
    if (row.status === 'pending') await repo.closePending(s, { userId, paymentId: row.id, to: 'failed', now });
  } else if (opts.expire && row.status === 'pending' && row.expires_at !== null && row.expires_at <= now) {
    await provider.cancelUnpaid(row.external_transaction_id).catch(unavailable);
    // Paid between the two calls: the provider refused the void; the next run completes it.
    const again = await provider.retrieve(row.external_transaction_id).catch(unavailable);
    if (again.status !== 'paid') await repo.closePending(s, { userId, paymentId: row.id, to: 'expired', now });
  }
  const after = await repo.readPayment(s, userId, row.id);
  return { row: after!, mismatch: remote.status === 'paid' && !matches };
}

/** POST /api/payments/{id}/confirm: 200 with the payment once it is paid. */
export async function confirm(ctx: Ctx, userId: number, paymentId: number) {
  const row = await repo.readPayment(ctx.store, userId, paymentId);
  if (!row) throw new ApiError('NOT_FOUND');
  const { row: after, mismatch } = await settle(ctx, row, userId);
  if (mismatch) throw new ApiError('PAYMENT_AMOUNT_MISMATCH', { extras: { payment_id: paymentId } });
  if (after.status === 'pending' || after.status === 'expired' || after.status === 'failed') {
    throw new ApiError('PAYMENT_NOT_COMPLETED', { extras: { payment_id: paymentId, payment_status: after.status } });
  }
  return service.paymentView(ctx, after);
}

/** A verified webhook's or the scheduled job's settlement: what happened, for the log. */
export async function settleQuietly(ctx: Ctx, userId: number, paymentId: number, expire: boolean): Promise<string> {
  const row = await repo.readPayment(ctx.store, userId, paymentId);
  if (!row) return 'missing';
  if (row.status === 'refund_pending' || (row.status === 'paid' && row.refund_requested_at !== null)) return retryRefund(ctx, userId, paymentId);
  const { row: after } = await settle(ctx, row, userId, { expire });
  return after.status;
}

// ---- cancel and refunds ----------------------------------------------------------------------

/** POST /api/payments/{id}/cancel for every provider (a simulated payment takes the original path). */
export async function cancel(ctx: Ctx, userId: number, paymentId: number, reason: string | null, now: number, idemKey?: string) {
  const s = ctx.store;
  let row = await repo.readPayment(s, userId, paymentId);
  if (row?.provider === 'simulated' || !row) return service.cancel(ctx, userId, paymentId, reason, now, idemKey, row);
  if (['cancelled', 'refund_pending', 'expired', 'failed'].includes(row.status)) throw new ApiError('PAYMENT_ALREADY_CANCELLED');
  if (row.registration_status === 'completed') throw new ApiError('REGISTRATION_COMPLETED');
  const provider = providerFor(ctx.config, row.provider);
  if (row.status === 'pending') {
    // Void it first, then look: a payment that was paid meanwhile cannot be voided and is refunded below.
    await provider.cancelUnpaid(row.external_transaction_id).catch(unavailable);
    const remote = await provider.retrieve(row.external_transaction_id).catch(unavailable);
    if (remote.status !== 'paid') {
      await repo.closePending(s, { userId, paymentId, to: 'cancelled', reason, now });
      return service.paymentView(ctx, (await repo.readPayment(s, userId, paymentId))!);
    }
    row = (await settle(ctx, row, userId, { now })).row;
    if (row.status !== 'paid') throw new ApiError('PAYMENT_ALREADY_CANCELLED');
  }
  return refundPaid(ctx, provider, userId, row, reason, now, idemKey);
}

/** Refunds a paid payment at the provider, then cancels it (or leaves it refund_pending for the queue). */
async function refundPaid(
  ctx: Ctx,
  provider: PaymentProvider,
  userId: number,
  row: PaymentRow,
  reason: string | null,
  now: number,
  idemKey?: string,
) {
  const s = ctx.store;
  if (!(await repo.markRefundRequested(s, userId, row.id, reason, now))) throw new ApiError('PAYMENT_ALREADY_CANCELLED');
  const k = kindOfType(row.payment_type);
  const write = (to: 'cancelled' | 'refund_pending') =>
    repo.cancelPayment(s, k, { userId, paymentId: row.id, itemId: row.target_id, reason, now, idemKey, to });
  try {
    await provider.refund(refundOf(row, reason));
  } catch (err) {
    if (!(err instanceof ProviderError)) throw err;
    if (err.kind !== 'unavailable') {
      await repo.clearRefundRequested(s, userId, row.id);
      logLine('warn', 'refund refused by the payment provider', { payment_id: row.id, error: err.message });
      throw new ApiError('PAYMENT_PROVIDER_ERROR');
    }
    // The answer was lost: the refund may or may not have happened. The queue asks again, same key.
    if (await write('refund_pending')) await enqueueRefund(ctx, userId, row.id);
    return service.paymentView(ctx, (await repo.readPayment(s, userId, row.id))!);
  }
  await write('cancelled');
  return service.paymentView(ctx, (await repo.readPayment(s, userId, row.id))!);
}

const refundOf = (row: PaymentRow, reason: string | null) => ({
  id: row.external_transaction_id,
  amount: row.amount,
  reason: reason ?? 'cancelled by the customer',
  idempotencyKey: `refund-${row.reference}`,
});

export async function enqueueRefund(ctx: Ctx, userId: number, paymentId: number): Promise<void> {
  const message: RefundMessage = { type: 'refund', user_id: userId, payment_id: paymentId };
  await ctx.env.PAYMENT_QUEUE.send(message).catch((err: unknown) => {
    // The scheduled job re-sends refund_pending payments whose message never arrived.
    logLine('error', 'refund not queued; the scheduled job retries it', { payment_id: paymentId, error: String(err) });
  });
}

/**
 * Retries the refund of a refund_pending payment (the queue, the scheduled job), or finishes one
 * whose answer a crash lost (paid with refund_requested_at): same idempotency key, so the provider
 * refunds once. Throws ProviderError('unavailable') when the provider still does not answer.
 */
export async function retryRefund(ctx: Ctx, userId: number, paymentId: number): Promise<string> {
  const s = ctx.store;
  const row = await repo.readPayment(s, userId, paymentId);
  if (!row) return 'missing';
  const pendingRefund = row.status === 'refund_pending';
  if (!pendingRefund && !(row.status === 'paid' && row.refund_requested_at !== null)) return row.status;
  const provider = providerFor(ctx.config, row.provider);
  try {
    await provider.refund(refundOf(row, row.refund_reason));
  } catch (err) {
    if (err instanceof ProviderError && err.kind === 'refused') {
      if (!pendingRefund) await repo.clearRefundRequested(s, userId, paymentId);
      logLine('error', 'refund refused by the payment provider; left for an operator', { payment_id: paymentId, error: err.message });
      return pendingRefund ? 'refund_refused' : 'paid';
    }
    return unavailable(err);
  }
  if (pendingRefund) await repo.finishRefund(s, userId, paymentId);
  else {
    await repo.cancelPayment(s, kindOfType(row.payment_type), {
      userId,
      paymentId,
      itemId: row.target_id,
      reason: row.refund_reason,
      now: row.refund_requested_at ?? Date.now(),
    });
  }
  return 'cancelled';
}
