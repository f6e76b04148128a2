import { drizzle, type DrizzleD1Database } from 'drizzle-orm/d1';
import * as schema from './schema';

export type DB = DrizzleD1Database<typeof schema>;

const cache = new WeakMap<D1Database, DB>();

/** One drizzle instance per D1 binding (cheap, but there is no reason to rebuild it per request). */
export function getDb(d1: D1Database): DB {
  let db = cache.get(d1);
  if (!db) {
    db = drizzle(d1, { schema });
    cache.set(d1, db);
  }
  return db;
}
