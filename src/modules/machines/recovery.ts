// Crash recovery of a machine's command queue, as decisions on the stored state (command-queue.ts
// carries them out, in steps 1, 4 and 5 of a command's life described there): which accepted rows
// the object does not know are adopted, what is due for the head now, and when the alarm must fire
// to look again.
import type { MachineCommand } from '../../db/schema';
import type { Config } from '../../env';
import { executionMs } from './controller';
import type { Resolution } from './repository';
import type { PendingOp, State } from './state';
import { nextStatus } from '../../contract';

export const WATCHDOG_FAILED = 'no result arrived in time (the queue lost the message)';
export const INTERRUPTED = 'the execution was interrupted (the machine object restarted)';
const NOT_APPLICABLE = 'the status after the commands accepted before it';
/** How long a saved command may wait for its send to be recorded before the alarm sends it again. */
export const SEND_GRACE_MS = 10_000;
/**
 * A sent message that has started no execution this long after it was due is sent again (the same
 * attempt; a duplicate is harmless): a local queue loses its messages when its process dies while
 * the object may live on or come back only with its alarm. The watchdog still counts from the first
 * send.
 */
const HANDOVER_MS = 30_000;

/** When a sent, unclaimed head's message is sent again if it has still started nothing. */
const handoverDue = (op: PendingOp): number => Math.max(op.enqueuedAt ?? 0, op.resentAt ?? 0) + HANDOVER_MS;

/**
 * How long a sent message may stay without an execution before the watchdog fails its command:
 * well beyond the queue's own worst case for delivering it (its retries with 2+4+8 s of backoff).
 */
function watchdogMs(cfg: Config): number {
  return 4 * cfg.MACHINE_CONTROLLER_TIMEOUT_MS + 14 * cfg.MACHINE_RETRY_BASE_SECONDS * 1000 + 5 * 60_000;
}

/**
 * The machine's PENDING rows the object does not know (a crash between the insert and the save),
 * oldest first, behind the ones it knows: each is adopted to run in its turn, or refused with the
 * reason when its command does not apply to the status the commands before it lead to.
 */
export function adopt(st: State, unknown: { id: number; command: MachineCommand }[]): { ops: PendingOp[]; refused: Resolution[] } {
  let ops = st.ops;
  const refused: Resolution[] = [];
  for (const row of unknown) {
    const projected = ops.at(-1)?.target ?? st.status;
    const target = nextStatus(projected, row.command);
    if (target) ops = [...ops, { id: row.id, command: row.command, target, claimedAt: null }];
    else refused.push({ id: row.id, result: 'INTERNALFAILED', detail: `${row.command} does not apply to ${projected}, ${NOT_APPLICABLE}` });
  }
  return { ops, refused };
}

/**
 * What is due for the head: an execution that died with a previous instance (`interrupted`: a
 * failed attempt), an unsent head (`send`; on a cold load a sent one too: its message may have died
 * with the process), a message the queue lost (`watchdog`), or one that started nothing in time
 * (`handover`: sent again).
 */
export function dueStep(head: PendingOp, at: { now: number; cold: boolean; runningHere: boolean; config: Config }) {
  if (head.claimedAt !== null) return at.runningHere ? null : 'interrupted';
  if (!head.enqueuedAt || at.cold) return 'send';
  if (at.now >= head.enqueuedAt + watchdogMs(at.config)) return 'watchdog';
  if (at.now >= handoverDue(head)) return 'handover';
  return null;
}

/** The moments a recovery step of `st` is due (an insert to finish, or the head's next step). */
export function recoveryDue(st: State | null, now: number, config: Config): number[] {
  const due: number[] = [];
  if (st?.inserting) due.push(st.inserting + SEND_GRACE_MS);
  const head = st?.ops[0];
  if (head) {
    if (head.claimedAt !== null) due.push(head.claimedAt + executionMs(config));
    else if (!head.enqueuedAt) due.push(now + SEND_GRACE_MS);
    else due.push(Math.min(handoverDue(head), head.enqueuedAt + watchdogMs(config)));
  }
  return due;
}
