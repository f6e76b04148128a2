// Machine controller secrets (contract section 6): the `whsec_…` secret that signs every command a
// controller receives (src/lib/signing.ts), stored sealed in the machine's row (src/lib/secret-box.ts).
// It is answered once: by the 201 of POST /api/machines with a controller_url, by the first PUT/PATCH
// that sets one, and by POST /api/machines/{id}/controller-secret, which rotates it (the previous one
// keeps signing for ROTATION_OVERLAP_MS). No GET, log line or view ever carries it.
//
// A machine made before secrets existed (the migration only adds nullable columns; sealing needs
// SECRETS_KEY, which SQL does not have) gets one on its first command: the dispatch seals a new one
// into the row if it still has none (a conditional UPDATE: two racing dispatches keep one). Its owner
// learns a secret by rotating; a device that does not verify yet is unaffected (signatures are headers).
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Config } from '../../env';
import type { MachineRow } from '../../db/schema';
import type { Store } from '../../db/store';
import { open, seal } from '../../lib/secret-box';
import { newSigningSecret, ROTATION_OVERLAP_MS, type SigningKeys } from '../../lib/signing';

/** The additional data of a sealed controller secret: it opens only as one. */
const CONTEXT = 'machines.controller_secret';

/** A new secret, and its sealed form for the row. */
export async function newControllerSecret(cfg: Config): Promise<{ secret: string; sealed: string }> {
  const secret = newSigningSecret();
  return { secret, sealed: await seal(cfg, secret, CONTEXT) };
}

/**
 * Gives the machine a secret if it has none (a conditional UPDATE); answers the secret it set, or null
 * when the row already had one (or is gone).
 */
export async function ensureControllerSecret(s: Store, cfg: Config, machineId: number): Promise<string | null> {
  const { machines } = s.t;
  const { secret, sealed } = await newControllerSecret(cfg);
  const changed = await s.changes(
    s.db
      .update(machines)
      .set({ controllerSecret: sealed })
      .where(and(eq(machines.id, machineId), isNull(machines.controllerSecret))),
  );
  return changed === 1 ? secret : null;
}

/**
 * Rotates in one statement: the current secret becomes the previous one (signing until `until`), the
 * new one current. Two concurrent rotations both succeed; the later keeps the earlier's as previous.
 */
export async function rotateControllerSecret(s: Store, cfg: Config, machineId: number, now = Date.now()) {
  const { machines } = s.t;
  const { secret, sealed } = await newControllerSecret(cfg);
  const until = now + ROTATION_OVERLAP_MS;
  const rows = await s.run(
    s.db
      .update(machines)
      .set({
        controllerSecretPrevious: sql`${machines.controllerSecret}`,
        controllerSecretPreviousUntil: sql`CASE WHEN ${machines.controllerSecret} IS NULL THEN NULL ELSE CAST(${until} AS bigint) END`,
        controllerSecret: sealed,
        updatedAt: now,
      })
      .where(eq(machines.id, machineId))
      .returning({ previous: machines.controllerSecretPreviousUntil }),
  );
  if (rows.length === 0) return null;
  const previous = rows[0]!.previous;
  return { controller_secret: secret, previous_valid_until: previous === null ? null : new Date(previous).toISOString() };
}

/** The keys a command to this machine is signed with (null: the row has no secret). */
export async function controllerKeys(
  cfg: Config,
  row: Pick<MachineRow, 'controllerSecret' | 'controllerSecretPrevious' | 'controllerSecretPreviousUntil'>,
): Promise<SigningKeys | null> {
  if (!row.controllerSecret) return null;
  const current = await open(cfg, row.controllerSecret, CONTEXT);
  const live = row.controllerSecretPrevious && row.controllerSecretPreviousUntil && Date.now() < row.controllerSecretPreviousUntil;
  const previous = live ? await open(cfg, row.controllerSecretPrevious!, CONTEXT) : null;
  return { current, previous, previousUntil: row.controllerSecretPreviousUntil };
}
