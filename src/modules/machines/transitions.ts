// The machine state machine: which statuses each command applies in, and the status it leads to. A
// leaf, so the service (validation before a command is sent) and the Durable Object (validation
// against the status its queued commands lead to) share it without importing each other.
import type { MachineCommand, MachineStatus } from '../../db/schema';

export const TRANSITIONS: Record<MachineCommand, { from: readonly MachineStatus[]; to: MachineStatus }> = {
  POWER_ON: { from: ['POWEROFF'], to: 'READY' },
  START: { from: ['READY', 'PAUSE'], to: 'RUNNING' },
  PAUSE: { from: ['RUNNING'], to: 'PAUSE' },
  STOP: { from: ['RUNNING', 'PAUSE'], to: 'READY' },
  POWER_OFF: { from: ['READY'], to: 'POWEROFF' },
  RESET: { from: ['ERROR'], to: 'READY' },
};

/** The status after `command`, or null when the command does not apply in `status`. */
export function nextStatus(status: MachineStatus, command: MachineCommand): MachineStatus | null {
  const t = TRANSITIONS[command];
  return t.from.includes(status) ? t.to : null;
}
