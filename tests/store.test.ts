// The storage layer itself: the same Store API and the same consistency model on D1 and Postgres
// (this file runs on both: `npm test` and `npm run test:pg`).
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { toPgPlaceholders } from '../src/db/pg/d1-api';
import { isReadOnly } from '../src/db/pg/session';
import { changesOf, rowsOf, store, withStore } from '../src/db/store';
import { createUser, uniq } from './helpers';

const onPostgres = env.DB_BACKEND === 'postgres';

describe('SQLite placeholders on Postgres', () => {
  it('numbers bare ? after the highest seen, keeps ?NNN, and leaves literals and comments alone', () => {
    expect(toPgPlaceholders('SELECT ?, ?')).toBe('SELECT $1, $2');
    expect(toPgPlaceholders('WHERE a = ?2 AND b = ?1 OR c = ?')).toBe('WHERE a = $2 AND b = $1 OR c = $3');
    expect(toPgPlaceholders(`SELECT '?', "a?b", 'it''s ?' FROM t WHERE x = ? -- why?\nAND y = ?`)).toBe(
      `SELECT '?', "a?b", 'it''s ?' FROM t WHERE x = $1 -- why?\nAND y = $2`,
    );
  });

  it('tells reads from writes (writes take the writer lock)', () => {
    expect(isReadOnly('SELECT 1')).toBe(true);
    expect(isReadOnly('  with x AS (SELECT 1) SELECT * FROM x')).toBe(true);
    expect(isReadOnly('WITH x AS (DELETE FROM t RETURNING id) SELECT * FROM x')).toBe(false);
    expect(isReadOnly('SELECT * FROM t FOR UPDATE')).toBe(false);
    expect(isReadOnly('INSERT INTO t VALUES (1)')).toBe(false);
    expect(isReadOnly('UPDATE t SET a = 1')).toBe(false);
  });
});

describe('store', () => {
  it('reports its dialect and answers raw SQL and drizzle queries alike', async () => {
    await withStore(env, async (scoped) => {
      const s = store(scoped);
      expect(s.dialect).toBe(onPostgres ? 'postgres' : 'sqlite');
      const u = await createUser();
      const raw = await s.sql.prepare('SELECT id, email, is_staff FROM users WHERE id = ?1').bind(u.id).first<{ id: number; email: string; is_staff: number }>();
      expect(raw).toEqual({ id: u.id, email: u.email, is_staff: 0 });
      const { users } = s.t;
      const [row] = await s.orm.select({ id: users.id, isStaff: users.isStaff, createdAt: users.createdAt }).from(users).limit(1);
      expect(typeof row!.id).toBe('number');
      expect(typeof row!.createdAt).toBe('number');
      expect(row!.isStaff).toBe(false);
    });
  });

  it('commits an atomic write whole, or not at all when one statement fails', async () => {
    const u = await createUser();
    await withStore(env, async (scoped) => {
      const s = store(scoped);
      const { users } = s.t;
      const { eq } = await import('drizzle-orm');
      const results = await s.atomic([
        s.orm.update(users).set({ nickname: 'first' }).where(eq(users.id, u.id)),
        s.orm.select({ nickname: users.nickname }).from(users).where(eq(users.id, u.id)),
      ]);
      expect(changesOf(results[0])).toBe(1);
      expect(rowsOf<{ nickname: string }>(results[1])).toEqual([{ nickname: 'first' }]);
      // The second statement breaks a unique index: the first must be rolled back with it.
      const other = await createUser();
      await expect(
        s.atomic([
          s.orm.update(users).set({ nickname: 'second' }).where(eq(users.id, u.id)),
          s.orm.update(users).set({ email: other.email }).where(eq(users.id, u.id)),
        ]),
      ).rejects.toThrow();
      const [after] = await s.orm.select({ nickname: users.nickname }).from(users).where(eq(users.id, u.id));
      expect(after!.nickname).toBe('first');
    });
  });

  it('serialises writes like D1: 20 concurrent conditional inserts from separate connections leave one row', async () => {
    // "At most one live session per user" as an INSERT … WHERE NOT EXISTS with no unique index
    // behind it: on Postgres only the writer lock keeps two of these from both inserting.
    const u = await createUser();
    const now = Date.now();
    const attempts = Array.from({ length: 20 }, () =>
      withStore(env, (scoped) =>
        store(scoped)
          .sql.prepare(
            `INSERT INTO sessions (id, user_id, refresh_jti, created_at, expires_at)
             SELECT CAST(?1 AS TEXT), CAST(?2 AS BIGINT), 'jti', CAST(?3 AS BIGINT), CAST(?3 AS BIGINT) + 1000
             WHERE NOT EXISTS (SELECT 1 FROM sessions WHERE user_id = ?2 AND refresh_jti = 'jti')`,
          )
          .bind(uniq('s'), u.id, now)
          .run(),
      ),
    );
    const changed = (await Promise.all(attempts)).map(changesOf);
    expect(changed.filter((n) => n === 1)).toHaveLength(1);
    const rows = await env.DB.prepare(`SELECT count(*) AS n FROM sessions WHERE user_id = ?1 AND refresh_jti = 'jti'`).bind(u.id).first<{ n: number }>();
    expect(rows!.n).toBe(1);
  });

  it('a read batch sees one snapshot, in statement order', async () => {
    const u = await createUser();
    await withStore(env, async (scoped) => {
      const s = store(scoped);
      const [a, b] = await s.sql.batch([
        s.sql.prepare('SELECT count(*) AS n FROM users WHERE id <= ?1').bind(u.id),
        s.sql.prepare('SELECT email FROM users WHERE id = ?1').bind(u.id),
      ]);
      expect(a!.results[0]).toEqual({ n: expect.any(Number) });
      expect(b!.results).toEqual([{ email: u.email }]);
    });
  });
});
