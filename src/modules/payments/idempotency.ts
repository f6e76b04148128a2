// Idempotency-Key with Stripe semantics, scoped per user: the first response for (user, key) is kept
// for 24 h and replayed (status and body) for a repeat with the same request; the same key with a
// different request is 422 IDEMPOTENCY_KEY_REUSED; a repeat while the first still runs is 409
// IDEMPOTENCY_IN_PROGRESS. Claiming the key is one conditional upsert, so two concurrent first
// requests cannot both run. Requests that fail their schema never get here (nothing is stored, as
// with Stripe); 5xx outcomes are not stored either, so a retry can run again.
import type { Bindings } from '../../env';
import { sha256Hex } from '../../lib/digest';
import { ApiError } from '../../lib/problem';

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

export async function idempotent(
  env: Bindings,
  userId: number,
  idem: IdempotencyKey | undefined,
  fn: () => Promise<LedgerResult>,
  now = Date.now(),
): Promise<LedgerResult> {
  if (!idem) return fn();
  const [, claim] = await env.DB.batch([
    // Expired keys of this user go first (a range of the primary key), so the table stays small.
    env.DB.prepare('DELETE FROM idempotency_keys WHERE user_id = ?1 AND expires_at <= ?2 AND key <> ?3').bind(userId, now, idem.key),
    env.DB.prepare(
      `INSERT INTO idempotency_keys (user_id, key, request_hash, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)
       ON CONFLICT (user_id, key) DO UPDATE SET request_hash = excluded.request_hash, response_status = NULL,
         response_body = NULL, created_at = excluded.created_at, expires_at = excluded.expires_at
       WHERE idempotency_keys.expires_at <= ?4 OR (idempotency_keys.response_status IS NULL AND idempotency_keys.created_at <= ?6)
       RETURNING key`,
    ).bind(userId, idem.key, idem.hash, now, now + IDEMPOTENCY_TTL_MS, now - ABANDONED_MS),
  ]);
  if (claim!.results.length !== 1) return previous(env, userId, idem);

  let result: LedgerResult;
  try {
    result = await fn();
  } catch (err) {
    await release(env, userId, idem.key);
    throw err;
  }
  if (result.status >= 500) await release(env, userId, idem.key);
  else {
    await env.DB.prepare('UPDATE idempotency_keys SET response_status = ?3, response_body = ?4 WHERE user_id = ?1 AND key = ?2')
      .bind(userId, idem.key, result.status, JSON.stringify(result))
      .run();
  }
  return result;
}

async function previous(env: Bindings, userId: number, idem: IdempotencyKey): Promise<LedgerResult> {
  const row = await env.DB.prepare('SELECT request_hash, response_status, response_body FROM idempotency_keys WHERE user_id = ?1 AND key = ?2')
    .bind(userId, idem.key)
    .first<{ request_hash: string; response_status: number | null; response_body: string | null }>();
  if (!row) return { status: 409, code: 'IDEMPOTENCY_IN_PROGRESS' }; // released between our two reads
  if (row.request_hash !== idem.hash) return { status: 422, code: 'IDEMPOTENCY_KEY_REUSED' };
  if (row.response_status === null || row.response_body === null) return { status: 409, code: 'IDEMPOTENCY_IN_PROGRESS' };
  return { ...(JSON.parse(row.response_body) as LedgerResult), replayed: true };
}

async function release(env: Bindings, userId: number, key: string): Promise<void> {
  await env.DB.prepare('DELETE FROM idempotency_keys WHERE user_id = ?1 AND key = ?2').bind(userId, key).run();
}
