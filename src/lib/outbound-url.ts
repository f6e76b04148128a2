// The controller URL policy (no SSRF). Workers cannot resolve DNS before a fetch, so the check is on
// the URL itself: the scheme, and hostnames or literal IPs that name private, loopback, link-local
// or otherwise special networks. The WHATWG URL parser already turns decimal, hex and octal IPv4
// forms (`2130706433`, `0x7f.1`) into dotted quads and compresses IPv6, so one check covers every
// spelling. It runs when a URL is stored and again right before each send. Cloudflare's egress
// cannot reach private networks anyway; this keeps a deployment on other infrastructure safe too.
// ALLOW_INSECURE_CONTROLLER_URLS (local development, for a fake controller on this computer) adds
// exactly two things: the `http://` scheme and loopback hosts. Private ranges, link-local and cloud
// metadata addresses stay refused with it, so a developer's laptop on a cloud VM or an office
// network is not turned into a proxy for them.

/** Why a URL is refused, or null when it is acceptable. */
export function controllerUrlProblem(raw: string, allowInsecure: boolean): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.username || url.password) return 'must not contain credentials';
  if (url.protocol !== 'https:' && !(allowInsecure && url.protocol === 'http:')) {
    return allowInsecure ? 'must use https:// or http://' : 'must use https://';
  }
  // Local development may drive a device simulator on this computer, and nothing else private.
  if (allowInsecure && isLoopbackHost(url.hostname)) return null;
  if (!isPrivateHost(url.hostname)) return null;
  return allowInsecure
    ? 'must not name a private or link-local address (only loopback is allowed in local development)'
    : 'must not name a private, loopback or link-local address';
}

/** localhost, *.localhost, 127/8 and [::1], as the URL parser writes them. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  if (host === 'localhost' || host.endsWith('.localhost') || host === '[::1]') return true;
  const v4 = parseIpv4(host);
  return v4 !== null && v4 >>> 24 === 127;
}

const PRIVATE_SUFFIXES = ['.localhost', '.local', '.internal', '.localdomain', '.home.arpa', '.lan'];

export function isPrivateHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  if (host === '' || host === 'localhost') return true;
  if (PRIVATE_SUFFIXES.some((s) => host.endsWith(s))) return true;
  if (host.startsWith('[')) return isPrivateIpv6(host.slice(1, -1));
  // A single label (`metadata`, `intranet`) is resolved through local search domains, never public DNS.
  if (!host.includes('.')) return true;
  const v4 = parseIpv4(host);
  return v4 !== null && isPrivateIpv4(v4);
}

function parseIpv4(host: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return null;
  return ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
}

/** [network, prefix length] of IPv4 ranges that are not the public internet. */
const V4_BLOCKED: [string, number][] = [
  ['0.0.0.0', 8], // "this network", includes 0.0.0.0
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata endpoints
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
];

function isPrivateIpv4(ip: number): boolean {
  return V4_BLOCKED.some(([net, bits]) => {
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    return (ip & mask) >>> 0 === parseIpv4(net);
  });
}

/** Eight 16-bit groups of an IPv6 literal (as the URL parser writes it), or null. */
function parseIpv6(host: string): number[] | null {
  let text = host;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const v4 = parseIpv4(dotted[1]!);
    if (v4 === null) return null;
    text = `${text.slice(0, -dotted[1]!.length)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const groups = [...head, ...Array<string>(Math.max(fill, 0)).fill('0'), ...tail].map((g) => parseInt(g, 16));
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : null;
}

function isPrivateIpv6(host: string): boolean {
  const g = parseIpv6(host);
  if (!g) return true; // unparsable: refuse rather than guess
  const [a, b, c, d, e, f] = g as [number, number, number, number, number, number, number, number];
  const embeddedV4 = ((g[6]! << 16) >>> 0) + g[7]!;
  if (a === 0 && b === 0 && c === 0 && d === 0 && e === 0) {
    // ::, ::1, IPv4-compatible ::a.b.c.d and IPv4-mapped ::ffff:a.b.c.d
    if (f === 0 || f === 0xffff) return g[6] === 0 ? true : isPrivateIpv4(embeddedV4);
    return true;
  }
  if (a === 0 && b === 0 && c === 0 && d === 0 && e === 0xffff && f === 0) return isPrivateIpv4(embeddedV4); // IPv4-translated
  if (a === 0x64 && b === 0xff9b) return isPrivateIpv4(embeddedV4); // NAT64
  if ((a & 0xfe00) === 0xfc00) return true; // unique local fc00::/7
  if ((a & 0xffc0) === 0xfe80) return true; // link-local fe80::/10
  if ((a & 0xffc0) === 0xfec0) return true; // site-local (deprecated)
  if ((a & 0xff00) === 0xff00) return true; // multicast
  return false;
}
