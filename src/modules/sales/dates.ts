// Time zones without fixed offsets: every conversion asks Intl, so DST days get 23 or 25 hours and
// each bucket carries the offset in force at its start.

export const HOUR_MS = 3_600_000;

/** Formatters kept at most: one per zone in use (Intl knows about 420 zones; a caller may spell each many ways). */
export const TIME_ZONE_CACHE_SIZE = 64;

// By canonical zone name, so the spellings Intl accepts ("asia/SEOUL") share one entry; the oldest
// goes when the cache is full.
const formatters = new Map<string, Intl.DateTimeFormat>();

/** How many formatters are cached (tests check the bound). */
export const cachedTimeZones = () => formatters.size;

/** The zone's canonical name as Intl resolves it (any case), or null when Intl does not know it. */
export function canonicalTimeZone(tz: string): string | null {
  if (formatters.has(tz)) return tz;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

function formatter(tz: string): Intl.DateTimeFormat {
  const timeZone = canonicalTimeZone(tz);
  if (timeZone === null) throw new RangeError(`unknown time zone ${tz}`);
  let f = formatters.get(timeZone);
  if (!f) {
    if (formatters.size >= TIME_ZONE_CACHE_SIZE) formatters.delete(formatters.keys().next().value!);
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function computeOffset(ms: number, tz: string): number {
  const out: Record<string, number> = {};
  for (const p of formatter(tz).formatToParts(new Date(ms))) {
    if (p.type !== 'literal') out[p.type] = Number(p.value);
  }
  const asUtc = Date.UTC(out.year!, out.month! - 1, out.day!, out.hour!, out.minute!, out.second!);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

// Offsets per (zone, UTC hour) never change, and Intl is slow enough (microseconds per call) to
// dominate a 1,000-bucket answer; so they are memoised per isolate. Zones change offset on whole
// UTC hours wherever the offset itself is whole hours, the only zones the dashboards accept.
const offsetMemo = new Map<string, Map<number, number>>();
let memoSize = 0;

/** The zone's offset from UTC in force during the UTC hour of `ms`, in milliseconds. */
export function offsetAt(ms: number, tz: string): number {
  const hour = Math.floor(ms / HOUR_MS);
  let zone = offsetMemo.get(tz);
  if (!zone) offsetMemo.set(tz, (zone = new Map()));
  let off = zone.get(hour);
  if (off === undefined) {
    if (++memoSize > 500_000) {
      offsetMemo.clear();
      memoSize = 0;
    }
    off = computeOffset(hour * HOUR_MS, tz);
    zone.set(hour, off);
  }
  return off;
}

/** The wall-clock reading in `tz` at instant `ms`. */
export function localParts(ms: number, tz: string): LocalParts {
  const d = new Date(ms + offsetAt(ms, tz));
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
  };
}

/**
 * The instant of a wall-clock time in `tz`. A time skipped by a DST jump resolves to the instant
 * after the jump (02:30 on a spring-forward night → 03:30), a repeated one to its first occurrence.
 */
export function zonedToUtc(p: Omit<LocalParts, 'second'> & { second?: number; ms?: number }, tz: string): number {
  const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second ?? 0, p.ms ?? 0);
  const first = wall - offsetAt(wall, tz);
  const second = wall - offsetAt(first, tz);
  if (first === second) return first;
  // Two candidates: the earlier one whose reading matches is the first occurrence; none matching
  // means the wall time was skipped, so take the later instant.
  const candidates = [first, second].sort((a, b) => a - b);
  for (const c of candidates) if (c + offsetAt(c, tz) === wall) return c;
  return candidates[1]!;
}

/** The start of the local day (in `tz`) that follows the given local date. */
export function nextLocalMidnight(year: number, month: number, day: number, tz: string): number {
  const d = new Date(Date.UTC(year, month - 1, day + 1));
  return zonedToUtc({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: 0, minute: 0 }, tz);
}

const pad = (n: number) => String(n).padStart(2, '0');

const offsetLabels = new Map<number, string>();

/** `+09:00` for an offset in milliseconds. */
function offsetLabel(off: number): string {
  let label = offsetLabels.get(off);
  if (label === undefined) {
    const minutes = Math.round(Math.abs(off) / 60_000);
    label = `${off < 0 ? '-' : '+'}${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`;
    offsetLabels.set(off, label);
  }
  return label;
}

/** ISO 8601 with the zone's offset in force at `ms`: `2026-11-22T09:00:00+09:00` (years 1970–9999). */
export function isoWithOffset(ms: number, tz: string, off = offsetAt(ms, tz)): string {
  return new Date(ms + off).toISOString().slice(0, 19) + offsetLabel(off);
}

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?$/i;

export type ParsedDate = { kind: 'date'; year: number; month: number; day: number } | { kind: 'instant'; ms: number };

function validDate(y: number, m: number, d: number): boolean {
  const t = new Date(Date.UTC(y, m - 1, d));
  return y >= 1970 && y <= 9999 && t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
}

/**
 * `YYYY-MM-DD` (a local date) or an ISO 8601 date-time; a date-time without an offset is wall-clock
 * time in `tz`. Returns null when the text is neither.
 */
export function parseDateParam(text: string, tz: string): ParsedDate | null {
  const d = DATE_ONLY.exec(text);
  if (d) {
    const [year, month, day] = [Number(d[1]), Number(d[2]), Number(d[3])];
    return validDate(year, month, day) ? { kind: 'date', year, month, day } : null;
  }
  const t = DATE_TIME.exec(text);
  if (!t) return null;
  const [year, month, day, hour, minute] = [1, 2, 3, 4, 5].map((i) => Number(t[i]));
  const second = Number(t[6] ?? 0);
  const ms = Number((t[7] ?? '0').slice(0, 3).padEnd(3, '0'));
  if (!validDate(year!, month!, day!) || hour! > 23 || minute! > 59 || second > 59) return null;
  const zone = t[8];
  if (!zone) return { kind: 'instant', ms: zonedToUtc({ year: year!, month: month!, day: day!, hour: hour!, minute: minute!, second, ms }, tz) };
  const wall = Date.UTC(year!, month! - 1, day!, hour!, minute!, second, ms);
  if (zone.toUpperCase() === 'Z') return { kind: 'instant', ms: wall };
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
  const offset = (Number(m[2]) * 60 + Number(m[3])) * 60_000 * (m[1] === '-' ? -1 : 1);
  if (Math.abs(offset) > 18 * HOUR_MS) return null;
  return { kind: 'instant', ms: wall - offset };
}

/** First instant covered: a bare date starts at its local midnight. */
export function rangeStart(p: ParsedDate, tz: string): number {
  return p.kind === 'instant' ? p.ms : zonedToUtc({ year: p.year, month: p.month, day: p.day, hour: 0, minute: 0 }, tz);
}

/** Last instant covered (inclusive): a bare date covers its whole local day. */
export function rangeEnd(p: ParsedDate, tz: string): number {
  return p.kind === 'instant' ? p.ms : nextLocalMidnight(p.year, p.month, p.day, tz) - 1;
}
