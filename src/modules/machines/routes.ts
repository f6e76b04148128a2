import { createRoute, z } from '@hono/zod-openapi';
import { auth, readAuth, requireAuth } from '../accounts';
import { bearer, IdParam, jsonBody, jsonResponse } from '../../lib/openapi';
import { errorResponses } from '../../lib/problem';
import {
  AllHistoryQuery,
  CommandBody,
  CreateMachineBody,
  HistoryQuery,
  MachineListQuery,
  MachinePageSchema,
  MachineSchema,
  MachineWithSecretSchema,
  ControllerSecretSchema,
  OperationPageSchema,
  OperationParams,
  OperationSchema,
  PatchMachineBody,
  PutMachineBody,
} from './schemas';

const tags = ['machines'];
const common = { tags, security: bearer };

const PERMISSIONS = `Every authenticated user reads machines; only the owner or staff change, drive or watch one
(403 \`PERMISSION_DENIED\` for others: machines are not private, so their existence is not hidden).`;

export const listMachinesRoute = createRoute({
  operationId: 'listMachines',
  ...common,
  // Every authenticated user reads machines: the session check rides with the read (readAuth).
  middleware: [readAuth] as const,
  method: 'get',
  path: '/api/machines',
  summary: 'List machines',
  description: `Newest first. Filters: \`status\`, \`owner=me\` (or an owner id), \`search\` (case-insensitive substring
of name or location). Paging by \`page\`/\`page_size\`, or by \`cursor\` (from \`next_cursor\`) in constant time at any depth.`,
  request: { query: MachineListQuery },
  responses: { 200: jsonResponse(MachinePageSchema, 'A page of machines.'), ...errorResponses(['NOT_FOUND'], { auth: true }) },
});

export const createMachineRoute = createRoute({
  operationId: 'createMachine',
  ...common,
  middleware: [auth] as const,
  method: 'post',
  path: '/api/machines',
  summary: 'Create a machine',
  description: `The caller owns the new machine (staff may name another owner with \`owner_id\`; it is ignored for
everyone else). \`status\` defaults to POWEROFF. \`controller_url\` must be \`https://\` and must not name a private,
loopback or link-local host or IP in any spelling (local development with ALLOW_INSECURE_CONTROLLER_URLS=true also
accepts \`http://\` and loopback); without one the built-in simulator executes commands.
With a \`controller_url\`, the answer carries \`controller_secret\` (\`whsec_…\`), shown this once: every command sent to
the controller is signed with it (Standard Webhooks), so the device can refuse anyone else.`,
  request: { body: jsonBody(CreateMachineBody) },
  responses: {
    201: jsonResponse(MachineWithSecretSchema, 'The new machine (with `controller_secret` when it has a controller_url).'),
    ...errorResponses([], { auth: true, body: true }),
  },
});

export const allHistoryRoute = createRoute({
  operationId: 'listMyMachineOperations',
  ...common,
  middleware: [auth] as const,
  method: 'get',
  path: '/api/machines/history',
  summary: 'Operations on the caller’s machines',
  description: `Newest first, across every machine the caller owns now (staff too: this is "mine", not "all").
Filters: \`result\`, \`command\`, \`machine_id\`. Paging by \`page\`/\`page_size\` or \`cursor\`.`,
  request: { query: AllHistoryQuery },
  responses: { 200: jsonResponse(OperationPageSchema, 'A page of operations.'), ...errorResponses(['NOT_FOUND'], { auth: true }) },
});

export const getMachineRoute = createRoute({
  operationId: 'getMachine',
  ...common,
  // Every authenticated user reads machines: the session check rides with the read (readAuth).
  middleware: [readAuth] as const,
  method: 'get',
  path: '/api/machines/{id}',
  summary: 'One machine',
  description: 'Every authenticated user may read any machine (machines are not private).',
  request: { params: IdParam },
  responses: { 200: jsonResponse(MachineSchema, 'The machine.'), ...errorResponses(['NOT_FOUND'], { auth: true }) },
});

const UPDATE_DESCRIPTION = `${PERMISSIONS}
\`owner_id\` is honoured for staff only: it transfers the machine with its whole history, commands still pending
included (see the command route: an operation belongs to the machine's owner). The transfer is applied by the
machine's Durable Object in order with the commands it accepts; the old owner's \`/live\` sockets close (4403).
A \`status\` in the body is applied by that Durable Object too, the single writer of the status: a change while a
command is pending is 409 \`MACHINE_BUSY\`. Setting \`status\` directly bypasses the state machine (it is an
administrative override).
The first time a machine gets a \`controller_url\` (and has no controller secret yet), the answer carries
\`controller_secret\`, shown this once.`;

export const putMachineRoute = createRoute({
  operationId: 'replaceMachine',
  ...common,
  middleware: [auth] as const,
  method: 'put',
  path: '/api/machines/{id}',
  summary: 'Replace a machine',
  description: UPDATE_DESCRIPTION,
  request: { params: IdParam, body: jsonBody(PutMachineBody) },
  responses: {
    200: jsonResponse(MachineWithSecretSchema, 'The machine (with `controller_secret` the first time a controller_url is set).'),
    ...errorResponses(['PERMISSION_DENIED', 'NOT_FOUND', 'MACHINE_BUSY'], { auth: true, body: true }),
  },
});

export const patchMachineRoute = createRoute({
  operationId: 'updateMachine',
  ...common,
  middleware: [auth] as const,
  method: 'patch',
  path: '/api/machines/{id}',
  summary: 'Update a machine',
  description: UPDATE_DESCRIPTION,
  request: { params: IdParam, body: jsonBody(PatchMachineBody) },
  responses: putMachineRoute.responses,
});

export const deleteMachineRoute = createRoute({
  operationId: 'deleteMachine',
  ...common,
  middleware: [auth] as const,
  method: 'delete',
  path: '/api/machines/{id}',
  summary: 'Delete a machine',
  description: `${PERMISSIONS} Its history goes with it; pending commands are dropped and open /live sockets are closed.`,
  request: { params: IdParam },
  responses: { 204: { description: 'Deleted.' }, ...errorResponses(['PERMISSION_DENIED', 'NOT_FOUND'], { auth: true }) },
});

export const controllerSecretRoute = createRoute({
  operationId: 'rotateMachineControllerSecret',
  ...common,
  middleware: [auth] as const,
  method: 'post',
  path: '/api/machines/{id}/controller-secret',
  summary: 'Make a new controller secret',
  description: `${PERMISSIONS}
Makes a new controller secret and answers it, this once. For 24 hours (\`previous_valid_until\`) every command carries
two signatures in \`webhook-signature\`, one per secret, so a device can switch to the new secret without downtime;
then only the new one signs. A machine made before controller secrets existed gets its first one here
(\`previous_valid_until\` is null when there was no secret). The secret is never answered by any GET.`,
  request: { params: IdParam },
  responses: {
    201: jsonResponse(ControllerSecretSchema, 'The new secret.'),
    ...errorResponses(['PERMISSION_DENIED', 'NOT_FOUND'], { auth: true }),
  },
});

export const commandRoute = createRoute({
  operationId: 'sendMachineCommand',
  ...common,
  middleware: [auth] as const,
  method: 'post',
  path: '/api/machines/{id}/operation',
  summary: 'Send a command (asynchronous)',
  description: `${PERMISSIONS}
State machine: POWER_ON POWEROFF→READY; START READY|PAUSE→RUNNING; PAUSE RUNNING→PAUSE; STOP RUNNING|PAUSE→READY;
POWER_OFF READY→POWEROFF; RESET ERROR→READY. The command is checked against the status the machine will have
after the commands already accepted (409 \`INVALID_STATE_TRANSITION\` at once otherwise, naming that status as \`machine_status\`),
recorded as PENDING and answered 202 with a \`Location\` to poll. Commands of one machine execute one at a time,
in order. Results: SUCCESS (the new status), REMOTEFAILED (the controller answered non-2xx; status ERROR, RESET
recovers it) or INTERNALFAILED (the controller was unreachable after 3 retries with exponential backoff; status
unchanged). A failure cancels the commands queued behind it (INTERNALFAILED, \`detail\` says why). A command
without any result long after its retries could have ended is failed by a watchdog, so a lost message never
blocks a machine, and a command survives a restart of the service at any point (it completes or fails, it is
never left PENDING). The operation id is the idempotency key: a redelivered message never applies twice, and the
controller receives it as \`Idempotency-Key\`.
Ownership: an operation belongs to the machine's owner (\`machine_owner_id\`; \`worker_id\` is who issued it). It is
recorded for the owner at the moment it is accepted, and a transfer moves it, pending or not, with the rest of the
history: the new owner is answerable for the machine's state, including the results of commands still in flight,
and the old owner can no longer read the machine's history. The machine's Durable Object orders transfers and
commands, so a command accepted before a transfer moves with it, and a command that arrives after it is checked
against the new owner (403 \`PERMISSION_DENIED\` for the old one).`,
  request: { params: IdParam, body: jsonBody(CommandBody) },
  responses: {
    202: {
      ...jsonResponse(OperationSchema, 'Accepted: the PENDING operation.'),
      headers: z.object({ Location: z.string().openapi({ description: 'Absolute URL of the operation, to poll.' }) }),
    },
    ...errorResponses(['PERMISSION_DENIED', 'NOT_FOUND', 'INVALID_STATE_TRANSITION'], { auth: true, body: true }),
  },
});

export const machineHistoryRoute = createRoute({
  operationId: 'listMachineOperations',
  ...common,
  middleware: [auth] as const,
  method: 'get',
  path: '/api/machines/{id}/history',
  summary: 'A machine’s operations',
  description: `${PERMISSIONS} Newest first; filters \`result\` and \`command\`; paging by \`page\`/\`page_size\` or \`cursor\`.`,
  request: { params: IdParam, query: HistoryQuery },
  responses: {
    200: jsonResponse(OperationPageSchema, 'A page of operations.'),
    ...errorResponses(['PERMISSION_DENIED', 'NOT_FOUND'], { auth: true }),
  },
});

export const operationRoute = createRoute({
  operationId: 'getMachineOperation',
  ...common,
  middleware: [auth] as const,
  method: 'get',
  path: '/api/machines/{id}/operations/{operation_id}',
  summary: 'One operation (poll it until `result` is not PENDING)',
  description: PERMISSIONS,
  request: { params: OperationParams },
  responses: { 200: jsonResponse(OperationSchema, 'The operation.'), ...errorResponses(['PERMISSION_DENIED', 'NOT_FOUND'], { auth: true }) },
});

export const liveRoute = createRoute({
  operationId: 'watchMachine',
  tags,
  security: bearer,
  middleware: [requireAuth({ allowQueryToken: true })] as const,
  method: 'get',
  path: '/api/machines/{id}/live',
  summary: 'Live updates (WebSocket)',
  description: `${PERMISSIONS}
A WebSocket served by the machine's Durable Object (hibernation API: idle sockets cost nothing). The token comes
from \`Authorization: Bearer\` or, since browsers cannot set headers on a WebSocket, \`?access_token=\`.
Events are JSON text frames:
- on connect, and when the client sends \`status\`: \`{ "type": "status", "machine_id", "status", "previous": null, "pending_operations": [{ "id", "command" }], "at" }\`
- on every status change: \`{ "type": "status", "machine_id", "status", "previous", "at" }\`
- when a command is accepted and when its result arrives: \`{ "type": "operation", "operation": Operation }\`
- when the machine is deleted: \`{ "type": "deleted", "machine_id" }\`, then the socket closes.
Sending \`ping\` answers \`pong\` without waking the object.
A socket lives only as long as the right that opened it, and is closed as soon as that right ends, events or not:
with code 4401 when the access token expires (reason \`token expired\`), or when its session is logged out or revoked
(refresh-token reuse, a password change from another session) or its user deactivated (\`session ended\`, once the
revocation has committed); with 4403 (\`permission lost\`) when its user may no longer watch the machine (a transfer
to another owner, staff rights withdrawn). A client reconnects with a fresh token.
One user may keep 8 sockets open on one machine; the next upgrade is 409 \`LIVE_SOCKET_LIMIT\` until one closes.
A socket may send 20 frames (\`status\` or anything else; \`ping\` does not count) per 10 seconds; past that it is
closed with 4429 (\`too many messages\`).`,
  request: {
    params: IdParam,
    query: z.object({ access_token: z.string().optional().openapi({ description: 'The access token, for browsers.' }) }),
  },
  responses: {
    101: {
      description: 'Switching protocols: the connection is now the WebSocket (send `Upgrade: websocket`; anything else is 426).',
      headers: z.object({
        Upgrade: z.literal('websocket'),
        Connection: z.literal('Upgrade'),
        'Sec-WebSocket-Accept': z.string().openapi({ description: 'RFC 6455 handshake answer to Sec-WebSocket-Key.' }),
      }),
    },
    ...errorResponses(['PERMISSION_DENIED', 'NOT_FOUND', 'LIVE_SOCKET_LIMIT', 'UPGRADE_REQUIRED'], { auth: true }),
  },
});
