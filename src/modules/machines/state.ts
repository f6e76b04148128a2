// What MachineDO keeps in its storage (command-queue.ts writes it; recovery.ts reads what a crash
// left in it; live.ts shows it to a socket).
import type { MachineCommand, MachineStatus } from '../../db/schema';

export interface PendingOp {
  id: number;
  command: MachineCommand;
  /** The status this command leads to when it succeeds. */
  target: MachineStatus;
  /** When the current execution started (the claim); null while none runs. */
  claimedAt: number | null;
  /** When its current message is due on the queue (sent + backoff); null until the send is recorded. */
  enqueuedAt?: number | null;
  /** When that message was last sent again because it had started no execution (HANDOVER_MS). */
  resentAt?: number | null;
  /** Executions that ended in a retryable failure so far. */
  failures?: number;
}

export interface State {
  machineId: number;
  status: MachineStatus;
  ops: PendingOp[];
  /** Set while an operation row is being inserted (command-queue.ts, step 1). */
  inserting?: number | null;
}
