// Catalog data access for both backends. Raw SQL through the D1 statement API (store.sql), so each
// list is one round trip (a batch of the page and its counters) with the indexes described in
// src/db/schema/catalog.ts; table names come from KINDS, every value is a bound parameter. The SQL
// is shared except full-text search: FTS5 (D1) or the `<kind>_fts` GIN expression index (Postgres).
// Values whose type Postgres cannot infer from their position are CAST (valid SQL on both).
import type { Store } from '../../db/store';
import { ACTIVE_SQL, type KindConfig } from './kinds';
import { ftsMatch, tsQuery, type SearchGroups } from './search';

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
  /** 0/1 on both backends (a bare EXISTS is a boolean on Postgres). */
  is_registered?: number;
}

export interface Stats {
  total: number;
  version: number;
  available_count: number;
  available_until: number;
}

/** `is_registered` as a correlated probe of the unique (user_id, kind, item_id) index: no N+1. */
const registered = (k: KindConfig, user: string, item: string) =>
  `CASE WHEN EXISTS (SELECT 1 FROM registrations r WHERE r.user_id = ${user} AND r.kind = '${k.type}'
    AND r.item_id = ${item} AND r.status IN ${ACTIVE_SQL}) THEN 1 ELSE 0 END AS is_registered`;

const columns = (k: KindConfig, alias = 'i') => `${alias}.*, ${registered(k, '?1', `${alias}.id`)}`;

export function findItem(s: Store, k: KindConfig, userId: number, id: number): Promise<ItemRow | null> {
  return s.sql.prepare(`SELECT ${columns(k)} FROM ${k.table} i WHERE i.id = ?2`).bind(userId, id).first<ItemRow>();
}

export async function itemExists(s: Store, k: KindConfig, id: number): Promise<boolean> {
  return (await s.sql.prepare(`SELECT id FROM ${k.table} WHERE id = ?`).bind(id).first()) !== null;
}

// ---- listing ---------------------------------------------------------------------------------

// "Newest first" is creation order: ids are assigned in commit order (AUTOINCREMENT on D1; an
// identity taken under the single-writer lock on Postgres), so `id DESC` is the creation sequence.
// Ordering by id lets the table b-tree, a narrow covering index and the FTS5 index (whose rowid is
// the id) all stream rows already in order and stop after one page.
export const ORDER = {
  created: { by: 'id DESC', key: ['id'] },
  popular: { by: 'registration_count DESC, id DESC', key: ['registration_count', 'id'] },
} as const;

export interface PageRequest {
  userId: number;
  sort: keyof typeof ORDER;
  available: boolean;
  search: SearchGroups | null;
  /** Keyset position (the values of ORDER[sort].key of the last row seen), or null for offset paging. */
  after: number[] | null;
  limit: number;
  offset: number;
  now: number;
}

/** Builds numbered parameters (`?N`, N = position in `values`). */
class Params {
  constructor(readonly values: unknown[]) {}
  add(v: unknown): string {
    this.values.push(v);
    return `?${this.values.length}`;
  }
}

const whereSql = (terms: string[]) => (terms.length ? `WHERE ${terms.join(' AND ')}` : '');

/** The document expression of the Postgres `<kind>_fts` index (must stay identical to use it). */
const tsvector = (k: KindConfig) => `to_tsvector('simple', ${k.table}.title || ' ' || ${k.table}.description)`;

/** "This row of `k.table` matches the search." */
function matchTerm(s: Store, k: KindConfig, search: SearchGroups, p: Params): string {
  if (s.dialect === 'postgres') return `${tsvector(k)} @@ to_tsquery('simple', CAST(${p.add(tsQuery(search))} AS text))`;
  return `${k.table}.id IN (SELECT rowid FROM ${k.fts} WHERE ${k.fts} MATCH ${p.add(ftsMatch(search))})`;
}

/**
 * The ids of one page, in order. Without search: a walk of `<kind>_created` (id order) or
 * `<kind>_popular`, filtering the period inside the index. Search, newest first: on D1, FTS5
 * streams its matches by descending rowid, so the walk stops after one page; on Postgres the GIN
 * index gives all matches (a bitmap) and the top-N by id is sorted out of them. Search by
 * popularity has to sort all matches on both (cost grows with their number).
 */
function pageIds(s: Store, k: KindConfig, r: PageRequest, p: Params): string {
  const order = ORDER[r.sort];
  const terms: string[] = [];
  if (r.available) {
    const t = p.add(r.now);
    terms.push(`${k.table}.start_at <= ${t} AND ${k.table}.end_at >= ${t}`);
  }
  const walkFts = r.search !== null && r.sort === 'created' && s.dialect === 'sqlite';
  if (walkFts) {
    terms.unshift(`${k.fts} MATCH ${p.add(ftsMatch(r.search!))}`);
    if (r.after) terms.push(`${k.fts}.rowid < ${p.add(r.after[0])}`);
    const join = r.available ? `JOIN ${k.table} ON ${k.table}.id = ${k.fts}.rowid` : '';
    return `SELECT ${k.fts}.rowid FROM ${k.fts} ${join} ${whereSql(terms)} ORDER BY ${k.fts}.rowid DESC LIMIT ${p.add(r.limit)} OFFSET ${p.add(r.offset)}`;
  }
  if (r.search !== null) terms.push(matchTerm(s, k, r.search, p));
  if (r.after) terms.push(`(${order.key.join(', ')}) < (${r.after.map((v) => p.add(v)).join(', ')})`);
  const page = `ORDER BY ${order.by} LIMIT ${p.add(r.limit)} OFFSET ${p.add(r.offset)}`;
  if (r.search !== null && s.dialect === 'postgres') {
    // MATERIALIZED keeps the planner on the GIN index. Left alone it may walk the id index backwards
    // and run to_tsvector on every row until a page of matches is found: fast for a common word,
    // a whole-table scan for a rare or absent one. From the index the cost is bounded by the
    // number of matches (as the search count already is).
    return `WITH m AS MATERIALIZED (SELECT id, registration_count FROM ${k.table} ${whereSql(terms)}) SELECT id FROM m ${page}`;
  }
  return `SELECT id FROM ${k.table} ${whereSql(terms)} ${page}`;
}

/** The outer query reads whole rows only for the page's ids. */
function pageStatement(s: Store, k: KindConfig, r: PageRequest): D1PreparedStatement {
  const p = new Params([r.userId]); // ?1: the caller, for is_registered
  const ids = pageIds(s, k, r, p);
  return s.sql.prepare(`SELECT ${columns(k)} FROM ${k.table} i WHERE i.id IN (${ids}) ORDER BY ${ORDER[r.sort].by}`).bind(...p.values);
}

/** One keyset page (no counters). */
export async function listPage(s: Store, k: KindConfig, r: PageRequest): Promise<ItemRow[]> {
  return (await pageStatement(s, k, r).all<ItemRow>()).results;
}

/** One offset page and the kind's counters, read in one transaction (one snapshot). */
export async function listPageWithStats(s: Store, k: KindConfig, r: PageRequest): Promise<{ stats: Stats | undefined; rows: ItemRow[] }> {
  const stats = s.sql.prepare('SELECT total, version, available_count, available_until FROM catalog_stats WHERE kind = ?').bind(k.kind);
  const [st, rows] = await s.sql.batch<Record<string, unknown>>([stats, pageStatement(s, k, r)]);
  return { stats: st!.results[0] as Stats | undefined, rows: rows!.results as unknown as ItemRow[] };
}

/** The number of items matching a search (every match is read: callers memoise it). */
export async function countSearch(s: Store, k: KindConfig, search: SearchGroups, available: boolean, now: number): Promise<number> {
  const p = new Params([]);
  const fts = s.dialect === 'sqlite';
  const terms = [fts ? `${k.fts} MATCH ${p.add(ftsMatch(search))}` : matchTerm(s, k, search, p)];
  if (available) {
    const t = p.add(now);
    terms.push(`${k.table}.start_at <= ${t} AND ${k.table}.end_at >= ${t}`);
  }
  const from = !fts ? k.table : available ? `${k.fts} JOIN ${k.table} ON ${k.table}.id = ${k.fts}.rowid` : k.fts;
  const row = await s.sql.prepare(`SELECT count(*) AS n FROM ${from} ${whereSql(terms)}`).bind(...p.values).first<{ n: number }>();
  return row!.n;
}

/**
 * Counts the available items (an index-only scan of `<kind>_period`) and when the count next changes
 * (the next moment an item starts or ends), in one snapshot, then stores them unless a catalog write
 * happened meanwhile (the version check), so a stale count is never cached.
 */
export async function refreshAvailable(s: Store, k: KindConfig, now: number, version: number): Promise<{ count: number; until: number }> {
  const [count, nextStart, nextEnd] = await s.sql.batch<{ v: number | null }>([
    s.sql.prepare(`SELECT count(*) AS v FROM ${k.table} WHERE end_at >= ?1 AND start_at <= ?1`).bind(now),
    s.sql.prepare(`SELECT min(start_at) AS v FROM ${k.table} WHERE start_at > ?1`).bind(now),
    s.sql.prepare(`SELECT min(end_at) + 1 AS v FROM ${k.table} WHERE end_at >= ?1`).bind(now),
  ]);
  const n = count!.results[0]!.v ?? 0;
  const until = Math.min(nextStart!.results[0]!.v ?? Number.MAX_SAFE_INTEGER, nextEnd!.results[0]!.v ?? Number.MAX_SAFE_INTEGER);
  await s.sql
    .prepare('UPDATE catalog_stats SET available_count = ?1, available_until = ?2 WHERE kind = ?3 AND version = ?4')
    .bind(n, until, k.kind, version)
    .run();
  return { count: n, until };
}

// ---- staff writes ----------------------------------------------------------------------------

/** Every catalog write expires the cached available count in its own batch (one transaction). */
const touchStats = (k: KindConfig, totalDelta: string) =>
  `UPDATE catalog_stats SET total = total + (${totalDelta}), version = version + 1, available_until = 0 WHERE kind = '${k.kind}'`;

export interface NewItem {
  title: string;
  description: string;
  price: number;
  start_at: number;
  end_at: number;
}

export async function insertItem(s: Store, k: KindConfig, item: NewItem, now: number): Promise<ItemRow> {
  const [inserted] = await s.sql.batch<ItemRow>([
    s.sql
      .prepare(
        `INSERT INTO ${k.table} (title, description, price, start_at, end_at, created_at, updated_at, registration_count)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, 0) RETURNING *, 0 AS is_registered`,
      )
      .bind(item.title, item.description, item.price, item.start_at, item.end_at, now),
    s.sql.prepare(touchStats(k, '1')),
  ]);
  return inserted!.results[0]!;
}

/**
 * Applies a partial update (null = keep). The period check runs in the UPDATE itself, against the
 * merged values, so a concurrent PATCH cannot leave start_at >= end_at. Null when the item is
 * missing or the merged period is inverted.
 */
export async function updateItem(s: Store, k: KindConfig, userId: number, id: number, patch: Partial<NewItem>, now: number): Promise<ItemRow | null> {
  const v = (x: unknown) => (x === undefined ? null : x);
  const [updated] = await s.sql.batch<ItemRow>([
    s.sql
      .prepare(
        `UPDATE ${k.table} SET title = coalesce(CAST(?2 AS text), title), description = coalesce(CAST(?3 AS text), description),
           price = coalesce(CAST(?4 AS bigint), price), start_at = coalesce(CAST(?5 AS bigint), start_at),
           end_at = coalesce(CAST(?6 AS bigint), end_at), updated_at = ?7
         WHERE id = ?1 AND coalesce(CAST(?5 AS bigint), start_at) < coalesce(CAST(?6 AS bigint), end_at)
         RETURNING *, ${registered(k, '?8', `${k.table}.id`)}`,
      )
      .bind(id, v(patch.title), v(patch.description), v(patch.price), v(patch.start_at), v(patch.end_at), now, userId),
    s.sql.prepare(touchStats(k, '0')),
  ]);
  return updated!.results[0] ?? null;
}

/**
 * Deletes an item without active registrations (cancelled ones stay, payments keep their
 * snapshot). False when it is missing or still has registrations.
 */
export async function deleteItem(s: Store, k: KindConfig, id: number): Promise<boolean> {
  const free = `EXISTS (SELECT 1 FROM ${k.table} WHERE id = ?1 AND registration_count = 0)`;
  const [, deleted] = await s.sql.batch([
    s.sql.prepare(touchStats(k, `CASE WHEN ${free} THEN -1 ELSE 0 END`)).bind(id),
    s.sql.prepare(`DELETE FROM ${k.table} WHERE id = ?1 AND registration_count = 0 RETURNING id`).bind(id),
  ]);
  // RETURNING, not meta.changes: D1 counts the FTS trigger's writes in changes.
  return deleted!.results.length === 1;
}
