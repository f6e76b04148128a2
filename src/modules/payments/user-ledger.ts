// UserLedger: one Durable Object per user through which every apply, enroll and cancel of that user
// passes. A Durable Object still interleaves requests while one awaits the database, so operations
// are chained explicitly: each starts after the previous one of the same user has finished. The
// write transaction's conditional statements (and, on Postgres, the user's advisory lock) and the
// unique registration row remain the last line of defence. Each call is its own unit of work.
import { DurableObject } from 'cloudflare:workers';
import type { Bindings, Ctx } from '../../env';
import { withUnitOfWork } from '../../lib/unit-of-work';
import { KINDS, type Kind } from '../catalog';
import { idempotent, type IdempotencyKey, type Operation, type Replayable } from './idempotency';
import type { RegisterInput } from './schemas';
import * as service from './service';

export type RegisterResult = Awaited<ReturnType<typeof service.register>>;
export type PaymentView = ReturnType<typeof service.paymentView>;

function registerOp(ctx: Ctx, kind: Kind, userId: number, itemId: number, input: RegisterInput): Operation<RegisterResult> {
  return {
    status: 201,
    run: (idemKey) => service.register(ctx, KINDS[kind], userId, itemId, input, Date.now(), idemKey),
    recover: (paymentId) => service.registeredResult(ctx, userId, paymentId),
  };
}

function cancelOp(ctx: Ctx, userId: number, paymentId: number, reason: string | null): Operation<PaymentView> {
  return {
    status: 200,
    run: (idemKey) => service.cancel(ctx, userId, paymentId, reason, Date.now(), idemKey),
    recover: (id) => service.cancelledResult(ctx, userId, id),
  };
}

export class UserLedger extends DurableObject<Bindings> {
  private tail: Promise<unknown> = Promise.resolve();

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** The idempotency claim happens before queueing, so a repeat of a running request gets its 409 at once. */
  private run<T>(userId: number, idem: IdempotencyKey | undefined, op: (ctx: Ctx) => Operation<T>): Promise<Replayable<T>> {
    return withUnitOfWork(this.env, (ctx) => {
      const operation = op(ctx);
      return idempotent(ctx, userId, idem, { ...operation, run: (key) => this.serial(() => operation.run(key)) });
    });
  }

  register(kind: Kind, userId: number, itemId: number, input: RegisterInput, idem?: IdempotencyKey): Promise<Replayable<RegisterResult>> {
    return this.run(userId, idem, (ctx) => registerOp(ctx, kind, userId, itemId, input));
  }

  cancel(userId: number, paymentId: number, reason: string | null, idem?: IdempotencyKey): Promise<Replayable<PaymentView>> {
    return this.run(userId, idem, (ctx) => cancelOp(ctx, userId, paymentId, reason));
  }
}

export const ledgerName = (userId: number) => `user:${userId}`;

/** The caller's ledger. */
export function ledger(ctx: Ctx, userId: number) {
  return ctx.env.USER_LEDGER.get(ctx.env.USER_LEDGER.idFromName(ledgerName(userId)));
}
