import { describe, expect, it } from 'vitest';
import { api, authed, bodyOf, createUser, expectProblem, phoneUser } from './helpers';
import { db, sql } from './db';

async function postCode(token: string, code: string) {
  return api.profile.$post({ json: { used_referral_code: code } }, authed(token));
}

/** A 6-character code that no user has (for REFERRAL_CODE_NOT_FOUND). */
async function unusedCode(): Promise<string> {
  for (;;) {
    const code = `Q${crypto.randomUUID().replace(/-/g, '').slice(0, 5)}`;
    const row = await db.first(sql`SELECT 1 FROM users WHERE invite_referral_code = ${code}`);
    if (!row) return code;
  }
}

/** The caller's referral profile, and a page of the users it referred (each asserts 200). */
const profile = async (token: string) => bodyOf(await api.profile.$get(undefined, authed(token)), 200);
const referred = async (token: string, query: { page_size?: number; page?: number } = {}) =>
  bodyOf(await api.profile['referred-users'].$get({ query }, authed(token)), 200);

describe('referral profile', () => {
  it('GET /api/profile for a fresh user', async () => {
    const u = await createUser();
    const body = await profile(u.access);
    expect(body).toEqual({
      id: u.id,
      phone: null,
      email: u.email,
      username: null,
      invite_referral_code: u.user.invite_referral_code,
      used_referral_code: null,
      referred_by_id: null,
      referred_users: [],
      referred_count: 0,
    });
  });

  it('a new phone user enters a friend’s code and the friend sees them', async () => {
    const friend = await createUser();
    const newbie = await phoneUser();
    const res = await postCode(newbie.access, friend.user.invite_referral_code);
    expect(await bodyOf(res, 200)).toMatchObject({ used_referral_code: friend.user.invite_referral_code, referred_by_id: friend.id });
    const friendProfile = await profile(friend.access);
    expect(friendProfile.referred_users).toEqual([newbie.phone]);
    expect(friendProfile.referred_count).toBe(1);
    const list = await referred(friend.access);
    expect(list).toMatchObject({ count: 1, next: null, previous: null });
    expect(list.results[0]).toMatchObject({ id: newbie.user.id, phone: newbie.phone, email: null, username: null });
    expect(list.results[0]!.referred_at).toMatch(/Z$/);
  });

  it('the three rule errors, checked in order: already set → own code → unknown code', async () => {
    const a = await createUser();
    const b = await createUser();
    const missing = await unusedCode();
    await expectProblem(await postCode(b.access, b.user.invite_referral_code), 400, 'OWN_REFERRAL_CODE');
    await expectProblem(await postCode(b.access, missing), 400, 'REFERRAL_CODE_NOT_FOUND');
    const swapped = a.user.invite_referral_code.replace(/[a-zA-Z]/g, (ch: string) => (ch === ch.toUpperCase() ? ch.toLowerCase() : ch.toUpperCase()));
    if (swapped !== a.user.invite_referral_code) {
      const taken = await db.first(sql`SELECT 1 FROM users WHERE invite_referral_code = ${swapped}`);
      if (!taken) await expectProblem(await postCode(b.access, swapped), 400, 'REFERRAL_CODE_NOT_FOUND'); // case-sensitive
    }
    expect((await postCode(b.access, a.user.invite_referral_code)).status).toBe(200);
    // Already set wins over the other two.
    await expectProblem(await postCode(b.access, b.user.invite_referral_code), 400, 'REFERRAL_CODE_ALREADY_SET');
    await expectProblem(await postCode(b.access, missing), 400, 'REFERRAL_CODE_ALREADY_SET');
    await expectProblem(await postCode(b.access, a.user.invite_referral_code), 400, 'REFERRAL_CODE_ALREADY_SET');
    const ko = await api.profile.$post({ json: { used_referral_code: missing } }, authed(b.access, { 'accept-language': 'ko' }));
    expect((await expectProblem(ko, 400, 'REFERRAL_CODE_ALREADY_SET')).detail).toBe('이미 추천인 코드를 입력했습니다.');
  });

  it('INPUT_VALIDATION_ERROR for codes that are not 6 alphanumerics; 401 without a token', async () => {
    const u = await createUser();
    for (const code of ['abc', 'abcdefg', 'ab-cd1', '']) await expectProblem(await postCode(u.access, code), 400, 'INPUT_VALIDATION_ERROR');
    await expectProblem(await api.profile.$get(), 401, 'TOKEN_NOT_FOUND');
    await expectProblem(await api.profile['referred-users'].$get({ query: {} }), 401, 'TOKEN_NOT_FOUND');
  });

  it('concurrent POSTs with different codes leave exactly one set', async () => {
    const a = await createUser();
    const b = await createUser();
    const me = await createUser();
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => postCode(me.access, (i % 2 ? a : b).user.invite_referral_code)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    for (const r of results.filter((r) => r.status !== 200)) await expectProblem(r, 400, 'REFERRAL_CODE_ALREADY_SET');
    const counts = await db.first<{ n: number }>(sql`SELECT count(*) AS n FROM users WHERE referred_by_id IN (${a.id}, ${b.id})`);
    expect(counts!.n).toBe(1);
  });

  it('referred_users holds the 100 most recent, referred_count all; the list pages', async () => {
    const owner = await createUser();
    const base = Date.now() - 1_000_000;
    const stmts = Array.from({ length: 105 }, (_, i) => {
      const code = `r${owner.id.toString(36).padStart(2, '0')}${i.toString(36).padStart(3, '0')}`.slice(0, 6);
      return sql`INSERT INTO users (email, invite_referral_code, created_at, used_referral_code, referred_by_id, referred_at)
        VALUES (${`ref${i}-${owner.id}@example.com`}, ${code}, ${base}, ${owner.user.invite_referral_code}, ${owner.id}, ${base + i * 1000})`;
    });
    await db.batch(stmts);
    const mine = await profile(owner.access);
    expect(mine.referred_count).toBe(105);
    expect(mine.referred_users).toHaveLength(100);
    expect(mine.referred_users[0]).toBe(`ref104-${owner.id}@example.com`);
    expect(mine.referred_users[99]).toBe(`ref5-${owner.id}@example.com`);

    const page1 = await referred(owner.access, { page_size: 50 });
    expect(page1.count).toBe(105);
    expect(page1.results).toHaveLength(50);
    expect(page1.previous).toBeNull();
    expect(page1.next).toBe('http://api.test/api/profile/referred-users?page_size=50&page=2');
    const page3 = await referred(owner.access, { page_size: 50, page: 3 });
    expect(page3.results.map((r) => r.email)).toEqual([0, 1, 2, 3, 4].reverse().map((i) => `ref${i}-${owner.id}@example.com`));
    expect(page3.next).toBeNull();
    expect(page3.previous).toBe('http://api.test/api/profile/referred-users?page_size=50&page=2');
    const page = (query: { page_size?: number; page?: number }) => api.profile['referred-users'].$get({ query }, authed(owner.access));
    await expectProblem(await page({ page_size: 50, page: 4 }), 404, 'NOT_FOUND');
    await expectProblem(await page({ page_size: 101 }), 400, 'INPUT_VALIDATION_ERROR');
  });

  it('a user nobody referred lists nobody (not every user with a null code)', async () => {
    await createUser();
    const lonely = await createUser();
    const list = await referred(lonely.access);
    expect(list).toEqual({ count: 0, next: null, previous: null, results: [] });
  });
});

describe('referral code guessing', () => {
  it('unknown codes are limited to 10 per user per hour, even when fired concurrently', async () => {
    const u = await createUser();
    const friend = await createUser();
    const codes = await Promise.all(Array.from({ length: 15 }, () => unusedCode()));
    const results = await Promise.all(codes.map((code) => postCode(u.access, code)));
    expect(results.filter((r) => r.status === 400)).toHaveLength(10);
    const limited = results.filter((r) => r.status === 429);
    expect(limited).toHaveLength(5);
    expect(limited[0]!.headers.get('ratelimit-policy')).toBe('"referral-guesses";q=10;w=3600');
    // Even a real code waits for the window now: guessing cannot continue behind a valid one.
    await expectProblem(await postCode(u.access, friend.user.invite_referral_code), 429, 'RATE_LIMITED');
  });
});
