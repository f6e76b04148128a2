// Catalog of exams and courses: one implementation parameterised by kind. Data access (and every
// difference between D1 and Postgres) is in repository.ts.
import type { Ctx } from '../../context';
import { BoundedMap } from '../../lib/memo';
import { isoOrNull } from '../../lib/openapi';
import { cursorPage, decodeCursor, encodeCursor, offsetOf, offsetPage } from '../../lib/pagination';
import { ApiError } from '../../lib/problem';
import type { KindConfig } from './kinds';
import { choosePlan, FREQUENCY_CAP, type Frequency, type SearchPlan } from './plan';
import * as repo from './repository';
import { ORDER, type ItemRow, type Stats } from './repository';
import type { CreateItemInput, ListQueryInput, PatchItemInput } from './schemas';
import { boundedSearch, type SearchGroups } from './search';

export type { ItemRow } from './repository';

export function itemView(ctx: Ctx, row: ItemRow) {
  return {
    id: row.id,
    title: row.title,
    description: row.description,
    price: row.price,
    currency: ctx.config.CURRENCY,
    start_at: isoOrNull(row.start_at)!,
    end_at: isoOrNull(row.end_at)!,
    created_at: isoOrNull(row.created_at)!,
    updated_at: isoOrNull(row.updated_at)!,
    registration_count: row.registration_count,
    is_registered: row.is_registered === 1,
  };
}

export async function getItem(ctx: Ctx, k: KindConfig, userId: number, id: number): Promise<ItemRow> {
  const row = await repo.findItem(ctx.store, k, userId, id);
  if (!row) throw new ApiError('NOT_FOUND');
  return row;
}

// ---- listing ---------------------------------------------------------------------------------

/** Counting a search reads every match, so search counts are memoised per isolate (see countOf). */
const searchCounts = new BoundedMap<string, number>(2000);

/**
 * The count of an offset page. Without search: catalog_stats (total, or the cached available count).
 * With search: the number of matches only changes with a catalog write (which bumps `version`) and,
 * for `status=available`, when an item starts or ends (`available_until`). Keyed by the version read
 * in the same transaction as the page, a memoised count is therefore exact, never stale.
 */
async function countOf(
  ctx: Ctx,
  k: KindConfig,
  q: ListQueryInput,
  now: number,
  search: SearchGroups | null,
  stats: Stats | undefined,
): Promise<number> {
  if (!stats) return 0;
  const s = ctx.store;
  if (search === null) {
    if (q.status !== 'available') return stats.total;
    if (now < stats.available_until) return stats.available_count;
    return (await repo.refreshAvailable(s, k, now, stats.version)).count;
  }
  const until =
    q.status !== 'available' || now < stats.available_until ? stats.available_until : (await repo.refreshAvailable(s, k, now, stats.version)).until;
  const windowOk = q.status !== 'available' || now < until;
  const key = `${k.kind}|${q.status ?? ''}|${stats.version}|${q.status ? until : ''}|${JSON.stringify(search)}`;
  const known = windowOk ? searchCounts.get(key) : undefined;
  if (known !== undefined) return known;
  const n = await repo.countSearch(s, k, search, q.status === 'available', now);
  if (windowOk) searchCounts.set(key, n);
  return n;
}

/**
 * How common a search's words are (the kind's size and its matches up to FREQUENCY_CAP), memoised
 * per isolate for a few minutes. It only chooses the plan, and a plan changes the speed of a page,
 * never its rows, so a figure from before the latest catalog write is good enough.
 */
const frequencies = new BoundedMap<string, { at: number; f: Frequency }>(2000);
const FREQUENCY_TTL_MS = 5 * 60_000;

async function planOf(ctx: Ctx, k: KindConfig, q: ListQueryInput, search: SearchGroups | null, need: number, now: number): Promise<SearchPlan> {
  if (search === null || repo.searchStreamsInOrder(ctx.store, q.sort)) return { kind: 'match' };
  const key = `${k.kind}|${JSON.stringify(search)}`;
  let known = frequencies.get(key);
  if (!known || now - known.at >= FREQUENCY_TTL_MS || now < known.at) {
    known = { at: now, f: await repo.searchFrequency(ctx.store, k, search, FREQUENCY_CAP) };
    frequencies.set(key, known);
  }
  return choosePlan(known.f, need);
}

export async function listItems(ctx: Ctx, k: KindConfig, userId: number, q: ListQueryInput, url: string, now = Date.now()) {
  const searching = q.search !== undefined && q.search.trim() !== '';
  const search = searching ? boundedSearch(q.search!) : null;
  // A search with no searchable word (only punctuation or operators) matches nothing.
  if (searching && search === null)
    return q.cursor ? cursorPage(url, q.page_size, [], () => []) : { ...offsetPage(url, q, 0, []), next_cursor: null };
  const order = ORDER[q.sort];
  const after = q.cursor ? decodeCursor(q.cursor, order.key.length) : null;
  const limit = after ? q.page_size + 1 : q.page_size;
  const offset = after ? 0 : offsetOf(q);
  const plan = await planOf(ctx, k, q, search, offset + limit, now);
  const request: repo.PageRequest = { userId, sort: q.sort, available: q.status === 'available', search, after, limit, offset, now, plan };
  const s = ctx.store;

  if (after) {
    const rows = await repo.listPage(s, k, request);
    const envelope = cursorPage(url, q.page_size, rows, (r) => order.key.map((c) => r[c]));
    return { ...envelope, results: envelope.results.map((r) => itemView(ctx, r)) };
  }
  // One round trip for the page and the counters (a search's count may need a second, once).
  const { stats, rows } = await repo.listPageWithStats(s, k, request);
  const count = await countOf(ctx, k, q, now, search, stats);
  const envelope = offsetPage(url, q, count, rows);
  // Any offset page also offers the keyset cursor of its last row, to continue in constant time.
  const last = envelope.results[envelope.results.length - 1];
  const nextCursor = envelope.next && last ? encodeCursor(order.key.map((c) => last[c])) : null;
  return { ...envelope, next_cursor: nextCursor, results: envelope.results.map((r) => itemView(ctx, r)) };
}

// ---- staff writes ----------------------------------------------------------------------------

export async function createItem(ctx: Ctx, k: KindConfig, input: CreateItemInput, now = Date.now()): Promise<ItemRow> {
  return repo.insertItem(ctx.store, k, input, now);
}

export async function updateItem(ctx: Ctx, k: KindConfig, userId: number, id: number, patch: PatchItemInput, now = Date.now()): Promise<ItemRow> {
  const row = await repo.updateItem(ctx.store, k, userId, id, patch, now);
  if (row) return row;
  await getItem(ctx, k, userId, id); // 404 when missing
  throw new ApiError('INPUT_VALIDATION_ERROR', { extras: { errors: [{ path: 'end_at', message: 'start_at must be before end_at' }] } });
}

/** Deletes an item without active registrations (cancelled ones stay, payments keep their snapshot). */
export async function deleteItem(ctx: Ctx, k: KindConfig, id: number): Promise<void> {
  const s = ctx.store;
  if (await repo.deleteItem(s, k, id)) return;
  throw new ApiError((await repo.itemExists(s, k, id)) ? 'HAS_REGISTRATIONS' : 'NOT_FOUND');
}
