import { router } from '../../lib/openapi';
import { ApiError } from '../../lib/problem';
import * as routes from './routes';
import * as service from './service';
import { machineView } from './views';
import { machineStub } from './stub';
import { absoluteUrl, requestUrl } from '../../lib/links';

export const machines = router();

// Before /api/machines/{id}: "history" is not an id.
machines.openapi(routes.allHistoryRoute, async (c) => {
  return c.json(await service.callerHistory(c.var.ctx, c.get('auth').user, c.req.valid('query'), requestUrl(c)), 200);
});

machines.openapi(routes.listMachinesRoute, async (c) => {
  return c.json(await service.listMachines(c.var.ctx, c.get('auth').user, c.req.valid('query'), requestUrl(c)), 200);
});

machines.openapi(routes.createMachineRoute, async (c) => {
  const { row, controllerSecret } = await service.createMachine(c.var.ctx, c.get('auth').user, c.req.valid('json'));
  c.header('Location', absoluteUrl(c, `/api/machines/${row.id}`));
  // The secret is answered this once: never stored by a cache.
  if (controllerSecret) c.header('Cache-Control', 'no-store');
  return c.json({ ...machineView(row), ...(controllerSecret ? { controller_secret: controllerSecret } : {}) }, 201);
});

machines.openapi(routes.controllerSecretRoute, async (c) => {
  c.header('Cache-Control', 'no-store');
  return c.json(await service.rotateControllerSecret(c.var.ctx, c.get('auth').user, c.req.valid('param').id), 201);
});

machines.openapi(routes.getMachineRoute, async (c) => {
  return c.json(machineView(await service.getMachine(c.var.ctx, c.req.valid('param').id)), 200);
});

machines.openapi(routes.putMachineRoute, async (c) => {
  return c.json(await service.updateMachine(c.var.ctx, c.get('auth').user, c.req.valid('param').id, c.req.valid('json'), true), 200);
});

machines.openapi(routes.patchMachineRoute, async (c) => {
  return c.json(await service.updateMachine(c.var.ctx, c.get('auth').user, c.req.valid('param').id, c.req.valid('json'), false), 200);
});

machines.openapi(routes.deleteMachineRoute, async (c) => {
  await service.deleteMachine(c.var.ctx, c.get('auth').user, c.req.valid('param').id);
  return c.body(null, 204);
});

machines.openapi(routes.commandRoute, async (c) => {
  const id = c.req.valid('param').id;
  const operation = await service.issueCommand(c.var.ctx, c.get('auth').user, id, c.req.valid('json').command);
  c.header('Location', absoluteUrl(c, `/api/machines/${id}/operations/${operation.id}`));
  return c.json(operation, 202);
});

machines.openapi(routes.machineHistoryRoute, async (c) => {
  const { id } = c.req.valid('param');
  return c.json(await service.machineHistory(c.var.ctx, c.get('auth').user, id, c.req.valid('query'), requestUrl(c)), 200);
});

machines.openapi(routes.operationRoute, async (c) => {
  const { id, operation_id } = c.req.valid('param');
  return c.json(await service.getOperation(c.var.ctx, c.get('auth').user, id, operation_id), 200);
});

// The socket itself is served by the machine's Durable Object, after auth and the permission check.
machines.openapi(routes.liveRoute, async (c) => {
  const { id } = c.req.valid('param');
  const { user, sessionId, tokenExp } = c.get('auth');
  await service.getManagedMachine(c.var.ctx, user, id);
  if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') throw new ApiError('UPGRADE_REQUIRED');
  const headers = new Headers(c.req.raw.headers);
  headers.set('x-machine-id', String(id));
  // The socket keeps the right that opened it: the DO closes it when the session, the user's
  // activity, the token or the permission to watch the machine ends.
  headers.set('x-user-id', String(user.id));
  headers.set('x-session-id', sessionId);
  headers.set('x-token-exp', String(tokenExp ?? 0));
  // The DO needs neither the token nor the query string.
  headers.delete('authorization');
  const res = await machineStub(c.env, id).fetch(new Request(`https://machine/${id}/live`, { headers }));
  if (res.status === 404) throw new ApiError('NOT_FOUND'); // deleted meanwhile
  if (res.status === 409) throw new ApiError('LIVE_SOCKET_LIMIT');
  // The right ended between the checks above and the object's own (a logout or transfer meanwhile).
  if (res.status === 401) throw new ApiError('INVALID_TOKEN');
  if (res.status === 403) throw new ApiError('PERMISSION_DENIED');
  return res as never;
});
