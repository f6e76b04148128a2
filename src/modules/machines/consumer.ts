// Queue consumers. A `machine-commands` message starts one execution of an operation: the consumer
// hands it to the machine's Durable Object, which claims the operation and calls the controller
// itself, outside the batch. A batch therefore returns as soon as every object has answered "started"
// (a claim and a storage write), and one user's slow or hanging devices never hold back the messages
// of other machines: locally miniflare delivers a queue's next batch only after the current one has
// returned, and in production a batch holds a consumer slot until its slowest message is done. When
// the object cannot be reached (or does not answer in 5 s), the queue retries the message with
// exponential backoff; a message that exhausts `max_retries` lands on `machine-commands-dlq`, whose
// consumer marks the operation INTERNALFAILED. Controller failures are retried by the object (see
// machine.do.ts); the operation id and the attempt number make every duplicate harmless.
import { MACHINE_COMMANDS, type MachineCommand } from '../../db/schema';
import { parseConfig, type Bindings, type Config } from '../../env';
import { logLine } from '../../lib/log';
import { withTimeout } from '../../lib/timeout';
import { retryDelaySeconds } from './controller';
import type { CommandMessage } from './message';
import { machineStub } from './stub';

export type { CommandMessage };

export const COMMAND_QUEUE = 'machine-commands';
export const DEAD_LETTER_QUEUE = 'machine-commands-dlq';

/** The longest a message may wait for its object before the queue retries it. */
const DISPATCH_TIMEOUT_MS = 5_000;

function isCommandMessage(body: unknown): body is CommandMessage {
  const b = body as Partial<CommandMessage> | null;
  return (
    typeof b === 'object' &&
    b !== null &&
    Number.isSafeInteger(b.operation_id) &&
    Number.isSafeInteger(b.machine_id) &&
    MACHINE_COMMANDS.includes(b.command as MachineCommand) &&
    (b.attempt === undefined || (Number.isSafeInteger(b.attempt) && b.attempt >= 1))
  );
}

/** The worker's `queue` handler: dispatches on the queue name (an environment may suffix it). */
export async function handleQueue(batch: MessageBatch<unknown>, env: Bindings): Promise<void> {
  if (batch.queue.startsWith(DEAD_LETTER_QUEUE)) return handleDeadLetters(batch, env);
  if (batch.queue.startsWith(COMMAND_QUEUE)) return handleCommands(batch, env, parseConfig(env));
  logLine('error', 'message from an unknown queue', { queue: batch.queue });
}

/** One batch is one unit of work: its config is parsed once, by the caller. */
export async function handleCommands(batch: MessageBatch<unknown>, env: Bindings, config: Config): Promise<void> {
  await Promise.all(batch.messages.map((m) => handleCommand(m, env, config)));
}

async function handleCommand(message: Message<unknown>, env: Bindings, config: Config): Promise<void> {
  if (!isCommandMessage(message.body)) {
    logLine('error', 'malformed machine command', { id: message.id });
    return message.ack();
  }
  const { operation_id: opId, machine_id: machineId, attempt = 1 } = message.body;
  try {
    await withTimeout(machineStub(env, machineId).dispatch(machineId, opId, attempt), DISPATCH_TIMEOUT_MS);
    message.ack();
  } catch (err) {
    const delaySeconds = retryDelaySeconds(config, message.attempts);
    logLine('warn', 'machine command not handed over; the queue retries it', {
      operation_id: opId,
      attempts: message.attempts,
      delay_seconds: delaySeconds,
      error: String(err),
    });
    message.retry({ delaySeconds });
  }
}

export async function handleDeadLetters(batch: MessageBatch<unknown>, env: Bindings): Promise<void> {
  for (const message of batch.messages) {
    if (!isCommandMessage(message.body)) {
      message.ack();
      continue;
    }
    const { operation_id: opId, machine_id: machineId } = message.body;
    await machineStub(env, machineId).finish(machineId, opId, 'INTERNALFAILED', 'the command could not be delivered after all retries');
    message.ack();
  }
}
