// The scheduled purge (the cron of wrangler.toml [triggers]): deletes the rows that are dead for the
// code that owns them, so storage stops growing (D1 caps a database at 10 GB). What goes, and why
// nothing that matters does:
// - sessions (refresh families) SESSION_RETENTION_DAYS after they expired or were revoked. A session
//   in use is neither revoked nor expired, and the cutoff is never later than now: it never matches.
// - rate-limit rows past the end of their window. Each write stamps the end with its own limit's
//   window (15 minutes for a login counter, 30 days for a `login:known:*` mark); a row past it
//   already counts as absent (the next hit restarts it, a peek reads 0), so deleting it changes nothing.
// - idempotency records IDEMPOTENCY_RETENTION_DAYS after they expired (the next request with an
//   expired key takes it over anyway).
// - phone verifications PHONE_VERIFICATION_RETENTION_DAYS after they expired (refused anyway).
// - finished machine operations only when MACHINE_HISTORY_RETENTION_DAYS > 0: they are the command
//   history users read, not bookkeeping. A command's bookkeeping (its place in the machine's queue,
//   claims, retries) lives in its MachineDO's storage and is dropped there when it resolves; the
//   queue keeps nothing. A PENDING operation never matches (no completed_at).
// - webhook events (and their delivery log, which cascades) WEBHOOK_RETENTION_DAYS after they were
//   fanned out: far past the 3 days of retries (an event not fanned out yet never matches).
// - /live watcher records past their token's expiry: a socket never outlives its token (the machine's
//   object closes it then), so nothing can be left to close for a revocation.
// One run goes round the targets, one chunk of at most PURGE_BATCH_SIZE rows each, until every
// target came back short or the run has sent PURGE_MAX_STATEMENTS statements or spent
// PURGE_TIME_BUDGET_MS; the rest waits for the next run. One log line reports the run.
import type { Bindings, Config } from '../../env';
import type { Ctx } from '../../context';
import { errorSummary, logLine } from '../../lib/log';
import { withUnitOfWork } from '../../lib/unit-of-work';
import { deleteDeadChunk, type PurgeTarget } from './repository';

const DAY_MS = 86_400_000;

const TABLE_OF = {
  sessions_expired: 'sessions',
  sessions_revoked: 'sessions',
  rate_limits: 'rate_limits',
  idempotency_keys: 'idempotency_keys',
  phone_verifications: 'phone_verifications',
  machine_operations: 'machine_operations',
  live_watchers: 'live_watchers',
  webhook_events: 'webhook_events',
} as const satisfies Record<PurgeTarget, string>;

type Table = (typeof TABLE_OF)[PurgeTarget];

export interface PurgeReport {
  /** Rows deleted per table. */
  removed: Record<Table, number>;
  /** DELETE statements sent (each deletes at most `batch` rows). */
  statements: number;
  batch: number;
  /** The most rows one statement deleted (≤ batch). */
  largest_chunk: number;
  /** Whether every target was drained; false: a budget ended the run, the next one goes on. */
  complete: boolean;
  ms: number;
}

/** Each target of this configuration with the time at or before which its rows are dead. */
export function purgeCutoffs(cfg: Config, now: number): [PurgeTarget, number][] {
  const after = (days: number) => now - days * DAY_MS;
  const cutoffs: [PurgeTarget, number][] = [
    ['sessions_expired', after(cfg.SESSION_RETENTION_DAYS)],
    ['sessions_revoked', after(cfg.SESSION_RETENTION_DAYS)],
    ['rate_limits', now],
    ['idempotency_keys', after(cfg.IDEMPOTENCY_RETENTION_DAYS)],
    ['phone_verifications', after(cfg.PHONE_VERIFICATION_RETENTION_DAYS)],
    ['live_watchers', now],
    ['webhook_events', after(cfg.WEBHOOK_RETENTION_DAYS)],
  ];
  if (cfg.MACHINE_HISTORY_RETENTION_DAYS > 0) cutoffs.push(['machine_operations', after(cfg.MACHINE_HISTORY_RETENTION_DAYS)]);
  return cutoffs;
}

function emptyReport(cfg: Config): PurgeReport {
  const removed = {
    sessions: 0,
    rate_limits: 0,
    idempotency_keys: 0,
    phone_verifications: 0,
    machine_operations: 0,
    live_watchers: 0,
    webhook_events: 0,
  };
  return { removed, statements: 0, batch: cfg.PURGE_BATCH_SIZE, largest_chunk: 0, complete: false, ms: 0 };
}

/** One purge run within the budgets; fills `report` as it goes (it holds the progress if one fails). */
export async function purge(ctx: Ctx, report: PurgeReport, now = Date.now()): Promise<PurgeReport> {
  const cfg = ctx.config;
  const started = performance.now();
  const within = () => report.statements < cfg.PURGE_MAX_STATEMENTS && performance.now() - started < cfg.PURGE_TIME_BUDGET_MS;
  let pending = purgeCutoffs(cfg, now);
  try {
    while (pending.length > 0 && within()) {
      const next: typeof pending = [];
      for (const [target, cutoff] of pending) {
        if (!within()) {
          next.push([target, cutoff]);
          continue;
        }
        const removed = await deleteDeadChunk(ctx.store, target, cutoff, cfg.PURGE_BATCH_SIZE);
        report.statements += 1;
        report.removed[TABLE_OF[target]] += removed;
        report.largest_chunk = Math.max(report.largest_chunk, removed);
        if (removed >= cfg.PURGE_BATCH_SIZE) next.push([target, cutoff]);
      }
      pending = next;
    }
    report.complete = pending.length === 0;
    return report;
  } finally {
    report.ms = Math.round(performance.now() - started);
  }
}

/** The cron's job: a purge run in its own unit of work, and its one log line (a failure is logged
 *  with what the run removed before it, then rethrown so the invocation shows as failed). */
export async function scheduledPurge(env: Bindings, now = Date.now()): Promise<PurgeReport> {
  return withUnitOfWork(env, async (ctx) => {
    const report = emptyReport(ctx.config);
    try {
      await purge(ctx, report, now);
    } catch (err) {
      logLine('error', 'purge failed', { ...report, error: errorSummary(err) });
      throw err;
    }
    logLine('info', 'purge', report);
    return report;
  });
}
