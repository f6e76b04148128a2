// Executes one command: the machine's controller (POST, MACHINE_CONTROLLER_TIMEOUT_MS timeout,
// redirects not followed) or, without a controller_url, the built-in simulator. Called by the
// machine's Durable Object, never inside a queue batch, so a slow device delays only its own machine.
import type { Config } from '../../env';
import { signMessage, type SigningKeys } from '../../lib/signing';
import { controllerUrlProblem } from './controller-url';
import type { CommandMessage } from './message';

/** A final answer (SUCCESS, or the device refused or failed: REMOTEFAILED), or a reason to retry. */
export type Execution = { result: 'SUCCESS' | 'REMOTEFAILED' | 'INTERNALFAILED'; detail: string | null } | { retry: string };

/** The backoff before retry number `retry` (1-based): base × 2^(retry−1) seconds (2, 4, 8). */
export function retryDelaySeconds(cfg: Config, retry: number): number {
  return cfg.MACHINE_RETRY_BASE_SECONDS * 2 ** (retry - 1);
}

/** How long one execution may take: the controller timeout (or the simulator's delay), with margin. */
export function executionMs(cfg: Config): number {
  return Math.max(cfg.MACHINE_CONTROLLER_TIMEOUT_MS, cfg.MACHINE_SIM_DELAY_MS) + 5_000;
}

export async function execute(cfg: Config, msg: CommandMessage, controllerUrl: string | null, keys: SigningKeys | null): Promise<Execution> {
  if (!controllerUrl) {
    if (cfg.MACHINE_SIM_DELAY_MS > 0) await scheduler.wait(cfg.MACHINE_SIM_DELAY_MS);
    return { result: 'SUCCESS', detail: null };
  }
  // Checked again at send time: the policy may be stricter than when the URL was stored.
  const refused = controllerUrlProblem(controllerUrl, cfg.ALLOW_INSECURE_CONTROLLER_URLS);
  if (refused) return { result: 'INTERNALFAILED', detail: `controller_url refused: ${refused}` };
  if (!keys) return { result: 'INTERNALFAILED', detail: 'the machine has no controller secret' };
  return callController(controllerUrl, msg, cfg.MACHINE_CONTROLLER_TIMEOUT_MS, keys);
}

/**
 * The id a command's message carries as `webhook-id`: the operation's, so every execution of one
 * operation (a retry after a timeout) has the same id and a device runs it once; a replay is known.
 */
export const commandMessageId = (operationId: number) => `op_${operationId}`;

async function callController(url: string, msg: CommandMessage, timeoutMs: number, keys: SigningKeys): Promise<Execution> {
  let res: Response;
  // Signed at each execution (a fresh timestamp), over the exact bytes sent.
  const body = JSON.stringify({ operation_id: msg.operation_id, machine_id: msg.machine_id, command: msg.command });
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'idempotency-key': `machine-operation-${msg.operation_id}`,
        ...signMessage(keys, commandMessageId(msg.operation_id), body),
      },
      body,
      // A redirect could point anywhere (including private hosts): it counts as a refusal.
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    return { retry: `controller unreachable: ${String(err)}` };
  }
  // The status is all we read; a body that cannot be cancelled cleanly (a broken connection) changes nothing.
  await res.body?.cancel().catch(() => undefined);
  if (res.status >= 200 && res.status < 300) return { result: 'SUCCESS', detail: null };
  return { result: 'REMOTEFAILED', detail: `the controller answered HTTP ${res.status}` };
}
