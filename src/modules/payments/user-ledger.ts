// UserLedger: one Durable Object per user through which every apply, enroll and cancel of that user
// passes. A Durable Object still interleaves requests while one awaits the database, so operations
// are chained explicitly: each starts after the previous one of the same user has finished. The
// write transaction's conditional statements and the unique registration row remain the last line
// of defence.
import { DurableObject } from 'cloudflare:workers';
import { withStore } from '../../db/store';
import type { Bindings } from '../../env';
import { KINDS, type Kind } from '../catalog/kinds';
import { asResult, idempotent, type IdempotencyKey, type LedgerResult } from './idempotency';
import type { RegisterInput } from './schemas';
import * as service from './service';

export type LedgerOp =
  | { op: 'register'; kind: Kind; userId: number; itemId: number; input: RegisterInput }
  | { op: 'cancel'; userId: number; paymentId: number; reason: string | null };

function execute(env: Bindings, op: LedgerOp, idemKey?: string): Promise<LedgerResult> {
  return asResult(async () => {
    if (op.op === 'register') {
      return { status: 201, body: await service.register(env, KINDS[op.kind], op.userId, op.itemId, op.input, Date.now(), idemKey) };
    }
    return { status: 200, body: await service.cancel(env, op.userId, op.paymentId, op.reason, Date.now(), idemKey) };
  });
}

/** The response of `op` rebuilt from the payment its committed write left (see idempotent()). */
function recovered(env: Bindings, op: LedgerOp, paymentId: number): Promise<LedgerResult | null> {
  return op.op === 'register' ? service.registeredResult(env, op.userId, paymentId) : service.cancelledResult(env, op.userId, paymentId);
}

export class UserLedger extends DurableObject<Bindings> {
  private tail: Promise<unknown> = Promise.resolve();

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /**
   * The idempotency claim happens before queueing, so a repeat of a running request gets its 409 at
   * once. Each call has its own database session (on Postgres, a connection opened and closed here).
   */
  async run(op: LedgerOp, idem?: IdempotencyKey): Promise<LedgerResult> {
    return withStore(this.env, (env) =>
      idempotent(
        env,
        op.userId,
        idem,
        () => this.serial(() => execute(env, op, idem?.key)),
        (paymentId) => recovered(env, op, paymentId),
      ),
    );
  }
}

/** The caller's ledger. */
export function ledger(env: Bindings, userId: number) {
  return env.USER_LEDGER.get(env.USER_LEDGER.idFromName(`user:${userId}`));
}
