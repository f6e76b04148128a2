// Machines' data access, for both backends. The service (HTTP side) and MachineDO (the single
// writer of a machine's status) call these with a Store; nothing above this file knows which
// database runs. A machine's writes come from its own Durable Object, one at a time; on Postgres
// the atomic ones also take the machine's advisory lock, so a write from elsewhere (the HTTP side's
// plain field updates) never interleaves with them, while other machines' writes run side by side.
import { and, count, desc, eq, gt, inArray, isNull, lt, or, sql, type SQL } from 'drizzle-orm';
import { fromRow } from '../../db/rows';
import type { MachineCommand, MachineRow, MachineStatus, OperationResult, OperationRow } from '../../db/schema';
import { contains, type SubstringIndex, substringIndexMatch } from '../../db/dialect/sql';
import { raw, type Store } from '../../db/store';
import { columnsOf, outboxEvent } from '../webhooks';

// ---- events (the outbox: src/modules/webhooks/outbox.ts) ----------------------------------------

const MACHINE_FIELDS = ['id', 'name', 'location', 'status', 'owner_id', 'controller_url', 'created_at', 'updated_at'] as const;
const OPERATION_FIELDS = [
  'id',
  'machine_id',
  'machine_owner_id',
  'worker_id',
  'command',
  'result',
  'request_datetime',
  'completed_at',
  'detail',
] as const;

/** machine.status_changed for the machine row `where` selects (as `m`), about its owner. */
const statusEvent = (s: Store, where: SQL, now: number, eventId?: string) =>
  outboxEvent(
    s,
    {
      type: 'machine.status_changed',
      from: sql`machines m WHERE ${where}`,
      userId: sql`m.owner_id`,
      object: columnsOf('m', MACHINE_FIELDS),
      eventId,
    },
    now,
  );

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
  /** Sealed (./controller-secret.ts). */
  controllerSecret: string | null;
}

/** The trigram index of name and location (migrations search_indexes on both backends). */
const MACHINE_TEXT: SubstringIndex = { table: 'machines', fts: 'machines_fts', columns: ['name', 'location'] };

function machineWhere(s: Store, f: MachineFilter): SQL[] {
  const { machines } = s.t;
  const where: SQL[] = [];
  if (f.status) where.push(eq(machines.status, f.status));
  if (f.ownerId !== undefined) where.push(eq(machines.ownerId, f.ownerId));
  if (f.search) {
    // The index narrows the rows to read; contains() keeps the answer exactly what it always was.
    // An owner's machines (machines_owner_id) are a tighter bound than the index's answer, which D1
    // reads whole before the owner filter (68 ms for a word in every machine, against a scan of the
    // owner's few rows), so with `owner` the scan is bounded by the owner instead. A needle the
    // index cannot serve (under 3 characters) is a scan bounded by the other filters.
    const indexed = f.ownerId === undefined ? substringIndexMatch(s.dialect, MACHINE_TEXT, f.search) : null;
    const exact = or(contains(s.dialect, machines.name, f.search), contains(s.dialect, machines.location, f.search))!;
    where.push(indexed ? and(indexed, exact)! : exact);
  }
  return where;
}

export async function findMachine(s: Store, id: number): Promise<MachineRow | undefined> {
  const { machines } = s.t;
  // Raw, so that on Postgres a deferred session check rides in the same statement.
  const [row] = await s.rows(s.db.select().from(machines).where(eq(machines.id, id)).getSQL());
  return row && fromRow(machines, row);
}

/** Newest first; `beforeId` continues a keyset page. */
export function listMachineRows(s: Store, f: MachineFilter, limit: number, offset: number, beforeId?: number): Promise<MachineRow[]> {
  const { machines } = s.t;
  return s.select(
    s.db
      .select()
      .from(machines)
      .where(and(...machineWhere(s, f), beforeId ? lt(machines.id, beforeId) : undefined))
      .orderBy(desc(machines.id))
      .limit(limit)
      .offset(offset),
  );
}

/** The rows of a machines page and a count as raw statements, so that a read can carry them together. */
function pageRaw(s: Store, f: MachineFilter, limit: number, offset: number) {
  const { machines } = s.t;
  return raw(
    s.db
      .select()
      .from(machines)
      .where(and(...machineWhere(s, f)))
      .orderBy(desc(machines.id))
      .limit(limit)
      .offset(offset)
      .getSQL(),
  );
}

function countRaw(s: Store, f: MachineFilter) {
  const w = and(...machineWhere(s, f));
  return raw<{ n: number }>(sql`SELECT count(*) AS n FROM machines ${w ? sql`WHERE ${w}` : sql``}`);
}

const TEXT_VERSION = raw<{ version: number }>(sql`SELECT version FROM machines_text_version WHERE id = 1`);

/** An offset page and the number of all that match, in one read (one round trip, one snapshot). */
export async function machinePage(s: Store, f: MachineFilter, limit: number, offset: number): Promise<{ rows: MachineRow[]; count: number }> {
  const [rows, n] = await s.read([pageRaw(s, f, limit, offset), countRaw(s, f)]);
  return { rows: rows.map((r) => fromRow(s.t.machines, r)), count: Number(n[0]?.n ?? 0) };
}

/**
 * An offset page and the version of the machines' searchable text (machines_text_version), in one
 * read: a count memoised under that version is still exact (see machinesTextVersion).
 */
export async function machinePageAndVersion(
  s: Store,
  f: MachineFilter,
  limit: number,
  offset: number,
): Promise<{ rows: MachineRow[]; version: number }> {
  const [rows, v] = await s.read([pageRaw(s, f, limit, offset), TEXT_VERSION]);
  return { rows: rows.map((r) => fromRow(s.t.machines, r)), version: Number(v[0]?.version ?? 0) };
}

/** The number of machines that match and the text version it was counted at, in one read. */
export async function countAtVersion(s: Store, f: MachineFilter): Promise<{ count: number; version: number }> {
  const [n, v] = await s.read([countRaw(s, f), TEXT_VERSION]);
  return { count: Number(n[0]?.n ?? 0), version: Number(v[0]?.version ?? 0) };
}

export async function countMachines(s: Store, f: MachineFilter): Promise<number> {
  const { machines } = s.t;
  return (
    (
      await s.select(
        s.db
          .select({ n: count() })
          .from(machines)
          .where(and(...machineWhere(s, f))),
      )
    )[0]?.n ?? 0
  );
}

export async function insertMachine(s: Store, v: NewMachine): Promise<MachineRow> {
  const { machines } = s.t;
  const now = Date.now();
  const [row] = await s.run(
    s.db
      .insert(machines)
      .values({ ...v, createdAt: now, updatedAt: now })
      .returning(),
  );
  return row!;
}

/**
 * Writes the given columns (and `status` when given); an owner change moves the history along in
 * the same atomic write. Returns the row, or undefined when the machine is gone.
 */
export async function updateMachineRow(
  s: Store,
  id: number,
  fields: MachineFields,
  status?: MachineStatus,
  statusChanged = false,
): Promise<MachineRow | undefined> {
  const { machines, machineOperations } = s.t;
  const set = Object.fromEntries(Object.entries({ ...fields, status }).filter(([, v]) => v !== undefined));
  const now = Date.now();
  const update = s.db
    .update(machines)
    .set({ ...set, updatedAt: now })
    .where(eq(machines.id, id))
    .returning();
  if (fields.ownerId === undefined && !statusChanged) return (await s.run(update))[0];
  // A status change is written with its event (the caller, the machine's object, knows it changed).
  const [rows] = await s.write(
    [
      update,
      ...(fields.ownerId === undefined
        ? []
        : [s.db.update(machineOperations).set({ machineOwnerId: fields.ownerId }).where(eq(machineOperations.machineId, id))]),
      ...(statusChanged ? [statusEvent(s, sql`m.id = ${id} AND m.updated_at = ${now}`, now)] : []),
    ],
    [['machine', id]],
  );
  return rows[0];
}

/** Deletes the machine; its operations go with it (ON DELETE CASCADE). */
export async function deleteMachineRow(s: Store, id: number): Promise<void> {
  const { machines } = s.t;
  await s.run(s.db.delete(machines).where(eq(machines.id, id)));
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
  return s.select(
    s.db
      .select()
      .from(o)
      .where(and(...operationWhere(s, f), beforeId ? lt(o.id, beforeId) : undefined))
      .orderBy(desc(o.id))
      .limit(limit)
      .offset(offset),
  );
}

export async function countOperations(s: Store, f: OperationFilter): Promise<number> {
  const { machineOperations: o } = s.t;
  return (
    (
      await s.select(
        s.db
          .select({ n: count() })
          .from(o)
          .where(and(...operationWhere(s, f))),
      )
    )[0]?.n ?? 0
  );
}

export async function findOperation(s: Store, machineId: number, operationId: number): Promise<OperationRow | undefined> {
  const { machineOperations: o } = s.t;
  return (
    await s.select(
      s.db
        .select()
        .from(o)
        .where(and(eq(o.id, operationId), eq(o.machineId, machineId))),
    )
  )[0];
}

/**
 * Records a command PENDING, for the machine's owner at this moment, only if the worker may still
 * drive the machine (its owner, or staff); undefined otherwise. One statement, so the owner it
 * records and the permission it checks are the same row, whatever a transfer does around it.
 */
export async function insertOperation(
  s: Store,
  v: { machineId: number; workerId: number; isStaff: boolean; command: MachineCommand },
): Promise<OperationRow | undefined> {
  const { machines, machineOperations: o } = s.t;
  const [rows] = await s.write([
    raw(sql`INSERT INTO ${o} (machine_id, machine_owner_id, worker_id, command, result, request_datetime)
      SELECT ${machines.id}, ${machines.ownerId}, CAST(${v.workerId} AS BIGINT), CAST(${v.command} AS TEXT), 'PENDING', CAST(${Date.now()} AS BIGINT)
      FROM ${machines} WHERE ${machines.id} = ${v.machineId} AND (${machines.ownerId} = ${v.workerId} OR ${v.isStaff ? 1 : 0} = 1)
      RETURNING *`),
  ]);
  return rows[0] ? fromRow(o, rows[0]) : undefined;
}

export interface Resolution {
  id: number;
  result: Exclude<OperationResult, 'PENDING'>;
  detail: string | null;
}

/**
 * Resolves an operation (`head`) and the ones it cancels, and writes the machine's status, in one
 * atomic write. Every statement is conditional on `head` still being PENDING (the head's own
 * update comes last), so a result that arrives twice changes nothing the second time: not the
 * status, not the operations behind it. Only the rows actually resolved now come back.
 */
export async function resolveOperations(
  s: Store,
  machineId: number,
  head: Resolution,
  cancelled: Resolution[],
  status: MachineStatus | null,
): Promise<OperationRow[]> {
  const { machines, machineOperations: o } = s.t;
  const now = Date.now();
  const headPending = sql`exists (select 1 from ${o} h where h.id = ${head.id} and h.result = 'PENDING')`;
  const resolve = (r: Resolution, ...conditions: SQL[]) =>
    s.db
      .update(o)
      .set({ result: r.result, detail: r.detail, completedAt: now })
      .where(and(eq(o.id, r.id), eq(o.result, 'PENDING'), ...conditions))
      .returning();
  const machineUpdate = s.db
    .update(machines)
    .set(status ? { status, updatedAt: now } : { updatedAt: now })
    .where(and(eq(machines.id, machineId), headPending));
  // The events of this resolution, each once (deterministic ids: an operation resolves once): the
  // status change while the head is still PENDING, each result after its row was written now.
  const opEvent = (r: Resolution) =>
    outboxEvent(
      s,
      {
        type: r.result === 'SUCCESS' ? 'machine.operation.succeeded' : 'machine.operation.failed',
        from: sql`machine_operations o WHERE o.id = ${r.id} AND o.result = ${r.result} AND o.completed_at = ${now}`,
        userId: sql`o.machine_owner_id`,
        object: columnsOf('o', OPERATION_FIELDS),
        eventId: `evt_op${r.id}_result`,
      },
      now,
    );
  const statusChange = status ? [statusEvent(s, sql`m.id = ${machineId} AND ${headPending}`, now, `evt_op${head.id}_status`)] : [];
  const resolutions = [...cancelled.map((r) => resolve(r, headPending)), resolve(head)];
  const results = await s.write([machineUpdate, ...statusChange, ...resolutions, ...[...cancelled, head].map(opEvent)], [['machine', machineId]]);
  const resolved = results.slice(1 + statusChange.length, 1 + statusChange.length + resolutions.length);
  return [resolved.at(-1), ...resolved.slice(0, -1)].flatMap((rows) => rows as OperationRow[]);
}

/**
 * The machine's PENDING operations, oldest first: the record of what was accepted, which its
 * Durable Object reconciles with what it knows (a crash can leave a row it never saved). A PENDING
 * row has no completed_at, so the completed_at index keeps this to the few unfinished rows however
 * long the machine's history is.
 */
export function pendingOperations(s: Store, machineId: number): Promise<OperationRow[]> {
  const { machineOperations: o } = s.t;
  return s.select(
    s.db
      .select()
      .from(o)
      .where(and(isNull(o.completedAt), eq(o.machineId, machineId), eq(o.result, 'PENDING')))
      .orderBy(o.id),
  );
}

// ---- /live watchers ---------------------------------------------------------------------------------

/** Session ids per query: D1 binds at most 100 parameters, and the query binds 3 of its own. */
const WATCHER_CHUNK = 90;

/**
 * For each of these sessions that is still live (not revoked, not expired, its user active):
 * whether its user may still watch the machine (its owner, or staff). A session missing from the
 * answer has ended. One query per WATCHER_CHUNK sockets of a machine.
 */
export async function watcherRights(s: Store, machineId: number, sessionIds: string[], now: number): Promise<Map<string, boolean>> {
  const { machines, sessions, users } = s.t;
  const rights = new Map<string, boolean>();
  for (let i = 0; i < sessionIds.length; i += WATCHER_CHUNK) {
    const rows = await s.select(
      s.db
        .select({ sessionId: sessions.id, userId: users.id, isStaff: users.isStaff, ownerId: machines.ownerId })
        .from(sessions)
        .innerJoin(users, eq(users.id, sessions.userId))
        .leftJoin(machines, eq(machines.id, machineId))
        .where(
          and(
            inArray(sessions.id, sessionIds.slice(i, i + WATCHER_CHUNK)),
            isNull(sessions.revokedAt),
            gt(sessions.expiresAt, now),
            eq(users.isActive, true),
          ),
        ),
    );
    for (const r of rows) rights.set(r.sessionId, Boolean(r.isStaff) || r.ownerId === r.userId);
  }
  return rights;
}

/**
 * Records that a session watches this machine until `expiresAt` (its token's expiry, which the socket
 * never outlives), so a revocation of the session finds this machine (watchedMachines). A second
 * socket of the session keeps the later expiry.
 */
export async function addWatcher(s: Store, w: { sessionId: string; machineId: number; userId: number; expiresAt: number }): Promise<void> {
  const { liveWatchers: l } = s.t;
  await s.run(
    s.db
      .insert(l)
      .values(w)
      .onConflictDoUpdate({ target: [l.sessionId, l.machineId], set: { expiresAt: w.expiresAt }, setWhere: lt(l.expiresAt, w.expiresAt) }),
  );
}

/**
 * The machines a session (or, without `sessionId`, any session of the user) may still have a /live
 * socket on: one index lookup (the primary key, or `live_watchers_user`).
 */
export async function watchedMachines(s: Store, who: { userId: number; sessionId?: string }, now: number): Promise<number[]> {
  const { liveWatchers: l } = s.t;
  const rows = await s.select(
    s.db
      .selectDistinct({ machineId: l.machineId })
      .from(l)
      .where(and(who.sessionId === undefined ? eq(l.userId, who.userId) : eq(l.sessionId, who.sessionId), gt(l.expiresAt, now))),
  );
  return rows.map((r) => r.machineId);
}
