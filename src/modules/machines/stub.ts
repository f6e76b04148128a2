// The machine's Durable Object (one per machine, named by its id).
import { metered } from '../../db/meter';
import type { Bindings } from '../../env';

export function machineStub(env: Bindings, id: number) {
  return metered(env.MACHINE.get(env.MACHINE.idFromName(String(id))));
}
