// The one way into the database. A unit of work (a request, a Durable Object call, a queue batch)
// opens one Store with openStore() and hands it down; repositories are its only users, and the only
// code that writes SQL. The same Store runs D1 and Postgres:
//
//   s.db / s.t          drizzle's query builder over this backend's tables (typed as the D1 flavour;
//                       tests/schema-parity.test.ts keeps both schemas the same). Only the
//                       builders: nothing on it runs a query, and a builder awaited directly instead
//                       of through the methods below is refused on both backends (see d1Session and
//                       PgConnection), so the mistake shows in every test run, not on Postgres only.
//   s.select(builder)   one drizzle read, its result as drizzle maps it
//   s.rows(sql`…`)      one raw read (a drizzle sql template), its rows as the driver gives them
//   s.run(builder)      one drizzle write (its .returning() rows, if any)
//   s.changes(q)        one write, the number of rows it changed
//   s.read([...])       several reads that see one snapshot (D1: one batch, one round trip;
//                       Postgres: raw reads as one statement, one round trip, else REPEATABLE
//                       READ READ ONLY)
//   s.write([...], locks)  several writes that commit together or not at all (D1: one batch;
//                       Postgres: one READ COMMITTED transaction that first takes the advisory
//                       locks the repository names for its invariant: see Lock; one statement
//                       without locks runs on its own, atomic by itself, without BEGIN/COMMIT)
//   s.defer(check)      a check (the session check of a read route) that rides in the same D1
//                       batch (Postgres: the same statement) as the unit's first raw read; nothing
//                       is read out before it has passed
//   s.bookmark()        D1: the bookmark of everything this unit has read or written (Sessions
//                       API); s.observe(b) moves the unit past a write made elsewhere (a Durable
//                       Object's). Postgres: null and a no-op (one primary; see docs/operations.md)
//
// On D1 every store is a D1 session (read replication): its first query goes where `start` says
// (a bookmark, any replica, or the primary), and later ones see everything earlier ones saw.
//
// D1 has a single writer, so its batches need no locks. Postgres runs transactions side by side;
// repositories say per write which aggregate it must be alone on (a user, a machine, the sales
// figures), and unique indexes, ON CONFLICT and single-row conditional UPDATEs carry the rest.
import { sql, type SQL } from 'drizzle-orm';
import './no-await';
import { drizzle as drizzleD1, type DrizzleD1Database } from 'drizzle-orm/d1';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { Bindings } from '../env';
import { Raw, raw, type Builder, type Row } from './raw';
import { d1Batch, d1Session, type D1Item, type SessionStart } from './dialect/d1';
import { PgConnection, pgDrizzle, type TransactionMode } from './dialect/pg';
import type { Dialect } from './dialect/sql';
import { meter } from './meter';
import * as d1Schema from './schema';

export type { Dialect } from './dialect/sql';
export { BOOKMARK, newer, type SessionStart } from './dialect/d1';
export type Tables = typeof d1Schema;
/** Drizzle's query builders: what both backends build alike (D1's runners, `all`/`run`/`batch`, are not here). */
export type Db = Pick<DrizzleD1Database, 'select' | 'selectDistinct' | 'insert' | 'update' | 'delete' | '$with' | 'with'>;
export { Raw, raw, type Builder, type Row } from './raw';

export type Item = Builder | Raw<unknown>;
/** What a builder resolves to, read from its `execute()` (its `then` is closed to callers: see no-await.ts). */
export type Built<B> = B extends { execute(...args: never[]): Promise<infer T> } ? T : never;
export type ResultOf<I> = I extends Raw<infer T> ? T[] : Built<I>;
export type Results<I extends readonly Item[]> = { -readonly [K in keyof I]: ResultOf<I[K]> };

/** An aggregate a Postgres write must be alone on: two writes with one Lock never overlap. */
export type Lock = readonly [scope: LockScope, id: number];
// The numbers are advisory-lock keys: a scope keeps its number (3 and 5 were scopes no write took).
export const LOCK_SCOPES = { user: 1, machine: 2, sales: 4 } as const;
export type LockScope = keyof typeof LOCK_SCOPES;

export interface Store {
  readonly dialect: Dialect;
  readonly db: Db;
  readonly t: Tables;
  select<B extends Builder>(query: B): Promise<Built<B>>;
  rows<T = Row>(query: SQL): Promise<T[]>;
  run<B extends Builder>(query: B): Promise<Built<B>>;
  changes(query: Builder | SQL): Promise<number>;
  read<const I extends readonly Item[]>(items: I): Promise<Results<I>>;
  write<const I extends readonly Item[]>(items: I, locks?: readonly Lock[]): Promise<Results<I>>;
  /** Registers a check that must pass before any result of this unit is used (see header). */
  defer(check: Raw, onRows: (rows: Row[]) => void): void;
  /** Resolves once a deferred check has passed (running it alone if no read carried it). */
  settled(): Promise<void>;
  /** The D1 bookmark this unit has reached (null on Postgres, or before the first query). */
  bookmark(): string | null;
  /** Makes later reads of this unit see at least what `bookmark` saw (D1; no-op on Postgres). */
  observe(bookmark: string | null | undefined): void;
  close(): Promise<void>;
}

export interface StoreOptions {
  /** D1: where the session's first query goes (default: the primary). */
  start?: SessionStart;
  /** D1: told the unit's bookmark after each of its queries. */
  onBookmark?: (bookmark: string) => void;
}

interface Deferred {
  check: Raw;
  onRows: (rows: Row[]) => void;
  done: Promise<void> | null;
}

/** What each backend implements: queries whose results are as the driver hands them over. */
type Engine = Omit<Store, 'select' | 'rows' | 'run' | 'read' | 'write'> & {
  one(item: Item, reading: boolean): Promise<unknown>;
  many(items: readonly Item[], reading: boolean, locks?: readonly Lock[]): Promise<unknown[]>;
};

/**
 * The one place where results take their declared types: a builder's rows are what its own
 * column mapping produced (drizzle runs it on both backends), a raw statement's are the rows its
 * SQL selects, typed by the repository that wrote it (see SqlRow in rows.ts).
 */
function typed(e: Engine): Store {
  const as = <T>(result: Promise<unknown>) => result as Promise<T>;
  const { one, many, ...rest } = e;
  return {
    ...rest,
    select: (query) => as(one(query, true)),
    rows: (query) => as(one(raw(query), true)),
    run: (query) => as(one(query, false)),
    read: (items) => as(many(items, true)),
    write: (items, locks) => as(many(items, false, locks)),
  };
}

function d1Store(d1: D1Database, { start = 'first-primary', onBookmark }: StoreOptions): Store {
  let active = 0;
  const session = d1Session(d1, start, () => active > 0);
  const binding = session.client;
  const db = drizzleD1(binding);
  let deferred: Deferred | null = null;
  /** Runs one call to D1 (the only time the session prepares statements), then reports the bookmark it reached. */
  const tracked = async <T>(call: () => Promise<T>): Promise<T> => {
    meter('d1');
    active += 1;
    let out: T;
    try {
      out = await call();
    } finally {
      active -= 1;
    }
    const b = onBookmark && session.bookmark();
    if (b) onBookmark(b);
    return out;
  };

  /** Sends `items` in one batch, with the deferred check in front when it has not gone out yet. */
  async function batch(items: readonly D1Item[], reading: boolean): Promise<unknown[]> {
    if (!deferred || deferred.done || !reading) {
      await settle();
      return tracked(() => (items.length === 1 ? alone(items[0]!).then((r) => [r]) : d1Batch(binding, items)));
    }
    const d = deferred;
    const sent = tracked(() => d1Batch(binding, [d.check, ...items]));
    d.done = sent.then(([rows]) => d.onRows(rows as Row[]));
    const [, ...rest] = await sent;
    await d.done;
    return rest;
  }

  function settle(): Promise<void> {
    if (!deferred) return Promise.resolve();
    const d = deferred;
    return (d.done ??= tracked(() => d1Batch(binding, [d.check])).then(([rows]) => d.onRows(rows as Row[])));
  }

  // One query on its own runs as drizzle runs it (rows as arrays: a join whose columns share a name
  // maps right, which a batch's row objects cannot promise).
  const alone = (item: D1Item): Promise<unknown> => (item instanceof Raw ? db.all(item.query) : Promise.resolve(item));
  const one = async (item: D1Item, reading: boolean) => (await batch([item], reading))[0];

  return typed({
    dialect: 'sqlite',
    db,
    t: d1Schema,
    one,
    many: (items, reading) => batch(items, reading),
    changes: async (query) => {
      await settle();
      const result = await tracked(() => db.run(query));
      return result.meta.changes;
    },
    defer: (check, onRows) => {
      deferred = { check, onRows, done: null };
    },
    settled: settle,
    bookmark: session.bookmark,
    observe: session.observe,
    close: async () => {},
  });
}

const pgDialect = new PgDialect();
/** A query that can be a subquery of the one-statement read: SELECT or WITH … SELECT. */
const isSelect = (query: SQL): boolean => /^\s*(SELECT|WITH)\b/i.test(pgDialect.sqlToQuery(query).sql);

/** How a unit's several queries run on Postgres (see TransactionMode). */
function transactionMode(items: readonly Item[], reading: boolean, locks: readonly Lock[]): TransactionMode {
  if (reading) return { readOnly: true };
  if (items.length === 1 && locks.length === 0) return { single: true };
  return { locks: locks.map(([scope, id]) => [LOCK_SCOPES[scope], id] as const) };
}

function pgStore(conn: PgConnection): Store {
  const { db, tables: t, execute } = pgDrizzle(conn);
  const exec = (item: Item): Promise<unknown> => (item instanceof Raw ? execute(item.query).then((r) => r.rows) : Promise.resolve(item));
  let deferred: Deferred | null = null;
  const settle = () => {
    if (!deferred) return Promise.resolve();
    const d = deferred;
    return (d.done ??= conn.operation(() => exec(d.check)).then((rows) => d.onRows(rows as Row[])));
  };
  const after = async <T>(body: () => Promise<T>) => {
    await settle();
    return body();
  };
  const inOrder = async (items: readonly Item[]) => {
    const out: unknown[] = [];
    for (const item of items) out.push(await exec(item));
    return out;
  };
  /**
   * Raw reads as ONE statement: each query becomes a json_agg column of a single SELECT. A statement
   * sees one snapshot (what a REPEATABLE READ READ ONLY transaction gave several statements), and it
   * is one round trip instead of BEGIN + n + COMMIT. Values arrive as JSON: integers (every stored
   * one is below 2^53), text, null and nested JSON as the driver would give them.
   */
  const oneStatement = async (items: readonly Raw<unknown>[]): Promise<Row[][]> => {
    const columns = items.map((r, i) => sql`(SELECT COALESCE(json_agg(t), '[]') FROM (${r.query}) AS t) AS ${sql.identifier(`r${i}`)}`);
    const { rows } = await execute(sql`SELECT ${sql.join(columns, sql`, `)}`);
    return items.map((_, i) => rows[0]![`r${i}`] as Row[]);
  };
  /** Raw reads in one statement, with the deferred session check in it when it has not gone out yet (as on D1). */
  const readRaw = async (items: readonly Raw<unknown>[]): Promise<Row[][]> => {
    if (!deferred || deferred.done) {
      await settle();
      return conn.operation(() => oneStatement(items));
    }
    const d = deferred;
    const sent = conn.operation(() => oneStatement([d.check, ...items]));
    d.done = sent.then(([rows]) => d.onRows(rows!));
    // Awaited below or by settled(); marked handled so a failed send is reported once, by `sent`.
    d.done.catch(() => {});
    const [, ...rest] = await sent;
    await d.done;
    return rest;
  };
  /** Raw SELECTs only (EXPLAIN and the like cannot be a subquery). */
  const combinable = (items: readonly Item[]): items is readonly Raw<unknown>[] => items.every((i) => i instanceof Raw && isSelect(i.query));
  return typed({
    dialect: 'postgres',
    db,
    t,
    // One statement on its own, as the driver gives it; with the session check pending, both in one.
    one: (item, reading) =>
      reading && deferred && !deferred.done && item instanceof Raw && isSelect(item.query)
        ? readRaw([item]).then(([rows]) => rows)
        : after(() => conn.operation(() => exec(item))),
    many: (items, reading, locks = []) =>
      reading && combinable(items) ? readRaw(items) : after(() => conn.transaction(transactionMode(items, reading, locks), () => inOrder(items))),
    changes: (query) =>
      after(() =>
        conn.operation(async () => {
          const result = await ('toSQL' in query ? query : execute(query));
          return (result as { rowCount?: number | null }).rowCount ?? 0;
        }),
      ),
    defer: (check, onRows) => {
      deferred = { check, onRows, done: null };
    },
    settled: settle,
    bookmark: () => null,
    observe: () => {},
    close: () => conn.close(),
  });
}

/** Which backend this environment uses (DB_BACKEND = d1 | postgres). */
export function backendOf(env: Bindings): Dialect {
  return env.DB_BACKEND === 'postgres' ? 'postgres' : 'sqlite';
}

/** Opens the store of one unit of work; close() it when the unit ends (Postgres: the connection). */
export function openStore(env: Bindings, options: StoreOptions = {}): Store {
  if (backendOf(env) === 'sqlite') return d1Store(env.DB, options);
  const hyperdrive = env.HYPERDRIVE;
  if (!hyperdrive) throw new Error('DB_BACKEND=postgres needs the HYPERDRIVE binding');
  return pgStore(new PgConnection({ connectionString: hyperdrive.connectionString, database: env.PG_DATABASE || undefined }));
}
