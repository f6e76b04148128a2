// Secrets this service must use again later (machine controller secrets, webhook endpoint secrets)
// are stored sealed: AES-256-GCM (Web Crypto) under SECRETS_KEY, a 12-byte random IV per value, and
// the value's place (e.g. `machine:42:controller`) as additional data, so a sealed value copied into
// another row does not open there. Stored form: `v1.<base64url iv>.<base64url ciphertext+tag>`; the
// version names the key scheme, so SECRETS_KEY can be rotated later by re-sealing under a `v2`.
//
// SECRETS_KEY is a secret: 32 random bytes, base64 or base64url (`openssl rand -base64 32`). It is
// required outside local development (parseConfig refuses to run without it); on a developer's
// machine without one (an old .dev.vars), a key derived from JWT_SECRET is used.

/** What sealing reads of the configuration (src/env.ts Config; not imported: env.ts imports this file). */
export interface SealingConfig {
  readonly SECRETS_KEY?: string | undefined;
  readonly JWT_SECRET: string;
}

const VERSION = 'v1';
const keys = new Map<string, Promise<CryptoKey>>();

const enc = new TextEncoder();
const dec = new TextDecoder();

function b64urlEncode(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function b64Decode(text: string): Uint8Array {
  const std = text.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(std + '='.repeat((4 - (std.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

/** Whether `text` is a usable SECRETS_KEY (32 bytes in base64 or base64url). */
export function isSecretsKey(text: string): boolean {
  try {
    return /^[A-Za-z0-9+/_-]{43}=?$/.test(text) && b64Decode(text).length === 32;
  } catch {
    return false;
  }
}

function keyOf(config: SealingConfig): Promise<CryptoKey> {
  const source = config.SECRETS_KEY ?? `local-development:${config.JWT_SECRET}`;
  let key = keys.get(source);
  if (!key) {
    key = (async () => {
      const raw = config.SECRETS_KEY ? b64Decode(config.SECRETS_KEY) : new Uint8Array(await crypto.subtle.digest('SHA-256', enc.encode(source)));
      return crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']);
    })();
    keys.set(source, key);
  }
  return key;
}

/** Seals `plaintext` for the place `context` names. */
export async function seal(config: SealingConfig, plaintext: string, context: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const data = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: enc.encode(context) }, await keyOf(config), enc.encode(plaintext));
  return `${VERSION}.${b64urlEncode(iv)}.${b64urlEncode(new Uint8Array(data))}`;
}

/** Opens a sealed value; throws when it was sealed under another key or for another place. */
export async function open(config: SealingConfig, sealed: string, context: string): Promise<string> {
  const [version, iv, data] = sealed.split('.');
  if (version !== VERSION || !iv || !data) throw new Error('sealed secret: unknown format');
  const plain = await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: b64Decode(iv), additionalData: enc.encode(context) },
    await keyOf(config),
    b64Decode(data),
  );
  return dec.decode(plain);
}
