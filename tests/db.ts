// Direct database access for the tests' own assertions and fault injection, on either backend,
// through the app's store (drizzle `sql` templates; one unit of work per call).
import { env } from 'cloudflare:workers';
import { type SQL, sql as sqlTag } from 'drizzle-orm';
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
  rows: <T = Record<string, unknown>>(query: SQL): Promise<T[]> => withDb((s) => s.write([raw<T>(query)]).then(([rows]) => rows)),
  /** The first row, or undefined. */
  first: async <T = Record<string, unknown>>(query: SQL): Promise<T | undefined> => (await db.rows<T>(query))[0],
  /** One column of the first row. */
  value: async <T = unknown>(query: SQL, column: string): Promise<T | undefined> => (await db.first<Record<string, T>>(query))?.[column],
  /** Runs one statement; the number of rows it changed. */
  run: (query: SQL): Promise<number> => withDb((s) => s.changes(query)),
  /** Several statements in one store write (one batch / transaction). */
  batch: (queries: SQL[]): Promise<unknown[]> => withDb((s) => s.write(queries.map((q) => raw(q)))),
};

export { sql } from 'drizzle-orm';

/**
 * Makes every `event` on `table` (only rows matching `when`, an SQL condition on NEW, if given) fail
 * inside the database until the returned function is called: a SQLite trigger that RAISEs, or on
 * Postgres a plpgsql trigger function that raises. Either aborts the statement and with it the whole
 * batch/transaction it is part of.
 */
export async function failWrites(
  table: string,
  event: 'INSERT' | 'UPDATE' | `UPDATE OF ${string}` = 'INSERT',
  when?: string,
): Promise<() => Promise<void>> {
  const name = `inject_fault_${table}_${event.toLowerCase().replace(/\W+/g, '_')}${when ? `_${Math.abs(hash(when))}` : ''}`;
  const ddl = (text: string) => db.run(sqlRaw(text));
  if (env.DB_BACKEND === 'postgres') {
    await ddl(`CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected fault'; END $$`);
    await ddl(`CREATE TRIGGER ${name} BEFORE ${event} ON ${table} FOR EACH ROW ${when ? `WHEN (${when}) ` : ''}EXECUTE FUNCTION ${name}()`);
    return async () => {
      await ddl(`DROP TRIGGER ${name} ON ${table}`);
      await ddl(`DROP FUNCTION ${name}()`);
    };
  }
  await ddl(`CREATE TRIGGER ${name} BEFORE ${event} ON ${table} ${when ? `WHEN ${when} ` : ''}BEGIN SELECT RAISE(ABORT, 'injected fault'); END`);
  return async () => void (await ddl(`DROP TRIGGER ${name}`));
}

const hash = (text: string) => [...text].reduce((h, c) => (h * 31 + c.charCodeAt(0)) | 0, 7);

const sqlRaw = (text: string) => sqlTag.raw(text);
