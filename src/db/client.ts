import { drizzle, type DrizzleD1Database } from 'drizzle-orm/d1';

export type DB = DrizzleD1Database;

const cache = new WeakMap<D1Database, DB>();

/** One drizzle instance per D1 binding. No relational schema: only query builders are used, and
 *  building drizzle's relational config is measurable per-request work. */
export function getDb(d1: D1Database): DB {
  let db = cache.get(d1);
  if (!db) {
    db = drizzle(d1);
    cache.set(d1, db);
  }
  return db;
}
