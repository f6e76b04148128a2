// Machines: CRUD, the state machine, commands and history. Services take the bindings and plain
// values; MachineDO and the queue consumers call the D1 writers at the bottom of this file, so a
// status is only ever written from inside the machine's Durable Object.
import { and, count, desc, eq, inArray, lt, or, sql, type SQL } from 'drizzle-orm';
import './codes';
import { getDb } from '../../db/client';
import {
  machineOperations,
  machines,
  users,
  type MachineCommand,
  type MachineRow,
  type MachineStatus,
  type OperationResult,
  type OperationRow,
} from '../../db/schema';
import { config, type Bindings } from '../../env';
import type { UserRow } from '../../lib/auth';
import { isoOrNull, validationError } from '../../lib/openapi';
import { cursorPage, decodeCursor, encodeCursor, offsetOf, offsetPage } from '../../lib/pagination';
import { ApiError } from '../../lib/problem';
import { controllerUrlProblem } from './controller-url';
import type { CommandOutcome, UpdateOutcome } from './machine.do';
import type { CreateMachineInput, HistoryInput, MachineListInput, PatchMachineInput } from './schemas';

// ---- the state machine -------------------------------------------------------------------------

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

// ---- views ---------------------------------------------------------------------------------------

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

export type OperationView = ReturnType<typeof operationView>;

// ---- reads and permissions -----------------------------------------------------------------------

export async function findMachine(env: Bindings, id: number): Promise<MachineRow | undefined> {
  return getDb(env.DB).select().from(machines).where(eq(machines.id, id)).get();
}

export async function getMachine(env: Bindings, id: number): Promise<MachineRow> {
  const row = await findMachine(env, id);
  if (!row) throw new ApiError('NOT_FOUND');
  return row;
}

/** Everyone authenticated reads machines; only the owner or staff change or drive one. */
export async function getManagedMachine(env: Bindings, user: UserRow, id: number): Promise<MachineRow> {
  const row = await getMachine(env, id);
  if (row.ownerId !== user.id && !user.isStaff) throw new ApiError('PERMISSION_DENIED');
  return row;
}

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (ch) => `\\${ch}`);
}

/** Newest first. `search` is a substring scan of name/location (bounded by the other filters). */
export async function listMachines(env: Bindings, user: UserRow, q: MachineListInput, url: string) {
  const db = getDb(env.DB);
  const where: SQL[] = [];
  if (q.status) where.push(eq(machines.status, q.status));
  if (q.owner !== undefined) where.push(eq(machines.ownerId, q.owner === 'me' ? user.id : q.owner));
  if (q.search) {
    const pattern = `%${escapeLike(q.search)}%`;
    where.push(or(sql`${machines.name} LIKE ${pattern} ESCAPE '\\'`, sql`${machines.location} LIKE ${pattern} ESCAPE '\\'`)!);
  }
  return newestFirst(
    q,
    url,
    machineView,
    (limit, offset, before) =>
      db.select().from(machines).where(and(...where, before ? lt(machines.id, before) : undefined)).orderBy(desc(machines.id)).limit(limit).offset(offset).all(),
    async () => (await db.select({ n: count() }).from(machines).where(and(...where)).get())?.n ?? 0,
  );
}

// ---- writes --------------------------------------------------------------------------------------

function checkControllerUrl(env: Bindings, url: string | null | undefined): void {
  if (!url) return;
  const problem = controllerUrlProblem(url, config(env).ALLOW_INSECURE_CONTROLLER_URLS);
  if (problem) throw validationError([{ path: 'controller_url', message: problem }]);
}

/** `owner_id` counts only for staff; the new owner must exist. */
async function resolveOwner(env: Bindings, user: UserRow, requested: number | undefined, current: number): Promise<number> {
  if (requested === undefined || !user.isStaff || requested === current) return current;
  const found = await getDb(env.DB).select({ id: users.id }).from(users).where(eq(users.id, requested)).get();
  if (!found) throw validationError([{ path: 'owner_id', message: 'no such user' }]);
  return requested;
}

export async function createMachine(env: Bindings, user: UserRow, input: CreateMachineInput): Promise<MachineRow> {
  checkControllerUrl(env, input.controller_url);
  const ownerId = await resolveOwner(env, user, input.owner_id, user.id);
  const now = Date.now();
  return getDb(env.DB)
    .insert(machines)
    .values({
      name: input.name,
      location: input.location,
      status: input.status ?? 'POWEROFF',
      ownerId,
      controllerUrl: input.controller_url ?? null,
      createdAt: now,
      updatedAt: now,
    })
    .returning()
    .get();
}

/** The columns of a PUT/PATCH other than status, as D1 values. */
export interface MachineFields {
  name?: string;
  location?: string;
  controllerUrl?: string | null;
  ownerId?: number;
}

/**
 * PUT (`replace`) or PATCH. Anything that carries `status` goes through the machine's Durable
 * Object, which refuses a change while a command is pending (MACHINE_BUSY); other fields are
 * written here, never touching `status`.
 */
export async function updateMachine(env: Bindings, user: UserRow, id: number, input: PatchMachineInput, replace: boolean) {
  const row = await getManagedMachine(env, user, id);
  checkControllerUrl(env, input.controller_url);
  const fields: MachineFields = {
    name: input.name,
    location: input.location,
    controllerUrl: replace ? (input.controller_url ?? null) : input.controller_url,
    ownerId: await resolveOwner(env, user, input.owner_id, row.ownerId),
  };
  if (input.status !== undefined) {
    const out = (await machineStub(env, id).update(id, fields, input.status)) as UpdateOutcome;
    if ('error' in out) throw new ApiError(out.error);
    return out.machine;
  }
  const updated = await writeMachine(env, id, fields);
  if (!updated) throw new ApiError('NOT_FOUND');
  return machineView(updated);
}

export async function deleteMachine(env: Bindings, user: UserRow, id: number): Promise<void> {
  await getManagedMachine(env, user, id);
  await machineStub(env, id).destroy(id);
}

export function machineStub(env: Bindings, id: number) {
  return env.MACHINE.get(env.MACHINE.idFromName(String(id)));
}

/** Accepts a command: the DO validates it, records it PENDING and queues it. */
export async function issueCommand(env: Bindings, user: UserRow, id: number, command: MachineCommand): Promise<OperationView> {
  const row = await getManagedMachine(env, user, id);
  // RPC erases the union's narrowing; the DO's declared outcome types restore it.
  const out = (await machineStub(env, id).command({ machineId: id, ownerId: row.ownerId, workerId: user.id, command })) as CommandOutcome;
  if ('error' in out) throw new ApiError(out.error, { extras: out.extras });
  return out.operation;
}

// ---- history -------------------------------------------------------------------------------------

async function historyPage(env: Bindings, where: SQL[], q: HistoryInput, url: string) {
  const db = getDb(env.DB);
  if (q.result) where.push(eq(machineOperations.result, q.result));
  if (q.command) where.push(eq(machineOperations.command, q.command));
  return newestFirst(
    q,
    url,
    operationView,
    (limit, offset, before) =>
      db
        .select()
        .from(machineOperations)
        .where(and(...where, before ? lt(machineOperations.id, before) : undefined))
        .orderBy(desc(machineOperations.id))
        .limit(limit)
        .offset(offset)
        .all(),
    async () => (await db.select({ n: count() }).from(machineOperations).where(and(...where)).get())?.n ?? 0,
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

export async function machineHistory(env: Bindings, user: UserRow, id: number, q: HistoryInput, url: string) {
  // The permission check and the page run concurrently (one D1 round trip less); nothing is
  // returned unless the check passes.
  const [, page] = await Promise.all([getManagedMachine(env, user, id), historyPage(env, [eq(machineOperations.machineId, id)], q, url)]);
  return page;
}

/** Operations on the caller's machines (staff included: this list is "mine", not "all"). */
export async function callerHistory(env: Bindings, user: UserRow, q: HistoryInput, url: string) {
  const where = [eq(machineOperations.machineOwnerId, user.id)];
  if (q.machine_id !== undefined) where.push(eq(machineOperations.machineId, q.machine_id));
  return historyPage(env, where, q, url);
}

export async function getOperation(env: Bindings, user: UserRow, id: number, operationId: number): Promise<OperationView> {
  await getManagedMachine(env, user, id);
  const row = await getDb(env.DB)
    .select()
    .from(machineOperations)
    .where(and(eq(machineOperations.id, operationId), eq(machineOperations.machineId, id)))
    .get();
  if (!row) throw new ApiError('NOT_FOUND');
  return operationView(row);
}

// ---- D1 writers used by MachineDO (the single writer of status) ----------------------------------

/** Writes the given columns (and `status` when given); an owner change moves the history along. */
export async function writeMachine(env: Bindings, id: number, fields: MachineFields, status?: MachineStatus) {
  const db = getDb(env.DB);
  const set = Object.fromEntries(Object.entries({ ...fields, status }).filter(([, v]) => v !== undefined));
  const update = db
    .update(machines)
    .set({ ...set, updatedAt: Date.now() })
    .where(eq(machines.id, id))
    .returning();
  if (fields.ownerId === undefined) return (await update.all())[0];
  const [rows] = await db.batch([
    update,
    db.update(machineOperations).set({ machineOwnerId: fields.ownerId }).where(eq(machineOperations.machineId, id)),
  ]);
  return rows[0];
}

export async function insertOperation(
  env: Bindings,
  v: { machineId: number; ownerId: number; workerId: number | null; command: MachineCommand },
): Promise<OperationRow> {
  return getDb(env.DB)
    .insert(machineOperations)
    .values({ machineId: v.machineId, machineOwnerId: v.ownerId, workerId: v.workerId, command: v.command, requestDatetime: Date.now() })
    .returning()
    .get();
}

export interface Resolution {
  id: number;
  result: Exclude<OperationResult, 'PENDING'>;
  detail: string | null;
}

/**
 * Resolves operations and writes the machine's status in one batch. Each operation update is
 * conditional on PENDING, so a result that arrives twice changes nothing the second time.
 */
export async function resolveOperations(env: Bindings, machineId: number, resolutions: Resolution[], status: MachineStatus | null) {
  const db = getDb(env.DB);
  const now = Date.now();
  const statements = resolutions.map((r) =>
    db
      .update(machineOperations)
      .set({ result: r.result, detail: r.detail, completedAt: now })
      .where(and(eq(machineOperations.id, r.id), eq(machineOperations.result, 'PENDING')))
      .returning(),
  );
  const machineUpdate = db
    .update(machines)
    .set(status ? { status, updatedAt: now } : { updatedAt: now })
    .where(eq(machines.id, machineId));
  const results = await db.batch([machineUpdate, ...statements] as [typeof machineUpdate, ...typeof statements]);
  return results.slice(1).flatMap((rows) => (rows as OperationRow[]).map(operationView));
}

/** Deletes the machine; its operations go with it (ON DELETE CASCADE). */
export async function deleteMachineRow(env: Bindings, machineId: number): Promise<void> {
  await getDb(env.DB).delete(machines).where(eq(machines.id, machineId));
}

/** Commands left PENDING in D1 without a Durable Object to finish them (e.g. imported data). */
export async function failOrphanedOperations(env: Bindings, machineId: number): Promise<void> {
  await getDb(env.DB)
    .update(machineOperations)
    .set({ result: 'INTERNALFAILED', detail: 'abandoned: the machine state was re-initialised', completedAt: Date.now() })
    .where(and(eq(machineOperations.machineId, machineId), inArray(machineOperations.result, ['PENDING'])));
}
