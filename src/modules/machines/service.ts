// Machines: CRUD, commands and history (the state machine: src/contract.ts). Services take the unit
// of work's context (`Ctx`: store, config, bindings) and plain values; data access is in ./repository. A status is only ever written from inside the machine's
// Durable Object (MachineDO), which calls the repository's writers itself.
import type { MachineCommand, MachineRow } from '../../db/schema';
import type { Store } from '../../db/store';
import { BoundedMap } from '../../lib/memo';
import type { Ctx } from '../../context';
import { userExists, type UserRow } from '../accounts';
import { errorSummary, logLine } from '../../lib/log';
import { validationError } from '../../lib/openapi';
import { cursorPage, decodeCursor, encodeCursor, offsetOf, offsetPage } from '../../lib/pagination';
import { ApiError } from '../../lib/problem';
import { controllerUrlProblem } from './controller-url';
import { ensureControllerSecret, newControllerSecret, rotateControllerSecret as rotateSecret } from './controller-secret';
import { receive } from '../../lib/outcome';
import { machineStub } from './stub';
import * as repo from './repository';
import type { MachineFields } from './repository';
import type { CreateMachineInput, HistoryInput, MachineListInput, PatchMachineInput } from './schemas';

// The state machine (MACHINE_TRANSITIONS, nextStatus) is in src/contract.ts, shared with the web
// console; the machine's Durable Object applies it.
import { machineView, operationView, type OperationView } from './views';

// ---- reads and permissions -----------------------------------------------------------------------

export async function findMachine(ctx: Ctx, id: number): Promise<MachineRow | undefined> {
  return repo.findMachine(ctx.store, id);
}

export async function getMachine(ctx: Ctx, id: number): Promise<MachineRow> {
  const row = await findMachine(ctx, id);
  if (!row) throw new ApiError('NOT_FOUND');
  return row;
}

/** Everyone authenticated reads machines; only the owner or staff change or drive one. */
export async function getManagedMachine(ctx: Ctx, user: UserRow, id: number): Promise<MachineRow> {
  const row = await getMachine(ctx, id);
  if (row.ownerId !== user.id && !user.isStaff) throw new ApiError('PERMISSION_DENIED');
  return row;
}

/** Newest first. `search` is a substring of name/location, through a trigram index (see repository.machineWhere). */
export async function listMachines(ctx: Ctx, user: UserRow, q: MachineListInput, url: string) {
  const s = ctx.store;
  const filter: repo.MachineFilter = {
    status: q.status,
    ownerId: q.owner === undefined ? undefined : q.owner === 'me' ? user.id : q.owner,
    search: q.search || undefined,
  };
  if (q.cursor) {
    const [before] = decodeCursor(q.cursor, 1);
    const page = cursorPage(url, q.page_size, await repo.listMachineRows(s, filter, q.page_size + 1, 0, before), (r) => [r.id]);
    return { ...page, results: page.results.map(machineView) };
  }
  const { rows, count } = await pageWithCount(s, filter, q.page_size, offsetOf(q));
  const page = offsetPage(url, q, count, rows.map(machineView));
  const last = rows[rows.length - 1];
  return { ...page, next_cursor: page.next && last ? encodeCursor([last.id]) : null };
}

/**
 * Exact search counts over all machines, memoised per isolate under the version of the machines'
 * searchable text: a count is read again only after a machine was created, deleted, renamed or
 * moved (status changes, the frequent writes, keep it). With `status` or `owner` the count is read
 * with the page (status moves with every command; an owner's machines are few).
 */
const searchCounts = new BoundedMap<string, number>(2000);

async function pageWithCount(s: Store, f: repo.MachineFilter, limit: number, offset: number): Promise<{ rows: MachineRow[]; count: number }> {
  if (!f.search || f.status !== undefined || f.ownerId !== undefined) return repo.machinePage(s, f, limit, offset);
  const { rows, version } = await repo.machinePageAndVersion(s, f, limit, offset);
  const known = searchCounts.get(`${version}|${f.search}`);
  if (known !== undefined) return { rows, count: known };
  const counted = await repo.countAtVersion(s, f);
  searchCounts.set(`${counted.version}|${f.search}`, counted.count);
  return { rows, count: counted.count };
}

// ---- writes --------------------------------------------------------------------------------------

function checkControllerUrl(ctx: Ctx, url: string | null | undefined): void {
  if (!url) return;
  const problem = controllerUrlProblem(url, ctx.config.ALLOW_INSECURE_CONTROLLER_URLS);
  if (problem) throw validationError([{ path: 'controller_url', message: problem }]);
}

/** A new owner: `owner_id` counts only for staff, and must name a user; undefined when unchanged. */
async function resolveOwner(ctx: Ctx, user: UserRow, requested: number | undefined, current: number): Promise<number | undefined> {
  if (requested === undefined || !user.isStaff || requested === current) return undefined;
  if (!(await userExists(ctx.store, requested))) throw validationError([{ path: 'owner_id', message: 'no such user' }]);
  return requested;
}

/** A new machine; with a controller_url, its controller secret too (in the same insert), to answer once. */
export async function createMachine(
  ctx: Ctx,
  user: UserRow,
  input: CreateMachineInput,
): Promise<{ row: MachineRow; controllerSecret: string | null }> {
  checkControllerUrl(ctx, input.controller_url);
  const ownerId = (await resolveOwner(ctx, user, input.owner_id, user.id)) ?? user.id;
  const secret = input.controller_url ? await newControllerSecret(ctx.config) : null;
  const row = await repo.insertMachine(ctx.store, {
    name: input.name,
    location: input.location,
    status: input.status ?? 'POWEROFF',
    ownerId,
    controllerUrl: input.controller_url ?? null,
    controllerSecret: secret?.sealed ?? null,
  });
  return { row, controllerSecret: secret?.secret ?? null };
}

/** POST /api/machines/{id}/controller-secret: a new secret; the previous one signs for 24 h more. */
export async function rotateControllerSecret(ctx: Ctx, user: UserRow, id: number) {
  await getManagedMachine(ctx, user, id);
  const rotated = await rotateSecret(ctx.store, ctx.config, id);
  if (!rotated) throw new ApiError('NOT_FOUND');
  return rotated;
}

/** The view after a PUT/PATCH, with the controller secret when this write gave the machine its first one. */
async function withFirstSecret(ctx: Ctx, view: ReturnType<typeof machineView>) {
  if (!view.controller_url) return view;
  const secret = await ensureControllerSecret(ctx.store, ctx.config, view.id);
  return secret ? { ...view, controller_secret: secret } : view;
}

export type { MachineFields };

/**
 * PUT (`replace`) or PATCH. A `status` or a new owner goes through the machine's Durable Object,
 * which refuses a status change while a command is pending (MACHINE_BUSY) and orders a transfer
 * against the commands it accepts; other fields are written here, never touching either.
 */
export async function updateMachine(ctx: Ctx, user: UserRow, id: number, input: PatchMachineInput, replace: boolean) {
  const row = await getManagedMachine(ctx, user, id);
  checkControllerUrl(ctx, input.controller_url);
  const fields: MachineFields = {
    name: input.name,
    location: input.location,
    controllerUrl: replace ? (input.controller_url ?? null) : input.controller_url,
    ownerId: await resolveOwner(ctx, user, input.owner_id, row.ownerId),
  };
  if (input.status !== undefined || fields.ownerId !== undefined) {
    return withFirstSecret(ctx, receive(ctx.store, await machineStub(ctx.env, id).updateMachine(id, fields, input.status)));
  }
  const updated = await repo.updateMachineRow(ctx.store, id, fields);
  if (!updated) throw new ApiError('NOT_FOUND');
  return withFirstSecret(ctx, machineView(updated));
}

export async function deleteMachine(ctx: Ctx, user: UserRow, id: number): Promise<void> {
  await getManagedMachine(ctx, user, id);
  receive(ctx.store, await machineStub(ctx.env, id).destroy(id));
}

/**
 * Accepts a command: the DO validates it, records it PENDING for the machine's owner and queues it.
 * The DO checks the permission again in the insert, so a transfer in between is never bypassed.
 */
export async function issueCommand(ctx: Ctx, user: UserRow, id: number, command: MachineCommand): Promise<OperationView> {
  await getManagedMachine(ctx, user, id);
  return receive(ctx.store, await machineStub(ctx.env, id).command({ machineId: id, workerId: user.id, isStaff: user.isStaff, command }));
}

// ---- history -------------------------------------------------------------------------------------

function historyPage(ctx: Ctx, filter: repo.OperationFilter, q: HistoryInput, url: string) {
  const s = ctx.store;
  const f: repo.OperationFilter = { ...filter, result: q.result, command: q.command };
  return newestFirst(
    q,
    url,
    operationView,
    (limit, offset, before) => repo.listOperationRows(s, f, limit, offset, before),
    () => repo.countOperations(s, f),
  );
}

/**
 * Newest first by id: with `cursor`, a keyset page (constant time at any depth, no count);
 * otherwise an offset page with its count, which also offers a cursor to continue from.
 */
async function newestFirst<R extends { id: number }, V>(
  q: { cursor?: string; page: number; page_size: number },
  url: string,
  view: (row: R) => V,
  rows: (limit: number, offset: number, beforeId?: number) => Promise<R[]>,
  total: () => Promise<number>,
) {
  if (q.cursor) {
    const [before] = decodeCursor(q.cursor, 1);
    const page = cursorPage(url, q.page_size, await rows(q.page_size + 1, 0, before), (r) => [r.id]);
    return { ...page, results: page.results.map(view) };
  }
  const [found, count] = await Promise.all([rows(q.page_size, offsetOf(q)), total()]);
  const page = offsetPage(url, q, count, found.map(view));
  const last = found[found.length - 1];
  return { ...page, next_cursor: page.next && last ? encodeCursor([last.id]) : null };
}

export async function machineHistory(ctx: Ctx, user: UserRow, id: number, q: HistoryInput, url: string) {
  // The permission check and the page run concurrently (one round trip less); nothing is
  // returned unless the check passes.
  const [, page] = await Promise.all([getManagedMachine(ctx, user, id), historyPage(ctx, { machineId: id }, q, url)]);
  return page;
}

/** Operations on the caller's machines (staff included: this list is "mine", not "all"). */
export async function callerHistory(ctx: Ctx, user: UserRow, q: HistoryInput, url: string) {
  return historyPage(ctx, { machineOwnerId: user.id, machineId: q.machine_id }, q, url);
}

export async function getOperation(ctx: Ctx, user: UserRow, id: number, operationId: number): Promise<OperationView> {
  await getManagedMachine(ctx, user, id);
  const row = await repo.findOperation(ctx.store, id, operationId);
  if (!row) throw new ApiError('NOT_FOUND');
  return operationView(row);
}

// ---- /live and revocations --------------------------------------------------------------------------

/** Machines whose objects re-check at the same time (a user watching many machines). */
const RECHECK_FANOUT = 16;

/**
 * Called after a revocation has committed (registered with accounts' onAccessRevoked in src/app.ts):
 * the objects of the machines the session (or, without `sessionId`, the user) watches re-check that
 * user's sockets now and close those whose right ended (4401, 4403). One query here (none of the
 * objects are asked when nothing is watched), then one RPC per watched machine. A failure is logged,
 * not answered: the revocation stands, and the object's check before its next event still closes the
 * socket.
 */
export async function closeRevokedWatchers(ctx: Ctx, who: { userId: number; sessionId?: string }): Promise<void> {
  const ids = await repo.watchedMachines(ctx.store, who, Date.now());
  for (let i = 0; i < ids.length; i += RECHECK_FANOUT) {
    await Promise.all(
      ids.slice(i, i + RECHECK_FANOUT).map((id) =>
        machineStub(ctx.env, id)
          .closeRevoked(id, who.userId)
          .catch((err: unknown) =>
            logLine('error', 'live sockets not re-checked', { machine_id: id, user_id: who.userId, error: errorSummary(err) }),
          ),
      ),
    );
  }
}
