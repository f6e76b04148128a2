// Dashboard ranges → lists of local buckets, each a half-open range of UTC hours. The aggregates
// are kept per UTC hour, so a bucket must start and end on whole UTC hours: zones whose offset is
// not a whole number of hours (Asia/Kolkata, Asia/Kathmandu, …) are refused with a 400.
import { ApiError } from '../../lib/problem';
import { validationError } from '../../lib/openapi';
import { HOUR_MS, isoWithOffset, localParts, nextLocalMidnight, offsetAt, parseDateParam, rangeEnd, rangeStart, zonedToUtc } from './dates';

export const MAX_BUCKETS = 1000;
const DAY_MS = 24 * HOUR_MS;

export interface Bucket {
  /** First UTC hour (floor(ms / 3600000)) of the bucket. */
  start: number;
  /** First UTC hour after the bucket. */
  end: number;
  datetime: string;
}

export interface DateRangeInput {
  start: string;
  end?: string;
  tz: string;
  now: number;
}

/** Parses the two dates: the first and last instant (inclusive) covered. */
export function parseRange({ start, end, tz, now }: DateRangeInput): { from: number; to: number } {
  const s = parseDateParam(start, tz);
  if (!s) throw validationError([{ path: 'start-date', message: 'expected YYYY-MM-DD or an ISO 8601 date-time' }]);
  let to = now;
  if (end !== undefined) {
    const e = parseDateParam(end, tz);
    if (!e) throw validationError([{ path: 'end-date', message: 'expected YYYY-MM-DD or an ISO 8601 date-time' }]);
    to = rangeEnd(e, tz);
  }
  const from = rangeStart(s, tz);
  if (from > to) throw new ApiError('INVALID_DATE_RANGE');
  return { from, to };
}

function wholeHour(ms: number): number {
  if (ms % HOUR_MS !== 0) {
    throw validationError([{ path: 'timezone', message: 'time zones whose UTC offset is not a whole number of hours are not supported' }]);
  }
  return ms / HOUR_MS;
}

/** The local hour containing `ms`, as a UTC hour index (checks that the zone is on a whole hour). */
function hourOf(ms: number, tz: string): number {
  const p = localParts(ms, tz);
  return wholeHour(ms - (p.minute * 60 + p.second) * 1000 - (ms % 1000));
}

export function hourBuckets(from: number, to: number, tz: string): Bucket[] {
  const first = hourOf(from, tz);
  const last = hourOf(to, tz);
  if (last - first + 1 > MAX_BUCKETS) throw new ApiError('RANGE_TOO_LARGE');
  const out: Bucket[] = [];
  for (let h = first; h <= last; h++) {
    const off = offsetAt(h * HOUR_MS, tz);
    if (off % HOUR_MS !== 0) wholeHour(off); // a zone could move to a half-hour offset mid-range
    out.push({ start: h, end: h + 1, datetime: isoWithOffset(h * HOUR_MS, tz, off) });
  }
  return out;
}

export function dayBuckets(from: number, to: number, tz: string): Bucket[] {
  if ((to - from) / DAY_MS > MAX_BUCKETS + 1) throw new ApiError('RANGE_TOO_LARGE');
  const p = localParts(from, tz);
  let date = { year: p.year, month: p.month, day: p.day };
  let start = zonedToUtc({ ...date, hour: 0, minute: 0 }, tz);
  const out: Bucket[] = [];
  while (start <= to) {
    const end = nextLocalMidnight(date.year, date.month, date.day, tz);
    out.push({ start: wholeHour(start), end: wholeHour(end), datetime: isoWithOffset(start, tz) });
    if (out.length > MAX_BUCKETS) throw new ApiError('RANGE_TOO_LARGE');
    const next = new Date(Date.UTC(date.year, date.month - 1, date.day + 1));
    date = { year: next.getUTCFullYear(), month: next.getUTCMonth() + 1, day: next.getUTCDate() };
    start = end;
  }
  return out;
}

/** The chart's range as UTC hours [start, end): whole local hours, at most MAX_BUCKETS days. */
export function chartHours(from: number, to: number, tz: string): { start: number; end: number } {
  if ((to - from) / DAY_MS > MAX_BUCKETS) throw new ApiError('RANGE_TOO_LARGE');
  return { start: hourOf(from, tz), end: hourOf(to, tz) + 1 };
}

/** The UTC hour of the latest local midnight at or before `now`, or null off whole hours. */
export function lastMidnightHour(now: number, tz: string): number | null {
  const p = localParts(now, tz);
  const ms = zonedToUtc({ year: p.year, month: p.month, day: p.day, hour: 0, minute: 0 }, tz);
  return ms % HOUR_MS === 0 && ms <= now ? ms / HOUR_MS : null;
}
