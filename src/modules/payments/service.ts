// Apply/enroll, complete, cancel and payment history. Writes are one transaction whose statements
// share one predicate (repository.ts), so a lost race changes zero rows everywhere: payment,
// registration and registration_count change together or not at all. The Durable Object in
// user-ledger.ts serialises one user's apply/enroll/cancel before they get here.
import './codes';
import { store } from '../../db/store';
import { config, type Bindings } from '../../env';
import { isoOrNull } from '../../lib/openapi';
import { cursorPage, decodeCursor, encodeCursor, offsetOf, offsetPage } from '../../lib/pagination';
import { ApiError } from '../../lib/problem';
import { randomToken } from '../../lib/random';
import { kindOfType, type KindConfig } from '../catalog/kinds';
import * as repo from './repository';
import type { ItemState, PaymentRow, RegistrationRow } from './repository';
import type { HistoryQueryInput, PaymentMethod, RegisterInput } from './schemas';

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

export function paymentView(env: Bindings, p: PaymentRow) {
  return {
    id: p.id,
    payment_type: p.payment_type,
    target_id: p.target_id,
    target_title: p.target_title,
    amount: p.amount,
    currency: config(env).CURRENCY,
    payment_method: p.payment_method,
    status: p.status,
    external_transaction_id: p.external_transaction_id,
    transaction_metadata: JSON.parse(p.transaction_metadata) as TransactionMetadata,
    paid_at: isoOrNull(p.paid_at)!,
    cancelled_at: isoOrNull(p.cancelled_at),
    refund_reason: p.refund_reason,
    registration_status: p.registration_status,
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
function checkRegister(item: ItemState | null, input: RegisterInput, now: number): void {
  if (!item) throw new ApiError('NOT_FOUND');
  if (item.reg_status !== null && item.reg_status !== 'cancelled') throw new ApiError('ALREADY_REGISTERED');
  if (now < item.start_at || now > item.end_at) throw new ApiError('NOT_IN_PERIOD');
  if (input.amount !== item.price) throw new ApiError('AMOUNT_MISMATCH', { extras: { price: item.price } });
  const m = METHODS[input.payment_method];
  if (input.amount < m.min || input.amount > m.max) {
    throw new ApiError('PAYMENT_LIMIT_EXCEEDED', { extras: { payment_method: input.payment_method, min: m.min, max: m.max } });
  }
}

/**
 * The fast path writes first: the batch's guard is exactly the checks that need the database, so a
 * success means they all passed, and only a refusal (or a body outside the method's limits, which
 * is never written) pays for the read that names the first failing check in the contract's order.
 */
export async function register(env: Bindings, k: KindConfig, userId: number, itemId: number, input: RegisterInput, now = Date.now(), idemKey?: string) {
  const m = METHODS[input.payment_method];
  const writable = input.amount >= m.min && input.amount <= m.max;
  const written = writable ? await writeRegistration(env, k, userId, itemId, input, now, idemKey) : null;
  if (written) return written;
  checkRegister(await repo.readItemState(store(env), k, userId, itemId), input, now);
  // Every check passes now although the write was refused: a concurrent change that is gone again.
  throw new ApiError('ALREADY_REGISTERED');
}

async function writeRegistration(env: Bindings, k: KindConfig, userId: number, itemId: number, input: RegisterInput, now: number, idemKey?: string) {
  const written = await repo.insertRegistration(store(env), k, {
    userId,
    itemId,
    amount: input.amount,
    method: input.payment_method,
    tx: `tx_${randomToken(18)}`,
    metadata: JSON.stringify(transactionMetadata(input.payment_method, input.amount)),
    now,
    idemKey,
  });
  return written && { registration: registrationView(written.registration), payment: paymentView(env, written.payment) };
}

// ---- complete --------------------------------------------------------------------------------

export async function complete(env: Bindings, k: KindConfig, userId: number, itemId: number, now = Date.now()) {
  const s = store(env);
  const row = await repo.completeRegistration(s, k, userId, itemId, now);
  if (row) return registrationView(row);
  const current = await repo.registrationStatus(s, k, userId, itemId);
  if (!current) throw new ApiError('REGISTRATION_NOT_FOUND');
  throw new ApiError(current === 'completed' ? 'ALREADY_COMPLETED' : 'REGISTRATION_CANCELLED');
}

// ---- cancel ----------------------------------------------------------------------------------

export async function readPayment(env: Bindings, userId: number, paymentId: number): Promise<PaymentRow | null> {
  return repo.readPayment(store(env), userId, paymentId);
}

export async function getPayment(env: Bindings, userId: number, paymentId: number) {
  const row = await readPayment(env, userId, paymentId);
  if (!row) throw new ApiError('NOT_FOUND');
  return paymentView(env, row);
}

function checkCancel(p: PaymentRow | null): asserts p is PaymentRow {
  if (!p) throw new ApiError('NOT_FOUND');
  if (p.status === 'cancelled') throw new ApiError('PAYMENT_ALREADY_CANCELLED');
  if (p.registration_status === 'completed') throw new ApiError('REGISTRATION_COMPLETED');
}

export async function cancel(env: Bindings, userId: number, paymentId: number, reason: string | null, now = Date.now(), idemKey?: string) {
  const s = store(env);
  const before = await repo.readPayment(s, userId, paymentId);
  checkCancel(before);
  const done = await repo.cancelPayment(s, kindOfType(before.payment_type), { userId, paymentId, itemId: before.target_id, reason, now, idemKey });
  const after = await repo.readPayment(s, userId, paymentId);
  if (!done) {
    checkCancel(after);
    throw new ApiError('PAYMENT_ALREADY_CANCELLED');
  }
  return paymentView(env, after!);
}

// ---- replays after a crash -------------------------------------------------------------------

/** The 201 of an apply/enroll whose write committed but whose response was never stored. */
export async function registeredResult(env: Bindings, userId: number, paymentId: number) {
  const s = store(env);
  const [payment, registration] = await Promise.all([repo.readPayment(s, userId, paymentId), repo.registrationOfPayment(s, userId, paymentId)]);
  if (!payment || !registration) return null;
  return { status: 201, body: { registration: registrationView(registration), payment: paymentView(env, payment) } };
}

/** The 200 of a cancel whose write committed but whose response was never stored. */
export async function cancelledResult(env: Bindings, userId: number, paymentId: number) {
  const payment = await repo.readPayment(store(env), userId, paymentId);
  return payment && { status: 200, body: paymentView(env, payment) };
}

// ---- history ---------------------------------------------------------------------------------

const DAY = 86_400_000;

export async function listPayments(env: Bindings, userId: number, q: HistoryQueryInput, url: string) {
  const filter: repo.HistoryFilter = {
    status: q.status,
    payment_type: q.payment_type,
    from: q.from ? Date.parse(`${q.from}T00:00:00Z`) : undefined,
    to: q.to ? Date.parse(`${q.to}T00:00:00Z`) + DAY : undefined,
    words: (q.search ?? '').split(/\s+/).filter(Boolean),
  };
  const view = (r: PaymentRow) => paymentView(env, r);
  const s = store(env);

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
