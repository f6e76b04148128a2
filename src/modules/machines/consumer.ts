// Queue consumers. `machine-commands` executes operations: the machine's controller (POST, 10 s
// timeout) or the built-in simulator, and reports the result to the machine's Durable Object.
// Network errors and timeouts are retried with exponential backoff; a message that exhausts
// `max_retries` lands on `machine-commands-dlq`, whose consumer marks the operation INTERNALFAILED.
// The operation id is the idempotency key: the DO hands an operation out only while it is pending
// and not held by another delivery, and applies its result once.
import { MACHINE_COMMANDS, type MachineCommand } from '../../db/schema';
import { config, type Bindings } from '../../env';
import { controllerUrlProblem } from './controller-url';
import { machineStub } from './service';

export interface CommandMessage {
  operation_id: number;
  machine_id: number;
  command: MachineCommand;
}

export const COMMAND_QUEUE = 'machine-commands';
export const DEAD_LETTER_QUEUE = 'machine-commands-dlq';

function isCommandMessage(body: unknown): body is CommandMessage {
  const b = body as Partial<CommandMessage> | null;
  return (
    typeof b === 'object' &&
    b !== null &&
    Number.isSafeInteger(b.operation_id) &&
    Number.isSafeInteger(b.machine_id) &&
    MACHINE_COMMANDS.includes(b.command as MachineCommand)
  );
}

/** The worker's `queue` handler: dispatches on the queue name (an environment may suffix it). */
export async function handleQueue(batch: MessageBatch<unknown>, env: Bindings): Promise<void> {
  if (batch.queue.startsWith(DEAD_LETTER_QUEUE)) return handleDeadLetters(batch, env);
  if (batch.queue.startsWith(COMMAND_QUEUE)) return handleCommands(batch, env);
  console.error(JSON.stringify({ level: 'error', msg: 'message from an unknown queue', queue: batch.queue }));
}

/** A remote answer: the device accepted (SUCCESS) or refused/failed (REMOTEFAILED). */
type Outcome = { result: 'SUCCESS' | 'REMOTEFAILED' | 'INTERNALFAILED'; detail: string | null };

/** Thrown for failures worth retrying (network, timeout). */
class RetryableError extends Error {}

export async function handleCommands(batch: MessageBatch<unknown>, env: Bindings): Promise<void> {
  // Messages of different machines run concurrently; one machine only ever has one in flight.
  await Promise.all(batch.messages.map((m) => handleCommand(m, env)));
}

async function handleCommand(message: Message<unknown>, env: Bindings): Promise<void> {
  if (!isCommandMessage(message.body)) {
    console.error(JSON.stringify({ level: 'error', msg: 'malformed machine command', id: message.id }));
    return message.ack();
  }
  const { operation_id: opId, machine_id: machineId } = message.body;
  const cfg = config(env);
  const stub = machineStub(env, machineId);
  // The lease outlives one controller call, so a concurrent duplicate never runs the command too.
  const leaseMs = cfg.MACHINE_CONTROLLER_TIMEOUT_MS + 5_000;
  const claim = await stub.begin(machineId, opId, leaseMs);
  if (claim.state === 'done') return message.ack();
  if (claim.state === 'busy') return message.retry({ delaySeconds: Math.ceil(claim.retryInMs / 1000) });
  let outcome: Outcome;
  try {
    outcome = await execute(env, message.body, claim.controllerUrl);
  } catch (err) {
    if (!(err instanceof RetryableError)) throw err;
    await stub.release(machineId, opId);
    const delaySeconds = cfg.MACHINE_RETRY_BASE_SECONDS * 2 ** (message.attempts - 1);
    console.warn(JSON.stringify({ level: 'warn', msg: 'machine command will be retried', operation_id: opId, attempts: message.attempts, delay_seconds: delaySeconds, error: err.message }));
    return message.retry({ delaySeconds });
  }
  await stub.finish(machineId, opId, outcome.result, outcome.detail);
  message.ack();
}

async function execute(env: Bindings, msg: CommandMessage, controllerUrl: string | null): Promise<Outcome> {
  const cfg = config(env);
  if (!controllerUrl) {
    if (cfg.MACHINE_SIM_DELAY_MS > 0) await scheduler.wait(cfg.MACHINE_SIM_DELAY_MS);
    return { result: 'SUCCESS', detail: null };
  }
  // Checked again at send time: the policy may be stricter than when the URL was stored.
  const refused = controllerUrlProblem(controllerUrl, cfg.ALLOW_INSECURE_CONTROLLER_URLS);
  if (refused) return { result: 'INTERNALFAILED', detail: `controller_url refused: ${refused}` };
  return callController(controllerUrl, msg, cfg.MACHINE_CONTROLLER_TIMEOUT_MS);
}

async function callController(url: string, msg: CommandMessage, timeoutMs: number): Promise<Outcome> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': `machine-operation-${msg.operation_id}` },
      body: JSON.stringify({ operation_id: msg.operation_id, machine_id: msg.machine_id, command: msg.command }),
      // A redirect could point anywhere (including private hosts): it counts as a refusal.
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new RetryableError(`controller unreachable: ${String(err)}`);
  }
  await res.body?.cancel();
  if (res.status >= 200 && res.status < 300) return { result: 'SUCCESS', detail: null };
  return { result: 'REMOTEFAILED', detail: `the controller answered HTTP ${res.status}` };
}

export async function handleDeadLetters(batch: MessageBatch<unknown>, env: Bindings): Promise<void> {
  for (const message of batch.messages) {
    if (!isCommandMessage(message.body)) {
      message.ack();
      continue;
    }
    const { operation_id: opId, machine_id: machineId } = message.body;
    await machineStub(env, machineId).finish(machineId, opId, 'INTERNALFAILED', 'the controller could not be reached after all retries');
    message.ack();
  }
}
