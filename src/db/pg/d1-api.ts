// D1's statement API (prepare/bind/first/all/run/raw, batch) over a Postgres session, so the raw SQL
// of the repositories runs on either backend: `?` and `?NNN` placeholders become `$n`, results come
// back in D1's shape ({ results, meta.changes }), and a batch is one transaction (see session.ts).
// SQL that differs between the dialects is chosen by the repositories (store.dialect).
import type { QueryResult } from 'pg';
import { isReadOnly, type PgSession } from './session';

type Row = Record<string, unknown>;

/**
 * Rewrites SQLite placeholders to Postgres ones, skipping string literals, quoted identifiers and
 * comments. `?NNN` keeps its number; a bare `?` takes the next number after the highest seen so far
 * (SQLite's rule).
 */
export function toPgPlaceholders(sql: string): string {
  let out = '';
  let highest = 0;
  for (let i = 0; i < sql.length; i++) {
    const ch = sql[i]!;
    if (ch === "'" || ch === '"') {
      const end = closing(sql, i, ch);
      out += sql.slice(i, end);
      i = end - 1;
    } else if (ch === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end === -1 ? sql.length : end;
      out += sql.slice(i, stop);
      i = stop - 1;
    } else if (ch === '?') {
      const digits = /^\d+/.exec(sql.slice(i + 1))?.[0];
      const n = digits ? Number(digits) : highest + 1;
      highest = Math.max(highest, n);
      out += `$${n}`;
      i += digits?.length ?? 0;
    } else {
      out += ch;
    }
  }
  return out;
}

/** Index just past the literal that starts at `start` (a doubled quote is an escaped quote). */
function closing(sql: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < sql.length) {
    if (sql[i] === quote) {
      if (sql[i + 1] === quote) i += 2;
      else return i + 1;
    } else i++;
  }
  return sql.length;
}

function d1Result<T>(res: QueryResult): D1Result<T> {
  const changes = res.command === 'SELECT' ? 0 : (res.rowCount ?? 0);
  return {
    results: (res.rows ?? []) as T[],
    success: true,
    meta: { changes, last_row_id: 0, duration: 0, changed_db: changes > 0, size_after: 0, rows_read: 0, rows_written: changes },
  } as unknown as D1Result<T>;
}

class PgStatement {
  constructor(
    private readonly session: PgSession,
    readonly sql: string,
    readonly text: string,
    readonly values: unknown[] = [],
  ) {}

  bind(...values: unknown[]): PgStatement {
    return new PgStatement(this.session, this.sql, this.text, values.map((v) => (typeof v === 'boolean' ? Number(v) : v)));
  }

  /** Runs on the session (its writer rule applies); `rowMode: 'array'` for raw(). */
  exec(arrays = false): Promise<QueryResult> {
    return this.session.client.query({ text: this.text, values: this.values, ...(arrays ? { rowMode: 'array' } : {}) });
  }

  async first<T = Row>(column?: string): Promise<T | null> {
    const row = ((await this.exec()).rows[0] ?? null) as Row | null;
    return (row && column !== undefined ? row[column] : row) as T | null;
  }

  async all<T = Row>(): Promise<D1Result<T>> {
    return d1Result<T>(await this.exec());
  }

  async run<T = Row>(): Promise<D1Result<T>> {
    return d1Result<T>(await this.exec());
  }

  async raw<T = unknown[]>(options?: { columnNames?: boolean }): Promise<T[]> {
    const res = await this.exec(true);
    const rows = res.rows as unknown as T[];
    return options?.columnNames ? ([res.fields.map((f) => f.name), ...rows] as unknown as T[]) : rows;
  }
}

/** A D1Database over one Postgres session. */
export function pgD1(session: PgSession): D1Database {
  const prepare = (sql: string) => new PgStatement(session, sql, toPgPlaceholders(sql));
  const batch = (statements: PgStatement[]) =>
    session.inOrder(
      statements.map((s) => async () => d1Result(await s.exec())),
      statements.some((s) => !isReadOnly(s.text)),
    );
  return {
    prepare,
    batch,
    exec: async (sql: string) => {
      await session.client.query(sql);
      return { count: 1, duration: 0 };
    },
    dump: () => Promise.reject(new Error('dump() is D1-only')),
    withSession: () => ({ prepare, batch, getBookmark: () => null }),
  } as unknown as D1Database;
}
