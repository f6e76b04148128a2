// MachineDO: one Durable Object per machine, the single writer of its status and its owner. It
// composes the machine's command queue (command-queue.ts, which also tells a command's life and how
// no crash strands it; the decisions after a crash in recovery.ts) and its live sockets (live.ts),
// runs every call one after the other (serial), and keeps one alarm for what either needs next.
import { DurableObject } from 'cloudflare:workers';
import type { MachineStatus, OperationResult } from '../../db/schema';
import type { Store } from '../../db/store';
import { parseConfig, type Bindings, type Config } from '../../env';
import type { Ctx } from '../../context';
import type { Outcome } from '../../lib/outcome';
import { ApiError } from '../../lib/problem';
import { ObjectUnits } from '../../lib/unit-of-work';
import { CommandQueue, type CommandInput, type Dispatch } from './command-queue';
import { close, LiveSockets, send, statusEvent, watcherOf } from './live';
import { recoveryDue } from './recovery';
import { deleteMachineRow, updateMachineRow, type MachineFields } from './repository';
import type { State } from './state';
import { machineView, type MachineView, type OperationView } from './views';
import type { LiveEvent } from '../../contract';

export class MachineDO extends DurableObject<Bindings> {
  private lock: Promise<unknown> = Promise.resolve();
  /** Each call's unit of work (on the primary; results carry the D1 bookmark of its writes). */
  private readonly units: ObjectUnits;
  private readonly live: LiveSockets;
  private readonly queue: CommandQueue;
  /** The unit of work under way (serial runs one at a time), whose config every part reads. */
  private current: Ctx | null = null;

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    this.units = new ObjectUnits(env);
    this.live = new LiveSockets(ctx);
    this.queue = new CommandQueue({
      storage: ctx.storage,
      bindings: () => this.env,
      config: () => this.config(),
      live: this.live,
      serial: (fn) => this.serial(fn),
      waitUntil: (work) => ctx.waitUntil(work),
      alarmAt: (st) => this.alarmAt(st),
    });
    this.ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('ping', 'pong'));
  }

  /**
   * Runs fn after every earlier call has finished. Awaiting the database or the queue opens the
   * DO's input gate, so without this two commands could both validate against the same status.
   * Each call gets its own database session (Postgres; D1 needs none), opened lazily and closed
   * before the next call starts.
   */
  private serial<T>(fn: (s: Store) => Promise<T>): Promise<T> {
    const body = () =>
      this.units.run(async (ctx) => {
        this.current = ctx;
        try {
          return await fn(ctx.store);
        } finally {
          this.current = null;
        }
      });
    const run = this.lock.then(body, body);
    this.lock = run.catch(() => undefined);
    return run;
  }

  /** The configuration parsed once by the unit of work under way (outside one, e.g. a finished execution's callback: parsed now). */
  private config(): Config {
    return this.current?.config ?? parseConfig(this.env);
  }

  // ---- RPC: called by the service and the consumers ---------------------------------------------

  async command(input: CommandInput): Promise<Outcome<OperationView>> {
    return this.units.outcome(() => this.serial((s) => this.queue.accept(s, input)));
  }

  /** A queue message asks to run execution number `attempt` of an operation (CommandQueue.dispatch). */
  dispatch(machineId: number, operationId: number, attempt: number): Promise<Dispatch> {
    return this.serial((s) => this.queue.dispatch(s, machineId, operationId, attempt));
  }

  /** Applies a result once (the dead-letter consumer): a second report changes nothing. */
  finish(machineId: number, operationId: number, result: Exclude<OperationResult, 'PENDING'>, detail: string | null) {
    return this.serial(async (s) => ({ applied: await this.queue.resolve(s, machineId, operationId, result, detail) }));
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
        const st = await this.queue.load(s, machineId);
        if (!st) throw new ApiError('NOT_FOUND');
        const statusChanged = status !== undefined && status !== st.status;
        if (statusChanged && st.ops.length > 0) throw new ApiError('MACHINE_BUSY');
        const row = await updateMachineRow(s, machineId, fields, status, statusChanged);
        if (statusChanged) this.queue.outbox.kick();
        if (!row) throw new ApiError('NOT_FOUND');
        if (statusChanged) await this.queue.save({ ...st, status });
        if (statusChanged || fields.ownerId !== undefined) {
          const events: LiveEvent[] = statusChanged
            ? [{ type: 'status', machine_id: machineId, status, previous: st.status, at: new Date().toISOString() }]
            : [];
          await this.live.broadcast(s, machineId, events);
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
        this.queue.forget();
        this.live.closeAll(machineId);
      }),
    );
  }

  /**
   * Called once a revocation of some of `userId`'s sessions (logout, refresh-token reuse, password
   * change, deactivation) or of its staff rights has committed: re-checks that user's sockets here
   * now, closing those whose right ended (4401, or 4403), without waiting for the next event.
   */
  async closeRevoked(machineId: number, userId: number): Promise<void> {
    await this.serial((s) => this.live.permitted(s, machineId, (_, w) => w.userId === userId));
  }

  // ---- the alarm ----------------------------------------------------------------------------------

  /** The earliest moment something is due: a recovery step of the head, or a socket's token expiry. */
  private alarmAt(st: State | null): number | null {
    const now = Date.now();
    const due = [...this.live.expiries(), ...recoveryDue(st, now, this.config())];
    // Never in the past: what was due has just been handled (or runs here still, e.g. an execution
    // past its claim), and an alarm in the past would fire again at once.
    return due.length ? Math.max(Math.min(...due), now + 1_000) : null;
  }

  private async armAlarm(): Promise<void> {
    const at = this.alarmAt(this.queue.state ?? null);
    await (at === null ? this.ctx.storage.deleteAlarm() : this.ctx.storage.setAlarm(at));
  }

  override async alarm(): Promise<void> {
    await this.serial(async (s) => {
      const warm = this.queue.state !== undefined && this.queue.state !== null;
      const stored = await this.queue.stored();
      if (stored) {
        await this.queue.load(s, stored.machineId); // a cold load recovers by itself
        if (warm) await this.queue.recover(s);
      }
      this.live.closeExpired();
      await this.armAlarm();
    });
  }

  // ---- /live ------------------------------------------------------------------------------------

  /**
   * The WebSocket upgrade, forwarded by the route after authentication and the permission check,
   * with the caller's user, session and token expiry, which the socket keeps. 404: no machine;
   * otherwise as LiveSockets.admit answers.
   */
  override async fetch(request: Request): Promise<Response> {
    const machineId = Number(request.headers.get('x-machine-id'));
    const watcher = watcherOf(request);
    return this.serial(async (s) => {
      const st = await this.queue.load(s, machineId);
      if (!st) return new Response(null, { status: 404 });
      const response = await this.live.admit(s, st, watcher);
      if (response.status === 101) await this.armAlarm(); // the token's expiry
      return response;
    });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    // A flood of frames would hold this machine's lock and the database: past its budget a socket
    // is closed, before any work (pings are answered by the runtime and never count).
    if (!this.live.frameAllowed(ws)) return close(ws, 4429, 'too many messages');
    // Clients may ask for the current status at any time (e.g. after a reconnect).
    if (message !== 'status') return;
    await this.serial(async (s) => {
      // After hibernation the instance is new: read the state back from storage.
      const stored = await this.queue.stored();
      const st = stored ? await this.queue.load(s, stored.machineId) : null;
      // Only the asking socket's right is checked: one small query, whatever the number of watchers.
      // The socket may have closed while this waited its turn (a flood closes it): send() would throw.
      if (st && (await this.live.permitted(s, st.machineId, (socket) => socket === ws)).includes(ws)) send(ws, JSON.stringify(statusEvent(st)));
    });
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    close(ws, code, reason);
  }
}
