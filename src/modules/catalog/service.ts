// Catalog of exams and courses: one implementation parameterised by kind. Raw SQL through D1 so
// each list is one round trip (a batch of the page and its count) with the indexes described in
// src/db/schema/catalog.ts; table names come from KINDS, every value is a bound parameter.
import './codes';
import { config, type Bindings } from '../../env';
import { isoOrNull } from '../../lib/openapi';
import { cursorPage, decodeCursor, encodeCursor, offsetOf, offsetPage } from '../../lib/pagination';
import { ApiError } from '../../lib/problem';
import { ACTIVE_SQL, type KindConfig } from './kinds';
import type { CreateItemInput, ListQueryInput, PatchItemInput } from './schemas';
import { ftsQuery } from './search';

export interface ItemRow {
  id: number;
  title: string;
  description: string;
  price: number;
  start_at: number;
  end_at: number;
  created_at: number;
  updated_at: number;
  registration_count: number;
  is_registered?: number;
}

export function itemView(env: Bindings, row: ItemRow) {
  return {
    id: row.id,
    title: row.title,
    description: row.description,
    price: row.price,
    currency: config(env).CURRENCY,
    start_at: isoOrNull(row.start_at)!,
    end_at: isoOrNull(row.end_at)!,
    created_at: isoOrNull(row.created_at)!,
    updated_at: isoOrNull(row.updated_at)!,
    registration_count: row.registration_count,
    is_registered: row.is_registered === 1,
  };
}

/** `is_registered` as a correlated probe of the unique (user_id, kind, item_id) index: no N+1. */
function columns(k: KindConfig, alias = 'i'): string {
  return `${alias}.*, EXISTS (SELECT 1 FROM registrations r WHERE r.user_id = ?1 AND r.kind = '${k.type}'
    AND r.item_id = ${alias}.id AND r.status IN ${ACTIVE_SQL}) AS is_registered`;
}

export async function getItem(env: Bindings, k: KindConfig, userId: number, id: number): Promise<ItemRow> {
  const row = await env.DB.prepare(`SELECT ${columns(k)} FROM ${k.table} i WHERE i.id = ?2`).bind(userId, id).first<ItemRow>();
  if (!row) throw new ApiError('NOT_FOUND');
  return row;
}

// ---- listing ---------------------------------------------------------------------------------

// "Newest first" is creation order: ids are AUTOINCREMENT, assigned in commit order, so `id DESC` is
// the creation sequence (created_at is the wall-clock time of that insert). Ordering by id lets the
// table b-tree, a narrow covering index and the FTS5 index (whose rowid is the id) all stream rows
// already in order and stop after one page.
const ORDER = {
  created: { by: 'id DESC', key: ['id'] },
  popular: { by: 'registration_count DESC, id DESC', key: ['registration_count', 'id'] },
} as const;

/** Builds numbered parameters; ?1 is always the caller's id (for is_registered). */
class Params {
  readonly values: unknown[];
  constructor(userId: number) {
    this.values = [userId];
  }
  add(v: unknown): string {
    this.values.push(v);
    return `?${this.values.length}`;
  }
}

const whereSql = (terms: string[]) => (terms.length ? `WHERE ${terms.join(' AND ')}` : '');

/**
 * The ids of one page, in order. Without search: a walk of `<kind>_created` (id order) or
 * `<kind>_popular`, filtering the period inside the index. Search, newest first: FTS5 streams its
 * matches by descending rowid, so the walk stops after one page. Search by popularity has to sort
 * all matches (cost grows with their number).
 */
function pageIds(k: KindConfig, q: ListQueryInput, p: Params, now: number, match: string | null, after: number[] | null, limit: number, offset: number): string {
  const order = ORDER[q.sort];
  const terms: string[] = [];
  if (q.status === 'available') {
    const t = p.add(now);
    terms.push(`${k.table}.start_at <= ${t} AND ${k.table}.end_at >= ${t}`);
  }
  if (match !== null && q.sort === 'created') {
    terms.unshift(`${k.fts} MATCH ${p.add(match)}`);
    if (after) terms.push(`${k.fts}.rowid < ${p.add(after[0])}`);
    const join = q.status === 'available' ? `JOIN ${k.table} ON ${k.table}.id = ${k.fts}.rowid` : '';
    return `SELECT ${k.fts}.rowid FROM ${k.fts} ${join} ${whereSql(terms)} ORDER BY ${k.fts}.rowid DESC LIMIT ${p.add(limit)} OFFSET ${p.add(offset)}`;
  }
  if (match !== null) terms.push(`id IN (SELECT rowid FROM ${k.fts} WHERE ${k.fts} MATCH ${p.add(match)})`);
  if (after) terms.push(`(${order.key.join(', ')}) < (${after.map((v) => p.add(v)).join(', ')})`);
  return `SELECT id FROM ${k.table} ${whereSql(terms)} ORDER BY ${order.by} LIMIT ${p.add(limit)} OFFSET ${p.add(offset)}`;
}

interface Stats {
  total: number;
  version: number;
  available_count: number;
  available_until: number;
}

const statsStatement = (env: Bindings, k: KindConfig) =>
  env.DB.prepare('SELECT total, version, available_count, available_until FROM catalog_stats WHERE kind = ?').bind(k.kind);

/** Counting a search reads every match, so search counts are memoised per isolate (see countOf). */
const searchCounts = new Map<string, number>();
const SEARCH_COUNTS_MAX = 2000;

function searchCountStatement(env: Bindings, k: KindConfig, q: ListQueryInput, now: number, match: string): D1PreparedStatement {
  if (q.status === 'available') {
    return env.DB.prepare(`SELECT count(*) AS n FROM ${k.fts} JOIN ${k.table} ON ${k.table}.id = ${k.fts}.rowid
      WHERE ${k.fts} MATCH ?2 AND start_at <= ?1 AND end_at >= ?1`).bind(now, match);
  }
  return env.DB.prepare(`SELECT count(*) AS n FROM ${k.fts} WHERE ${k.fts} MATCH ?`).bind(match);
}

/**
 * The count of an offset page. Without search: catalog_stats (total, or the cached available count).
 * With search: the number of matches only changes with a catalog write (which bumps `version`) and,
 * for `status=available`, when an item starts or ends (`available_until`). Keyed by the version read
 * in the same transaction as the page, a memoised count is therefore exact, never stale.
 */
async function countOf(env: Bindings, k: KindConfig, q: ListQueryInput, now: number, match: string | null, stats: Stats | undefined): Promise<number> {
  if (!stats) return 0;
  if (match === null) {
    if (q.status !== 'available') return stats.total;
    if (now < stats.available_until) return stats.available_count;
    return (await refreshAvailable(env, k, now, stats.version)).count;
  }
  const until = q.status !== 'available' || now < stats.available_until ? stats.available_until : (await refreshAvailable(env, k, now, stats.version)).until;
  const windowOk = q.status !== 'available' || now < until;
  const key = `${k.kind}|${q.status ?? ''}|${stats.version}|${q.status ? until : ''}|${match}`;
  const known = windowOk ? searchCounts.get(key) : undefined;
  if (known !== undefined) return known;
  const n = (await searchCountStatement(env, k, q, now, match).first<{ n: number }>())!.n;
  if (windowOk) {
    if (searchCounts.size >= SEARCH_COUNTS_MAX) searchCounts.delete(searchCounts.keys().next().value!);
    searchCounts.set(key, n);
  }
  return n;
}

export async function listItems(env: Bindings, k: KindConfig, userId: number, q: ListQueryInput, url: string, now = Date.now()) {
  const searching = q.search !== undefined && q.search.trim() !== '';
  const match = searching ? ftsQuery(q.search!) : null;
  // A search with no searchable word (only punctuation or operators) matches nothing.
  if (searching && match === null) return q.cursor ? cursorPage(url, q.page_size, [], () => []) : { ...offsetPage(url, q, 0, []), next_cursor: null };
  const order = ORDER[q.sort];
  const p = new Params(userId);
  const after = q.cursor ? decodeCursor(q.cursor, order.key.length) : null;
  const limit = after ? q.page_size + 1 : q.page_size;
  const ids = pageIds(k, q, p, now, match, after, limit, after ? 0 : offsetOf(q));
  // The outer query reads whole rows only for the page's ids.
  const page = env.DB.prepare(`SELECT ${columns(k)} FROM ${k.table} i WHERE i.id IN (${ids}) ORDER BY ${order.by}`).bind(...p.values);

  if (after) {
    const rows = (await page.all<ItemRow>()).results;
    const envelope = cursorPage(url, q.page_size, rows, (r) => order.key.map((c) => r[c]));
    return { ...envelope, results: envelope.results.map((r) => itemView(env, r)) };
  }
  // One round trip for the page and the counters (a search's count may need a second, once).
  const [stats, rows] = await env.DB.batch<Record<string, unknown>>([statsStatement(env, k), page]);
  const count = await countOf(env, k, q, now, match, stats!.results[0] as Stats | undefined);
  const envelope = offsetPage(url, q, count, rows!.results as unknown as ItemRow[]);
  // Any offset page also offers the keyset cursor of its last row, to continue in constant time.
  const last = envelope.results[envelope.results.length - 1];
  const nextCursor = envelope.next && last ? encodeCursor(order.key.map((c) => last[c])) : null;
  return { ...envelope, next_cursor: nextCursor, results: envelope.results.map((r) => itemView(env, r)) };
}

/**
 * Counts the available items (an index-only scan of `<kind>_period`) and caches the count until the
 * next moment an item starts or ends, so it stays exact without counting on every request. Catalog
 * writes bump `version` and expire the cache in their own batch; a count computed concurrently with
 * a write is not stored (version check), so a stale count is never cached.
 */
async function refreshAvailable(env: Bindings, k: KindConfig, now: number, version: number): Promise<{ count: number; until: number }> {
  const [count, nextStart, nextEnd] = await env.DB.batch<{ v: number | null }>([
    env.DB.prepare(`SELECT count(*) AS v FROM ${k.table} WHERE end_at >= ?1 AND start_at <= ?1`).bind(now),
    env.DB.prepare(`SELECT min(start_at) AS v FROM ${k.table} WHERE start_at > ?1`).bind(now),
    env.DB.prepare(`SELECT min(end_at) + 1 AS v FROM ${k.table} WHERE end_at >= ?1`).bind(now),
  ]);
  const n = count!.results[0]!.v ?? 0;
  const until = Math.min(nextStart!.results[0]!.v ?? Number.MAX_SAFE_INTEGER, nextEnd!.results[0]!.v ?? Number.MAX_SAFE_INTEGER);
  await env.DB.prepare('UPDATE catalog_stats SET available_count = ?1, available_until = ?2 WHERE kind = ?3 AND version = ?4')
    .bind(n, until, k.kind, version)
    .run();
  return { count: n, until };
}

// ---- staff writes ----------------------------------------------------------------------------

/** Every catalog write expires the cached available count in its own batch. */
const touchStats = (k: KindConfig, totalDelta: string) =>
  `UPDATE catalog_stats SET total = total + (${totalDelta}), version = version + 1, available_until = 0 WHERE kind = '${k.kind}'`;

export async function createItem(env: Bindings, k: KindConfig, input: CreateItemInput, now = Date.now()): Promise<ItemRow> {
  const [inserted] = await env.DB.batch<ItemRow>([
    env.DB.prepare(
      `INSERT INTO ${k.table} (title, description, price, start_at, end_at, created_at, updated_at, registration_count)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, 0) RETURNING *, 0 AS is_registered`,
    ).bind(input.title, input.description, input.price, input.start_at, input.end_at, now),
    env.DB.prepare(touchStats(k, '1')),
  ]);
  return inserted!.results[0]!;
}

export async function updateItem(env: Bindings, k: KindConfig, userId: number, id: number, patch: PatchItemInput, now = Date.now()): Promise<ItemRow> {
  const v = (x: unknown) => (x === undefined ? null : x);
  // The period check runs in the UPDATE itself, against the merged values, so a concurrent PATCH
  // cannot leave start_at >= end_at.
  const [updated] = await env.DB.batch<ItemRow>([
    env.DB.prepare(
      `UPDATE ${k.table} SET title = coalesce(?2, title), description = coalesce(?3, description), price = coalesce(?4, price),
         start_at = coalesce(?5, start_at), end_at = coalesce(?6, end_at), updated_at = ?7
       WHERE id = ?1 AND coalesce(?5, start_at) < coalesce(?6, end_at)
       RETURNING *, EXISTS (SELECT 1 FROM registrations r WHERE r.user_id = ?8 AND r.kind = '${k.type}' AND r.item_id = ${k.table}.id
         AND r.status IN ${ACTIVE_SQL}) AS is_registered`,
    ).bind(id, v(patch.title), v(patch.description), v(patch.price), v(patch.start_at), v(patch.end_at), now, userId),
    env.DB.prepare(touchStats(k, '0')),
  ]);
  const row = updated!.results[0];
  if (row) return row;
  await getItem(env, k, userId, id); // 404 when missing
  throw new ApiError('INPUT_VALIDATION_ERROR', { extras: { errors: [{ path: 'end_at', message: 'start_at must be before end_at' }] } });
}

/** Deletes an item without active registrations (cancelled ones stay, payments keep their snapshot). */
export async function deleteItem(env: Bindings, k: KindConfig, id: number): Promise<void> {
  const free = `EXISTS (SELECT 1 FROM ${k.table} WHERE id = ?1 AND registration_count = 0)`;
  const [, deleted] = await env.DB.batch([
    env.DB.prepare(`${touchStats(k, `CASE WHEN ${free} THEN -1 ELSE 0 END`)}`).bind(id),
    env.DB.prepare(`DELETE FROM ${k.table} WHERE id = ?1 AND registration_count = 0 RETURNING id`).bind(id),
  ]);
  // RETURNING, not meta.changes: D1 counts the FTS trigger's writes in changes.
  if (deleted!.results.length === 1) return;
  const row = await env.DB.prepare(`SELECT id FROM ${k.table} WHERE id = ?`).bind(id).first();
  throw new ApiError(row ? 'HAS_REGISTRATIONS' : 'NOT_FOUND');
}
