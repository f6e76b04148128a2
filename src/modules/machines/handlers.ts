import { router } from '../../lib/openapi';
import { ApiError } from '../../lib/problem';
import * as routes from './routes';
import * as service from './service';
import { absoluteUrl, requestUrl } from '../../lib/links';

export const machines = router();

// Before /api/machines/{id}: "history" is not an id.
machines.openapi(routes.allHistoryRoute, async (c) => {
  return c.json(await service.callerHistory(c.env, c.get('auth').user, c.req.valid('query'), requestUrl(c)), 200);
});

machines.openapi(routes.listMachinesRoute, async (c) => {
  return c.json(await service.listMachines(c.env, c.get('auth').user, c.req.valid('query'), requestUrl(c)), 200);
});

machines.openapi(routes.createMachineRoute, async (c) => {
  const machine = await service.createMachine(c.env, c.get('auth').user, c.req.valid('json'));
  c.header('Location', absoluteUrl(c, `/api/machines/${machine.id}`));
  return c.json(service.machineView(machine), 201);
});

machines.openapi(routes.getMachineRoute, async (c) => {
  return c.json(service.machineView(await service.getMachine(c.env, c.req.valid('param').id)), 200);
});

machines.openapi(routes.putMachineRoute, async (c) => {
  return c.json(await service.updateMachine(c.env, c.get('auth').user, c.req.valid('param').id, c.req.valid('json'), true), 200);
});

machines.openapi(routes.patchMachineRoute, async (c) => {
  return c.json(await service.updateMachine(c.env, c.get('auth').user, c.req.valid('param').id, c.req.valid('json'), false), 200);
});

machines.openapi(routes.deleteMachineRoute, async (c) => {
  await service.deleteMachine(c.env, c.get('auth').user, c.req.valid('param').id);
  return c.body(null, 204);
});

machines.openapi(routes.commandRoute, async (c) => {
  const id = c.req.valid('param').id;
  const operation = await service.issueCommand(c.env, c.get('auth').user, id, c.req.valid('json').command);
  c.header('Location', absoluteUrl(c, `/api/machines/${id}/operations/${operation.id}`));
  return c.json(operation, 202);
});

machines.openapi(routes.machineHistoryRoute, async (c) => {
  const { id } = c.req.valid('param');
  return c.json(await service.machineHistory(c.env, c.get('auth').user, id, c.req.valid('query'), requestUrl(c)), 200);
});

machines.openapi(routes.operationRoute, async (c) => {
  const { id, operation_id } = c.req.valid('param');
  return c.json(await service.getOperation(c.env, c.get('auth').user, id, operation_id), 200);
});

// The socket itself is served by the machine's Durable Object, after auth and the permission check.
machines.openapi(routes.liveRoute, async (c) => {
  const { id } = c.req.valid('param');
  await service.getManagedMachine(c.env, c.get('auth').user, id);
  if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') throw new ApiError('UPGRADE_REQUIRED');
  const headers = new Headers(c.req.raw.headers);
  headers.set('x-machine-id', String(id));
  // The DO needs neither the token nor the query string.
  headers.delete('authorization');
  const res = await service.machineStub(c.env, id).fetch(new Request(`https://machine/${id}/live`, { headers }));
  return res as never;
});
