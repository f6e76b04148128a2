// /live: the machine's Durable Object pushes status changes and operation results over a WebSocket.
import { evictDurableObject } from 'cloudflare:test';
import { env, exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/env';
import { signToken } from '../src/lib/tokens';
import { LIVE_FRAME_WINDOW_MS, LIVE_FRAMES_PER_WINDOW, LIVE_SOCKETS_PER_USER } from '../src/modules/machines/live';
import { api, authed, BASE, bodyOf, createUser, expectProblem, login, PASSWORD, uniq, withVars } from './helpers';
import { accepted, newMachine, run, waitDone } from './machines-helpers';
import { db, sql } from './db';

/** One message of the live socket (status, operation and deleted events, or the pong). */
interface LiveEvent {
  type: string;
  status?: string;
  previous?: string | null;
  operation?: { id: number; result: string; [field: string]: unknown };
}

async function connect(path: string, headers: Record<string, string> = {}) {
  const res = await exports.default.fetch(new Request(BASE + path, { headers: { upgrade: 'websocket', ...headers } }));
  expect(res.status).toBe(101);
  const ws = res.webSocket!;
  const events: LiveEvent[] = [];
  const waiters: (() => void)[] = [];
  ws.addEventListener('message', (e) => {
    // The server sends text only: JSON events, and 'pong' for a 'ping' (kept as { type: 'pong' }).
    events.push(e.data === 'pong' ? { type: 'pong' } : JSON.parse(String(e.data)));
    for (const w of waiters.splice(0)) w();
  });
  const closed = new Promise<{ code: number; reason: string }>((r) => ws.addEventListener('close', (e) => r({ code: e.code, reason: e.reason })));
  ws.accept();
  /** Resolves when an event matching pred has arrived. */
  async function next(pred: (e: LiveEvent) => boolean, timeoutMs = 10_000): Promise<LiveEvent> {
    const started = Date.now();
    for (;;) {
      const found = events.find(pred);
      if (found) return found;
      if (Date.now() - started > timeoutMs) throw new Error(`no matching event in ${JSON.stringify(events)}`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }
  return { ws, events, next, closed };
}

describe('GET /api/machines/{id}/live', () => {
  it('sends the status on connect, then operation and status events (token in the query)', async () => {
    const u = await createUser();
    const m = await newMachine(u.access);
    const live = await connect(`/api/machines/${m.id}/live?access_token=${u.access}`);
    const hello = await live.next((e) => e.type === 'status');
    expect(hello).toMatchObject({ type: 'status', machine_id: m.id, status: 'POWEROFF', pending_operations: [] });
    const op = await accepted(u.access, m.id, 'POWER_ON');
    const result = await live.next((e) => e.type === 'operation' && e.operation?.id === op.id && e.operation?.result === 'SUCCESS');
    expect(result.operation).toMatchObject({ command: 'POWER_ON', machine_id: m.id });
    const change = await live.next((e) => e.type === 'status' && e.status === 'READY');
    expect(change).toMatchObject({ previous: 'POWEROFF', machine_id: m.id });
    expect(live.events.some((e) => e.type === 'operation' && e.operation?.id === op.id && e.operation?.result === 'PENDING')).toBe(true);
    // ping/pong and an on-demand status
    live.ws.send('ping');
    await live.next((e) => e.type === 'pong');
    live.ws.send('status');
    await live.next((e) => e.type === 'status' && e.previous === null && e.status === 'READY');
    live.ws.close(1000, 'done');
  });

  it('accepts the bearer header; staff may watch; deleting the machine closes the socket', async () => {
    const u = await createUser();
    const staff = await createUser({ staff: true });
    const m = await newMachine(u.access, { status: 'READY' });
    const mine = await connect(`/api/machines/${m.id}/live`, { authorization: `Bearer ${u.access}` });
    const theirs = await connect(`/api/machines/${m.id}/live?access_token=${staff.access}`);
    await mine.next((e) => e.type === 'status');
    await theirs.next((e) => e.type === 'status');
    await waitDone(u.access, (await accepted(u.access, m.id, 'START')).location);
    await theirs.next((e) => e.type === 'status' && e.status === 'RUNNING');
    const closed = new Promise<number>((r) => mine.ws.addEventListener('close', (e) => r(e.code)));
    expect((await api.machines[':id'].$delete({ param: { id: String(m.id) } }, authed(u.access))).status).toBe(204);
    await mine.next((e) => e.type === 'deleted');
    expect(await closed).toBe(1000);
  });

  it('401 without a token, 403 for a non-owner, 404 for no machine, 426 without an upgrade', async () => {
    const u = await createUser();
    const other = await createUser();
    const m = await newMachine(u.access);
    const get = (path: string, headers: Record<string, string> = { upgrade: 'websocket' }) =>
      exports.default.fetch(new Request(BASE + path, { headers }));
    await expectProblem(await get(`/api/machines/${m.id}/live`), 401, 'TOKEN_NOT_FOUND');
    await expectProblem(await get(`/api/machines/${m.id}/live?access_token=nonsense`), 401, 'INVALID_TOKEN');
    await expectProblem(await get(`/api/machines/${m.id}/live?access_token=${other.access}`), 403, 'PERMISSION_DENIED');
    await expectProblem(await get(`/api/machines/99999999/live?access_token=${u.access}`), 404, 'NOT_FOUND');
    await expectProblem(await get(`/api/machines/${m.id}/live?access_token=${u.access}`, {}), 426, 'UPGRADE_REQUIRED');
    // the query token is for /live only
    await expectProblem(await get(`/api/machines/${m.id}?access_token=${u.access}`, {}), 401, 'TOKEN_NOT_FOUND');
  });
});

/** Resolves with the close, or with null when the socket is still open after `ms`. */
function closedWithin(live: { closed: Promise<{ code: number; reason: string }> }, ms: number) {
  return Promise.race([live.closed, new Promise<null>((r) => setTimeout(() => r(null), ms))]);
}

describe('a /live socket lives only as long as the right that opened it', () => {
  /** A machine of `owner`, watched by its owner; staff drives it afterwards. */
  async function watched() {
    const owner = await createUser();
    const staff = await createUser({ staff: true });
    const m = await newMachine(owner.access);
    const live = await connect(`/api/machines/${m.id}/live?access_token=${owner.access}`);
    await live.next((e) => e.type === 'status');
    return { owner, staff, m, live };
  }

  /**
   * The socket must close with 4401 promptly after `revoke` has answered, by the revocation itself:
   * nothing else happens on the machine (no command, no frame), so no event can be what closes it.
   */
  async function expectClosedByRevocation(
    live: Awaited<ReturnType<typeof connect>>,
    machineId: number,
    revoke: () => Promise<number>,
    status: number,
  ) {
    const seen = live.events.length;
    expect(await revoke()).toBe(status);
    expect(await closedWithin(live, 2_000)).toMatchObject({ code: 4401, reason: 'session ended' });
    expect(live.events.length).toBe(seen);
    expect(await db.first(sql`SELECT count(*) AS n FROM machine_operations WHERE machine_id = ${machineId}`)).toMatchObject({ n: 0 });
  }

  const logout = (u: { access: string; refresh: string }) => async () =>
    (await api.users.logout.$post({ json: { refresh: u.refresh } }, authed(u.access))).status;

  it('closes at once when its session logs out (4401), with no other event on the machine', async () => {
    const { owner, m, live } = await watched();
    await expectClosedByRevocation(live, m.id, logout(owner), 204);
  });

  it("a logout closes only that session's sockets, on every machine it watches", async () => {
    const { owner, m, live } = await watched();
    const other = await newMachine(owner.access);
    const second = await connect(`/api/machines/${other.id}/live?access_token=${owner.access}`);
    await second.next((e) => e.type === 'status');
    const again = await bodyOf(await login({ email: owner.email, password: PASSWORD }), 200);
    const kept = await connect(`/api/machines/${m.id}/live?access_token=${again.token.access}`);
    await kept.next((e) => e.type === 'status');
    await expectClosedByRevocation(live, m.id, logout(owner), 204);
    expect(await closedWithin(second, 2_000)).toMatchObject({ code: 4401 });
    expect(await closedWithin(kept, 200)).toBeNull();
    kept.ws.close(1000, 'done');
  });

  it('keeps its right through hibernation: after an eviction, a logout still closes it at once', async () => {
    const { owner, m, live } = await watched();
    await evictDurableObject(env.MACHINE.get(env.MACHINE.idFromName(String(m.id)))); // sockets hibernate
    const seen = live.events.length;
    live.ws.send('status'); // answered by a new instance, which reads the socket's right back
    await live.next((e) => live.events.indexOf(e) >= seen && e.type === 'status');
    await evictDurableObject(env.MACHINE.get(env.MACHINE.idFromName(String(m.id))));
    await expectClosedByRevocation(live, m.id, logout(owner), 204);
  });

  it('closes at once when a reused refresh token revokes its session (4401)', async () => {
    const { owner, m, live } = await watched();
    const refresh = () => api.users.refresh.$post({ json: { refresh: owner.refresh } });
    expect((await refresh()).status).toBe(200);
    await expectClosedByRevocation(live, m.id, async () => (await refresh()).status, 401);
  });

  it("closes at once when a password change signs its session out (4401); the changing session's socket stays", async () => {
    const { owner, m, live } = await watched();
    const again = await bodyOf(await login({ email: owner.email, password: PASSWORD }), 200);
    const kept = await connect(`/api/machines/${m.id}/live?access_token=${again.token.access}`);
    await kept.next((e) => e.type === 'status');
    const change = async () =>
      (await api.users.me.$patch({ json: { password: `${PASSWORD} 2`, current_password: PASSWORD } }, authed(again.token.access))).status;
    await expectClosedByRevocation(live, m.id, change, 200);
    expect(await closedWithin(kept, 200)).toBeNull();
    kept.ws.close(1000, 'done');
  });

  it('closes at once when its user is deactivated (4401)', async () => {
    const { owner, staff, m, live } = await watched();
    const deactivate = async () =>
      (await api.users[':id'].$patch({ param: { id: String(owner.id) }, json: { is_active: false } }, authed(staff.access))).status;
    await expectClosedByRevocation(live, m.id, deactivate, 200);
  });

  it('closes at once (4403) when its user loses staff rights on a machine it does not own', async () => {
    const { m } = await watched();
    const staff = await createUser({ staff: true });
    const root = await createUser({ superuser: true });
    const live = await connect(`/api/machines/${m.id}/live?access_token=${staff.access}`);
    await live.next((e) => e.type === 'status');
    const res = await api.users[':id'].$patch({ param: { id: String(staff.id) }, json: { is_staff: false } }, authed(root.access));
    expect(res.status).toBe(200);
    expect(await closedWithin(live, 2_000)).toMatchObject({ code: 4403, reason: 'permission lost' });
  });

  it('an upgrade whose session ended after the route checked it is refused by the object: it records the watcher, then checks again', async () => {
    const { owner, m, live } = await watched();
    const session = await db.first<{ id: string }>(
      sql`SELECT session_id AS id FROM live_watchers WHERE machine_id = ${m.id} AND user_id = ${owner.id}`,
    );
    expect(session).toBeTruthy();
    await expectClosedByRevocation(live, m.id, logout(owner), 204);
    // The route's checks passed a moment ago; the logout commits before the object's: no socket.
    const headers = {
      upgrade: 'websocket',
      'x-machine-id': String(m.id),
      'x-user-id': String(owner.id),
      'x-session-id': session!.id,
      'x-token-exp': String(Math.floor(Date.now() / 1000) + 600),
    };
    const res = await env.MACHINE.get(env.MACHINE.idFromName(String(m.id))).fetch(new Request(`https://machine/${m.id}/live`, { headers }));
    expect(res.status).toBe(401);
    expect(res.webSocket).toBeNull();
  });

  it('closes when its access token expires, even without events (4401)', async () => {
    const owner = await withVars({ ACCESS_TOKEN_TTL: '4' }, () => createUser());
    const exp = JSON.parse(atob(owner.access.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))).exp as number;
    const m = await newMachine(owner.access);
    const live = await connect(`/api/machines/${m.id}/live?access_token=${owner.access}`);
    await live.next((e) => e.type === 'status');
    expect(await closedWithin(live, 8_000)).toMatchObject({ code: 4401, reason: 'token expired' });
    expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000); // not before
  });

  it("closes the old owner's socket when staff transfers the machine (4403); the new owner's operations never reach it", async () => {
    const { staff, m, live } = await watched();
    const heir = await createUser();
    const watcher = await connect(`/api/machines/${m.id}/live?access_token=${staff.access}`);
    await watcher.next((e) => e.type === 'status');
    const res = await api.machines[':id'].$patch({ param: { id: String(m.id) }, json: { owner_id: heir.id } }, authed(staff.access));
    expect(res.status).toBe(200);
    // Closed by the transfer itself, before any other event on the machine.
    expect(await closedWithin(live, 5_000)).toMatchObject({ code: 4403, reason: 'permission lost' });
    expect(await db.first(sql`SELECT count(*) AS n FROM machine_operations WHERE machine_id = ${m.id}`)).toMatchObject({ n: 0 });
    const op = await run(heir.access, m.id, 'POWER_ON');
    expect(live.events.filter((e) => e.type === 'operation' && e.operation?.id === op.id)).toEqual([]);
    // staff may watch every machine: its socket stays and sees the new owner's command
    await watcher.next((e) => e.type === 'operation' && e.operation?.id === op.id && e.operation?.result === 'SUCCESS');
    expect(await closedWithin(watcher, 100)).toBeNull();
    watcher.ws.close(1000, 'done');
  });
});

/** `n` staff users with one live session each, made directly (200 logins would cost 200 PBKDF2 runs). */
async function staffSessions(n: number): Promise<string[]> {
  const deps = { env, config: parseConfig(env) };
  const stamp = uniq();
  const now = Date.now();
  const tokens: string[] = [];
  // In tens: the test database is shared, and its connections are few (Postgres).
  for (let start = 0; start < n; start += 10) {
    tokens.push(...(await Promise.all(Array.from({ length: Math.min(10, n - start) }, (_, j) => staffSession(start + j)))));
  }
  return tokens;

  async function staffSession(i: number): Promise<string> {
    const user = await db.first<{ id: number }>(
      sql`INSERT INTO users (email, is_active, is_staff, is_superuser, invite_referral_code, created_at)
          VALUES (${`watcher-${stamp}-${i}@example.com`}, 1, 1, 0, ${`W${stamp}${i}`}, ${now}) RETURNING id`,
    );
    const sessionId = crypto.randomUUID();
    await db.run(
      sql`INSERT INTO sessions (id, user_id, refresh_jti, created_at, expires_at) VALUES (${sessionId}, ${user!.id}, ${'jti'}, ${now}, ${now + 3_600_000})`,
    );
    return (await signToken(deps, { userId: user!.id, sessionId, typ: 'access' })).token;
  }
}

describe('many sockets on one machine', () => {
  it('200 sessions watching one machine: commands, status frames and a transfer still work, and every socket sees them', async () => {
    const owner = await createUser();
    const staff = await createUser({ staff: true });
    const heir = await createUser();
    const m = await newMachine(owner.access);
    const mine = await connect(`/api/machines/${m.id}/live?access_token=${owner.access}`);
    const tokens = await staffSessions(200);
    const watchers = [];
    for (const token of tokens) watchers.push(await connect(`/api/machines/${m.id}/live?access_token=${token}`));
    const op = await accepted(owner.access, m.id, 'POWER_ON');
    expect((await waitDone(owner.access, op.location)).result).toBe('SUCCESS');
    const done = (e: LiveEvent) => e.type === 'operation' && e.operation?.id === op.id && e.operation?.result === 'SUCCESS';
    await Promise.all(watchers.map((w) => w.next(done)));
    const last = watchers.at(-1)!;
    const seen = last.events.length;
    last.ws.send('status');
    await last.next((e) => last.events.indexOf(e) >= seen && e.type === 'status' && e.status === 'READY');
    const res = await api.machines[':id'].$patch({ param: { id: String(m.id) }, json: { owner_id: heir.id } }, authed(staff.access));
    expect(res.status).toBe(200);
    expect(await closedWithin(mine, 5_000)).toMatchObject({ code: 4403 });
    expect(await db.first(sql`SELECT owner_id FROM machines WHERE id = ${m.id}`)).toMatchObject({ owner_id: heir.id });
    for (const w of watchers) w.ws.close(1000, 'done');
  });

  it(`one user may keep ${LIVE_SOCKETS_PER_USER} sockets on a machine; the next is a 409 LIVE_SOCKET_LIMIT`, async () => {
    const owner = await createUser();
    const m = await newMachine(owner.access);
    const open = [];
    for (let i = 0; i < LIVE_SOCKETS_PER_USER; i++) open.push(await connect(`/api/machines/${m.id}/live?access_token=${owner.access}`));
    const refused = await exports.default.fetch(
      new Request(`${BASE}/api/machines/${m.id}/live?access_token=${owner.access}`, { headers: { upgrade: 'websocket' } }),
    );
    await expectProblem(refused, 409, 'LIVE_SOCKET_LIMIT');
    open[0]!.ws.close(1000, 'done');
    await open[0]!.closed;
    // a closed socket frees its place
    for (const started = Date.now(); ; await new Promise((r) => setTimeout(r, 20))) {
      const res = await exports.default.fetch(
        new Request(`${BASE}/api/machines/${m.id}/live?access_token=${owner.access}`, { headers: { upgrade: 'websocket' } }),
      );
      if (res.status === 101) {
        res.webSocket!.accept();
        res.webSocket!.close(1000, 'done');
        break;
      }
      if (Date.now() - started > 5_000) throw new Error(`still refused: ${res.status}`);
    }
    for (const w of open) w.ws.close(1000, 'done');
  });
});

describe('a socket flooding frames', () => {
  it(`is closed (4429) after ${LIVE_FRAMES_PER_WINDOW} frames in ${LIVE_FRAME_WINDOW_MS / 1000} s, and other users' requests are not held up`, async () => {
    const abuser = await createUser();
    const other = await createUser();
    const m = await newMachine(abuser.access);
    const theirs = await newMachine(other.access);
    const live = await connect(`/api/machines/${m.id}/live?access_token=${abuser.access}`);
    await live.next((e) => e.type === 'status');
    const roundTrips = async () => {
      const times: number[] = [];
      for (const cmd of ['POWER_ON', 'POWER_OFF', 'POWER_ON', 'POWER_OFF'] as const) {
        const started = Date.now();
        expect((await run(other.access, theirs.id, cmd)).result).toBe('SUCCESS');
        times.push(Date.now() - started);
      }
      return times;
    };
    const unloaded = await roundTrips();
    for (let i = 0; i < 3_000; i++) live.ws.send('status');
    const loaded = await roundTrips();
    expect(await closedWithin(live, 5_000)).toMatchObject({ code: 4429, reason: 'too many messages' });
    const median = [...unloaded].sort((a, b) => a - b)[Math.floor(unloaded.length / 2)]!;
    for (const t of loaded) expect(t).toBeLessThanOrEqual(3 * median + 250);
    // only the frames within the budget were answered (plus the status sent on connect)
    expect(live.events.filter((e) => e.type === 'status').length).toBeLessThanOrEqual(1 + LIVE_FRAMES_PER_WINDOW);
  });
});
