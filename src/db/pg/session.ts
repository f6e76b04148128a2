// One Postgres connection for one request (or one Durable Object call, or one queue batch), reached
// through the Hyperdrive binding, with D1's consistency model on top:
// - D1 has a single writer. Here every write (a write statement outside a transaction, or a
//   transaction that writes) first takes one transaction-scoped advisory lock, so writes are
//   serialised exactly as on D1 and conditional SQL written for D1 (`INSERT … WHERE NOT EXISTS`,
//   `UPDATE … WHERE attempts < n`) keeps its meaning under concurrency. Reads never wait for it.
// - A D1 batch is one transaction: `transaction()` runs its statements in BEGIN … COMMIT (REPEATABLE
//   READ for read-only batches, so they see one snapshot, as a D1 batch does).
// The connection opens on the first query and `close()` ends it (the caller passes it to waitUntil).
import pg from 'pg';

/** The key of the one writer lock (any constant; it only has to be the same everywhere). */
const WRITER_LOCK = 0x0e_d6e_a91;

const READ_ONLY = /^\s*(?:SELECT|WITH\b(?:(?!\b(?:INSERT|UPDATE|DELETE)\b)[\s\S])*\bSELECT)\b/i;

/** Whether a statement only reads (SELECT, or WITH … SELECT without a data-modifying part). */
export function isReadOnly(sql: string): boolean {
  return READ_ONLY.test(sql) && !/\bFOR\s+UPDATE\b/i.test(sql);
}

// int8 (COUNT, bigint columns) and numeric (SUM of bigint) as JS numbers, like D1: every value this
// API stores is a safe integer.
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20 || oid === 1700) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
};

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

export class PgSession {
  readonly client: pg.Client;
  private connected: Promise<void> | null = null;
  private inTransaction = false;
  /** Serialises transactions of this one connection (statements of two would interleave). */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(target: PgTarget) {
    this.client = new pg.Client({ connectionString: connectionString(target), types });
    // pg-cloudflare emits 'error' when end() closes the socket under a pending read; without a
    // listener EventEmitter would throw it. Errors of a query still reject that query.
    this.client.on('error', () => {});
    // drizzle-orm/node-postgres calls client.query directly: route it through the writer rule too.
    const raw = this.client.query.bind(this.client) as (...args: unknown[]) => Promise<pg.QueryResult>;
    (this.client as unknown as { query: unknown }).query = (config: unknown, values?: unknown) =>
      this.run(() => raw(config, values), textOf(config));
  }

  private connect(): Promise<void> {
    return (this.connected ??= this.client.connect().then(() => undefined));
  }

  /** One statement; a write outside a transaction becomes a one-statement locked transaction. */
  private async run(query: () => Promise<pg.QueryResult>, text: string): Promise<pg.QueryResult> {
    await this.connect();
    if (this.inTransaction || isReadOnly(text) || isControl(text)) return query();
    return this.transaction(query, true);
  }

  /**
   * Runs `body` in one transaction on this connection (D1's batch): COMMIT when it resolves,
   * ROLLBACK when it throws. `writes` takes the writer lock first. A transaction started while
   * another is open joins it (one connection has one transaction).
   */
  transaction<T>(body: () => Promise<T>, writes: boolean): Promise<T> {
    // Already inside one (a batch run from an atomic block): its statements simply join it.
    if (this.inTransaction) return body();
    const next = this.queue.then(async () => {
      await this.connect();
      this.inTransaction = true;
      try {
        await this.client.query(
          writes
            ? `BEGIN; SELECT pg_advisory_xact_lock(${WRITER_LOCK})`
            : 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
        );
        const out = await body();
        await this.client.query('COMMIT');
        return out;
      } catch (err) {
        await this.client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        this.inTransaction = false;
      }
    });
    this.queue = next.catch(() => {});
    return next;
  }

  /** D1's batch: runs the steps one after another in one transaction; their results in order. */
  inOrder<T>(steps: (() => PromiseLike<T>)[], writes: boolean): Promise<T[]> {
    return this.transaction(async () => {
      const out: T[] = [];
      for (const step of steps) out.push(await step());
      return out;
    }, writes);
  }

  async close(): Promise<void> {
    if (!this.connected) return;
    await this.connected.catch(() => {});
    await this.queue;
    await this.client.end().catch(() => {});
  }
}

function textOf(config: unknown): string {
  return typeof config === 'string' ? config : ((config as { text?: string })?.text ?? '');
}

const isControl = (sql: string) => /^\s*(?:BEGIN|COMMIT|ROLLBACK|SET|SAVEPOINT|RELEASE)\b/i.test(sql);
