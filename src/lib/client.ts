import type { Context } from 'hono';

/**
 * The client address as the per-address budgets key it: `CF-Connecting-IP`, set by Cloudflare
 * (locally the loopback address). IPv4 stays exact; IPv6 is cut to its /64, since one subscriber
 * usually holds a whole /64 and could otherwise change address for every request.
 */
export function clientAddress(c: Context): string {
  return addressKey(c.req.header('cf-connecting-ip') ?? '127.0.0.1');
}

/** `2001:db8:1:2:…` → `2001:db8:1:2::/64`; an IPv4-mapped IPv6 address → its IPv4; IPv4 as is. */
export function addressKey(ip: string): string {
  if (!ip.includes(':')) return ip;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  const [head = '', tail] = ip.toLowerCase().split('%')[0]!.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  const prefix = groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '') || '0');
  while (prefix.length < 4) prefix.push('0');
  return `${prefix.join(':')}::/64`;
}
