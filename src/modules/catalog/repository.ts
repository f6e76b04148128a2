// Catalog data access for both backends, as drizzle `sql` templates: each list is one round trip on
// D1 (a batch of the page and its counters) with the indexes described in src/db/schema/catalog.ts.
// Table names come from KINDS (constants); every value is a bound parameter. The SQL is shared except
// full-text search: FTS5 (D1) or the `<kind>_fts` GIN expression index (Postgres), whose pieces come
// from ./full-text.ts. Values whose type Postgres cannot infer from their position are CAST
// (valid SQL on both).
//
// Consistency on Postgres: a write takes the item's row lock with its first statement (the stats
// row is the kind's own lock for the counters), so a delete and a registration of one item never
// interleave; a list reads its page and counters in one REPEATABLE READ snapshot.
import { sql, type SQL } from 'drizzle-orm';
import type { SqlRow } from '../../db/rows';
import type { catalogStats, exams } from '../../db/schema';
import { raw, type Store } from '../../db/store';
import { ACTIVE_STATUSES, type KindConfig } from './kinds';
import { walkProbeCost, type Frequency, type SearchPlan } from './plan';
import { forUpdate } from '../../db/dialect/sql';
import { type FullText, fullTextHits, fullTextProbe, fullTextSource, fullTextStreamsById, matchFirstPage, walkedPage } from './full-text';
import type { SearchGroups } from './search';

/** An item as its queries read it: the kind's row (both kinds have one shape), and the caller's registration. */
export type ItemRow = SqlRow<typeof exams> & {
  /** 0/1 on both backends (a bare EXISTS is a boolean on Postgres). */
  is_registered?: number;
};

export type Stats = Omit<SqlRow<typeof catalogStats>, 'kind'>;

const table = (k: KindConfig) => sql.raw(k.table);
const active = sql.raw(`(${ACTIVE_STATUSES.map((s) => `'${s}'`).join(',')})`);

/** `is_registered` as a correlated probe of the unique (user_id, kind, item_id) index: no N+1. */
const registered = (k: KindConfig, userId: number, item: SQL) =>
  sql`CASE WHEN EXISTS (SELECT 1 FROM registrations r WHERE r.user_id = ${userId} AND r.kind = ${k.type}
    AND r.item_id = ${item} AND r.status IN ${active}) THEN 1 ELSE 0 END AS is_registered`;

const columns = (k: KindConfig, userId: number) => sql`i.*, ${registered(k, userId, sql`i.id`)}`;

export async function findItem(s: Store, k: KindConfig, userId: number, id: number): Promise<ItemRow | null> {
  const [row] = await s.rows<ItemRow>(sql`SELECT ${columns(k, userId)} FROM ${table(k)} i WHERE i.id = ${id}`);
  return row ?? null;
}

export async function itemExists(s: Store, k: KindConfig, id: number): Promise<boolean> {
  return (await s.rows(sql`SELECT id FROM ${table(k)} WHERE id = ${id}`)).length > 0;
}

// ---- listing ---------------------------------------------------------------------------------

// "Newest first" is creation order: ids are assigned in commit order (AUTOINCREMENT on D1; an
// identity on Postgres, where a concurrent insert may commit out of order by a few milliseconds),
// so `id DESC` is the creation sequence. Ordering by id lets the table b-tree, a narrow covering
// index and the FTS5 index (whose rowid is the id) all stream rows already in order and stop after
// one page.
export const ORDER = {
  created: { by: sql.raw('id DESC'), key: ['id'] },
  popular: { by: sql.raw('registration_count DESC, id DESC'), key: ['registration_count', 'id'] },
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
  /** How a search page is read (see SearchPlan); ignored without search. */
  plan: SearchPlan;
}

const where = (terms: SQL[]) => (terms.length ? sql`WHERE ${sql.join(terms, sql` AND `)}` : sql``);

const fullText = (k: KindConfig): FullText => ({ table: k.table, fts: k.fts, columns: ['title', 'description'] });

const availableTerm = (k: KindConfig, now: number) => sql`${table(k)}.start_at <= ${now} AND ${table(k)}.end_at >= ${now}`;

/** "After the keyset position" in the order of `sort`, with `id` as the row's id expression. */
function afterTerm(k: KindConfig, r: PageRequest, id: SQL): SQL {
  const key = r.sort === 'created' ? [id] : [sql`${table(k)}.registration_count`, id];
  return sql`(${sql.join(key, sql`, `)}) < (${sql.join(
    r.after!.map((v) => sql`${v}`),
    sql`, `,
  )})`;
}

/** The filters every plan applies to the item table (availability, keyset position). */
function itemTerms(k: KindConfig, r: PageRequest, id: SQL): SQL[] {
  const terms: SQL[] = r.available ? [availableTerm(k, r.now)] : [];
  if (r.after) terms.push(afterTerm(k, r, id));
  return terms;
}

const pageClause = (r: PageRequest, limit = r.limit, offset = r.offset) => sql`ORDER BY ${ORDER[r.sort].by} LIMIT ${limit} OFFSET ${offset}`;

/**
 * The ids of one page, in order. Without search: a walk of `<kind>_created` (id order) or
 * `<kind>_popular`, filtering the period inside the index, that stops after one page. With search,
 * one of two plans (./plan.ts chooses by how common the words are):
 * - match first: every match from the full-text index, the page cut from them. Newest first on D1
 *   this too stops after a page (FTS5 streams matches by descending rowid = id); otherwise its cost
 *   grows with the number of matches.
 * - walk: the order's index as without search, each (available) row tested against the search
 *   (fullTextProbe), at most `budget` rows: its cost grows with the rows per match, not with the
 *   matches.
 */
function pageIds(s: Store, k: KindConfig, r: PageRequest): SQL {
  if (r.search === null) return sql`SELECT id FROM ${table(k)} ${where(itemTerms(k, r, sql`id`))} ${pageClause(r)}`;
  if (r.plan.kind === 'walk') {
    const probe = fullTextProbe(s.dialect, fullText(k), r.search, 'c');
    const rows = sql`SELECT ${table(k)}.id, ${table(k)}.registration_count${probe.columns} FROM ${table(k)}
      ${where(itemTerms(k, r, sql`${table(k)}.id`))} ${pageClause(r, r.plan.budget, 0)}`;
    return walkedPage(s.dialect, rows, probe.test, ORDER[r.sort].by, r.limit, r.offset);
  }
  const m = fullTextSource(s.dialect, fullText(k), r.search);
  const matches = sql`SELECT ${m.id} AS id, ${table(k)}.registration_count AS registration_count FROM ${m.from}
    WHERE ${sql.join([m.where, ...itemTerms(k, r, m.id)], sql` AND `)}`;
  return matchFirstPage(s.dialect, matches, pageClause(r));
}

/** The outer query reads whole rows only for the page's ids. */
function pageQuery(s: Store, k: KindConfig, r: PageRequest): SQL {
  return sql`SELECT ${columns(k, r.userId)} FROM ${table(k)} i WHERE i.id IN (${pageIds(s, k, r)}) ORDER BY ${ORDER[r.sort].by}`;
}

/** A walk that came back short may have run out of budget before the page was full: the answer is then the match-first page. */
const walkFellShort = (r: PageRequest, rows: ItemRow[]) => r.search !== null && r.plan.kind === 'walk' && rows.length < r.limit;

/** One keyset page (no counters). */
export async function listPage(s: Store, k: KindConfig, r: PageRequest): Promise<ItemRow[]> {
  const rows = await s.rows<ItemRow>(pageQuery(s, k, r));
  return walkFellShort(r, rows) ? s.rows<ItemRow>(pageQuery(s, k, { ...r, plan: { kind: 'match' } })) : rows;
}

/** One offset page and the kind's counters, read in one snapshot. */
export async function listPageWithStats(s: Store, k: KindConfig, r: PageRequest): Promise<{ stats: Stats | undefined; rows: ItemRow[] }> {
  const [stats, rows] = await s.read([
    raw<Stats>(sql`SELECT total, version, available_count, available_until FROM catalog_stats WHERE kind = ${k.kind}`),
    raw<ItemRow>(pageQuery(s, k, r)),
  ]);
  return { stats: stats[0], rows: walkFellShort(r, rows) ? await listPage(s, k, { ...r, plan: { kind: 'match' } }) : rows };
}

/** The number of items matching a search (every match is read: callers memoise it). */
export async function countSearch(s: Store, k: KindConfig, search: SearchGroups, available: boolean, now: number): Promise<number> {
  const m = fullTextSource(s.dialect, fullText(k), search);
  const terms = [m.where, ...(available ? [availableTerm(k, now)] : [])];
  const [row] = await s.rows<{ n: number }>(sql`SELECT count(*) AS n FROM ${m.from} ${where(terms)}`);
  return row!.n;
}

/** Match-first already stops after one page in this order (FTS5 newest first): no plan to choose. */
export const searchStreamsInOrder = (s: Store, sort: PageRequest['sort']): boolean => sort === 'created' && fullTextStreamsById(s.dialect);
/** The kind's number of items, how many of them match a search (D1: up to `cap`; see fullTextHits), and the walk's price here. */
export async function searchFrequency(s: Store, k: KindConfig, search: SearchGroups, cap: number): Promise<Frequency> {
  const hits = fullTextHits(s.dialect, fullText(k), search, cap);
  const [stats, probe] = await s.read([raw<{ total: number }>(sql`SELECT total FROM catalog_stats WHERE kind = ${k.kind}`), raw(hits.query)]);
  return { total: Number(stats[0]?.total ?? 0), hits: hits.read(probe[0]), probeCost: walkProbeCost(s.dialect) };
}

/**
 * Counts the available items (an index-only scan of `<kind>_period`) and when the count next changes
 * (the next moment an item starts or ends), in one snapshot, then stores them unless a catalog write
 * happened meanwhile (the version check), so a stale count is never cached.
 */
export async function refreshAvailable(s: Store, k: KindConfig, now: number, version: number): Promise<{ count: number; until: number }> {
  type V = { v: number | null };
  const [count, nextStart, nextEnd] = await s.read([
    raw<V>(sql`SELECT count(*) AS v FROM ${table(k)} WHERE end_at >= ${now} AND start_at <= ${now}`),
    raw<V>(sql`SELECT min(start_at) AS v FROM ${table(k)} WHERE start_at > ${now}`),
    raw<V>(sql`SELECT min(end_at) + 1 AS v FROM ${table(k)} WHERE end_at >= ${now}`),
  ]);
  const n = count[0]?.v ?? 0;
  const until = Math.min(nextStart[0]?.v ?? Number.MAX_SAFE_INTEGER, nextEnd[0]?.v ?? Number.MAX_SAFE_INTEGER);
  await s.changes(sql`UPDATE catalog_stats SET available_count = ${n}, available_until = ${until} WHERE kind = ${k.kind} AND version = ${version}`);
  return { count: n, until };
}

// ---- staff writes ----------------------------------------------------------------------------

/** Every catalog write expires the cached available count in its own transaction. */
const touchStats = (k: KindConfig, totalDelta: SQL) =>
  raw(sql`UPDATE catalog_stats SET total = total + (${totalDelta}), version = version + 1, available_until = 0 WHERE kind = ${k.kind}`);

export interface NewItem {
  title: string;
  description: string;
  price: number;
  start_at: number;
  end_at: number;
}

export async function insertItem(s: Store, k: KindConfig, item: NewItem, now: number): Promise<ItemRow> {
  const [inserted] = await s.write([
    raw<ItemRow>(sql`INSERT INTO ${table(k)} (title, description, price, start_at, end_at, created_at, updated_at, registration_count)
      VALUES (${item.title}, ${item.description}, ${item.price}, ${item.start_at}, ${item.end_at}, ${now}, ${now}, 0)
      RETURNING *, 0 AS is_registered`),
    touchStats(k, sql`1`),
  ]);
  return inserted[0]!;
}

/**
 * Applies a partial update (null = keep). The period check runs in the UPDATE itself, against the
 * merged values, so a concurrent PATCH cannot leave start_at >= end_at. Null when the item is
 * missing or the merged period is inverted.
 */
export async function updateItem(s: Store, k: KindConfig, userId: number, id: number, patch: Partial<NewItem>, now: number): Promise<ItemRow | null> {
  const text = (x: string | undefined) => sql`CAST(${x ?? null} AS text)`;
  const int = (x: number | undefined) => sql`CAST(${x ?? null} AS bigint)`;
  const [updated] = await s.write([
    raw<ItemRow>(sql`UPDATE ${table(k)} SET title = coalesce(${text(patch.title)}, title),
        description = coalesce(${text(patch.description)}, description), price = coalesce(${int(patch.price)}, price),
        start_at = coalesce(${int(patch.start_at)}, start_at), end_at = coalesce(${int(patch.end_at)}, end_at), updated_at = ${now}
      WHERE id = ${id} AND coalesce(${int(patch.start_at)}, start_at) < coalesce(${int(patch.end_at)}, end_at)
      RETURNING *, ${registered(k, userId, sql`${table(k)}.id`)}`),
    touchStats(k, sql`0`),
  ]);
  return updated[0] ?? null;
}

/**
 * Deletes an item without active registrations (cancelled ones stay, payments keep their
 * snapshot). False when it is missing or still has registrations. The first statement locks the
 * item's row on Postgres, so a registration waits for the delete, or the delete sees its count.
 */
export async function deleteItem(s: Store, k: KindConfig, id: number): Promise<boolean> {
  const [, , deleted] = await s.write([
    raw(sql`SELECT id FROM ${table(k)} WHERE id = ${id} ${forUpdate(s.dialect)}`),
    touchStats(k, sql`CASE WHEN EXISTS (SELECT 1 FROM ${table(k)} WHERE id = ${id} AND registration_count = 0) THEN -1 ELSE 0 END`),
    raw(sql`DELETE FROM ${table(k)} WHERE id = ${id} AND registration_count = 0 RETURNING id`),
  ]);
  // RETURNING, not a change count: D1 counts the FTS trigger's writes in changes.
  return deleted.length === 1;
}
