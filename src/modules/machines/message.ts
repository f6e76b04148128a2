// The body of a `machine-commands` queue message: a leaf, so the worker's bindings (src/env.ts) can
// type the queue without importing the module.
import type { MachineCommand } from '../../db/schema';

export interface CommandMessage {
  operation_id: number;
  machine_id: number;
  command: MachineCommand;
  /** Which execution of the operation this message starts (1 = the first; absent means 1). */
  attempt?: number;
}
