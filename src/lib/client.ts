import type { Context } from 'hono';

/** The client address: `CF-Connecting-IP`, set by Cloudflare (locally the loopback address). */
export function clientAddress(c: Context): string {
  return c.req.header('cf-connecting-ip') ?? '127.0.0.1';
}
