// A port for what other modules hold open on a session's behalf (the machines' /live sockets):
// once a revocation has committed, each registered listener is told whose access shrank, so it can
// end what the revoked sessions opened at once rather than when it next looks. Accounts knows no
// listener; the worker's assembly (src/app.ts) registers them, so no module imports another's
// internals and no import cycle arises.
import type { Ctx } from '../../context';
import { errorSummary, logLine } from '../../lib/log';

/** Whose access shrank: one session (`sessionId`), or some or all sessions of the user (without it). */
export interface Revoked {
  userId: number;
  sessionId?: string;
}

type Listener = (ctx: Ctx, revoked: Revoked) => Promise<void>;

const listeners = new Set<Listener>();

/** Registers a listener (once per function, however often it is registered). */
export function onAccessRevoked(listener: Listener): void {
  listeners.add(listener);
}

/**
 * Tells every listener, after the revocation has committed. A listener's failure is logged, never
 * answered: the revocation stands whatever a listener does.
 */
export async function accessRevoked(ctx: Ctx, revoked: Revoked): Promise<void> {
  await Promise.all(
    [...listeners].map((listener) =>
      listener(ctx, revoked).catch((err: unknown) =>
        logLine('error', 'revocation listener failed', { user_id: revoked.userId, error: errorSummary(err) }),
      ),
    ),
  );
}
