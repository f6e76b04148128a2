// UserLedger: one Durable Object per user through which every apply, enroll and cancel of that user
// passes, in arrival order. A Durable Object still interleaves requests while one awaits the
// database, so operations wait in a queue: one group runs at a time. Registrations that are waiting
// together form one group and commit in one write (service.registerMany: one D1 batch, or one
// Postgres transaction), each with its own checks, result and all-or-nothing effect; a cancel runs
// alone, in its place in the order. The write's conditional statements (and, on Postgres, the user's
// advisory lock) and the unique registration row remain the last line of defence. Each group is its
// own unit of work. A job resolves with its outcome, a refusal included, which is stored for replays
// and returned over RPC as it is; only a fault rejects it.
import { DurableObject } from 'cloudflare:workers';
import { metered } from '../../db/meter';
import type { Bindings } from '../../env';
import type { Ctx } from '../../context';
import { contain, settle, type Outcome } from '../../lib/outcome';
import { ObjectUnits } from '../../lib/unit-of-work';
import { KINDS, type Kind } from '../catalog';
import { idempotent, type IdempotencyKey, type Replayable } from './idempotency';
import type { RegisterInput } from './schemas';
import * as service from './service';
import * as settlement from './settlement';

/** A registration without its amount under the simulated provider (which requires it). */
const validationOutcome = (): Outcome<never> => ({
  ok: false,
  code: 'INPUT_VALIDATION_ERROR',
  extras: { errors: [{ path: 'amount', message: 'Invalid input: expected number, received undefined' }] },
});

export type RegisterResult = service.RegisterResult;
export type PaymentView = ReturnType<typeof service.paymentView>;

/** At most this many registrations commit together (a D1 batch of 4 statements each). */
const MAX_GROUP = 32;

/** A queued job's promise: its outcome (a refusal is data), or a fault. */
interface Waiting<T> {
  resolve: (outcome: Outcome<T>) => void;
  reject: (fault: unknown) => void;
}
type RegisterJob = { type: 'register'; request: service.RegisterRequest } & Waiting<RegisterResult>;
type CancelJob = { type: 'cancel'; userId: number; paymentId: number; reason: string | null; idemKey?: string } & Waiting<PaymentView>;
/** Work that runs alone, in its place in the order (everything that talks to a payment provider). */
type SoloJob = { type: 'solo'; run: (ctx: Ctx) => Promise<Outcome<unknown>> } & Waiting<unknown>;
type Job = RegisterJob | CancelJob | SoloJob;

export class UserLedger extends DurableObject<Bindings> {
  private jobs: Job[] = [];
  private draining = false;
  /** Each group's and each call's unit of work (results carry the D1 bookmark of the writes). */
  private readonly units = new ObjectUnits(this.env);

  /**
   * The idempotency claim happens before queueing, so a repeat of a running request gets its 409 at
   * once. A fault comes back as data too (`contain`): nothing leaves an RPC method as an exception.
   */
  async register(kind: Kind, userId: number, itemId: number, input: RegisterInput, idem?: IdempotencyKey): Promise<Replayable<RegisterResult>> {
    const outcome = await this.call((ctx) =>
      idempotent(ctx, userId, idem, {
        status: 201,
        run: (idemKey) => {
          const request = { k: KINDS[kind], userId, itemId, input, now: Date.now(), idemKey };
          // A real provider: each apply alone (it waits for the provider); simulated: grouped writes.
          if (ctx.config.PAYMENT_PROVIDER !== 'simulated') return this.solo((c) => settlement.register(c, request));
          const amount = input.amount;
          if (amount === undefined) return Promise.resolve(validationOutcome());
          return new Promise<Outcome<RegisterResult>>((resolve, reject) =>
            this.submit({ type: 'register', request: { ...request, input: { ...input, amount } }, resolve, reject }),
          );
        },
        recover: (paymentId) => service.registeredResult(ctx, userId, paymentId),
      }),
    );
    return this.units.stamp(outcome);
  }

  async cancel(userId: number, paymentId: number, reason: string | null, idem?: IdempotencyKey): Promise<Replayable<PaymentView>> {
    const outcome = await this.call((ctx) =>
      idempotent(ctx, userId, idem, {
        status: 200,
        run: (idemKey) =>
          new Promise<Outcome<PaymentView>>((resolve, reject) =>
            this.submit({ type: 'cancel', userId, paymentId, reason, idemKey, resolve, reject }),
          ),
        recover: (id) => service.cancelledResult(ctx, userId, id),
      }),
    );
    return this.units.stamp(outcome);
  }

  /** Asks the provider about the payment and settles it (409 while unpaid): POST /api/payments/{id}/confirm. */
  async confirm(userId: number, paymentId: number): Promise<Replayable<PaymentView>> {
    const outcome = await this.call(() => this.solo((ctx) => settlement.confirm(ctx, userId, paymentId)));
    return this.units.stamp(outcome);
  }

  /**
   * A verified webhook's or the scheduled job's settlement of one payment (expire: also expires an
   * unpaid one past its time); the outcome names its state after.
   */
  async settle(userId: number, paymentId: number, expire: boolean): Promise<Replayable<string>> {
    const outcome = await this.call(() => this.solo((ctx) => settlement.settleQuietly(ctx, userId, paymentId, expire)));
    return this.units.stamp(outcome);
  }

  /** The refund queue's retry of one refund_pending payment. */
  async retryRefund(userId: number, paymentId: number): Promise<Replayable<string>> {
    const outcome = await this.call(() => this.solo((ctx) => settlement.retryRefund(ctx, userId, paymentId)));
    return this.units.stamp(outcome);
  }

  /** Queues `run` to run alone in its own unit of work; a provider that does not answer is a 502. */
  private solo<T>(run: (ctx: Ctx) => Promise<T>): Promise<Outcome<T>> {
    return new Promise<Outcome<T>>((resolve, reject) =>
      this.submit({
        type: 'solo',
        run: (ctx) => settle(() => run(ctx)),
        resolve: resolve as (o: Outcome<unknown>) => void,
        reject,
      }),
    );
  }

  /** One RPC call's unit of work; its fault as an INTERNAL_ERROR outcome. */
  private call<T>(fn: (ctx: Ctx) => Promise<Replayable<T>>): Promise<Replayable<T>> {
    return contain(() => this.units.run(fn));
  }

  private submit(job: Job): void {
    this.jobs.push(job);
    void this.drain();
  }

  /** Runs the queue, one group at a time, in arrival order. */
  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.jobs.length > 0) await this.runGroup(this.takeGroup());
    } finally {
      this.draining = false;
    }
  }

  /** The registrations waiting at the head of the queue (up to MAX_GROUP), or the one cancel or solo job there. */
  private takeGroup(): Job[] {
    if (this.jobs[0]!.type !== 'register') return this.jobs.splice(0, 1);
    const end = this.jobs.findIndex((j, i) => j.type !== 'register' || i >= MAX_GROUP);
    return this.jobs.splice(0, end === -1 ? this.jobs.length : end);
  }

  /** One group in its own unit of work; every job learns its own outcome (a fault: all of them). */
  private async runGroup(group: Job[]): Promise<void> {
    const only = group[0]!;
    if (only.type === 'solo') {
      try {
        only.resolve(await this.units.run((ctx) => only.run(ctx)));
      } catch (err) {
        only.reject(err);
      }
      return;
    }
    try {
      await this.units.run(async (ctx) => {
        const registers = group.filter((j): j is RegisterJob => j.type === 'register');
        const cancels = group.filter((j): j is CancelJob => j.type === 'cancel');
        if (registers.length) await registerGroup(ctx, registers);
        for (const j of cancels) j.resolve(await settle(() => settlement.cancel(ctx, j.userId, j.paymentId, j.reason, Date.now(), j.idemKey)));
      });
    } catch (err) {
      for (const job of group) job.reject(err);
    }
  }
}

/**
 * Registrations in one write; if that write fails outright (a fault in one of them), each runs
 * alone, in order, so the fault stays with the request that caused it.
 */
async function registerGroup(ctx: Ctx, jobs: RegisterJob[]): Promise<void> {
  let outcomes: Outcome<RegisterResult>[] | null = null;
  try {
    outcomes = await service.registerMany(
      ctx,
      jobs.map((j) => j.request),
    );
  } catch (err) {
    if (jobs.length === 1) throw err;
  }
  if (outcomes) {
    for (const [i, j] of jobs.entries()) j.resolve(outcomes[i]!);
    return;
  }
  for (const j of jobs) {
    try {
      j.resolve((await service.registerMany(ctx, [j.request]))[0]!);
    } catch (err) {
      j.reject(err);
    }
  }
}

export const ledgerName = (userId: number) => `user:${userId}`;

/** The caller's ledger. */
export function ledger(ctx: Ctx, userId: number) {
  return metered(ctx.env.USER_LEDGER.get(ctx.env.USER_LEDGER.idFromName(ledgerName(userId))));
}
