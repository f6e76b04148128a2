// What a machine controller does with each command before it runs it (docs/machines.md, "Controller
// secrets"), with the Standard Webhooks library: verify the signature over the raw body with its
// secret(s) (any one matching signature in `webhook-signature` will do), refuse a timestamp more than
// 5 minutes off (stale, or from the future), and run each `webhook-id` at most once (our retries of
// one operation carry the same id; a replayed message is known and not run again). Used by
// scripts/fake-controller.mjs and by the tests (tests/machines-signing.test.ts).
import { Webhook } from 'standardwebhooks';

const TOLERANCE_MS = 5 * 60 * 1000;

/**
 * A verifier for one device: `secrets` are the `whsec_…` secrets it accepts (two while it switches).
 * `check(rawBody, headers)` answers `{ status: 401, reason }` for a forged, unsigned or stale message,
 * `{ status: 200, duplicate: true, command }` for an id already run (do not run it again), or
 * `{ status: 200, duplicate: false, command }` for a new, genuine command (run it).
 */
export function commandVerifier(secrets) {
  const hooks = secrets.map((s) => new Webhook(s));
  /** webhook-id → when it was first seen; forgotten after the tolerance (older copies fail as stale). */
  const seen = new Map();
  return {
    check(rawBody, headers) {
      const h = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
      let command;
      let reason = 'no signature';
      for (const hook of hooks) {
        try {
          command = hook.verify(rawBody, h);
          break;
        } catch (err) {
          reason = err instanceof Error ? err.message : String(err);
        }
      }
      if (command === undefined) return { status: 401, reason };
      const now = Date.now();
      for (const [id, at] of seen) if (now - at > 2 * TOLERANCE_MS) seen.delete(id);
      const id = h['webhook-id'];
      if (seen.has(id)) return { status: 200, duplicate: true, command };
      seen.set(id, now);
      return { status: 200, duplicate: false, command };
    },
  };
}
