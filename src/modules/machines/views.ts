// A machine and an operation as the API shows them: used by the routes' handlers, the service and
// the Durable Object (its RPC results and live events), so it imports neither.
import type { MachineRow, OperationRow } from '../../db/schema';
import { isoOrNull } from '../../lib/openapi';

export function machineView(m: MachineRow) {
  return {
    id: m.id,
    name: m.name,
    location: m.location,
    status: m.status,
    owner_id: m.ownerId,
    controller_url: m.controllerUrl,
    created_at: new Date(m.createdAt).toISOString(),
    updated_at: new Date(m.updatedAt).toISOString(),
  };
}

export function operationView(o: OperationRow) {
  return {
    id: o.id,
    machine_id: o.machineId,
    machine_owner_id: o.machineOwnerId,
    worker_id: o.workerId,
    command: o.command,
    result: o.result,
    request_datetime: new Date(o.requestDatetime).toISOString(),
    completed_at: isoOrNull(o.completedAt),
    detail: o.detail,
  };
}

export type MachineView = ReturnType<typeof machineView>;
export type OperationView = ReturnType<typeof operationView>;
