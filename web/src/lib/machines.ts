// The machine state machine as the API enforces it (shared with the worker: src/contract.ts), and how
// live events change what the console shows.
import { MACHINE_TRANSITIONS as TRANSITIONS } from '../../../src/contract';
import type { Command, LiveEvent, Machine, MachineStatus } from './types';

export const allowedFrom = (command: Command): readonly MachineStatus[] => TRANSITIONS[command].from;

export interface PendingCommand {
  id: number;
  command: Command;
}

/**
 * The status the API checks a new command against: the current one after the commands already
 * accepted have run (the API queues them in order).
 */
export function projectedStatus(status: MachineStatus, pending: PendingCommand[]): MachineStatus {
  return pending.reduce<MachineStatus>((_, p) => TRANSITIONS[p.command].to, status);
}

export const canRun = (command: Command, status: MachineStatus, pending: PendingCommand[]) =>
  TRANSITIONS[command].from.includes(projectedStatus(status, pending));

/** A machine as the board shows it: its row plus the commands still pending. */
export interface LiveMachine extends Machine {
  pending: PendingCommand[];
}

/** Applies one live event to a machine. */
export function applyEvent(m: LiveMachine, event: LiveEvent): LiveMachine {
  if (event.type === 'status') {
    return { ...m, status: event.status, pending: event.pending_operations ?? m.pending };
  }
  if (event.type === 'operation') {
    const op = event.operation;
    const others = m.pending.filter((p) => p.id !== op.id);
    return { ...m, pending: op.result === 'PENDING' ? [...others, { id: op.id, command: op.command }] : others };
  }
  return m;
}
