// Every HTTP message this service sends to someone else (machine commands, the SMS webhook, event
// webhooks) is signed here, by the Standard Webhooks specification through its own library
// (`standardwebhooks`): `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature`
// (`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`). While a secret rotates, a message
// carries one signature per live secret, space-separated, so a receiver that still holds the old
// secret and one that already has the new one both accept it (the overlap is ROTATION_OVERLAP_MS).
//
// Secrets are `whsec_<base64 of 32 random bytes>`. They are shown once, when made, and stored only
// sealed (./secret-box.ts); nothing here logs one.
import { Webhook } from 'standardwebhooks';

export const SECRET_PREFIX = 'whsec_';
/** How long the previous secret keeps signing after a rotation. */
export const ROTATION_OVERLAP_MS = 24 * 60 * 60 * 1000;

/** A new signing secret: `whsec_` + base64 of 32 bytes from the CSPRNG. */
export function newSigningSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return SECRET_PREFIX + btoa(s);
}

/** The secrets a message is signed with: the current one, and the previous one until it expires. */
export interface SigningKeys {
  current: string;
  previous?: string | null;
  /** Epoch ms until which `previous` still signs. */
  previousUntil?: number | null;
}

/** The live secrets at `now` (the previous one only inside its overlap). */
export function liveSecrets(keys: SigningKeys, now = Date.now()): string[] {
  const out = [keys.current];
  if (keys.previous && keys.previousUntil && now < keys.previousUntil) out.push(keys.previous);
  return out;
}

export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/**
 * The Standard Webhooks headers of one message. `id` is the message's id, the same on every
 * redelivery (receivers de-duplicate on it); `body` must be the exact bytes sent.
 */
export function signMessage(keys: SigningKeys, id: string, body: string, now = new Date()): SignedHeaders {
  const signatures = liveSecrets(keys, now.getTime()).map((secret) => new Webhook(secret).sign(id, now, body));
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
    'webhook-signature': signatures.join(' '),
  };
}

/** A message id with a prefix (`msg_…`, `evt_…`): 128 random bits, URL-safe. */
export function messageId(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `${prefix}_${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}
