// The command queue of one machine, kept by its Durable Object (machine.do.ts): the confirmed status
// and the ordered list of accepted commands. A new command is validated against the status the
// machine will have after them, and only the oldest one runs: the next starts when the previous
// one's result is in, so a device never sees two commands at once or out of order.
//
// A command's life, and why no crash can strand it:
//  1. accept(): the state is saved with an `inserting` mark (and its alarm) before the operation row
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
//  5. A sent message that has started no execution HANDOVER_MS after it was due is sent again, by
//     the alarm, and so is the head's message on a cold load (a local queue loses its messages with
//     the process; a duplicate is harmless). The watchdog: a command whose messages started no
//     execution long after the first was due is failed, so a queue that keeps losing them never
//     blocks a machine.
// Every state write carries the alarm it needs in the same storage transaction. What is due after a
// crash is decided in recovery.ts; this file carries it out.
import type { MachineCommand, MachineStatus } from '../../db/schema';
import type { Store } from '../../db/store';
import type { Bindings, Config } from '../../env';
import { ApiError } from '../../lib/problem';
import { execute, retryDelaySeconds, type Execution } from './controller';
import { controllerKeys, ensureControllerSecret } from './controller-secret';
import type { CommandMessage } from './message';
import type { MachineRow } from '../../db/schema';
import type { LiveSockets } from './live';
import { findMachine, findOperation, insertOperation, pendingOperations, resolveOperations, type Resolution } from './repository';
import { adopt, dueStep, INTERRUPTED, WATCHDOG_FAILED } from './recovery';
import type { PendingOp, State } from './state';
import { nextStatus } from '../../contract';
import { operationView, type OperationView } from './views';
import type { LiveEvent } from '../../contract';
import { logLine } from '../../lib/log';
import { OutboxKicker } from '../webhooks';

const QUEUE_FAILED = 'the command could not be queued';
const RETRIES_EXHAUSTED = 'the controller could not be reached after all retries';
/** The first execution and 3 retries, like the queue's max_retries. */
const MAX_ATTEMPTS = 4;

/** started: this message began an execution; running: one is under way; done: nothing (left) to do. */
export type Dispatch = 'started' | 'running' | 'done';

export interface CommandInput {
  machineId: number;
  workerId: number;
  isStaff: boolean;
  command: MachineCommand;
}

/** What the queue uses of its object. */
export interface QueueHost {
  storage: DurableObjectStorage;
  /** The object's bindings, read on each use (the tests swap a live object's queue binding). */
  bindings: () => Bindings;
  /** The configuration, as parsed by the unit of work under way. */
  config: () => Config;
  live: LiveSockets;
  /** Runs `fn` after every earlier call of the object has finished (see MachineDO.serial). */
  serial: <T>(fn: (s: Store) => Promise<T>) => Promise<T>;
  waitUntil: (work: Promise<unknown>) => void;
  /** When the object's alarm must fire with `st` stored (null: no alarm). */
  alarmAt: (st: State | null) => number | null;
}

/** One execution, signed with the machine's controller secrets (a secret that cannot be opened fails it). */
async function signedExecution(cfg: Config, msg: CommandMessage, machine: MachineRow): Promise<Execution> {
  if (!machine.controllerUrl) return execute(cfg, msg, null, null);
  let keys: Awaited<ReturnType<typeof controllerKeys>>;
  try {
    keys = await controllerKeys(cfg, machine);
  } catch {
    // Sealed under another SECRETS_KEY: never sent unsigned (a rotation makes a new one).
    return { result: 'INTERNALFAILED', detail: 'the controller secret cannot be read: make a new one (POST /api/machines/{id}/controller-secret)' };
  }
  return execute(cfg, msg, machine.controllerUrl, keys);
}

export class CommandQueue {
  /** undefined: not loaded yet; null: the machine does not exist. */
  state: State | null | undefined;
  /** The execution under way in this instance (an object identity per execution). */
  private running: { id: number } | null = null;

  /** Fans out the events this object's writes add (webhooks), one run at a time. */
  readonly outbox: OutboxKicker;

  constructor(private readonly host: QueueHost) {
    this.outbox = new OutboxKicker(host.bindings, host.waitUntil);
  }

  /** The configuration of the object's unit of work under way (parsed once per unit). */
  private config(): Config {
    return this.host.config();
  }

  /**
   * The state from storage (then whatever a crash left unfinished is finished), or, the first time
   * (e.g. a seeded machine), from the database row.
   */
  async load(s: Store, machineId: number): Promise<State | null> {
    if (this.state !== undefined) return this.state;
    const stored = await this.host.storage.get<State>('state');
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

  /** The stored state, read back after hibernation or a restart (null: none). */
  async stored(): Promise<State | null> {
    return this.state ?? (await this.host.storage.get<State>('state')) ?? null;
  }

  /** Saves the state together with the alarm it needs (one storage transaction: no await between). */
  async save(state: State): Promise<State> {
    this.state = state;
    const at = this.host.alarmAt(state);
    const storage = this.host.storage;
    await Promise.all([storage.put('state', state), at === null ? storage.deleteAlarm() : storage.setAlarm(at)]);
    return state;
  }

  /** The machine is deleted: nothing is loaded any more (its storage is gone). */
  forget(): void {
    this.state = undefined;
  }

  private async patchOp(state: State, op: PendingOp, change: Partial<PendingOp>): Promise<State> {
    return this.save({ ...state, ops: state.ops.map((o) => (o === op ? { ...o, ...change } : o)) });
  }

  /** Step 1: a new command, validated, recorded PENDING and, at the head, sent. */
  async accept(s: Store, input: CommandInput): Promise<OperationView> {
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
    await this.host.live.broadcast(s, input.machineId, [{ type: 'operation', operation: view }]);
    if (ops.length === 1 && !(await this.enqueueHead(s))) {
      return { ...view, result: 'INTERNALFAILED' as const, detail: QUEUE_FAILED, completed_at: new Date().toISOString() };
    }
    return view;
  }

  /**
   * Step 3: a queue message asks to run execution number `attempt` of an operation. Only the head
   * runs, one execution at a time; a stale or duplicate message learns there is nothing for it to do.
   */
  async dispatch(s: Store, machineId: number, operationId: number, attempt: number): Promise<Dispatch> {
    const st = await this.load(s, machineId);
    const head = st?.ops[0];
    if (!st || !head || head.id !== operationId) return 'done';
    if (head.claimedAt !== null) return 'running';
    if ((head.failures ?? 0) + 1 !== attempt) return 'done'; // a duplicate of an earlier attempt's message
    let machine = await findMachine(s, machineId);
    if (!machine) return 'done';
    // A machine made before controller secrets gets one now (controller-secret.ts): commands are signed.
    if (machine.controllerUrl && !machine.controllerSecret) {
      await ensureControllerSecret(s, this.config(), machineId);
      machine = await findMachine(s, machineId);
      if (!machine) return 'done';
    }
    await this.patchOp(st, head, { claimedAt: Date.now() });
    this.start(machineId, head, machine);
    return 'started';
  }

  /** Runs the claimed head in the background; its outcome is applied in turn (serial). */
  private start(machineId: number, op: PendingOp, machine: MachineRow): void {
    const token = { id: op.id };
    this.running = token;
    const msg = { operation_id: op.id, machine_id: machineId, command: op.command };
    const cfg = this.config();
    const work = signedExecution(cfg, msg, machine)
      .catch((err: unknown): Execution => ({ retry: `execution failed: ${String(err)}` }))
      .then((outcome) => this.host.serial((s) => this.endExecution(s, machineId, op.id, outcome)))
      .catch((err: unknown) => logLine('error', 'machine result not applied', { operation_id: op.id, error: String(err) }))
      .finally(() => {
        if (this.running === token) this.running = null;
      });
    this.host.waitUntil(work);
  }

  /** Step 4, the end of one execution (inside serial): a result, or a retry through the queue with backoff. */
  private async endExecution(s: Store, machineId: number, operationId: number, outcome: Execution): Promise<void> {
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
    await this.patchOp(st, op, { claimedAt: null, enqueuedAt: null, resentAt: null, failures });
    await this.enqueueHead(s);
  }

  /** Whatever is due after a crash or a lost message (inside serial), as recovery.ts decides it. */
  async recover(s: Store, cold = false): Promise<void> {
    const st = await this.reconcile(s);
    const head = st.ops[0];
    if (!head) return;
    const step = dueStep(head, { now: Date.now(), cold, runningHere: this.running?.id === head.id, config: this.config() });
    if (step === 'interrupted') await this.endExecution(s, st.machineId, head.id, { retry: INTERRUPTED });
    else if (step === 'send') await this.enqueueHead(s);
    else if (step === 'watchdog') await this.resolve(s, st.machineId, head.id, 'INTERNALFAILED', WATCHDOG_FAILED);
    else if (step === 'handover') await this.enqueueHead(s, { again: true });
  }

  /** Adopts the machine's PENDING rows this object does not know, or fails them (recovery.adopt). */
  private async reconcile(s: Store): Promise<State> {
    const st = this.state!;
    const known = new Set(st.ops.map((o) => o.id));
    const unknown = (await pendingOperations(s, st.machineId)).filter((row) => !known.has(row.id));
    if (unknown.length === 0 && !st.inserting) return st;
    const { ops, refused } = adopt(st, unknown);
    const saved = await this.save({ ...st, ops, inserting: null });
    for (const r of refused) {
      const rows = await resolveOperations(s, st.machineId, r, [], null);
      await this.host.live.broadcast(
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
  async resolve(s: Store, machineId: number, operationId: number, result: Resolution['result'], detail: string | null): Promise<boolean> {
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
    // Its events (operation results, a status change) were written with it: fan them out now.
    this.outbox.kick();
    if (!rows.some((r) => r.id === op.id)) {
      const recorded = await findOperation(s, machineId, op.id);
      if (recorded && recorded.result !== 'PENDING') {
        result = recorded.result;
        rows = [recorded];
      }
    }
    const status = statusAfter(result);
    await this.save({ ...st, status, ops: result === 'SUCCESS' ? rest : [] });
    const events: LiveEvent[] = rows.map((row) => ({ type: 'operation', operation: operationView(row) }));
    if (status !== st.status) events.push({ type: 'status', machine_id: machineId, status, previous: st.status, at: new Date().toISOString() });
    await this.host.live.broadcast(s, machineId, events);
    if (this.state!.ops.length > 0) await this.enqueueHead(s);
    return true;
  }

  /**
   * Step 2: sends the head to the queue (after the backoff of its failures so far). If the queue
   * refuses it, the operation is resolved INTERNALFAILED rather than left PENDING forever. Answers
   * whether it was queued.
   */
  private async enqueueHead(s: Store, { again = false } = {}): Promise<boolean> {
    const st = this.state!;
    const head = st.ops[0]!;
    const attempt = (head.failures ?? 0) + 1;
    // A hand-over re-send repeats the message as it was, without another backoff.
    const delaySeconds = attempt === 1 || again ? 0 : retryDelaySeconds(this.config(), attempt - 1);
    try {
      const body = { operation_id: head.id, machine_id: st.machineId, command: head.command, attempt };
      await this.host.bindings().MACHINE_QUEUE.send(body, delaySeconds > 0 ? { delaySeconds } : undefined);
      const now = Date.now();
      await this.patchOp(st, head, again ? { resentAt: now } : { enqueuedAt: now + delaySeconds * 1000, resentAt: null });
      return true;
    } catch (err) {
      logLine('error', 'enqueue failed', { operation_id: head.id, error: String(err) });
      await this.resolve(s, st.machineId, head.id, 'INTERNALFAILED', QUEUE_FAILED);
      return false;
    }
  }
}
