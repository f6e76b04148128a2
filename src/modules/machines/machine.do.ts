// MachineDO: one Durable Object per machine, the single writer of its status and its owner. It keeps
// the confirmed status and the ordered list of accepted commands, validates a new command against the
// status the machine will have after them, and runs only the oldest one: the next starts when the
// previous one's result is in, so a device never sees two commands at once or out of order. It also
// serves /live (WebSocket hibernation API) and pushes every change to the sockets that may see it.
//
// A command's life, and why no crash can strand it:
//  1. command(): the state is saved with an `inserting` mark (and its alarm) before the operation row
//     is inserted, then with the operation. The database is the record of what was accepted: a crash
//     in between leaves a PENDING row the object does not know, and every load and alarm reconciles
//     with those rows (reconcile()): one the object does not know is adopted and run in its turn, or
//     failed with the reason when its command no longer applies. Nothing accepted is dropped.
//  2. The head is sent to the queue; the alarm stored with it fires SEND_GRACE_MS later if the send
//     was never recorded (`enqueuedAt`), and sends it again (a duplicate is harmless, see 3).
//  3. dispatch() (from the queue consumer) claims the head and calls the controller in the
//     background, here, not in the consumer's batch: a slow device delays only its own machine. A
//     message for another attempt than the expected one, or while an execution runs, changes nothing.
//  4. The result is applied once (the database write is conditional on PENDING, and a result found
//     already recorded, e.g. written just before a crash, is adopted rather than overwritten). A
//     network error or timeout is retried through the queue with backoff (2, 4, 8 s) up to 3 times,
//     then INTERNALFAILED. An execution that died with the object (its claim outlives
//     executionMs()) counts as a failed attempt when the alarm or the next load finds it.
//  5. The watchdog: a sent message with no execution long after it was due is failed, so a message
//     the queue lost never blocks a machine. A cold load re-sends the head's message first (a local
//     queue loses its messages with the process; a duplicate is harmless), so only a message lost
//     while the object stays up reaches the watchdog.
// Every state write carries the alarm it needs in the same storage transaction.
import { DurableObject } from 'cloudflare:workers';
import type { MachineCommand, MachineStatus, OperationResult } from '../../db/schema';
import type { Store } from '../../db/store';
import { parseConfig, type Bindings, type Config } from '../../env';
import { logLine } from '../../lib/log';
import type { Outcome } from '../../lib/outcome';
import { ApiError } from '../../lib/problem';
import { ObjectUnits } from '../../lib/unit-of-work';
import { execute, executionMs, retryDelaySeconds, type Execution } from './controller';
import {
  addWatcher,
  deleteMachineRow,
  findMachine,
  findOperation,
  insertOperation,
  pendingOperations,
  resolveOperations,
  updateMachineRow,
  watcherRights,
  type MachineFields,
  type Resolution,
} from './repository';
import { machineView, nextStatus, operationView, type OperationView } from './service';

interface PendingOp {
  id: number;
  command: MachineCommand;
  /** The status this command leads to when it succeeds. */
  target: MachineStatus;
  /** When the current execution started (the claim); null while none runs. */
  claimedAt: number | null;
  /** When its current message is due on the queue (sent + backoff); null until the send is recorded. */
  enqueuedAt?: number | null;
  /** Executions that ended in a retryable failure so far. */
  failures?: number;
}

interface State {
  machineId: number;
  status: MachineStatus;
  ops: PendingOp[];
  /** Set while an operation row is being inserted (see the top of this file). */
  inserting?: number | null;
}

/** What a /live socket carries (it survives hibernation): whose right opened it, and until when. */
interface Watcher {
  userId: number;
  sessionId: string;
  /** The access token's `exp` (seconds). */
  tokenExp: number;
}

const QUEUE_FAILED = 'the command could not be queued';
const WATCHDOG_FAILED = 'no result arrived in time (the queue lost the message)';
const RETRIES_EXHAUSTED = 'the controller could not be reached after all retries';
const INTERRUPTED = 'the execution was interrupted (the machine object restarted)';
const NOT_APPLICABLE = 'the status after the commands accepted before it';
/** The first execution and 3 retries, like the queue's max_retries. */
const MAX_ATTEMPTS = 4;
/** The sockets one user may keep open on one machine (each costs the machine's object work per event). */
export const LIVE_SOCKETS_PER_USER = 8;
/** Frames a client may send on one socket per window; past them the socket is closed (4429). */
export const LIVE_FRAMES_PER_WINDOW = 20;
export const LIVE_FRAME_WINDOW_MS = 10_000;
/** How long a saved command may wait for its send to be recorded before the alarm sends it again. */
const SEND_GRACE_MS = 10_000;

/**
 * How long a sent message may stay without an execution before the watchdog fails its command:
 * well beyond the queue's own worst case for delivering it (its retries with 2+4+8 s of backoff).
 */
function watchdogMs(cfg: Config): number {
  return 4 * cfg.MACHINE_CONTROLLER_TIMEOUT_MS + 14 * cfg.MACHINE_RETRY_BASE_SECONDS * 1000 + 5 * 60_000;
}

export type MachineView = ReturnType<typeof machineView>;
/** started: this message began an execution; running: one is under way; done: nothing (left) to do. */
export type Dispatch = 'started' | 'running' | 'done';

export class MachineDO extends DurableObject<Bindings> {
  /** undefined: not loaded yet; null: the machine does not exist. */
  private state: State | null | undefined;
  private lock: Promise<unknown> = Promise.resolve();
  /** The execution under way in this instance (an object identity per execution). */
  private running: { id: number } | null = null;
  /** Each socket's frames in its current window (see webSocketMessage). */
  private readonly frames = new WeakMap<WebSocket, { start: number; count: number }>();
  /** Each call's unit of work (on the primary; results carry the D1 bookmark of its writes). */
  private readonly units: ObjectUnits;

  /** The configuration, parsed per use (tests change [vars] between calls). */
  private config(): Config {
    return parseConfig(this.env);
  }

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    this.units = new ObjectUnits(env);
    this.ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('ping', 'pong'));
  }

  /**
   * Runs fn after every earlier call has finished. Awaiting the database or the queue opens the
   * DO's input gate, so without this two commands could both validate against the same status.
   * Each call gets its own database session (Postgres; D1 needs none), opened lazily and closed
   * before the next call starts.
   */
  private serial<T>(fn: (s: Store) => Promise<T>): Promise<T> {
    const body = () => this.units.run((ctx) => fn(ctx.store));
    const run = this.lock.then(body, body);
    this.lock = run.catch(() => undefined);
    return run;
  }

  /**
   * The state from storage (then whatever a crash left unfinished is finished), or, the first time
   * (e.g. a seeded machine), from the database row.
   */
  private async load(s: Store, machineId: number): Promise<State | null> {
    if (this.state !== undefined) return this.state;
    const stored = await this.ctx.storage.get<State>('state');
    if (stored) {
      this.state = stored;
    } else {
      const row = await findMachine(s, machineId);
      if (!row) return null; // not cached: the machine may be created later under this id
      await this.save({ machineId, status: row.status, ops: [] });
    }
    await this.recover(s, true);
    return this.state ?? null;
  }

  /** Saves the state together with the alarm it needs (one storage transaction: no await between). */
  private async save(state: State): Promise<State> {
    this.state = state;
    const at = this.alarmAt(state);
    await Promise.all([this.ctx.storage.put('state', state), at === null ? this.ctx.storage.deleteAlarm() : this.ctx.storage.setAlarm(at)]);
    return state;
  }

  private async patchOp(state: State, op: PendingOp, change: Partial<PendingOp>): Promise<State> {
    return this.save({ ...state, ops: state.ops.map((o) => (o === op ? { ...o, ...change } : o)) });
  }

  // ---- RPC: called by the service and the consumers ---------------------------------------------

  async command(input: { machineId: number; workerId: number; isStaff: boolean; command: MachineCommand }): Promise<Outcome<OperationView>> {
    return this.units.outcome(() => this.serial((s) => this.accept(s, input)));
  }

  private async accept(s: Store, input: { machineId: number; workerId: number; isStaff: boolean; command: MachineCommand }): Promise<OperationView> {
    {
      const loaded = await this.load(s, input.machineId);
      if (!loaded) throw new ApiError('NOT_FOUND');
      if (loaded.inserting) await this.recover(s); // an earlier insert ended in an error
      const st = this.state!;
      const projected = st.ops.at(-1)?.target ?? st.status;
      const target = nextStatus(projected, input.command);
      if (!target) {
        throw new ApiError('INVALID_STATE_TRANSITION', {
          extras: { machine_status: projected, command: input.command, pending_operations: st.ops.length },
        });
      }
      const marked = await this.save({ ...st, inserting: Date.now() });
      const row = await insertOperation(s, input);
      const ops = row ? [...marked.ops, { id: row.id, command: input.command, target, claimedAt: null }] : marked.ops;
      await this.save({ ...marked, inserting: null, ops });
      // Nothing inserted: the machine changed hands (or was deleted) since the caller's check.
      if (!row) throw new ApiError((await findMachine(s, input.machineId)) ? 'PERMISSION_DENIED' : 'NOT_FOUND');
      const view = operationView(row);
      await this.broadcast(s, input.machineId, [{ type: 'operation', operation: view }]);
      if (ops.length === 1 && !(await this.enqueueHead(s))) {
        return { ...view, result: 'INTERNALFAILED' as const, detail: QUEUE_FAILED, completed_at: new Date().toISOString() };
      }
      return view;
    }
  }

  /**
   * A queue message asks to run execution number `attempt` of an operation. Only the head runs, one
   * execution at a time; a stale or duplicate message learns there is nothing for it to do.
   */
  dispatch(machineId: number, operationId: number, attempt: number) {
    return this.serial(async (s): Promise<Dispatch> => {
      const st = await this.load(s, machineId);
      const head = st?.ops[0];
      if (!st || !head || head.id !== operationId) return 'done';
      if (head.claimedAt !== null) return 'running';
      if ((head.failures ?? 0) + 1 !== attempt) return 'done'; // a duplicate of an earlier attempt's message
      const machine = await findMachine(s, machineId);
      if (!machine) return 'done';
      await this.patchOp(st, head, { claimedAt: Date.now() });
      this.start(machineId, head, machine.controllerUrl);
      return 'started';
    });
  }

  /** Applies a result once (the dead-letter consumer): a second report changes nothing. */
  finish(machineId: number, operationId: number, result: Exclude<OperationResult, 'PENDING'>, detail: string | null) {
    return this.serial(async (s) => ({ applied: await this.resolve(s, machineId, operationId, result, detail) }));
  }

  /**
   * PUT/PATCH with a status or a new owner. A status change is refused while commands are pending,
   * so results never race it. A transfer is ordered against commands here: one accepted before it
   * moves with the history, one after it is checked against the new owner; the old owner's sockets
   * close at once.
   */
  async updateMachine(machineId: number, fields: MachineFields, status?: MachineStatus): Promise<Outcome<MachineView>> {
    return this.units.outcome(() =>
      this.serial(async (s) => {
        const st = await this.load(s, machineId);
        if (!st) throw new ApiError('NOT_FOUND');
        const statusChanged = status !== undefined && status !== st.status;
        if (statusChanged && st.ops.length > 0) throw new ApiError('MACHINE_BUSY');
        const row = await updateMachineRow(s, machineId, fields, status);
        if (!row) throw new ApiError('NOT_FOUND');
        if (statusChanged) await this.save({ ...st, status });
        if (statusChanged || fields.ownerId !== undefined) {
          const events = statusChanged ? [{ type: 'status', machine_id: machineId, status, previous: st.status, at: new Date().toISOString() }] : [];
          await this.broadcast(s, machineId, events);
        }
        return machineView(row);
      }),
    );
  }

  /** DELETE: removes the row (its history cascades), this object's storage and its sockets. */
  async destroy(machineId: number): Promise<Outcome<void>> {
    return this.units.outcome(() =>
      this.serial(async (s) => {
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
      }),
    );
  }

  // ---- executions ---------------------------------------------------------------------------------

  /** Runs the claimed head in the background; its outcome is applied in turn (serial). */
  private start(machineId: number, op: PendingOp, controllerUrl: string | null): void {
    const token = { id: op.id };
    this.running = token;
    const msg = { operation_id: op.id, machine_id: machineId, command: op.command };
    const work = execute(this.config(), msg, controllerUrl)
      .catch((err: unknown): Execution => ({ retry: `execution failed: ${String(err)}` }))
      .then((outcome) => this.serial((s) => this.settle(s, machineId, op.id, outcome)))
      .catch((err: unknown) => logLine('error', 'machine result not applied', { operation_id: op.id, error: String(err) }))
      .finally(() => {
        if (this.running === token) this.running = null;
      });
    this.ctx.waitUntil(work);
  }

  /** The end of one execution (inside serial): a result, or a retry through the queue with backoff. */
  private async settle(s: Store, machineId: number, operationId: number, outcome: Execution): Promise<void> {
    const st = await this.load(s, machineId);
    const op = st?.ops.find((o) => o.id === operationId);
    if (!st || !op) return; // resolved meanwhile (dead-letter queue, watchdog, deletion)
    if (!('retry' in outcome)) {
      await this.resolve(s, machineId, operationId, outcome.result, outcome.detail);
      return;
    }
    const failures = (op.failures ?? 0) + 1;
    if (failures >= MAX_ATTEMPTS) {
      await this.resolve(s, machineId, operationId, 'INTERNALFAILED', RETRIES_EXHAUSTED);
      return;
    }
    logLine('warn', 'machine command will be retried', {
      operation_id: operationId,
      attempts: failures,
      delay_seconds: retryDelaySeconds(this.config(), failures),
      error: outcome.retry,
    });
    await this.patchOp(st, op, { claimedAt: null, enqueuedAt: null, failures });
    await this.enqueueHead(s);
  }

  /**
   * Whatever is due (inside serial): accepted rows this object does not know are adopted, an unsent
   * head is sent (on a cold load a sent one too: its message may have died with the process), an
   * execution that died with a previous instance counts as a failed attempt, and a message the
   * queue lost trips the watchdog.
   */
  private async recover(s: Store, cold = false): Promise<void> {
    const st = await this.reconcile(s);
    const head = st.ops[0];
    if (!head) return;
    if (head.claimedAt !== null) {
      if (this.running?.id !== head.id) await this.settle(s, st.machineId, head.id, { retry: INTERRUPTED });
    } else if (!head.enqueuedAt || cold) {
      await this.enqueueHead(s);
    } else if (Date.now() >= head.enqueuedAt + watchdogMs(this.config())) {
      await this.resolve(s, st.machineId, head.id, 'INTERNALFAILED', WATCHDOG_FAILED);
    }
  }

  /**
   * Adopts the machine's PENDING rows this object does not know (a crash between the insert and the
   * save), oldest first, behind the ones it knows: each runs in its turn, or is failed with the
   * reason when its command does not apply to the status the commands before it lead to.
   */
  private async reconcile(s: Store): Promise<State> {
    const st = this.state!;
    const known = new Set(st.ops.map((o) => o.id));
    const unknown = (await pendingOperations(s, st.machineId)).filter((row) => !known.has(row.id));
    if (unknown.length === 0 && !st.inserting) return st;
    let ops = st.ops;
    const refused: Resolution[] = [];
    for (const row of unknown) {
      const projected = ops.at(-1)?.target ?? st.status;
      const target = nextStatus(projected, row.command);
      if (target) ops = [...ops, { id: row.id, command: row.command, target, claimedAt: null }];
      else refused.push({ id: row.id, result: 'INTERNALFAILED', detail: `${row.command} does not apply to ${projected}, ${NOT_APPLICABLE}` });
    }
    const saved = await this.save({ ...st, ops, inserting: null });
    for (const r of refused) {
      const rows = await resolveOperations(s, st.machineId, r, [], null);
      await this.broadcast(
        s,
        st.machineId,
        rows.map((row) => ({ type: 'operation', operation: operationView(row) })),
      );
    }
    return saved;
  }

  /**
   * Resolves one pending operation (inside serial). A failure cancels the commands queued behind it:
   * they were accepted for a status the machine did not reach. A result already in the database
   * (written just before a crash) stands: this object adopts it.
   */
  private async resolve(s: Store, machineId: number, operationId: number, result: Resolution['result'], detail: string | null): Promise<boolean> {
    const st = await this.load(s, machineId);
    const op = st?.ops.find((o) => o.id === operationId);
    if (!st || !op) return false;
    const rest = st.ops.filter((o) => o !== op);
    const statusAfter = (r: Resolution['result']): MachineStatus => (r === 'SUCCESS' ? op.target : r === 'REMOTEFAILED' ? 'ERROR' : st.status);
    const cancelled =
      result === 'SUCCESS'
        ? []
        : rest.map((o) => ({ id: o.id, result: 'INTERNALFAILED' as const, detail: `cancelled: operation ${op.id} failed before it` }));
    const newStatus = statusAfter(result);
    let rows = await resolveOperations(s, machineId, { id: op.id, result, detail }, cancelled, newStatus === st.status ? null : newStatus);
    if (!rows.some((r) => r.id === op.id)) {
      const recorded = await findOperation(s, machineId, op.id);
      if (recorded && recorded.result !== 'PENDING') {
        result = recorded.result;
        rows = [recorded];
      }
    }
    const status = statusAfter(result);
    await this.save({ ...st, status, ops: result === 'SUCCESS' ? rest : [] });
    const events: Record<string, unknown>[] = rows.map((row) => ({ type: 'operation', operation: operationView(row) }));
    if (status !== st.status) events.push({ type: 'status', machine_id: machineId, status, previous: st.status, at: new Date().toISOString() });
    await this.broadcast(s, machineId, events);
    if (this.state!.ops.length > 0) await this.enqueueHead(s);
    return true;
  }

  /**
   * Sends the head to the queue (after the backoff of its failures so far). If the queue refuses
   * it, the operation is resolved INTERNALFAILED rather than left PENDING forever. Answers whether
   * it was queued.
   */
  private async enqueueHead(s: Store): Promise<boolean> {
    const st = this.state!;
    const head = st.ops[0]!;
    const attempt = (head.failures ?? 0) + 1;
    const delaySeconds = attempt === 1 ? 0 : retryDelaySeconds(this.config(), attempt - 1);
    try {
      const body = { operation_id: head.id, machine_id: st.machineId, command: head.command, attempt };
      await this.env.MACHINE_QUEUE.send(body, delaySeconds > 0 ? { delaySeconds } : undefined);
      await this.patchOp(st, head, { enqueuedAt: Date.now() + delaySeconds * 1000 });
      return true;
    } catch (err) {
      logLine('error', 'enqueue failed', { operation_id: head.id, error: String(err) });
      await this.resolve(s, st.machineId, head.id, 'INTERNALFAILED', QUEUE_FAILED);
      return false;
    }
  }

  // ---- the alarm ----------------------------------------------------------------------------------

  /** The earliest moment something is due: a recovery step of the head, or a socket's token expiry. */
  private alarmAt(st: State | null): number | null {
    const due: number[] = this.watchers().map(([, w]) => w.tokenExp * 1000);
    if (st?.inserting) due.push(st.inserting + SEND_GRACE_MS);
    const head = st?.ops[0];
    if (head) {
      if (head.claimedAt !== null) due.push(head.claimedAt + executionMs(this.config()));
      else if (!head.enqueuedAt) due.push(Date.now() + SEND_GRACE_MS);
      else due.push(head.enqueuedAt + watchdogMs(this.config()));
    }
    // Never in the past: what was due has just been handled (or runs here still, e.g. an execution
    // past its claim), and an alarm in the past would fire again at once.
    return due.length ? Math.max(Math.min(...due), Date.now() + 1_000) : null;
  }

  private async armAlarm(): Promise<void> {
    const at = this.alarmAt(this.state ?? null);
    await (at === null ? this.ctx.storage.deleteAlarm() : this.ctx.storage.setAlarm(at));
  }

  override async alarm(): Promise<void> {
    await this.serial(async (s) => {
      const warm = this.state !== undefined && this.state !== null;
      const stored = this.state ?? (await this.ctx.storage.get<State>('state'));
      if (stored) {
        await this.load(s, stored.machineId); // a cold load recovers by itself
        if (warm) await this.recover(s);
      }
      this.closeExpired();
      await this.armAlarm();
    });
  }

  // ---- /live ------------------------------------------------------------------------------------

  /**
   * The WebSocket upgrade, forwarded by the route after authentication and the permission check,
   * with the caller's user, session and token expiry, which the socket keeps. 404: no machine; 409:
   * the user's socket limit; 401/403: the right ended since the route checked it.
   */
  override async fetch(request: Request): Promise<Response> {
    const machineId = Number(request.headers.get('x-machine-id'));
    const watcher: Watcher = {
      userId: Number(request.headers.get('x-user-id')),
      sessionId: request.headers.get('x-session-id') ?? '',
      tokenExp: Number(request.headers.get('x-token-exp')),
    };
    return this.serial(async (s) => {
      const st = await this.load(s, machineId);
      if (!st) return new Response(null, { status: 404 });
      // Bounds the work of one user on this machine: every event re-checks every socket's right.
      if (this.watchers().filter(([, w]) => w.userId === watcher.userId).length >= LIVE_SOCKETS_PER_USER) {
        return new Response(null, { status: 409 });
      }
      // The session is recorded as watching this machine before its right is checked once more: a
      // revocation committed before this check is seen here; one committed after it finds the record
      // and has this object re-check the socket (closeRevoked), which then is open. Either way it
      // closes at once, never only on the next event.
      await addWatcher(s, { sessionId: watcher.sessionId, machineId, userId: watcher.userId, expiresAt: watcher.tokenExp * 1000 });
      const right = (await watcherRights(s, machineId, [watcher.sessionId], Date.now())).get(watcher.sessionId);
      if (right !== true) return new Response(null, { status: right === undefined ? 401 : 403 });
      const pair = new WebSocketPair();
      const [client, server] = [pair[0], pair[1]];
      this.ctx.acceptWebSocket(server);
      server.serializeAttachment(watcher);
      server.send(JSON.stringify(this.statusEvent(st)));
      await this.armAlarm(); // the token's expiry
      return new Response(null, { status: 101, webSocket: client });
    });
  }

  /**
   * Called once a revocation of some of `userId`'s sessions (logout, refresh-token reuse, password
   * change, deactivation) or of its staff rights has committed: re-checks that user's sockets here
   * now, closing those whose right ended (4401, or 4403), without waiting for the next event.
   */
  async closeRevoked(machineId: number, userId: number): Promise<void> {
    await this.serial((s) => this.permitted(s, machineId, (_, w) => w.userId === userId));
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    // A flood of frames would hold this machine's lock and the database: past its budget a socket
    // is closed, before any work (pings are answered by the runtime and never count).
    if (!this.frameAllowed(ws)) return close(ws, 4429, 'too many messages');
    // Clients may ask for the current status at any time (e.g. after a reconnect).
    if (message !== 'status') return;
    await this.serial(async (s) => {
      // After hibernation the instance is new: read the state back from storage.
      const stored = this.state ?? (await this.ctx.storage.get<State>('state'));
      const st = stored ? await this.load(s, stored.machineId) : null;
      // Only the asking socket's right is checked: one small query, whatever the number of watchers.
      // The socket may have closed while this waited its turn (a flood closes it): send() would throw.
      if (st && (await this.permitted(s, st.machineId, (socket) => socket === ws)).includes(ws)) send(ws, JSON.stringify(this.statusEvent(st)));
    });
  }

  /** Counts a frame against its socket's fixed window (kept in memory: a new instance starts afresh). */
  private frameAllowed(ws: WebSocket): boolean {
    const now = Date.now();
    const w = this.frames.get(ws);
    if (!w || now - w.start >= LIVE_FRAME_WINDOW_MS) {
      this.frames.set(ws, { start: now, count: 1 });
      return true;
    }
    return ++w.count <= LIVE_FRAMES_PER_WINDOW;
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    close(ws, code, reason);
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

  /** The open sockets with what they carry (one opened before sockets carried it has nothing). */
  private watchers(): [WebSocket, Watcher][] {
    return this.ctx
      .getWebSockets()
      .filter((ws) => ws.readyState === WebSocket.OPEN)
      .map((ws) => [ws, (ws.deserializeAttachment() as Watcher | null) ?? { userId: 0, sessionId: '', tokenExp: 0 }]);
  }

  /** Closes the sockets whose access token has expired; answers the others. */
  private closeExpired(): [WebSocket, Watcher][] {
    const now = Date.now();
    return this.watchers().filter(([ws, w]) => {
      if (w.tokenExp * 1000 > now) return true;
      close(ws, 4401, 'token expired');
      return false;
    });
  }

  /**
   * The sockets that may still see this machine; the others are closed: 4401 when their token
   * expired, their session ended or their user was deactivated, 4403 when their user may no longer
   * watch it (a transfer, or staff rights withdrawn). One query per 90 sockets, only when a socket
   * is open; `only` limits the check to the sockets it accepts.
   */
  private async permitted(s: Store, machineId: number, only?: (ws: WebSocket, w: Watcher) => boolean): Promise<WebSocket[]> {
    const open = this.closeExpired().filter(([ws, w]) => !only || only(ws, w));
    if (open.length === 0) return [];
    const rights = await watcherRights(s, machineId, [...new Set(open.map(([, w]) => w.sessionId))], Date.now());
    return open
      .filter(([ws, w]) => {
        const right = rights.get(w.sessionId);
        if (right) return true;
        close(ws, right === undefined ? 4401 : 4403, right === undefined ? 'session ended' : 'permission lost');
        return false;
      })
      .map(([ws]) => ws);
  }

  private async broadcast(s: Store, machineId: number, events: Record<string, unknown>[]): Promise<void> {
    const sockets = await this.permitted(s, machineId);
    const texts = events.map((e) => JSON.stringify(e));
    for (const ws of sockets) for (const text of texts) send(ws, text);
  }
}

/** Sends unless the socket is already closing (the runtime then drops it). */
function send(ws: WebSocket, text: string): void {
  try {
    ws.send(text);
  } catch {
    // closing or closed
  }
}

function close(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code, reason);
  } catch {
    // already closed
  }
}
