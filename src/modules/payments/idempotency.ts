// Idempotency-Key with Stripe semantics, scoped per user: the first response for (user, key) is kept
// for 24 h and replayed for a repeat with the same request; the same key with a different request is
// 422 IDEMPOTENCY_KEY_REUSED; a repeat while the first still runs is 409 IDEMPOTENCY_IN_PROGRESS.
// Claiming the key is one conditional upsert, so two concurrent first requests cannot both run.
// Requests that fail their schema never get here (nothing is stored, as with Stripe); a 5xx is not
// stored either, so a retry can run again. A write that committed records its payment on the key in
// the same transaction: after a crash before the response was stored, the key replays that payment.
import type { Ctx } from '../../context';
import { CODES, type ErrorCode } from '../../errors';
import { sha256Hex } from '../../lib/digest';
import type { Outcome } from '../../lib/outcome';
import * as repo from './repository';

export const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;
/** A claim older than this without a response belongs to a crashed request and may be taken over. */
const ABANDONED_MS = 60_000;

/** A ledger operation's outcome, and whether it is the replay of an earlier request's. */
export type Replayable<T> = Outcome<T> & { replayed?: boolean };

export interface IdempotencyKey {
  key: string;
  /** SHA-256 of method, path and the validated body. */
  hash: string;
}

export async function requestHash(method: string, path: string, body: unknown): Promise<string> {
  return sha256Hex(`${method} ${path.replace(/\/+$/, '')}\n${JSON.stringify(body ?? null)}`);
}

export interface Operation<T> {
  /** Runs the operation: its outcome (a refusal too) is stored and replayed; a fault rejects. */
  run: (idemKey: string | undefined) => Promise<Outcome<T>>;
  /** The value of a request whose write committed but whose response was never stored. */
  recover: (paymentId: number) => Promise<T | null>;
  /** The HTTP status of a success (stored with the response). */
  status: number;
}

export async function idempotent<T>(
  ctx: Ctx,
  userId: number,
  idem: IdempotencyKey | undefined,
  op: Operation<T>,
  now = Date.now(),
): Promise<Replayable<T>> {
  if (!idem) return op.run(undefined);
  const s = ctx.store;
  const claim = { userId, key: idem.key, hash: idem.hash, now, expiresAt: now + IDEMPOTENCY_TTL_MS, abandonedBefore: now - ABANDONED_MS };
  if (!(await repo.claimKey(s, claim))) return previous(ctx, userId, idem, op);

  let result: Outcome<T>;
  try {
    result = await op.run(idem.key);
  } catch (err) {
    await repo.releaseKey(s, userId, idem.key);
    throw err;
  }
  if (!result.ok && statusOf(result.code) >= 500) await repo.releaseKey(s, userId, idem.key);
  else await save(ctx, userId, idem, op, result);
  return result;
}

async function save<T>(ctx: Ctx, userId: number, idem: IdempotencyKey, op: Operation<T>, result: Outcome<T>): Promise<void> {
  const status = result.ok ? op.status : statusOf(result.code);
  await repo.saveResponse(ctx.store, userId, idem.key, status, JSON.stringify(result));
}

async function previous<T>(ctx: Ctx, userId: number, idem: IdempotencyKey, op: Operation<T>): Promise<Replayable<T>> {
  const row = await repo.readKey(ctx.store, userId, idem.key);
  if (!row) return { ok: false, code: 'IDEMPOTENCY_IN_PROGRESS' }; // released between our two reads
  if (row.request_hash !== idem.hash) return { ok: false, code: 'IDEMPOTENCY_KEY_REUSED' };
  if (row.response_status !== null && row.response_body !== null) return { ...(JSON.parse(row.response_body) as Outcome<T>), replayed: true };
  const value = row.payment_id === null ? null : await op.recover(row.payment_id);
  if (value === null) return { ok: false, code: 'IDEMPOTENCY_IN_PROGRESS' };
  // Stored now, so later replays answer exactly this.
  const recovered: Outcome<T> = { ok: true, value };
  await save(ctx, userId, idem, op, recovered);
  return { ...recovered, replayed: true };
}

const statusOf = (code: ErrorCode) => CODES[code].status;
