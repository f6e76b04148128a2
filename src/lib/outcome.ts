// One result type for what crosses a Durable Object's RPC boundary (UserLedger, MachineDO): a value,
// or an API error carried as data. RPC hands plain data across; an ApiError thrown inside an object
// would arrive as a bare Error. The object wraps its work with `settle`, the caller `unwrap`s, and
// the error is thrown again as the same ApiError: one conversion each way, no casts. Work an object
// queues (UserLedger's jobs) resolves with its outcome as well, so between the check that refuses
// and the route's handler that answers, a refusal is data only. An object's outcome also carries
// the D1 bookmark of its writes, which the caller's store `receive`s.
//
// A fault (any other exception) must not leave an RPC method either: workerd reports it as
// "Uncaught (in promise)" inside the object although the caller handles it. `contain` turns it
// into an INTERNAL_ERROR outcome that carries the fault's summary (its causes too, query values cut
// out), and the caller's `unwrap` throws it as a plain Error, so the worker's error handler logs it with the
// request id and answers 500 as before.
import type { Store } from '../db/store';
import type { ErrorCode } from '../errors';
import { errorSummary } from './log';
import { ApiError } from './problem';

export type Outcome<T> = (
  | { ok: true; value: T }
  | { ok: false; code: ErrorCode; extras?: Record<string, unknown> /** A fault's text (INTERNAL_ERROR only). */; fault?: string }
) & { bookmark?: string };

/** Runs `fn`; its ApiError becomes a failed outcome (anything else still throws: a 500). */
export async function settle<T>(fn: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    if (err instanceof ApiError) return { ok: false, code: err.code, extras: err.options.extras };
    throw err;
  }
}

/** `fn`'s outcome, with a fault (an exception `settle` would rethrow) as an INTERNAL_ERROR outcome. */
export async function contain<O extends Outcome<unknown>>(fn: () => Promise<O>): Promise<O | Outcome<never>> {
  try {
    return await fn();
  } catch (err) {
    return { ok: false, code: 'INTERNAL_ERROR', fault: errorSummary(err) };
  }
}

/** The value, or the outcome's error thrown as an ApiError (a contained fault: as a plain Error). */
export function unwrap<T>(outcome: Outcome<T>): T {
  if (outcome.ok) return outcome.value;
  if (outcome.fault !== undefined) throw new Error(`fault in a Durable Object: ${outcome.fault}`);
  throw new ApiError(outcome.code, { extras: outcome.extras });
}

/** The value of a Durable Object's outcome, after moving the caller's store past the object's writes. */
export function receive<T>(store: Store, outcome: Outcome<T>): T {
  store.observe(outcome.bookmark);
  return unwrap(outcome);
}
