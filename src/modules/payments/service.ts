// Apply/enroll, complete, cancel and payment history. Writes are one transaction whose statements
// share one predicate (repository.ts), so a lost race changes zero rows everywhere: payment,
// registration and registration_count change together or not at all. The Durable Object in
// user-ledger.ts serialises one user's apply/enroll/cancel before they get here.
import type { Ctx } from '../../context';
import { isoOrNull } from '../../lib/openapi';
import { cursorPage, decodeCursor, encodeCursor, offsetOf, offsetPage } from '../../lib/pagination';
import { settle, type Outcome } from '../../lib/outcome';
import { ApiError } from '../../lib/problem';
import { randomToken } from '../../lib/random';
import { kindOfType, type KindConfig } from '../catalog';
import * as repo from './repository';
import type { ItemState, PaymentRow, RegistrationRow } from './repository';
import type { Checkout } from './providers';
import type { HistoryQueryInput, PaymentMethod, PricedInput } from './schemas';

export function registrationView(r: RegistrationRow) {
  return {
    id: r.id,
    kind: r.kind,
    item_id: r.item_id,
    status: r.status,
    applied_at: isoOrNull(r.applied_at)!,
    completed_at: isoOrNull(r.completed_at),
    cancelled_at: isoOrNull(r.cancelled_at),
  };
}

const NEVER_PAID = new Set<PaymentRow['status']>(['pending', 'expired', 'failed']);

export function paymentView(ctx: Ctx, p: PaymentRow) {
  return {
    id: p.id,
    payment_type: p.payment_type,
    target_id: p.target_id,
    target_title: p.target_title,
    amount: p.amount,
    currency: ctx.config.CURRENCY,
    payment_method: p.payment_method,
    status: p.status,
    external_transaction_id: p.external_transaction_id,
    transaction_metadata: JSON.parse(p.transaction_metadata) as TransactionMetadata,
    // A payment that was never paid has no paid_at (the row keeps its creation time there, for the history's order).
    paid_at: NEVER_PAID.has(p.status) ? null : isoOrNull(p.paid_at)!,
    cancelled_at: isoOrNull(p.cancelled_at),
    refund_reason: p.refund_reason,
    registration_status: p.registration_status,
    expires_at: p.status === 'pending' ? isoOrNull(p.expires_at) : null,
    checkout: p.status === 'pending' && p.checkout ? (JSON.parse(p.checkout) as Checkout) : null,
  };
}

// ---- payment methods -------------------------------------------------------------------------

const METHODS: Record<PaymentMethod, { min: number; max: number; gateway: string; feeRate: number }> = {
  kakaopay: { min: 100, max: 50_000_000, gateway: 'kakaopay', feeRate: 0.029 },
  card: { min: 1_000, max: 100_000_000, gateway: 'card', feeRate: 0.032 },
  bank_transfer: { min: 1_000, max: 200_000_000, gateway: 'bank_transfer', feeRate: 0.005 },
};

export interface TransactionMetadata {
  payment_gateway: string;
  supports_refund: boolean;
  processing_fee_rate: number;
  estimated_fee: number;
}

export function transactionMetadata(method: PaymentMethod, amount: number): TransactionMetadata {
  const m = METHODS[method];
  return { payment_gateway: m.gateway, supports_refund: true, processing_fee_rate: m.feeRate, estimated_fee: Math.round(amount * m.feeRate) };
}

// ---- apply / enroll --------------------------------------------------------------------------

/** The contract's checks, in order, against the current state; throws the first that fails. */
export function checkRegister(item: ItemState | null, input: PricedInput, now: number): void {
  if (!item) throw new ApiError('NOT_FOUND');
  if (item.reg_status === 'pending') throw new ApiError('PAYMENT_PENDING', { extras: { payment_id: item.reg_payment_id } });
  if (item.reg_status !== null && item.reg_status !== 'cancelled') throw new ApiError('ALREADY_REGISTERED');
  if (now < item.start_at || now > item.end_at) throw new ApiError('NOT_IN_PERIOD');
  if (input.amount !== item.price) throw new ApiError('AMOUNT_MISMATCH', { extras: { price: item.price } });
  const m = METHODS[input.payment_method];
  if (input.amount < m.min || input.amount > m.max) {
    throw new ApiError('PAYMENT_LIMIT_EXCEEDED', { extras: { payment_method: input.payment_method, min: m.min, max: m.max } });
  }
}

export interface RegisterRequest<I = PricedInput> {
  k: KindConfig;
  userId: number;
  itemId: number;
  input: I;
  now: number;
  /** The request's Idempotency-Key (the write records its payment on it). */
  idemKey?: string;
}

export type RegisterResult = { registration: ReturnType<typeof registrationView>; payment: ReturnType<typeof paymentView> };

const writable = ({ input }: RegisterRequest) => {
  const m = METHODS[input.payment_method];
  return input.amount >= m.min && input.amount <= m.max;
};

function newRegistration(r: RegisterRequest): repo.NewRegistration {
  return {
    userId: r.userId,
    itemId: r.itemId,
    amount: r.input.amount,
    method: r.input.payment_method,
    tx: `tx_${randomToken(18)}`,
    metadata: JSON.stringify(transactionMetadata(r.input.payment_method, r.input.amount)),
    now: r.now,
    idemKey: r.idemKey,
  };
}

/**
 * Registrations of one user, queued together (UserLedger), in one write: the fast path writes first,
 * as the write's guard is exactly the checks that need the database. A success means they all passed;
 * only a refusal (or a body outside the method's limits, which is never written) pays for the read
 * that names the first failing check in the contract's order. Each request keeps its own result; a
 * write that fails outright (a fault, not a refusal) throws for all of them (the caller then runs
 * each alone, so one request's fault never becomes another's).
 */
export async function registerMany(ctx: Ctx, requests: RegisterRequest[]): Promise<Outcome<RegisterResult>[]> {
  const toWrite = requests.filter(writable);
  const written = toWrite.length
    ? await repo.insertRegistrations(
        ctx.store,
        requests[0]!.userId,
        toWrite.map((r) => ({ k: r.k, n: newRegistration(r) })),
      )
    : [];
  const byRequest = new Map(toWrite.map((r, i) => [r, written[i] ?? null]));
  return Promise.all(
    requests.map((r) =>
      settle(async () => {
        const done = byRequest.get(r);
        if (done) return { registration: registrationView(done.registration), payment: paymentView(ctx, done.payment) };
        checkRegister(await repo.readItemState(ctx.store, r.k, r.userId, r.itemId), r.input, r.now);
        // Every check passes now although the write was refused: a concurrent change that is gone again.
        throw new ApiError('ALREADY_REGISTERED');
      }),
    ),
  );
}

// ---- complete --------------------------------------------------------------------------------

export async function complete(ctx: Ctx, k: KindConfig, userId: number, itemId: number, now = Date.now()) {
  const s = ctx.store;
  const row = await repo.completeRegistration(s, k, userId, itemId, now);
  if (row) return registrationView(row);
  const current = await repo.registrationStatus(s, k, userId, itemId);
  if (!current) throw new ApiError('REGISTRATION_NOT_FOUND');
  // Waiting for its payment (a real provider): not active yet, so nothing to complete.
  if (current === 'pending') throw new ApiError('PAYMENT_PENDING');
  throw new ApiError(current === 'completed' ? 'ALREADY_COMPLETED' : 'REGISTRATION_CANCELLED');
}

// ---- cancel ----------------------------------------------------------------------------------

export async function getPayment(ctx: Ctx, userId: number, paymentId: number) {
  const row = await repo.readPayment(ctx.store, userId, paymentId);
  if (!row) throw new ApiError('NOT_FOUND');
  return paymentView(ctx, row);
}

function checkCancel(p: PaymentRow | null): asserts p is PaymentRow {
  if (!p) throw new ApiError('NOT_FOUND');
  if (p.status !== 'paid') throw new ApiError('PAYMENT_ALREADY_CANCELLED');
  if (p.registration_status === 'completed') throw new ApiError('REGISTRATION_COMPLETED');
}

export async function cancel(
  ctx: Ctx,
  userId: number,
  paymentId: number,
  reason: string | null,
  now = Date.now(),
  idemKey?: string,
  /** The payment, when the caller has just read it. */
  read?: PaymentRow | null,
) {
  const s = ctx.store;
  const before = read === undefined ? await repo.readPayment(s, userId, paymentId) : read;
  checkCancel(before);
  const done = await repo.cancelPayment(s, kindOfType(before.payment_type), { userId, paymentId, itemId: before.target_id, reason, now, idemKey });
  const after = await repo.readPayment(s, userId, paymentId);
  if (!done) {
    checkCancel(after);
    throw new ApiError('PAYMENT_ALREADY_CANCELLED');
  }
  return paymentView(ctx, after!);
}

// ---- replays after a crash -------------------------------------------------------------------

/** The 201 of an apply/enroll whose write committed but whose response was never stored. */
export async function registeredResult(ctx: Ctx, userId: number, paymentId: number) {
  const s = ctx.store;
  const [payment, registration] = await Promise.all([repo.readPayment(s, userId, paymentId), repo.registrationOfPayment(s, userId, paymentId)]);
  if (!payment || !registration) return null;
  return { registration: registrationView(registration), payment: paymentView(ctx, payment) };
}

/** The 200 of a cancel whose write committed but whose response was never stored. */
export async function cancelledResult(ctx: Ctx, userId: number, paymentId: number) {
  const payment = await repo.readPayment(ctx.store, userId, paymentId);
  return payment && paymentView(ctx, payment);
}

// ---- history ---------------------------------------------------------------------------------

const DAY = 86_400_000;

export async function listPayments(ctx: Ctx, userId: number, q: HistoryQueryInput, url: string) {
  const filter: repo.HistoryFilter = {
    status: q.status,
    payment_type: q.payment_type,
    from: q.from ? Date.parse(`${q.from}T00:00:00Z`) : undefined,
    to: q.to ? Date.parse(`${q.to}T00:00:00Z`) + DAY : undefined,
    words: (q.search ?? '').split(/\s+/).filter(Boolean),
  };
  const view = (r: PaymentRow) => paymentView(ctx, r);
  const s = ctx.store;

  if (q.cursor) {
    const [paidAt, id] = decodeCursor(q.cursor, 2);
    const rows = await repo.historyAfter(s, userId, filter, [paidAt!, id!], q.page_size + 1);
    const page = cursorPage(url, q.page_size, rows, (r) => [r.paid_at, r.id]);
    return { ...page, results: page.results.map(view) };
  }
  const { count, rows } = await repo.historyPage(s, userId, filter, q.page_size, offsetOf(q));
  const page = offsetPage(url, q, count, rows);
  // First page of a time-ordered list also offers a cursor to continue in constant time.
  const last = page.results[page.results.length - 1];
  return { ...page, results: page.results.map(view), next_cursor: page.next && last ? encodeCursor([last.paid_at, last.id]) : null };
}
