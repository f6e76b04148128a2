// Idempotency-Key with Stripe semantics, scoped per user: the first response for (user, key) is kept
// for 24 h and replayed (status and body) for a repeat with the same request; the same key with a
// different request is 422 IDEMPOTENCY_KEY_REUSED; a repeat while the first still runs is 409
// IDEMPOTENCY_IN_PROGRESS. Claiming the key is one conditional upsert, so two concurrent first
// requests cannot both run. Requests that fail their schema never get here (nothing is stored, as
// with Stripe); 5xx outcomes are not stored either, so a retry can run again.
import { store } from '../../db/store';
import type { Bindings } from '../../env';
import { sha256Hex } from '../../lib/digest';
import { ApiError } from '../../lib/problem';
import * as repo from './repository';

export const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;
/** A claim older than this without a response belongs to a crashed request and may be taken over. */
const ABANDONED_MS = 60_000;

/** What a ledger operation answers: a success body or a problem code, both storable and replayable. */
export interface LedgerResult {
  status: number;
  body?: unknown;
  code?: string;
  extras?: Record<string, unknown>;
  replayed?: boolean;
}

export interface IdempotencyKey {
  key: string;
  /** SHA-256 of method, path and the validated body. */
  hash: string;
}

export async function requestHash(method: string, path: string, body: unknown): Promise<string> {
  return sha256Hex(`${method} ${path.replace(/\/+$/, '')}\n${JSON.stringify(body ?? null)}`);
}

/** Runs an operation and turns its ApiError into a storable result. */
export async function asResult(fn: () => Promise<{ status: number; body: unknown }>): Promise<LedgerResult> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ApiError) return { status: err.status, code: err.code, extras: err.options.extras };
    throw err;
  }
}

/**
 * `recover` rebuilds the response of a request whose write committed (the key learnt its payment in
 * the same transaction) but whose response was never stored: a crash in between. That key is never
 * taken over as abandoned; it replays the payment.
 */
export async function idempotent(
  env: Bindings,
  userId: number,
  idem: IdempotencyKey | undefined,
  fn: () => Promise<LedgerResult>,
  recover: (paymentId: number) => Promise<LedgerResult | null>,
  now = Date.now(),
): Promise<LedgerResult> {
  if (!idem) return fn();
  const s = store(env);
  const claim = { userId, key: idem.key, hash: idem.hash, now, expiresAt: now + IDEMPOTENCY_TTL_MS, abandonedBefore: now - ABANDONED_MS };
  if (!(await repo.claimKey(s, claim))) return previous(env, userId, idem, recover);

  let result: LedgerResult;
  try {
    result = await fn();
  } catch (err) {
    await repo.releaseKey(s, userId, idem.key);
    throw err;
  }
  if (result.status >= 500) await repo.releaseKey(s, userId, idem.key);
  else await repo.saveResponse(s, userId, idem.key, result.status, JSON.stringify(result));
  return result;
}

async function previous(
  env: Bindings,
  userId: number,
  idem: IdempotencyKey,
  recover: (paymentId: number) => Promise<LedgerResult | null>,
): Promise<LedgerResult> {
  const s = store(env);
  const row = await repo.readKey(s, userId, idem.key);
  if (!row) return { status: 409, code: 'IDEMPOTENCY_IN_PROGRESS' }; // released between our two reads
  if (row.request_hash !== idem.hash) return { status: 422, code: 'IDEMPOTENCY_KEY_REUSED' };
  if (row.response_status !== null && row.response_body !== null) return { ...(JSON.parse(row.response_body) as LedgerResult), replayed: true };
  const recovered = row.payment_id === null ? null : await recover(row.payment_id);
  if (!recovered) return { status: 409, code: 'IDEMPOTENCY_IN_PROGRESS' };
  // Stored now, so later replays answer exactly this.
  await repo.saveResponse(s, userId, idem.key, recovered.status, JSON.stringify(recovered));
  return { ...recovered, replayed: true };
}
