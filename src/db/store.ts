// The one way code reaches the database, whichever backend runs (DB_BACKEND = d1 | postgres).
// Repositories (src/modules/<domain>/repository.ts) take a Store; nothing above them knows the backend.
//   store.sql      raw SQL with D1's API on both backends (`?`/`?N` placeholders; `batch` is atomic)
//   store.orm, .t  drizzle over this backend's tables (D1: sqlite-core, Postgres: pg-core), typed as
//                  the D1 flavour (tests/schema-parity.test.ts keeps both schemas the same). Await
//                  queries directly (no .get/.all/.run: D1-only) and write several with atomic().
//   store.dialect  for the few statements whose SQL differs (full-text search, JSON functions…).
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { createMiddleware } from 'hono/factory';
import { config, scopedEnv, type AppEnv, type Bindings } from '../env';
import { getDb, type DB } from './client';
import { pgD1 } from './pg/d1-api';
import * as pgSchema from './pg/schema';
import { PgSession } from './pg/session';
import * as d1Schema from './schema';

export type { Dialect } from './dialect';
import type { Dialect } from './dialect';
export type Tables = typeof d1Schema;

export interface Store {
  readonly dialect: Dialect;
  readonly sql: D1Database;
  readonly orm: DB;
  readonly t: Tables;
  /** Drizzle queries that commit together or not at all (D1 batch; Postgres transaction). */
  atomic<T extends readonly unknown[]>(queries: T): Promise<{ [K in keyof T]: Awaited<T[K]> }>;
}

const SESSION = Symbol('pg-session');
type WithSession = Bindings & { [SESSION]?: { session: PgSession; store: Store } };

export function backendOf(env: Bindings): Dialect {
  return config(env).DB_BACKEND === 'postgres' ? 'postgres' : 'sqlite';
}

const d1Stores = new WeakMap<D1Database, Store>();

/** Cached per binding; the drizzle instance is built on first use (a read route's request-scoped
 *  binding is new every request, and most of them only need raw SQL). */
function d1Store(db: D1Database): Store {
  let s = d1Stores.get(db);
  if (!s) {
    s = {
      dialect: 'sqlite',
      sql: db,
      get orm() {
        return getDb(db);
      },
      t: d1Schema,
      atomic: ((queries: unknown[]) => getDb(db).batch(queries as never)) as Store['atomic'],
    };
    d1Stores.set(db, s);
  }
  return s;
}

function pgStore(session: PgSession, sqlApi: D1Database): Store {
  let orm: DB | undefined;
  return {
    dialect: 'postgres',
    sql: sqlApi,
    // Built on first use: many requests only need raw SQL.
    get orm() {
      return (orm ??= drizzlePg(session.client) as unknown as DB);
    },
    t: pgSchema as unknown as Tables,
    // Drizzle queries run when awaited, so awaiting them in order inside the transaction runs them there.
    atomic: ((queries: PromiseLike<unknown>[]) => session.inOrder(queries.map((q) => () => q), true)) as Store['atomic'],
  };
}

/** Opens a Postgres session for one unit of work; `env.DB` becomes its D1-compatible API. */
function openPg(env: Bindings): { env: Bindings; close: () => Promise<void> } {
  const hyperdrive = env.HYPERDRIVE as Hyperdrive | undefined;
  if (!hyperdrive) throw new Error('DB_BACKEND=postgres needs the HYPERDRIVE binding');
  const session = new PgSession({ connectionString: hyperdrive.connectionString, database: (env.PG_DATABASE as string) || undefined });
  const sqlApi = pgD1(session);
  const scoped = scopedEnv(env, { DB: sqlApi, [SESSION]: { session, store: pgStore(session, sqlApi) } });
  return { env: scoped, close: () => session.close() };
}

/**
 * The store of this unit of work. On D1 it wraps `env.DB` (which a read route may have replaced
 * with its piggy-backing binding); on Postgres the session opened by `withStore`/`storeMiddleware`.
 */
export function store(env: Bindings): Store {
  const pg = (env as WithSession)[SESSION];
  // A read route may have wrapped env.DB (deferredAuth): raw SQL goes through that wrapper.
  if (pg) return pg.store.sql === env.DB ? pg.store : (Object.create(pg.store, { sql: { value: env.DB } }) as Store);
  if (backendOf(env) === 'postgres') throw new Error('no Postgres session: run this inside withStore() or storeMiddleware');
  return d1Store(env.DB);
}

/**
 * Runs `fn` with an env whose database is ready (a Postgres session is opened and closed around
 * it; D1 needs nothing). For Durable Objects, queue consumers and scripts.
 */
export async function withStore<T>(env: Bindings, fn: (env: Bindings) => Promise<T>): Promise<T> {
  if (backendOf(env) !== 'postgres' || (env as WithSession)[SESSION]) return fn(env);
  const opened = openPg(env);
  try {
    return await fn(opened.env);
  } finally {
    await opened.close();
  }
}

/** Per request: a Postgres session opened lazily (on the first query) and closed after the response. */
export const storeMiddleware = createMiddleware<AppEnv>(async (c, next) => {
  if (backendOf(c.env) !== 'postgres') return next();
  const opened = openPg(c.env);
  c.env = opened.env;
  try {
    await next();
  } finally {
    // Closing waits for the connection's last statement; the response does not wait for it.
    c.executionCtx.waitUntil(opened.close());
  }
});

/** Rows of an atomic() / batch result item, whichever backend produced it. */
export function rowsOf<T = Record<string, unknown>>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  const r = result as { results?: T[]; rows?: T[] };
  return r.results ?? r.rows ?? [];
}

/** Rows changed by a write result (D1Result or pg QueryResult). */
export function changesOf(result: unknown): number {
  const r = result as { meta?: { changes?: number }; rowCount?: number | null; rowsAffected?: number };
  return r.meta?.changes ?? r.rowCount ?? r.rowsAffected ?? 0;
}
