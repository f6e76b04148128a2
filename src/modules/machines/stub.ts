// The machine's Durable Object (one per machine, named by its id).
import type { Bindings } from '../../env';

export function machineStub(env: Bindings, id: number) {
  return env.MACHINE.get(env.MACHINE.idFromName(String(id)));
}
