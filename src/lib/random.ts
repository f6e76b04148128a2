// CSPRNG helpers. Rejection sampling keeps every symbol equally likely (no modulo bias).

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function randomString(length: number, alphabet = ALPHANUMERIC): string {
  // Largest multiple of the alphabet size that fits in a byte: bytes above it are discarded.
  const limit = 256 - (256 % alphabet.length);
  let out = '';
  while (out.length < length) {
    // getRandomValues fills at most 64 KiB per call.
    const chunk = Math.min(65_536, (length - out.length) * 2 + 8);
    for (const byte of crypto.getRandomValues(new Uint8Array(chunk))) {
      if (byte < limit) out += alphabet[byte % alphabet.length];
      if (out.length === length) break;
    }
  }
  return out;
}

export function randomDigits(length: number): string {
  return randomString(length, '0123456789');
}

/** URL-safe token with `bytes * 8` bits of entropy. */
export function randomToken(bytes = 24): string {
  const raw = crypto.getRandomValues(new Uint8Array(bytes));
  let s = '';
  for (const b of raw) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
