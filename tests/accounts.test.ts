// Accounts: signup, login, refresh rotation, logout, verify, profile, user admin, token forgery.
import { env } from 'cloudflare:workers';
import { SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, it, vi } from 'vitest';
import { PBKDF2_ITERATIONS, PBKDF2_MAX_ITERATIONS, hashPassword, verifyPassword } from '../src/lib/password';
import {
  api,
  authed,
  bodyOf,
  createUser,
  expectProblem,
  fromIp,
  login,
  PASSWORD,
  randomIp,
  randomPhone,
  raw,
  requestPhoneCode,
  signup,
  uniq,
  verifyPhone,
  withVars,
} from './helpers';
import { db, sql } from './db';

const SECRET = new TextEncoder().encode(env.JWT_SECRET as string);

async function forge(claims: Record<string, unknown>, opts: { key?: Uint8Array; header?: Record<string, unknown> } = {}) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: 'edge-api', aud: 'edge-api', iat: now, exp: now + 600, jti: uniq('j'), ...claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT', ...opts.header })
    .sign(opts.key ?? SECRET);
}

/** The claims of our tokens that the tests read (jose checks the rest). */
interface Claims {
  sub: string;
  sid: string;
  jti: string;
  iat: number;
  exp: number;
  [claim: string]: unknown;
}

function claimsOf(token: string): Claims {
  return JSON.parse(atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/')));
}

describe('signup', () => {
  it('creates a user with a lower-cased email and a 6-character invite code, never exposing the hash', async () => {
    const email = `${uniq('Mixed')}@Example.COM`;
    const res = await api.users.signup.$post(
      { json: { email, password: PASSWORD, password_check: PASSWORD, name: 'Ada', nickname: 'ada' } },
      fromIp(),
    );
    const user = await bodyOf(res, 201);
    expect(user).toMatchObject({
      email: email.toLowerCase(),
      name: 'Ada',
      nickname: 'ada',
      is_active: true,
      is_staff: false,
      is_superuser: false,
      phone: null,
      last_login: null,
    });
    expect(user.invite_referral_code).toMatch(/^[A-Za-z0-9]{6}$/);
    expect(user.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(JSON.stringify(user)).not.toMatch(/password|pbkdf2/);
    const row = await db.first<{ password_hash: string }>(sql`SELECT password_hash FROM users WHERE id = ${user.id}`);
    expect(row!.password_hash).toMatch(/^pbkdf2_sha256\$100000\$[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}$/);
  });

  it('signs up with a username only', async () => {
    const user = await signup({ email: undefined, username: `${uniq('Ada Lovelace.')}+x@y-z` });
    expect(user.email).toBeNull();
    expect(user.username).toMatch(/^Ada Lovelace\./);
  });

  it('ignores privilege fields', async () => {
    const user = await signup({ is_staff: true, is_superuser: true, is_active: false });
    expect(user).toMatchObject({ is_staff: false, is_superuser: false, is_active: true });
  });

  it('PASSWORD_NOT_MATCHED when password_check differs', async () => {
    const res = await raw('/api/users/signup', { body: { email: `${uniq()}@example.com`, password: PASSWORD, password_check: 'something else' } });
    await expectProblem(res, 400, 'PASSWORD_NOT_MATCHED');
  });

  it('ALREADY_SIGNED_UP_EMAIL, case-insensitively', async () => {
    const email = `${uniq()}@example.com`;
    await signup({ email });
    const res = await raw('/api/users/signup', { body: { email: email.toUpperCase(), password: PASSWORD } });
    const body = await expectProblem(res, 400, 'ALREADY_SIGNED_UP_EMAIL');
    expect(body.detail).toBe('This email is already registered.');
    const ko = await raw('/api/users/signup', { body: { email, password: PASSWORD }, headers: { 'accept-language': 'ko' } });
    expect((await expectProblem(ko, 400, 'ALREADY_SIGNED_UP_EMAIL')).detail).toBe('이미 가입된 이메일입니다.');
  });

  it('USER_ALREADY_EXISTS for a taken username, case-insensitively', async () => {
    const username = uniq('Name');
    await signup({ email: undefined, username });
    const res = await raw('/api/users/signup', { body: { username: username.toLowerCase(), password: PASSWORD } });
    await expectProblem(res, 400, 'USER_ALREADY_EXISTS');
  });

  it('INPUT_VALIDATION_ERROR for missing identifiers, bad usernames and password lengths', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ password: PASSWORD }, 'email'],
      [{ username: 'bad/name', password: PASSWORD }, 'username'],
      [{ username: 'x'.repeat(151), password: PASSWORD }, 'username'],
      [{ email: `${uniq()}@example.com`, password: '1234567' }, 'password'],
      [{ email: `${uniq()}@example.com`, password: 'x'.repeat(129) }, 'password'],
      [{ email: `${uniq()}@example.com`, password: 12345678 }, 'password'],
    ];
    for (const [body, path] of cases) {
      const problem = await expectProblem(await raw('/api/users/signup', { body }), 400, 'INPUT_VALIDATION_ERROR');
      expect(problem.errors!.map((e) => e.path)).toContain(path);
    }
  });

  it('concurrent signups of one email: exactly one 201', async () => {
    const email = `${uniq()}@example.com`;
    const results = await Promise.all(
      Array.from({ length: 6 }, () => raw('/api/users/signup', { body: { email, password: PASSWORD }, headers: { 'cf-connecting-ip': randomIp() } })),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 400, 400, 400, 400, 400]);
    const count = await db.first<{ n: number }>(sql`SELECT count(*) AS n FROM users WHERE email = ${email}`);
    expect(count!.n).toBe(1);
  });

  it('is limited per client address (SIGNUPS_PER_ADDRESS_PER_HOUR = 30) with Retry-After and RateLimit headers', async () => {
    const ip = randomIp();
    for (let i = 0; i < 30; i++) {
      const res = await raw('/api/users/signup', {
        body: { email: `${uniq()}@example.com`, password: PASSWORD },
        headers: { 'cf-connecting-ip': ip },
      });
      expect(res.status).toBe(201);
    }
    const res = await raw('/api/users/signup', {
      body: { email: `${uniq()}@example.com`, password: PASSWORD },
      headers: { 'cf-connecting-ip': ip },
    });
    await expectProblem(res, 429, 'RATE_LIMITED');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(res.headers.get('ratelimit-policy')).toBe('"signup-address";q=30;w=3600');
    expect(res.headers.get('ratelimit')).toMatch(/^"signup-address";r=0;t=\d+$/);
  });
});

describe('per-address budgets: IPv4 exact, IPv6 by /64', () => {
  const signupFrom = (ip: string) =>
    raw('/api/users/signup', { body: { email: `${uniq()}@example.com`, password: PASSWORD }, headers: { 'cf-connecting-ip': ip } });

  it('addresses of one IPv6 /64, however written, share one budget; other /64s and IPv4 addresses do not', async () => {
    await withVars({ SIGNUPS_PER_ADDRESS_PER_HOUR: '3' }, async () => {
      const n = crypto.getRandomValues(new Uint16Array(2));
      const net = `2001:db8:${n[0]!.toString(16)}:${n[1]!.toString(16)}`;
      expect((await signupFrom(`${net}::1`)).status).toBe(201);
      expect((await signupFrom(`${net}:0:0:0:2`)).status).toBe(201);
      expect((await signupFrom(`${net.toUpperCase()}:ffff:ffff:ffff:ffff`)).status).toBe(201);
      const fourth = await signupFrom(`${net}:1234::abcd`);
      await expectProblem(fourth, 429, 'RATE_LIMITED');
      expect(fourth.headers.get('ratelimit-policy')).toBe('"signup-address";q=3;w=3600');
      expect(await db.value(sql`SELECT count FROM rate_limits WHERE key = ${`signup:addr:${net}::/64`}`, 'count')).toBe(4);
      // The next /64 is another subscriber.
      expect((await signupFrom(`2001:db8:${n[0]!.toString(16)}:${((n[1]! + 1) % 65536).toString(16)}::1`)).status).toBe(201);
      // IPv4 stays exact: a neighbour address has its own budget.
      const v4 = randomIp();
      for (let i = 0; i < 3; i++) expect((await signupFrom(v4)).status).toBe(201);
      await expectProblem(await signupFrom(v4), 429, 'RATE_LIMITED');
      expect((await signupFrom(v4.replace(/\.\d+$/, (d) => `.${(Number(d.slice(1)) + 1) % 256}`))).status).toBe(201);
    });
  });
});

describe('login', () => {
  it('by email or username (case-insensitive) answers the user and a token pair', async () => {
    const username = uniq('Login');
    const email = `${uniq()}@example.com`;
    await signup({ email, username });
    for (const creds of [{ email: email.toUpperCase() }, { username: username.toUpperCase() }]) {
      const body = await bodyOf(await login({ ...creds, password: PASSWORD }), 200);
      expect(body.user.email).toBe(email);
      expect(body.user.last_login).not.toBeNull();
      expect(body.token).toMatchObject({ token_type: 'Bearer', expires_in: 900 });
      const access = claimsOf(body.token.access);
      expect(access).toMatchObject({ sub: String(body.user.id), typ: 'access', iss: 'edge-api', aud: 'edge-api' });
      expect(access.exp - access.iat).toBe(900);
      expect(claimsOf(body.token.refresh).exp - claimsOf(body.token.refresh).iat).toBe(1209600);
    }
  });

  it('one INVALID_CREDENTIALS for an unknown user, a wrong password and an inactive user', async () => {
    const u = await createUser();
    await db.run(sql`UPDATE users SET is_active = 0 WHERE id = ${u.id}`);
    const inactive = await login({ email: u.email, password: PASSWORD });
    const b1 = await expectProblem(inactive, 401, 'INVALID_CREDENTIALS');
    const other = await createUser();
    const wrong = await expectProblem(await login({ email: other.email, password: 'wrong password' }), 401, 'INVALID_CREDENTIALS');
    const unknown = await expectProblem(await login({ email: 'nobody@example.com', password: PASSWORD }), 401, 'INVALID_CREDENTIALS');
    expect(b1.detail).toBe(wrong.detail);
    expect(wrong.detail).toBe(unknown.detail);
  });

  it('an unknown user costs the same PBKDF2 work as a real one', async () => {
    const u = await createUser();
    const spy = vi.spyOn(crypto.subtle, 'deriveBits');
    // Postgres's SCRAM login (a new connection per request) derives its own key, 4096 iterations.
    const passwordWork = () => spy.mock.calls.map((c) => (c[0] as { iterations: number }).iterations).filter((n) => n !== 4096);
    try {
      await login({ email: u.email, password: 'wrong password' });
      const known = passwordWork();
      spy.mockClear();
      await login({ email: 'nobody-at-all@example.com', password: 'wrong password' });
      const unknown = passwordWork();
      expect(known).toEqual([PBKDF2_ITERATIONS]);
      expect(unknown).toEqual(known);
    } finally {
      spy.mockRestore();
    }
  });

  it('INPUT_VALIDATION_ERROR without email or username', async () => {
    await expectProblem(
      await raw('/api/users/login', { body: { password: PASSWORD }, headers: { 'cf-connecting-ip': randomIp() } }),
      400,
      'INPUT_VALIDATION_ERROR',
    );
  });

  it('locks an account after 10 failures (even the right password), with Retry-After', async () => {
    const u = await createUser();
    for (let i = 0; i < 10; i++) await expectProblem(await login({ email: u.email, password: 'wrong password' }), 401, 'INVALID_CREDENTIALS');
    const res = await login({ email: u.email, password: PASSWORD });
    await expectProblem(res, 429, 'RATE_LIMITED');
    const retry = Number(res.headers.get('retry-after'));
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(900);
    expect(res.headers.get('ratelimit-policy')).toBe('"login-account";q=10;w=900');
  });

  it('holds the account limit under 20 concurrent wrong guesses', async () => {
    const u = await createUser();
    const results = await Promise.all(Array.from({ length: 20 }, () => login({ email: u.email, password: 'wrong password' })));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(10);
  });

  it("a success clears its address's failures, not the attackers' ones elsewhere", async () => {
    const u = await createUser();
    const laptop = randomIp();
    const from = (ip: string, password: string) =>
      raw('/api/users/login', { body: { email: u.email, password }, headers: { 'cf-connecting-ip': ip } });
    for (let i = 0; i < 9; i++) await expectProblem(await from(laptop, 'wrong password'), 401, 'INVALID_CREDENTIALS');
    expect((await from(laptop, PASSWORD)).status).toBe(200);
    for (let i = 0; i < 9; i++) await expectProblem(await from(laptop, 'wrong password'), 401, 'INVALID_CREDENTIALS');
    expect((await from(laptop, PASSWORD)).status).toBe(200);
    // The account's 18 failures still count for addresses it never used.
    await expectProblem(await from(randomIp(), PASSWORD), 429, 'RATE_LIMITED');
  });

  it('wrong passwords from many addresses do not lock the owner out of an address it used before', async () => {
    const email = `${uniq()}@example.com`;
    await signup({ email });
    const home = randomIp();
    const from = (ip: string, password: string) => raw('/api/users/login', { body: { email, password }, headers: { 'cf-connecting-ip': ip } });
    expect((await from(home, PASSWORD)).status).toBe(200);
    // An attacker spreads 30 wrong guesses over 30 addresses: 10 are judged, the rest refused.
    const attack = [];
    for (let i = 0; i < 30; i++) attack.push((await from(randomIp(), 'wrong password')).status);
    expect(attack.filter((s) => s === 401)).toHaveLength(10);
    expect(attack.filter((s) => s === 429)).toHaveLength(20);
    // The owner still logs in from home; a new address (the attacker's next one) stays refused.
    expect((await from(home, PASSWORD)).status).toBe(200);
    const fresh = await from(randomIp(), PASSWORD);
    await expectProblem(fresh, 429, 'RATE_LIMITED');
    expect(fresh.headers.get('ratelimit-policy')).toBe('"login-account";q=10;w=900');
  });

  it('a signup counts as a login from its address: a new account is never locked out of it', async () => {
    const email = `${uniq()}@example.com`;
    const home = randomIp();
    const created = await bodyOf(await api.users.signup.$post({ json: { email, password: PASSWORD } }, fromIp(home)), 201);
    const from = (ip: string, password: string) => raw('/api/users/login', { body: { email, password }, headers: { 'cf-connecting-ip': ip } });
    for (let i = 0; i < 10; i++) await expectProblem(await from(randomIp(), 'wrong password'), 401, 'INVALID_CREDENTIALS');
    await expectProblem(await from(randomIp(), PASSWORD), 429, 'RATE_LIMITED');
    expect((await from(home, PASSWORD)).status).toBe(200);
    const mark = await db.first(sql`SELECT count FROM rate_limits WHERE key = ${`login:known:u${created.id}:${home}`}`);
    expect(Number(mark?.count)).toBe(1);
  });

  it('a phone verify counts as a login from its address', async () => {
    const ip = randomIp();
    const sent = await requestPhoneCode(randomPhone(), ip);
    const verified = await bodyOf(await verifyPhone(sent.verification_token, sent.dev_code, ip), 200);
    const mark = await db.first<{ count: number; expires_at: number }>(
      sql`SELECT count, expires_at FROM rate_limits WHERE key = ${`login:known:u${verified.user.id}:${ip}`}`,
    );
    expect(Number(mark?.count)).toBe(1);
    expect(Number(mark?.expires_at)).toBeGreaterThan(Date.now() + 29 * 86_400_000);
  });

  it('successful logins spend no failure budget: neither the address nor the account counts them', async () => {
    await withVars({ LOGIN_MAX_FAILURES_PER_ADDRESS: '3' }, async () => {
      const email = `${uniq()}@example.com`;
      const created = await signup({ email });
      const ip = randomIp();
      const from = (password: string) => raw('/api/users/login', { body: { email, password }, headers: { 'cf-connecting-ip': ip } });
      for (let i = 0; i < 6; i++) expect((await from(PASSWORD)).status).toBe(200);
      const count = async (key: string) => Number((await db.first(sql`SELECT count FROM rate_limits WHERE key = ${key}`))?.count ?? 0);
      expect(await count(`login:addr:${ip}`)).toBe(0);
      expect(await count(`login:acct:u${created.id}`)).toBe(0);
      // The address's whole budget is still there for failures: 3 judged, then 429.
      for (let i = 0; i < 3; i++) await expectProblem(await from('wrong password'), 401, 'INVALID_CREDENTIALS');
      const res = await from(PASSWORD);
      await expectProblem(res, 429, 'RATE_LIMITED');
      expect(res.headers.get('ratelimit-policy')).toBe('"login-address";q=3;w=900');
    });
  });

  it("a repeat login renews the known-address mark's expiry (the purge never takes a mark still in use)", async () => {
    const email = `${uniq()}@example.com`;
    const created = await signup({ email });
    const home = randomIp();
    const key = `login:known:u${created.id}:${home}`;
    const markOf = () =>
      db.first<{ window_start: number; expires_at: number }>(sql`SELECT window_start, expires_at FROM rate_limits WHERE key = ${key}`);
    const viaHome = () => api.users.login.$post({ json: { email, password: PASSWORD } }, fromIp(home));
    expect((await viaHome()).status).toBe(200);
    // The mark is 29 days old: one day left.
    const day = 86_400_000;
    await db.run(sql`UPDATE rate_limits SET window_start = window_start - ${29 * day}, expires_at = expires_at - ${29 * day} WHERE key = ${key}`);
    const aged = await markOf();
    expect(Number(aged!.expires_at)).toBeLessThan(Date.now() + 2 * day);
    const before = Date.now();
    expect((await viaHome()).status).toBe(200);
    const renewed = await markOf();
    expect(Number(renewed!.window_start)).toBeGreaterThanOrEqual(before);
    expect(Number(renewed!.expires_at)).toBeGreaterThanOrEqual(before + 30 * day);
  });

  it('a known address still has its own limit for the account', async () => {
    const email = `${uniq()}@example.com`;
    await signup({ email });
    const home = randomIp();
    const from = (password: string) => raw('/api/users/login', { body: { email, password }, headers: { 'cf-connecting-ip': home } });
    expect((await from(PASSWORD)).status).toBe(200);
    for (let i = 0; i < 10; i++) await expectProblem(await from('wrong password'), 401, 'INVALID_CREDENTIALS');
    const res = await from(PASSWORD);
    await expectProblem(res, 429, 'RATE_LIMITED');
    expect(res.headers.get('ratelimit-policy')).toBe('"login-account-address";q=10;w=900');
  });

  it('counts failures per account, whichever identifier is typed (email or username)', async () => {
    const email = `${uniq()}@example.com`;
    const username = uniq('name');
    await signup({ email, username });
    for (let i = 0; i < 5; i++) await expectProblem(await login({ email, password: 'wrong password' }), 401, 'INVALID_CREDENTIALS');
    for (let i = 0; i < 5; i++)
      await expectProblem(await login({ username: username.toUpperCase(), password: 'wrong password' }), 401, 'INVALID_CREDENTIALS');
    await expectProblem(await login({ email, password: PASSWORD }), 429, 'RATE_LIMITED');
    await expectProblem(await login({ username, password: PASSWORD }), 429, 'RATE_LIMITED');
  });

  it('limits failures per client address (100 per window)', async () => {
    const ip = randomIp();
    const attempt = (i: number) =>
      raw('/api/users/login', { body: { email: `nobody${i}@example.com`, password: 'wrong password' }, headers: { 'cf-connecting-ip': ip } });
    for (let i = 0; i < 100; i += 10) {
      const batch = await Promise.all(Array.from({ length: 10 }, (_, k) => attempt(i + k)));
      expect(batch.every((r) => r.status === 401)).toBe(true);
    }
    const res = await attempt(1000);
    await expectProblem(res, 429, 'RATE_LIMITED');
    expect(res.headers.get('ratelimit-policy')).toBe('"login-address";q=100;w=900');
  });
});

describe('refresh, logout and verify', () => {
  it('refresh rotates; the old token replayed revokes the whole family', async () => {
    const u = await createUser();
    const pair = await bodyOf(await api.users.refresh.$post({ json: { refresh: u.refresh } }), 200);
    expect(pair).toMatchObject({ token_type: 'Bearer', expires_in: 900 });
    expect(pair.refresh).not.toBe(u.refresh);
    expect((await raw('/api/users/me', { token: pair.access })).status).toBe(200);

    await expectProblem(await raw('/api/users/refresh', { body: { refresh: u.refresh } }), 401, 'INVALID_TOKEN');
    // The thief's replay killed the family: the legitimate newest token and its access token too.
    await expectProblem(await raw('/api/users/refresh', { body: { refresh: pair.refresh } }), 401, 'INVALID_TOKEN');
    await expectProblem(await raw('/api/users/me', { token: pair.access }), 401, 'INVALID_TOKEN');
    await expectProblem(await raw('/api/users/me', { token: u.access }), 401, 'INVALID_TOKEN');
  });

  it('concurrent refreshes of one token: exactly one succeeds', async () => {
    const u = await createUser();
    const results = await Promise.all(Array.from({ length: 8 }, () => raw('/api/users/refresh', { body: { refresh: u.refresh } })));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    for (const r of results.filter((r) => r.status !== 200)) await expectProblem(r, 401, 'INVALID_TOKEN');
  });

  it('an access token is not a refresh token, and the reverse', async () => {
    const u = await createUser();
    await expectProblem(await raw('/api/users/refresh', { body: { refresh: u.access } }), 401, 'INVALID_TOKEN');
    const res = await raw('/api/users/me', { token: u.refresh });
    await expectProblem(res, 401, 'INVALID_TOKEN');
    expect(res.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
  });

  it('an expired refresh token → TOKEN_EXPIRED', async () => {
    const u = await createUser();
    const c = claimsOf(u.refresh);
    const expired = await forge({ sub: c.sub, sid: c.sid, jti: c.jti, typ: 'refresh', iat: c.iat - 10_000, exp: Math.floor(Date.now() / 1000) - 5 });
    await expectProblem(await raw('/api/users/refresh', { body: { refresh: expired } }), 401, 'TOKEN_EXPIRED');
  });

  it('logout revokes the family; its access token is refused at once', async () => {
    const u = await createUser();
    const res = await raw('/api/users/logout', { body: { refresh: u.refresh }, token: u.access });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    await expectProblem(await raw('/api/users/me', { token: u.access }), 401, 'INVALID_TOKEN');
    await expectProblem(await raw('/api/users/refresh', { body: { refresh: u.refresh } }), 401, 'INVALID_TOKEN');
    const row = await db.first(sql`SELECT revoke_reason FROM sessions WHERE id = ${claimsOf(u.refresh).sid}`);
    expect(row).toEqual({ revoke_reason: 'logout' });
  });

  it('logout leaves the user’s other sessions alive', async () => {
    const u = await createUser();
    const other = await bodyOf(await login({ email: u.email, password: PASSWORD }), 200);
    expect((await raw('/api/users/logout', { body: { refresh: u.refresh }, token: u.access })).status).toBe(204);
    expect((await raw('/api/users/me', { token: other.token.access })).status).toBe(200);
  });

  it('logout refuses someone else’s refresh token, an unknown one, a revoked one, and no bearer', async () => {
    const a = await createUser();
    const b = await createUser();
    await expectProblem(await raw('/api/users/logout', { body: { refresh: b.refresh }, token: a.access }), 401, 'INVALID_TOKEN');
    expect((await raw('/api/users/refresh', { body: { refresh: b.refresh } })).status).toBe(200); // b's session untouched
    await expectProblem(await raw('/api/users/logout', { body: { refresh: 'garbage' }, token: a.access }), 401, 'INVALID_TOKEN');
    await expectProblem(await raw('/api/users/logout', { body: { refresh: a.refresh } }), 401, 'TOKEN_NOT_FOUND');
    const second = await bodyOf(await login({ email: a.email, password: PASSWORD }), 200);
    expect((await raw('/api/users/logout', { body: { refresh: a.refresh }, token: a.access })).status).toBe(204);
    await expectProblem(await raw('/api/users/logout', { body: { refresh: a.refresh }, token: second.token.access }), 401, 'INVALID_TOKEN');
  });

  it('verify answers the token facts, TOKEN_NOT_FOUND when empty, TOKEN_EXPIRED, INVALID_TOKEN', async () => {
    const u = await createUser();
    const body = await bodyOf(await api.users.verify.$post({ json: { token: u.access } }), 200);
    expect(body).toEqual({ valid: true, user_id: u.id, token_type: 'access', expires_at: new Date(claimsOf(u.access).exp * 1000).toISOString() });
    expect((await bodyOf(await api.users.verify.$post({ json: { token: u.refresh } }), 200)).token_type).toBe('refresh');
    await expectProblem(await raw('/api/users/verify', { body: { token: '' } }), 401, 'TOKEN_NOT_FOUND');
    await expectProblem(await raw('/api/users/verify', { body: {} }), 401, 'TOKEN_NOT_FOUND');
    await expectProblem(await raw('/api/users/verify', { body: { token: 'a.b.c' } }), 401, 'INVALID_TOKEN');
    const c = claimsOf(u.access);
    const expired = await forge({ sub: c.sub, sid: c.sid, typ: 'access', exp: Math.floor(Date.now() / 1000) - 1 });
    await expectProblem(await raw('/api/users/verify', { body: { token: expired } }), 401, 'TOKEN_EXPIRED');
    await expectProblem(await raw('/api/users/me', { token: expired }), 401, 'TOKEN_EXPIRED');
  });

  it('a token accepted once (and remembered as verified) is refused from the second it expires', async () => {
    const u = await createUser();
    const c = claimsOf(u.access);
    // Expires at the next whole second; jose and the verified-token memo both refuse exp <= now.
    const exp = Math.floor(Date.now() / 1000) + 2;
    const short = await forge({ sub: c.sub, sid: c.sid, jti: 'short-lived', typ: 'access', exp });
    expect((await raw('/api/users/me', { token: short })).status).toBe(200);
    expect((await raw('/api/users/me', { token: short })).status).toBe(200);
    await new Promise((r) => setTimeout(r, exp * 1000 - Date.now() + 20));
    await expectProblem(await raw('/api/users/me', { token: short }), 401, 'TOKEN_EXPIRED');
    await expectProblem(await raw('/api/exams', { token: short }), 401, 'TOKEN_EXPIRED');
  });

  it('verify refuses a spent refresh token and a logged-out session', async () => {
    const u = await createUser();
    const rotated = await bodyOf(await api.users.refresh.$post({ json: { refresh: u.refresh } }), 200);
    await expectProblem(await raw('/api/users/verify', { body: { token: u.refresh } }), 401, 'INVALID_TOKEN');
    // The live pair verifies until its session logs out; then neither does.
    expect((await raw('/api/users/verify', { body: { token: rotated.access } })).status).toBe(200);
    expect((await raw('/api/users/verify', { body: { token: rotated.refresh } })).status).toBe(200);
    const out = await raw('/api/users/logout', { token: rotated.access, body: { refresh: rotated.refresh } });
    expect(out.status).toBe(204);
    await expectProblem(await raw('/api/users/verify', { body: { token: rotated.access } }), 401, 'INVALID_TOKEN');
    await expectProblem(await raw('/api/users/verify', { body: { token: rotated.refresh } }), 401, 'INVALID_TOKEN');
  });
});

describe('forged and malformed tokens', () => {
  it('are all INVALID_TOKEN', async () => {
    const u = await createUser();
    const c = claimsOf(u.access);
    const base = { sub: c.sub, sid: c.sid, typ: 'access' };
    const none = new UnsecuredJWT({ ...base, iss: 'edge-api', aud: 'edge-api', jti: 'x' }).setIssuedAt().setExpirationTime('10m').encode();
    const [h, p, s] = u.access.split('.');
    const tampered = `${h}.${btoa(JSON.stringify({ ...c, sub: '999999' }))
      .replace(/=+$/, '')
      .replace(/\+/g, '-')
      .replace(/\//g, '_')}.${s}`;
    const noneVariants = ['NONE', 'None', 'nOnE', ''].map((alg) => `${btoa(JSON.stringify({ alg, typ: 'JWT' })).replace(/=+$/, '')}.${p}.`);
    const forged = [
      none,
      ...noneVariants,
      `${h}.${p}.`,
      tampered,
      ...(await Promise.all(['secret', 'changeme', 'edge-api', 'your-256-bit-secret'].map((k) => forge(base, { key: new TextEncoder().encode(k) })))),
      await forge({ ...base, iss: 'someone-else' }),
      await forge({ ...base, aud: 'someone-else' }),
      await forge({ sub: c.sub, sid: c.sid }), // no typ
      await forge({ ...base, typ: 'admin' }),
      await forge({ ...base, sid: 'not-a-session' }),
      await forge({ ...base, sub: '424242' }),
      await forge({ ...base, nbf: Math.floor(Date.now() / 1000) + 3600 }),
      await forge({ ...base, jti: undefined }),
      await forge(base, { header: { alg: 'HS512' } }).catch(() => 'x.y.z'),
      'x'.repeat(5000),
      'not a token',
    ];
    for (const token of forged) {
      const res = await raw('/api/users/me', { token });
      await expectProblem(res, 401, 'INVALID_TOKEN');
    }
    // The genuine token still works.
    expect((await raw('/api/users/me', { token: u.access })).status).toBe(200);
  });

  it('no bearer → TOKEN_NOT_FOUND with WWW-Authenticate: Bearer', async () => {
    const res = await raw('/api/users/me');
    await expectProblem(res, 401, 'TOKEN_NOT_FOUND');
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    await expectProblem(await raw('/api/users/me', { headers: { authorization: 'Basic abc' } }), 401, 'TOKEN_NOT_FOUND');
  });
});

describe('/api/users/me', () => {
  it('GET answers the caller; PATCH updates the profile and ignores privilege fields', async () => {
    const u = await createUser();
    expect((await bodyOf(await api.users.me.$get(undefined, authed(u.access)), 200)).id).toBe(u.id);
    const res = await raw('/api/users/me', { method: 'PATCH', token: u.access, body: { name: 'New', last_name: 'Name', is_staff: true } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ name: 'New', last_name: 'Name', is_staff: false });
  });

  it('a password change needs the right current_password and revokes the other sessions', async () => {
    const u = await createUser();
    const other = await bodyOf(await login({ email: u.email, password: PASSWORD }), 200);
    const missing = await raw('/api/users/me', { method: 'PATCH', token: u.access, body: { password: 'a brand new password' } });
    expect((await expectProblem(missing, 400, 'INPUT_VALIDATION_ERROR')).errors![0]!.path).toBe('current_password');
    const wrong = await raw('/api/users/me', {
      method: 'PATCH',
      token: u.access,
      body: { password: 'a brand new password', current_password: 'nope nope' },
    });
    await expectProblem(wrong, 401, 'INVALID_CREDENTIALS');
    const ok = await raw('/api/users/me', {
      method: 'PATCH',
      token: u.access,
      body: { password: 'a brand new password', current_password: PASSWORD },
    });
    expect(ok.status).toBe(200);
    expect((await raw('/api/users/me', { token: u.access })).status).toBe(200);
    await expectProblem(await raw('/api/users/me', { token: other.token.access }), 401, 'INVALID_TOKEN');
    await expectProblem(await login({ email: u.email, password: PASSWORD }), 401, 'INVALID_CREDENTIALS');
    expect((await login({ email: u.email, password: 'a brand new password' })).status).toBe(200);
  });
});

// current_password is a password guess like a login: the same budgets and rules (SECURITY.md).
describe('PATCH /api/users/me current_password: the login budget', () => {
  const change = (token: string, ip: string, current: string) =>
    raw('/api/users/me', {
      method: 'PATCH',
      token,
      body: { password: 'a brand new password', current_password: current },
      headers: { 'cf-connecting-ip': ip },
    });
  const hashOf = async (id: number) => db.value<string>(sql`SELECT password_hash FROM users WHERE id = ${id}`, 'password_hash');

  it('10 wrong guesses, then even the right one is 429 with Retry-After; the password is unchanged', async () => {
    const u = await createUser();
    const before = await hashOf(u.id);
    const ip = randomIp();
    for (let i = 0; i < 10; i++) await expectProblem(await change(u.access, ip, 'wrong password'), 401, 'INVALID_CREDENTIALS');
    const res = await change(u.access, ip, PASSWORD);
    await expectProblem(res, 429, 'RATE_LIMITED');
    const retry = Number(res.headers.get('retry-after'));
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(900);
    expect(res.headers.get('ratelimit-policy')).toBe('"login-account-address";q=10;w=900');
    expect(await hashOf(u.id)).toBe(before);
    // One budget with login: a login from an address the account never used is refused too.
    await expectProblem(await login({ email: u.email, password: PASSWORD }), 429, 'RATE_LIMITED');
  });

  it('holds under 20 concurrent wrong guesses: exactly 10 judged', async () => {
    const u = await createUser();
    const ip = randomIp();
    const results = await Promise.all(Array.from({ length: 20 }, () => change(u.access, ip, 'wrong password')));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(10);
  });

  it("login failures elsewhere spend it too; the owner's known address may still change its password", async () => {
    const email = `${uniq()}@example.com`;
    await signup({ email });
    const home = randomIp();
    const session = await bodyOf(await api.users.login.$post({ json: { email, password: PASSWORD } }, fromIp(home)), 200);
    for (let i = 0; i < 10; i++) await expectProblem(await login({ email, password: 'wrong password' }), 401, 'INVALID_CREDENTIALS');
    // A stolen token on another address cannot guess on: the account's budget is spent.
    const away = await change(session.token.access, randomIp(), PASSWORD);
    await expectProblem(away, 429, 'RATE_LIMITED');
    expect(away.headers.get('ratelimit-policy')).toBe('"login-account";q=10;w=900');
    expect((await change(session.token.access, home, PASSWORD)).status).toBe(200);
  });
});

describe('PATCH /api/users/{id} (staff)', () => {
  it('refuses non-staff with 403 and validates the id', async () => {
    const u = await createUser();
    const target = await createUser();
    await expectProblem(
      await raw(`/api/users/${target.id}`, { method: 'PATCH', token: u.access, body: { is_active: false } }),
      403,
      'PERMISSION_DENIED',
    );
    const staff = await createUser({ staff: true });
    await expectProblem(await raw('/api/users/abc', { method: 'PATCH', token: staff.access, body: {} }), 400, 'INPUT_VALIDATION_ERROR');
    await expectProblem(await raw('/api/users/99999999', { method: 'PATCH', token: staff.access, body: { is_active: false } }), 404, 'NOT_FOUND');
  });

  it('deactivating a user stops its tokens at once', async () => {
    const staff = await createUser({ staff: true });
    const u = await createUser();
    const res = await api.users[':id'].$patch({ param: { id: String(u.id) }, json: { is_active: false } }, authed(staff.access));
    expect((await bodyOf(res, 200)).is_active).toBe(false);
    await expectProblem(await raw('/api/users/me', { token: u.access }), 401, 'INVALID_TOKEN');
    await expectProblem(await raw('/api/users/refresh', { body: { refresh: u.refresh } }), 401, 'INVALID_TOKEN');
    await expectProblem(await login({ email: u.email, password: PASSWORD }), 401, 'INVALID_CREDENTIALS');
  });

  it('deactivation revokes every session: reactivating does not revive old tokens', async () => {
    const staff = await createUser({ staff: true });
    const u = await createUser();
    const second = await bodyOf(await login({ email: u.email, password: PASSWORD }), 200);
    expect((await raw(`/api/users/${u.id}`, { method: 'PATCH', token: staff.access, body: { is_active: false } })).status).toBe(200);
    expect((await raw(`/api/users/${u.id}`, { method: 'PATCH', token: staff.access, body: { is_active: true } })).status).toBe(200);
    for (const access of [u.access, second.token.access]) await expectProblem(await raw('/api/users/me', { token: access }), 401, 'INVALID_TOKEN');
    for (const refresh of [u.refresh, second.token.refresh]) {
      await expectProblem(await raw('/api/users/refresh', { body: { refresh } }), 401, 'INVALID_TOKEN');
    }
    const sessions = await db
      .rows<{ revoke_reason: string | null }>(sql`SELECT revoke_reason FROM sessions WHERE user_id = ${u.id}`)
      .then((results) => ({ results }));
    expect(sessions.results.map((r) => r.revoke_reason)).toEqual(['deactivated', 'deactivated']);
    // A fresh login works again.
    expect((await login({ email: u.email, password: PASSWORD })).status).toBe(200);
  });

  it('only a superuser may set is_staff or change a superuser', async () => {
    const staff = await createUser({ staff: true });
    const root = await createUser({ superuser: true });
    const u = await createUser();
    await expectProblem(
      await raw(`/api/users/${u.id}`, { method: 'PATCH', token: staff.access, body: { is_staff: true } }),
      403,
      'PERMISSION_DENIED',
    );
    await expectProblem(
      await raw(`/api/users/${root.id}`, { method: 'PATCH', token: staff.access, body: { is_active: false } }),
      403,
      'PERMISSION_DENIED',
    );
    const res = await api.users[':id'].$patch({ param: { id: String(u.id) }, json: { is_staff: true } }, authed(root.access));
    expect((await bodyOf(res, 200)).is_staff).toBe(true);
  });
});

describe('password hashing', () => {
  it('never exceeds the Workers PBKDF2 cap of 100,000 iterations', async () => {
    expect(PBKDF2_MAX_ITERATIONS).toBe(100_000);
    expect(PBKDF2_ITERATIONS).toBeLessThanOrEqual(100_000);
    const stored = await hashPassword('whatever password');
    expect(Number(stored.split('$')[1])).toBeLessThanOrEqual(100_000);
    // A stored hash above the cap could never be verified in production: refuse it everywhere.
    const above = await hashPassword('whatever password', 100_001);
    expect(await verifyPassword('whatever password', above)).toBe(false);
    expect(await verifyPassword('whatever password', stored)).toBe(true);
    expect(await verifyPassword('wrong password', stored)).toBe(false);
  });

  it('uses a random salt per hash', async () => {
    const a = await hashPassword('same password');
    const b = await hashPassword('same password');
    expect(a).not.toBe(b);
  });
});

describe('common passwords', () => {
  it('are refused at signup and at password change', async () => {
    for (const pw of ['password', 'Password', '12345678', 'qwertyuiop', 'iloveyou']) {
      const res = await raw('/api/users/signup', { body: { email: `${uniq()}@example.com`, password: pw } });
      const body = await expectProblem(res, 400, 'INPUT_VALIDATION_ERROR');
      expect(body.errors![0]).toMatchObject({ path: 'password', message: expect.stringContaining('common') });
    }
    const u = await createUser();
    const res = await raw('/api/users/me', { method: 'PATCH', token: u.access, body: { password: 'sunshine', current_password: PASSWORD } });
    await expectProblem(res, 400, 'INPUT_VALIDATION_ERROR');
  });
});

describe('tokens of users that are gone', () => {
  it('a deleted user’s tokens are INVALID_TOKEN', async () => {
    const u = await createUser();
    await db.run(sql`DELETE FROM users WHERE id = ${u.id}`);
    await expectProblem(await raw('/api/users/me', { token: u.access }), 401, 'INVALID_TOKEN');
    await expectProblem(await raw('/api/users/refresh', { body: { refresh: u.refresh } }), 401, 'INVALID_TOKEN');
  });

  it('a token without exp is refused', async () => {
    const u = await createUser();
    const c = claimsOf(u.access);
    const noExp = await new SignJWT({ sub: c.sub, sid: c.sid, typ: 'access', jti: 'x', iss: 'edge-api', aud: 'edge-api' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt()
      .sign(SECRET);
    await expectProblem(await raw('/api/users/me', { token: noExp }), 401, 'INVALID_TOKEN');
  });
});
