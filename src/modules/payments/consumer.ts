// The payments module's background work, each piece through the payer's UserLedger (one writer per
// user): the refund queue (refund_pending payments, retried with backoff until the provider answers)
// and the scheduled settlement (pending payments past expires_at: asked of the provider, then paid or
// expired; refunds whose queue message or answer was lost).
import type { Bindings } from '../../env';
import { parseConfig } from '../../env';
import { logLine } from '../../lib/log';
import type { Outcome } from '../../lib/outcome';
import { withUnitOfWork } from '../../lib/unit-of-work';
import { isRefundMessage } from './message';
import * as repo from './repository';
import { enqueueRefund } from './settlement';
import { ledger } from './user-ledger';

export const REFUND_QUEUE = 'payment-refunds';

/** Backoff of a refund the provider did not answer: 30 s, 1, 2, 4 … minutes, at most an hour. */
const retryDelaySeconds = (attempts: number) => Math.min(3600, 30 * 2 ** Math.max(0, attempts - 1));

export async function handleRefunds(batch: MessageBatch<unknown>, env: Bindings): Promise<void> {
  await withUnitOfWork(env, async (ctx) => {
    for (const message of batch.messages) {
      if (!isRefundMessage(message.body)) {
        logLine('error', 'malformed refund message', { id: message.id });
        message.ack();
        continue;
      }
      const { user_id: userId, payment_id: paymentId } = message.body;
      const outcome = (await ledger(ctx, userId)
        .retryRefund(userId, paymentId)
        .catch((err: unknown): Outcome<string> => ({ ok: false, code: 'INTERNAL_ERROR', fault: String(err) }))) as Outcome<string>;
      if (outcome.ok) {
        logLine('info', 'refund retried', { payment_id: paymentId, result: outcome.value });
        message.ack();
      } else {
        const delaySeconds = retryDelaySeconds(message.attempts);
        logLine('warn', 'refund still unanswered; the queue retries it', {
          payment_id: paymentId,
          attempts: message.attempts,
          delay_seconds: delaySeconds,
        });
        message.retry({ delaySeconds });
      }
    }
  });
}

/** Payments the scheduled job settles per run, at most. */
const SETTLE_BATCH = 50;

/**
 * The scheduled settlement: expires pending payments past expires_at (each asked of the provider
 * first: one paid after all is completed instead), and re-sends refunds that are stuck — refund_pending
 * ones whose message is gone and paid ones whose refund answer a crash lost (older than twice the
 * provider timeout, so an answer still on its way is never raced). Returns what it did, for the log.
 */
export async function scheduledSettlement(env: Bindings, now = Date.now()): Promise<Record<string, number>> {
  const config = parseConfig(env);
  if (config.PAYMENT_PROVIDER === 'simulated') return {};
  return withUnitOfWork(env, async (ctx) => {
    const due = await repo.duePayments(ctx.store, now, now - 2 * config.PAYMENT_PROVIDER_TIMEOUT_MS, SETTLE_BATCH);
    const counts: Record<string, number> = {};
    for (const p of due) {
      const outcome = (await ledger(ctx, p.user_id).settle(p.user_id, p.id, true)) as Outcome<string>;
      const result = outcome.ok ? outcome.value : outcome.code;
      counts[result] = (counts[result] ?? 0) + 1;
      // Still unanswered: the queue keeps trying the refund between two runs.
      if (result === 'PAYMENT_PROVIDER_ERROR') await enqueueRefundIfStuck(ctx, p.user_id, p.id);
    }
    if (due.length > 0) logLine('info', 'payments settled', { ...counts });
    return counts;
  });
}

async function enqueueRefundIfStuck(ctx: Parameters<typeof enqueueRefund>[0], userId: number, paymentId: number): Promise<void> {
  const row = await repo.readPayment(ctx.store, userId, paymentId);
  if (row?.status === 'refund_pending') await enqueueRefund(ctx, userId, paymentId);
}
