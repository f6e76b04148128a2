// MachineDO: one Durable Object per machine, the single writer of its status. It keeps the
// confirmed status and the ordered list of accepted commands, validates a new command against the
// status the machine will have after them, and puts only the oldest one on the queue: the next is
// sent when the previous one's result arrives, so a device never sees two commands at once or
// out of order. It also serves /live (WebSocket hibernation API) and pushes every change.
import { DurableObject } from 'cloudflare:workers';
import type { MachineCommand, MachineStatus, OperationResult } from '../../db/schema';
import { store, withStore, type Store } from '../../db/store';
import { config, type Bindings } from '../../env';
import {
  deleteMachineRow,
  failOrphanedOperations,
  findMachine,
  insertOperation,
  resolveOperations,
  updateMachineRow,
  type MachineFields,
  type Resolution,
} from './repository';
import { machineView, nextStatus, operationView, type OperationView } from './service';

interface PendingOp {
  id: number;
  command: MachineCommand;
  /** The status this command leads to when it succeeds. */
  target: MachineStatus;
  /** When a consumer started executing it (a lease, so a duplicate delivery waits). */
  claimedAt: number | null;
  /** When it was put on the queue (the watchdog's clock); null while it waits its turn. */
  enqueuedAt?: number | null;
}

interface State {
  machineId: number;
  status: MachineStatus;
  ops: PendingOp[];
}

export type Failure = { error: 'NOT_FOUND' | 'INVALID_STATE_TRANSITION' | 'MACHINE_BUSY'; extras?: Record<string, unknown> };

const QUEUE_FAILED = 'the command could not be queued';
const WATCHDOG_FAILED = 'no result arrived in time (the queue lost the message)';

/**
 * How long a queued command may stay without a result before the watchdog alarm fails it: well
 * beyond the queue's own worst case (4 attempts × the controller timeout + 2+4+8 s of backoff).
 */
function watchdogMs(env: Bindings): number {
  const cfg = config(env);
  return 4 * cfg.MACHINE_CONTROLLER_TIMEOUT_MS + 14 * cfg.MACHINE_RETRY_BASE_SECONDS * 1000 + 5 * 60_000;
}

export type CommandOutcome = Failure | { operation: OperationView };
export type UpdateOutcome = Failure | { machine: ReturnType<typeof machineView> };

export type Claim =
  | { state: 'run'; command: MachineCommand; controllerUrl: string | null }
  | { state: 'done' }
  | { state: 'busy'; retryInMs: number };

export class MachineDO extends DurableObject<Bindings> {
  /** undefined: not loaded yet; null: the machine does not exist. */
  private state: State | null | undefined;
  private lock: Promise<unknown> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    this.ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('ping', 'pong'));
  }

  /**
   * Runs fn after every earlier call has finished. Awaiting the database or the queue opens the
   * DO's input gate, so without this two commands could both validate against the same status.
   * Each call gets its own database session (Postgres; D1 needs none), opened lazily and closed
   * before the next call starts.
   */
  private serial<T>(fn: (s: Store) => Promise<T>): Promise<T> {
    const body = () => withStore(this.env, (env) => fn(store(env)));
    const run = this.lock.then(body, body);
    this.lock = run.catch(() => undefined);
    return run;
  }

  /** The state from storage, or, the first time (e.g. a seeded machine), from the D1 row. */
  private async load(s: Store, machineId: number): Promise<State | null> {
    if (this.state !== undefined) return this.state;
    const stored = await this.ctx.storage.get<State>('state');
    if (stored) return (this.state = stored);
    const row = await findMachine(s, machineId);
    if (!row) return null; // not cached: the machine may be created later under this id
    await failOrphanedOperations(s, machineId);
    return this.save({ machineId, status: row.status, ops: [] });
  }

  private async save(state: State): Promise<State> {
    await this.ctx.storage.put('state', state);
    this.state = state;
    return state;
  }

  // ---- RPC: called by the service and the consumers ---------------------------------------------

  command(input: { machineId: number; ownerId: number; workerId: number; command: MachineCommand }) {
    return this.serial(async (s): Promise<CommandOutcome> => {
      const st = await this.load(s, input.machineId);
      if (!st) return { error: 'NOT_FOUND' };
      const projected = st.ops.at(-1)?.target ?? st.status;
      const target = nextStatus(projected, input.command);
      if (!target) {
        return { error: 'INVALID_STATE_TRANSITION', extras: { machine_status: projected, command: input.command, pending_operations: st.ops.length } };
      }
      const row = await insertOperation(s, input);
      await this.save({ ...st, ops: [...st.ops, { id: row.id, command: input.command, target, claimedAt: null }] });
      const view = operationView(row);
      this.broadcast({ type: 'operation', operation: view });
      if (this.state!.ops.length === 1 && !(await this.enqueueHead(s))) {
        return { operation: { ...view, result: 'INTERNALFAILED' as const, detail: QUEUE_FAILED, completed_at: new Date().toISOString() } };
      }
      return { operation: view };
    });
  }

  /** A consumer asks to execute an operation; a duplicate or late delivery learns it is done. */
  begin(machineId: number, operationId: number, leaseMs: number) {
    return this.serial(async (s): Promise<Claim> => {
      const st = await this.load(s, machineId);
      const op = st?.ops.find((o) => o.id === operationId);
      if (!st || !op) return { state: 'done' };
      const now = Date.now();
      if (st.ops[0] !== op) return { state: 'busy', retryInMs: leaseMs };
      if (op.claimedAt !== null && now - op.claimedAt < leaseMs) return { state: 'busy', retryInMs: leaseMs - (now - op.claimedAt) };
      const machine = await findMachine(s, machineId);
      if (!machine) return { state: 'done' };
      await this.save({ ...st, ops: st.ops.map((o) => (o === op ? { ...o, claimedAt: now } : o)) });
      return { state: 'run', command: op.command, controllerUrl: machine.controllerUrl };
    });
  }

  /** The execution failed in a retryable way: let the next delivery run at once. */
  release(machineId: number, operationId: number) {
    return this.serial(async (s) => {
      const st = await this.load(s, machineId);
      if (!st || !st.ops.some((o) => o.id === operationId)) return;
      await this.save({ ...st, ops: st.ops.map((o) => (o.id === operationId ? { ...o, claimedAt: null } : o)) });
    });
  }

  /** Applies a result once: a second report of the same operation changes nothing. */
  finish(machineId: number, operationId: number, result: Exclude<OperationResult, 'PENDING'>, detail: string | null) {
    return this.serial(async (s) => ({ applied: await this.resolve(s, machineId, operationId, result, detail) }));
  }

  /** PUT/PATCH with a status: refused while commands are pending, so results never race it. */
  update(machineId: number, fields: MachineFields, status: MachineStatus) {
    return this.serial(async (s): Promise<UpdateOutcome> => {
      const st = await this.load(s, machineId);
      if (!st) return { error: 'NOT_FOUND' };
      if (st.ops.length > 0 && status !== st.status) return { error: 'MACHINE_BUSY' };
      const row = await updateMachineRow(s, machineId, fields, status);
      if (!row) return { error: 'NOT_FOUND' };
      if (status !== st.status) {
        await this.save({ ...st, status });
        this.broadcast({ type: 'status', machine_id: machineId, status, previous: st.status, at: new Date().toISOString() });
      }
      return { machine: machineView(row) };
    });
  }

  /** DELETE: removes the row (its history cascades), this object's storage and its sockets. */
  destroy(machineId: number) {
    return this.serial(async (s) => {
      await deleteMachineRow(s, machineId);
      await this.ctx.storage.deleteAlarm();
      await this.ctx.storage.deleteAll();
      this.state = undefined;
      for (const ws of this.ctx.getWebSockets()) {
        try {
          ws.send(JSON.stringify({ type: 'deleted', machine_id: machineId }));
          ws.close(1000, 'machine deleted');
        } catch {
          // already closing
        }
      }
    });
  }

  // ---- internals ----------------------------------------------------------------------------------

  /**
   * Resolves one pending operation (must be called inside serial). A failure cancels the commands
   * queued behind it: they were accepted for a status the machine did not reach.
   */
  private async resolve(s: Store, machineId: number, operationId: number, result: Resolution['result'], detail: string | null): Promise<boolean> {
    const st = await this.load(s, machineId);
    const op = st?.ops.find((o) => o.id === operationId);
    if (!st || !op) return false;
    const rest = st.ops.filter((o) => o !== op);
    const status: MachineStatus = result === 'SUCCESS' ? op.target : result === 'REMOTEFAILED' ? 'ERROR' : st.status;
    const cancelled = result === 'SUCCESS' ? [] : rest;
    const resolutions: Resolution[] = [
      { id: op.id, result, detail },
      ...cancelled.map((o) => ({ id: o.id, result: 'INTERNALFAILED' as const, detail: `cancelled: operation ${op.id} failed before it` })),
    ];
    const views = (await resolveOperations(s, machineId, resolutions, status === st.status ? null : status)).map(operationView);
    await this.save({ ...st, status, ops: result === 'SUCCESS' ? rest : [] });
    for (const operation of views) this.broadcast({ type: 'operation', operation });
    if (status !== st.status) {
      this.broadcast({ type: 'status', machine_id: machineId, status, previous: st.status, at: new Date().toISOString() });
    }
    if (this.state!.ops.length > 0) await this.enqueueHead(s);
    return true;
  }

  /**
   * Sends the oldest pending operation to the queue. If the queue refuses it, the operation is
   * resolved INTERNALFAILED rather than left PENDING forever. Answers whether it was queued.
   */
  private async enqueueHead(s: Store): Promise<boolean> {
    const st = this.state!;
    const head = st.ops[0]!;
    try {
      await this.env.MACHINE_QUEUE.send({ operation_id: head.id, machine_id: st.machineId, command: head.command });
      const now = Date.now();
      await this.save({ ...st, ops: st.ops.map((o) => (o === head ? { ...o, enqueuedAt: now } : o)) });
      await this.ctx.storage.setAlarm(now + watchdogMs(this.env));
      return true;
    } catch (err) {
      console.error(JSON.stringify({ level: 'error', msg: 'enqueue failed', operation_id: head.id, error: String(err) }));
      await this.resolve(s, st.machineId, head.id, 'INTERNALFAILED', QUEUE_FAILED);
      return false;
    }
  }

  /**
   * The watchdog: a command whose message vanished (e.g. the dead-letter consumer kept failing)
   * would block the machine forever; past the deadline it is failed and the next one is sent.
   */
  override async alarm(): Promise<void> {
    await this.serial(async (s) => {
      const st = this.state ?? (await this.ctx.storage.get<State>('state'));
      const head = st?.ops[0];
      if (!st || !head?.enqueuedAt) return;
      this.state = st;
      const deadline = head.enqueuedAt + watchdogMs(this.env);
      if (Date.now() >= deadline) await this.resolve(s, st.machineId, head.id, 'INTERNALFAILED', WATCHDOG_FAILED);
      else await this.ctx.storage.setAlarm(deadline);
    });
  }

  // ---- /live ------------------------------------------------------------------------------------

  /** The WebSocket upgrade, forwarded by the route after authentication and the permission check. */
  override async fetch(request: Request): Promise<Response> {
    const machineId = Number(request.headers.get('x-machine-id'));
    const st = await this.serial((s) => this.load(s, machineId));
    if (!st) return new Response(null, { status: 404 });
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server);
    server.send(JSON.stringify(this.statusEvent(st)));
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    // Clients may ask for the current status at any time (e.g. after a reconnect).
    if (message !== 'status') return;
    // After hibernation the instance is new: read the state back from storage.
    const st = this.state ?? (await this.ctx.storage.get<State>('state'));
    if (st) ws.send(JSON.stringify(this.statusEvent(st)));
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    try {
      ws.close(code, reason);
    } catch {
      // already closed
    }
  }

  private statusEvent(st: State) {
    return {
      type: 'status',
      machine_id: st.machineId,
      status: st.status,
      previous: null,
      pending_operations: st.ops.map((o) => ({ id: o.id, command: o.command })),
      at: new Date().toISOString(),
    };
  }

  private broadcast(event: Record<string, unknown>): void {
    const text = JSON.stringify(event);
    for (const ws of this.ctx.getWebSockets()) {
      try {
        ws.send(text);
      } catch {
        // a socket that is closing; the runtime drops it
      }
    }
  }
}
