// Machines' data access, for both backends. The service (HTTP side) and MachineDO (the single
// writer of a machine's status) call these with a Store; nothing above this file knows which
// database runs.
import { and, count, desc, eq, lt, or, sql, type SQL } from 'drizzle-orm';
import type { MachineCommand, MachineRow, MachineStatus, OperationResult, OperationRow } from '../../db/schema';
import { contains } from '../../db/dialect';
import type { Store } from '../../db/store';

// ---- machines ------------------------------------------------------------------------------------

export interface MachineFilter {
  status?: MachineStatus;
  ownerId?: number;
  /** A substring of name or location, case-insensitive. */
  search?: string;
}

/** The columns of a PUT/PATCH other than status. */
export interface MachineFields {
  name?: string;
  location?: string;
  controllerUrl?: string | null;
  ownerId?: number;
}

export interface NewMachine {
  name: string;
  location: string;
  status: MachineStatus;
  ownerId: number;
  controllerUrl: string | null;
}

function machineWhere(s: Store, f: MachineFilter): SQL[] {
  const { machines } = s.t;
  const where: SQL[] = [];
  if (f.status) where.push(eq(machines.status, f.status));
  if (f.ownerId !== undefined) where.push(eq(machines.ownerId, f.ownerId));
  if (f.search) where.push(or(contains(s.dialect, machines.name, f.search), contains(s.dialect, machines.location, f.search))!);
  return where;
}

export async function findMachine(s: Store, id: number): Promise<MachineRow | undefined> {
  const { machines } = s.t;
  return (await s.orm.select().from(machines).where(eq(machines.id, id)))[0];
}

/** Newest first; `beforeId` continues a keyset page. */
export function listMachineRows(s: Store, f: MachineFilter, limit: number, offset: number, beforeId?: number): Promise<MachineRow[]> {
  const { machines } = s.t;
  return s.orm
    .select()
    .from(machines)
    .where(and(...machineWhere(s, f), beforeId ? lt(machines.id, beforeId) : undefined))
    .orderBy(desc(machines.id))
    .limit(limit)
    .offset(offset);
}

export async function countMachines(s: Store, f: MachineFilter): Promise<number> {
  const { machines } = s.t;
  return (await s.orm.select({ n: count() }).from(machines).where(and(...machineWhere(s, f))))[0]?.n ?? 0;
}

export async function userExists(s: Store, id: number): Promise<boolean> {
  const { users } = s.t;
  return (await s.orm.select({ id: users.id }).from(users).where(eq(users.id, id))).length > 0;
}

export async function insertMachine(s: Store, v: NewMachine): Promise<MachineRow> {
  const { machines } = s.t;
  const now = Date.now();
  const [row] = await s.orm
    .insert(machines)
    .values({ ...v, createdAt: now, updatedAt: now })
    .returning();
  return row!;
}

/**
 * Writes the given columns (and `status` when given); an owner change moves the history along in
 * the same atomic write. Returns the row, or undefined when the machine is gone.
 */
export async function updateMachineRow(s: Store, id: number, fields: MachineFields, status?: MachineStatus): Promise<MachineRow | undefined> {
  const { machines, machineOperations } = s.t;
  const set = Object.fromEntries(Object.entries({ ...fields, status }).filter(([, v]) => v !== undefined));
  const update = s.orm
    .update(machines)
    .set({ ...set, updatedAt: Date.now() })
    .where(eq(machines.id, id))
    .returning();
  if (fields.ownerId === undefined) return (await update)[0];
  const [rows] = await s.atomic([
    update,
    s.orm.update(machineOperations).set({ machineOwnerId: fields.ownerId }).where(eq(machineOperations.machineId, id)),
  ] as const);
  return rows[0];
}

/** Deletes the machine; its operations go with it (ON DELETE CASCADE). */
export async function deleteMachineRow(s: Store, id: number): Promise<void> {
  const { machines } = s.t;
  await s.orm.delete(machines).where(eq(machines.id, id));
}

// ---- operations ----------------------------------------------------------------------------------

export interface OperationFilter {
  machineId?: number;
  machineOwnerId?: number;
  result?: OperationResult;
  command?: MachineCommand;
}

function operationWhere(s: Store, f: OperationFilter): SQL[] {
  const { machineOperations: o } = s.t;
  const where: SQL[] = [];
  if (f.machineOwnerId !== undefined) where.push(eq(o.machineOwnerId, f.machineOwnerId));
  if (f.machineId !== undefined) where.push(eq(o.machineId, f.machineId));
  if (f.result) where.push(eq(o.result, f.result));
  if (f.command) where.push(eq(o.command, f.command));
  return where;
}

/** Newest first; `beforeId` continues a keyset page. */
export function listOperationRows(s: Store, f: OperationFilter, limit: number, offset: number, beforeId?: number): Promise<OperationRow[]> {
  const { machineOperations: o } = s.t;
  return s.orm
    .select()
    .from(o)
    .where(and(...operationWhere(s, f), beforeId ? lt(o.id, beforeId) : undefined))
    .orderBy(desc(o.id))
    .limit(limit)
    .offset(offset);
}

export async function countOperations(s: Store, f: OperationFilter): Promise<number> {
  const { machineOperations: o } = s.t;
  return (await s.orm.select({ n: count() }).from(o).where(and(...operationWhere(s, f))))[0]?.n ?? 0;
}

export async function findOperation(s: Store, machineId: number, operationId: number): Promise<OperationRow | undefined> {
  const { machineOperations: o } = s.t;
  return (await s.orm.select().from(o).where(and(eq(o.id, operationId), eq(o.machineId, machineId))))[0];
}

export async function insertOperation(
  s: Store,
  v: { machineId: number; ownerId: number; workerId: number | null; command: MachineCommand },
): Promise<OperationRow> {
  const { machineOperations: o } = s.t;
  const [row] = await s.orm
    .insert(o)
    .values({ machineId: v.machineId, machineOwnerId: v.ownerId, workerId: v.workerId, command: v.command, requestDatetime: Date.now() })
    .returning();
  return row!;
}

export interface Resolution {
  id: number;
  result: Exclude<OperationResult, 'PENDING'>;
  detail: string | null;
}

/**
 * Resolves operations and writes the machine's status atomically. Each operation update is
 * conditional on PENDING, so a result that arrives twice changes nothing the second time; only the
 * rows actually resolved now come back.
 */
export async function resolveOperations(s: Store, machineId: number, resolutions: Resolution[], status: MachineStatus | null): Promise<OperationRow[]> {
  const { machines, machineOperations: o } = s.t;
  const now = Date.now();
  const statements = resolutions.map((r) =>
    s.orm
      .update(o)
      .set({ result: r.result, detail: r.detail, completedAt: now })
      .where(and(eq(o.id, r.id), eq(o.result, 'PENDING')))
      .returning(),
  );
  const machineUpdate = s.orm
    .update(machines)
    .set(status ? { status, updatedAt: now } : { updatedAt: now })
    .where(eq(machines.id, machineId));
  const results = await s.atomic([machineUpdate, ...statements] as const);
  return results.slice(1).flatMap((rows) => rows as OperationRow[]);
}

/** Commands left PENDING without a Durable Object to finish them (e.g. imported data). */
export async function failOrphanedOperations(s: Store, machineId: number): Promise<void> {
  const { machineOperations: o } = s.t;
  await s.orm
    .update(o)
    .set({ result: 'INTERNALFAILED', detail: 'abandoned: the machine state was re-initialised', completedAt: Date.now() })
    .where(and(eq(o.machineId, machineId), eq(o.result, 'PENDING')));
}
