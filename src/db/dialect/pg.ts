// Postgres through Hyperdrive: one connection per unit of work (a request, a Durable Object call, a
// queue batch), opened on its first query and closed when the unit ends (Hyperdrive pools the real
// connections). A connection carries one thing at a time: each operation of the store (a statement,
// or a whole transaction) runs after the previous one has finished, so a statement can never slip
// into another operation's transaction. Drizzle runs on a client facade that refuses queries made
// outside an operation (a builder awaited directly instead of through the store).
import type { SQL } from 'drizzle-orm';
import type { DrizzleD1Database } from 'drizzle-orm/d1';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { errorSummary, logLine } from '../../lib/log';
import { meter } from '../meter';
import * as pgSchema from '../pg/schema';
import type * as d1Schema from '../schema';

// int8 (COUNT, bigint columns) and numeric (SUM of bigint) as JS numbers, like D1. Every stored
// value is bounded below 2^53 (see src/db/schema/sales.ts for the largest sums).
pg.types.setTypeParser(20, Number);
pg.types.setTypeParser(1700, Number);

export interface PgTarget {
  connectionString: string;
  /** Another database on the same server (the tests give each test file its own). */
  database?: string;
}

function connectionString(target: PgTarget): string {
  if (!target.database) return target.connectionString;
  const url = new URL(target.connectionString);
  url.pathname = `/${encodeURIComponent(target.database)}`;
  return url.toString();
}

/**
 * A transaction Postgres chose as a deadlock's victim is rolled back whole, so running it again is
 * safe; it gets this many attempts in all. Writes take their locks in one order (advisory locks
 * sorted here, row locks sorted by the repositories), so a deadlock is a fault to log, not a
 * routine event; the retry keeps one from becoming a 500.
 */
const DEADLOCK_ATTEMPTS = 4;
const DEADLOCK = '40P01';

/** The SQLSTATE of a failed query (drizzle wraps the driver's error in its own). */
function sqlState(err: unknown): string | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/** What an operation may ask of a transaction. */
export interface TransactionMode {
  /** REPEATABLE READ READ ONLY: several reads see one snapshot. */
  readOnly?: boolean;
  /** Transaction-scoped advisory locks taken first (see Lock in store.ts). */
  locks?: readonly (readonly [number, number])[];
  /**
   * One statement and no locks: it runs on its own, atomic by itself, without BEGIN and COMMIT
   * around it (two round trips fewer); a deadlock victim is still run again.
   */
  single?: boolean;
}

/** An advisory-lock key: Postgres' two-key form takes two int4 values. */
const lockKey = (n: number): number => {
  if (!Number.isInteger(n) || n < -2_147_483_648 || n > 2_147_483_647) throw new Error(`advisory lock key out of range: ${n}`);
  return n;
};

/**
 * BEGIN and the transaction's advisory locks as one exchange: a simple-protocol string of several
 * statements (no bound parameters, so the keys, checked integers, are written in), which saves a
 * round trip per lock. The locks are sorted, so two transactions that need the same ones take them
 * in the same order; if one of them fails, Postgres skips the rest and the caller's ROLLBACK ends it.
 */
export function beginWith(mode: TransactionMode): string {
  if (mode.readOnly) return 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY';
  const locks = [...(mode.locks ?? [])].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return ['BEGIN', ...locks.map(([scope, id]) => `SELECT pg_advisory_xact_lock(${lockKey(scope)}, ${lockKey(id)})`)].join('; ');
}

export class PgConnection {
  private readonly client: pg.Client;
  private connected: Promise<void> | null = null;
  private tail: Promise<unknown> = Promise.resolve();
  private active = 0;
  /** The object drizzle runs on. */
  readonly facade: { query: pg.Client['query'] };

  constructor(target: PgTarget) {
    this.client = new pg.Client({ connectionString: connectionString(target) });
    // pg-cloudflare emits 'error' when end() closes the socket under a pending read; without a
    // listener EventEmitter would throw it. Errors of a query still reject that query.
    this.client.on('error', () => {});
    const query = (...args: unknown[]) => {
      if (this.active === 0) throw new Error('a query outside the store: run it through Store methods');
      meter('pg');
      return (this.client.query as (...a: unknown[]) => unknown)(...args);
    };
    this.facade = { query: query as pg.Client['query'] };
  }

  private connect(): Promise<void> {
    meter('pg-connect');
    return this.client.connect().then(() => undefined);
  }

  /** One statement of the connection's own (BEGIN, a lock, COMMIT, ROLLBACK), metered. */
  private send(text: string, values?: unknown[]) {
    meter('pg');
    return this.client.query(text, values);
  }

  /** Runs `body` as the connection's next operation (after every earlier one has finished). */
  operation<T>(body: () => Promise<T>): Promise<T> {
    const run = async () => {
      await (this.connected ??= this.connect());
      this.active += 1;
      try {
        return await body();
      } finally {
        this.active -= 1;
      }
    };
    const next = this.tail.then(run, run);
    this.tail = next.catch(() => undefined);
    return next;
  }

  /**
   * `body` inside BEGIN … COMMIT (ROLLBACK when it throws), with the mode's isolation and locks; a
   * deadlock victim runs again (bounded: DEADLOCK_ATTEMPTS), so `body` must be safe to repeat.
   */
  transaction<T>(mode: TransactionMode, body: () => Promise<T>): Promise<T> {
    return this.operation(async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.attempt(mode, body);
        } catch (err) {
          if (sqlState(err) !== DEADLOCK || attempt >= DEADLOCK_ATTEMPTS) throw err;
          logLine('warn', 'deadlock victim retried', { attempt, error: errorSummary(err) });
          // A short random pause, so the two sides do not meet again at once.
          await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20 * attempt));
        }
      }
    });
  }

  private async attempt<T>(mode: TransactionMode, body: () => Promise<T>): Promise<T> {
    if (mode.single) return body();
    await this.send(beginWith(mode));
    try {
      const out = await body();
      await this.send('COMMIT');
      return out;
    } catch (err) {
      await this.send('ROLLBACK').catch(() => {});
      throw err;
    }
  }

  async close(): Promise<void> {
    if (!this.connected) return;
    await this.connected.catch(() => {});
    await this.tail;
    await this.client.end().catch(() => {});
  }
}

/**
 * Drizzle on a connection, typed as the D1 flavour the repositories are written against (the
 * query builders produce the same SQL shapes; tests/schema-parity.test.ts keeps both schemas the
 * same), with the Postgres tables under the D1 tables' names.
 */
export function pgDrizzle(conn: PgConnection) {
  const db = drizzle(conn.facade as pg.Client);
  return {
    db: db as unknown as DrizzleD1Database,
    tables: pgSchema as unknown as typeof d1Schema,
    /** A raw statement: its rows and how many it changed. */
    execute: (query: SQL) => db.execute(query) as Promise<{ rows: Record<string, unknown>[]; rowCount: number | null }>,
  };
}
