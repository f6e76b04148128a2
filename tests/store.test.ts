// The storage layer itself: the same Store API on D1 and Postgres (this file runs on both: `npm test`
// and `npm run test:pg`), and Postgres's consistency model: real transactions, locks per aggregate.
import { env } from 'cloudflare:workers';
import { and, eq } from 'drizzle-orm';
import { describe, expect, it, vi } from 'vitest';
import { beginWith } from '../src/db/dialect/pg';
import { LOCK_SCOPES, openStore, raw, type Store } from '../src/db/store';
import { createItem, register } from './catalog-helpers';
import { db, sql } from './db';
import { createUser, uniq } from './helpers';
import { scanOnly } from './log-guard';

const onPostgres = env.DB_BACKEND === 'postgres';

async function withStore<T>(fn: (s: Store) => Promise<T>): Promise<T> {
  const s = openStore(env);
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

describe('store', () => {
  it('reports its dialect and answers raw SQL and drizzle queries alike', async () => {
    const u = await createUser();
    await withStore(async (s) => {
      expect(s.dialect).toBe(onPostgres ? 'postgres' : 'sqlite');
      const rows = await s.rows<{ id: number; email: string; is_staff: number }>(sql`SELECT id, email, is_staff FROM users WHERE id = ${u.id}`);
      expect(rows).toEqual([{ id: u.id, email: u.email, is_staff: 0 }]);
      const { users } = s.t;
      const [row] = await s.select(
        s.db.select({ id: users.id, isStaff: users.isStaff, createdAt: users.createdAt }).from(users).where(eq(users.id, u.id)),
      );
      expect(row).toEqual({ id: u.id, isStaff: false, createdAt: expect.any(Number) });
    });
  });

  it('commits a write whole, or not at all when one statement fails', async () => {
    const u = await createUser();
    const other = await createUser();
    await withStore(async (s) => {
      const { users } = s.t;
      const [updated, read] = await s.write([
        s.db.update(users).set({ nickname: 'first' }).where(eq(users.id, u.id)).returning({ id: users.id }),
        raw<{ nickname: string }>(sql`SELECT nickname FROM users WHERE id = ${u.id}`),
      ]);
      expect(updated).toEqual([{ id: u.id }]);
      expect(read).toEqual([{ nickname: 'first' }]);
      // The second statement breaks a unique index: the first must be rolled back with it.
      await expect(
        s.write([
          s.db.update(users).set({ nickname: 'second' }).where(eq(users.id, u.id)),
          s.db.update(users).set({ email: other.email }).where(eq(users.id, u.id)),
        ]),
      ).rejects.toThrow();
      const [after] = await s.select(
        s.db
          .select({ nickname: users.nickname })
          .from(users)
          .where(and(eq(users.id, u.id))),
      );
      expect(after!.nickname).toBe('first');
    });
  });

  it('a read list sees one snapshot, in statement order', async () => {
    const u = await createUser();
    await withStore(async (s) => {
      const [a, b] = await s.read([
        raw<{ n: number }>(sql`SELECT count(*) AS n FROM users WHERE id <= ${u.id}`),
        raw<{ email: string }>(sql`SELECT email FROM users WHERE id = ${u.id}`),
      ]);
      expect(a).toEqual([{ n: expect.any(Number) }]);
      expect(b).toEqual([{ email: u.email }]);
    });
  });

  it('refuses a builder awaited outside the store, on both backends (Postgres: it could slip into a transaction)', async () => {
    await withStore(async (s) => {
      await s.rows(sql`SELECT 1`); // opens the connection
      const err = await Promise.resolve(s.db.select().from(s.t.users).limit(1)).catch((e: unknown) => e);
      // drizzle may wrap the client's error; the store's reason is then its cause.
      expect(String((err as Error).cause ?? err)).toMatch(/outside the store/);
    });
  });

  it('makes awaiting a builder a compile error (src/db/no-await.ts), while the store types its result', async () => {
    // Checked by `npm run typecheck`: if `await` on a builder compiled again, this directive would be unused and fail it.
    const typeOnly = async (s: Parameters<Parameters<typeof withStore>[0]>[0]) => {
      // @ts-expect-error TS1320: a builder is not awaitable outside the store
      await s.db.select().from(s.t.users);
      const [row] = await s.select(s.db.select({ id: s.t.users.id }).from(s.t.users).limit(1));
      return row?.id satisfies number | undefined;
    };
    await withStore(async (s) => {
      await createUser();
      expect(await typeOnly(s).catch((e: unknown) => String((e as Error).cause ?? e))).toMatch(/outside the store/);
    });
  });

  it('counts the rows a write changed', async () => {
    const u = await createUser();
    await withStore(async (s) => {
      expect(await s.changes(sql`UPDATE users SET nickname = 'x' WHERE id = ${u.id}`)).toBe(1);
      expect(await s.changes(sql`UPDATE users SET nickname = 'x' WHERE id = ${-1}`)).toBe(0);
    });
  });
});

describe.runIf(onPostgres)('Postgres: locks per aggregate, no global lock', () => {
  it('BEGIN and the locks go as one exchange, sorted; a key outside int4 is refused before anything is sent', async () => {
    expect(
      beginWith({
        locks: [
          [4, 9],
          [1, 7],
          [1, 3],
        ],
      }),
    ).toBe('BEGIN; SELECT pg_advisory_xact_lock(1, 3); SELECT pg_advisory_xact_lock(1, 7); SELECT pg_advisory_xact_lock(4, 9)');
    expect(() => beginWith({ locks: [[1, 2 ** 31]] })).toThrow(/out of range/);
    expect(() => beginWith({ locks: [[1, 1.5]] })).toThrow(/out of range/);
    // A write with such a key fails with that error, and the connection still serves the next unit.
    await expect(withStore((s) => s.write([raw(sql`SELECT 1`)], [['user', 2 ** 31]]))).rejects.toThrow(/out of range/);
    expect(await withStore((s) => s.write([raw(sql`SELECT 1 AS one`)], [['user', 1]]))).toEqual([[{ one: 1 }]]);
  });

  /** A write that takes `lock` and holds its transaction open for `ms`. */
  const hold = (lock: number, ms: number) =>
    withStore((s) => s.write([raw(sql`SELECT pg_sleep(${ms / 1000})`)], [['user', lock]]).then(() => Date.now()));

  /**
   * Resolves once a transaction holds the user's advisory lock (`granted`), or waits for it (not
   * granted), as pg_locks shows it (classid, objid: the lock's two keys); fails after 3 s.
   */
  async function lockSeen(userId: number, granted: boolean): Promise<void> {
    const deadline = Date.now() + 3000;
    const seen = sql`SELECT count(*) AS n FROM pg_locks
      WHERE locktype = 'advisory' AND classid = ${LOCK_SCOPES.user} AND objid = ${userId} AND objsubid = 2 AND granted = ${granted}`;
    while (Number(await db.value(seen, 'n')) === 0) {
      if (Date.now() > deadline) throw new Error(`the lock of user ${userId} was never ${granted ? 'held' : 'waited for'}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  it('writers on different users proceed concurrently; on one user, one after the other', async () => {
    let aDone = 0;
    const a = hold(1_000_001, 1500).then((t) => (aDone = t));
    await lockSeen(1_000_001, true); // a holds its transaction now
    // Another user's write commits while a's transaction is still open…
    await withStore((s) => s.write([raw(sql`SELECT 1`)], [['user', 1_000_002]]));
    expect(aDone).toBe(0);
    // …and the same user's write waits for it: Postgres shows it queued on the lock while a is open.
    const same = withStore((s) => s.write([raw(sql`SELECT 1`)], [['user', 1_000_001]]).then(() => Date.now()));
    await lockSeen(1_000_001, false);
    expect(aDone).toBe(0);
    expect(await same).toBeGreaterThanOrEqual(await a);
  });

  it("an apply of one user commits while another user's registration transaction is held open", async () => {
    const busy = await createUser();
    const free = await createUser();
    const exam = await createItem('exams', { price: 10_000 });
    const held = withStore((s) => s.write([raw(sql`SELECT pg_sleep(1.5)`)], [['user', busy.id]]).then(() => Date.now()));
    await lockSeen(busy.id, true); // the other user's registration transaction is open now
    const res = await register('exams', exam.id, free.access, { amount: 10_000, payment_method: 'card' });
    const applied = Date.now();
    expect(res.status).toBe(201);
    expect(applied).toBeLessThan(await held);
  });

  it('the user lock keeps a conditional insert exact: 20 concurrent ones leave one row', async () => {
    // "At most one live session with this jti per user" as an INSERT … WHERE NOT EXISTS with no
    // unique index behind it: only the lock keeps two of these from both inserting.
    const u = await createUser();
    const now = Date.now();
    const attempts = Array.from({ length: 20 }, () =>
      withStore((s) =>
        s.write(
          [
            raw(sql`INSERT INTO sessions (id, user_id, refresh_jti, created_at, expires_at)
              SELECT CAST(${uniq('s')} AS TEXT), CAST(${u.id} AS BIGINT), 'jti', CAST(${now} AS BIGINT), CAST(${now + 1000} AS BIGINT)
              WHERE NOT EXISTS (SELECT 1 FROM sessions WHERE user_id = ${u.id} AND refresh_jti = 'jti') RETURNING id`),
          ],
          [['user', u.id]],
        ),
      ),
    );
    const inserted = (await Promise.all(attempts)).map(([rows]) => rows.length);
    expect(inserted.filter((n) => n === 1)).toHaveLength(1);
    expect(await db.value(sql`SELECT count(*) AS n FROM sessions WHERE user_id = ${u.id} AND refresh_jti = 'jti'`, 'n')).toBe(1);
  });

  it('a deadlock victim is retried inside its unit of work: both of two crossing writes commit', async () => {
    await db.run(sql`CREATE TABLE IF NOT EXISTS deadlock_probe (id int PRIMARY KEY, n int NOT NULL)`);
    await db.run(sql`INSERT INTO deadlock_probe VALUES (1, 0), (2, 0) ON CONFLICT (id) DO UPDATE SET n = 0`);
    const bump = (id: number) => raw(sql`UPDATE deadlock_probe SET n = n + 1 WHERE id = ${id}`);
    // Both connect first, then start together: each locks one row, sleeps while the other locks the
    // other row, then wants it: a cycle, and Postgres aborts one of them.
    let connected = 0;
    let go: () => void;
    const together = new Promise<void>((resolve) => (go = resolve));
    const cross = (first: number, second: number) =>
      withStore(async (s) => {
        await s.rows(sql`SELECT 1`);
        if (++connected === 2) go();
        await together;
        return s.write([bump(first), raw(sql`SELECT pg_sleep(0.3)`), bump(second)]);
      });
    let warned: string[] = [];
    const warn = vi.spyOn(console, 'warn').mockImplementation(scanOnly);
    try {
      await Promise.all([cross(1, 2), cross(2, 1)]);
    } finally {
      warned = warn.mock.calls.map((c) => String(c[0])); // mockRestore() forgets the calls
      warn.mockRestore();
    }
    expect(await db.rows(sql`SELECT id, n FROM deadlock_probe ORDER BY id`)).toEqual([
      { id: 1, n: 2 },
      { id: 2, n: 2 },
    ]);
    const retried = warned.filter((l) => l.includes('deadlock'));
    expect(retried).toHaveLength(1);
    expect(JSON.parse(retried[0]!)).toMatchObject({ level: 'warn', attempt: 1 });
  });
});
