// Direct database access for the tests' own assertions and fault injection, on either backend,
// through the app's store (drizzle `sql` templates; one unit of work per call).
import { env } from 'cloudflare:workers';
import type { SQL } from 'drizzle-orm';
import { openStore, raw } from '../src/db/store';

async function withDb<T>(fn: (s: ReturnType<typeof openStore>) => Promise<T>): Promise<T> {
  const s = openStore(env);
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

export const db = {
  /** The rows of one statement (writes with RETURNING too). */
  rows: <T = any>(query: SQL): Promise<T[]> => withDb((s) => s.write([raw<T>(query)]).then(([rows]) => rows)),
  /** The first row, or undefined. */
  first: async <T = any>(query: SQL): Promise<T | undefined> => (await db.rows<T>(query))[0],
  /** One column of the first row. */
  value: async <T = any>(query: SQL, column: string): Promise<T | undefined> => (await db.first<Record<string, T>>(query))?.[column],
  /** Runs one statement; the number of rows it changed. */
  run: (query: SQL): Promise<number> => withDb((s) => s.changes(query)),
  /** Several statements in one store write (one batch / transaction). */
  batch: (queries: SQL[]): Promise<unknown[]> => withDb((s) => s.write(queries.map((q) => raw(q)))),
};

export { sql } from 'drizzle-orm';
