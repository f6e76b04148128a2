import { describe, expect, it } from 'vitest';
import type { InferRequestType } from 'hono/client';
import { api, authed, type BodyOf, bodyOf, createUser, expectProblem, openapiDoc, raw } from './helpers';
import { accepted, type Command, command, deferred, DEVICE, machine, newMachine, run, stubController, waitDone } from './machines-helpers';
import { db, sql } from './db';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** A page of machines, of my machines' operations, and of one machine's operations (each asserts 200). */
const machines = async (token: string, query: InferRequestType<typeof api.machines.$get>['query']) =>
  bodyOf(await api.machines.$get({ query }, authed(token)), 200);
const myHistory = async (token: string, query: InferRequestType<typeof api.machines.history.$get>['query'] = {}) =>
  bodyOf(await api.machines.history.$get({ query }, authed(token)), 200);
const historyOf = async (token: string, id: number, query: InferRequestType<(typeof api.machines)[':id']['history']['$get']>['query'] = {}) =>
  bodyOf(await api.machines[':id'].history.$get({ param: { id: String(id) }, query }, authed(token)), 200);
const patchMachine = (token: string, id: number, json: InferRequestType<(typeof api.machines)[':id']['$patch']>['json']) =>
  api.machines[':id'].$patch({ param: { id: String(id) }, json }, authed(token));

describe('machine CRUD', () => {
  it('creates with defaults, owned by the caller, with ISO timestamps and a Location', async () => {
    const u = await createUser();
    const res = await api.machines.$post({ json: { name: ' Press 1 ', location: 'Hall A', owner_id: 999999 } }, authed(u.access));
    const m = await bodyOf(res, 201);
    expect(m).toMatchObject({ name: 'Press 1', location: 'Hall A', status: 'POWEROFF', owner_id: u.id, controller_url: null });
    expect(m.created_at).toMatch(ISO);
    expect(m.updated_at).toMatch(ISO);
    expect(res.headers.get('location')).toBe(`http://api.test/api/machines/${m.id}`);
    expect(await machine(u.access, m.id)).toEqual(m);
    // trailing slash
    expect((await raw(`/api/machines/${m.id}/`, { token: u.access })).status).toBe(200);
  });

  it('validates name, location, status and controller_url', async () => {
    const u = await createUser();
    const bad = await raw('/api/machines', { token: u.access, body: { name: 'x'.repeat(65), location: '', status: 'BROKEN' } });
    const body = await expectProblem(bad, 400, 'INPUT_VALIDATION_ERROR');
    expect(body.errors!.map((e: { path: string }) => e.path).sort()).toEqual(['location', 'name', 'status']);
    for (const url of [
      'http://device.example.com',
      'https://127.0.0.1/x',
      'https://localhost:8443',
      'https://10.1.2.3',
      'https://[::1]/',
      'https://2130706433/',
      'ftp://x.example.com',
      'not a url',
    ]) {
      const res = await raw('/api/machines', { token: u.access, body: { name: 'n', location: 'l', controller_url: url } });
      const problem = await expectProblem(res, 400, 'INPUT_VALIDATION_ERROR');
      expect(problem.errors![0]!.path).toBe('controller_url');
    }
    const ok = await newMachine(u.access, { controller_url: 'https://gateway.example.com/devices/1', status: 'READY' });
    expect(ok).toMatchObject({ controller_url: 'https://gateway.example.com/devices/1', status: 'READY' });
  });

  it('needs a token', async () => {
    await expectProblem(await raw('/api/machines'), 401, 'TOKEN_NOT_FOUND');
    await expectProblem(await raw('/api/machines', { body: { name: 'n', location: 'l' } }), 401, 'TOKEN_NOT_FOUND');
  });

  it('staff may create for and transfer to another owner; the history follows the machine', async () => {
    const staff = await createUser({ staff: true });
    const a = await createUser();
    const b = await createUser();
    const m = await newMachine(staff.access, { owner_id: a.id });
    expect(m.owner_id).toBe(a.id);
    await run(a.access, m.id, 'POWER_ON');
    // a non-staff owner cannot give it away: owner_id is ignored
    const ignored = await patchMachine(a.access, m.id, { owner_id: b.id, name: 'Renamed' });
    expect(await ignored.json()).toMatchObject({ owner_id: a.id, name: 'Renamed' });
    const moved = await patchMachine(staff.access, m.id, { owner_id: b.id });
    expect(await moved.json()).toMatchObject({ owner_id: b.id });
    const hist = await myHistory(b.access);
    expect(hist.results.map((o) => [o.machine_id, o.machine_owner_id])).toEqual([[m.id, b.id]]);
    expect((await myHistory(a.access)).count).toBe(0);
    const unknown = await raw(`/api/machines/${m.id}`, { method: 'PATCH', token: staff.access, body: { owner_id: 99_999_999 } });
    expect((await expectProblem(unknown, 400, 'INPUT_VALIDATION_ERROR')).errors![0]!.path).toBe('owner_id');
  });

  it('a transfer racing commands: once it has committed, every operation (pending ones too) belongs to the new owner', async () => {
    const gate = deferred();
    const controller = stubController(async () => {
      await gate.promise;
      return new Response(null, { status: 200 });
    });
    try {
      const staff = await createUser({ staff: true });
      const a = await createUser();
      const b = await createUser();
      const m = await newMachine(staff.access, { owner_id: a.id, status: 'READY', controller_url: `${DEVICE}/transfer` });
      // One command is in before the transfer starts (so the race cannot leave nothing to check); the rest race it.
      const first = await command(a.access, m.id, 'START');
      expect(first.status).toBe(202);
      const commands = Array.from({ length: 11 }, (_, i) => command(a.access, m.id, i % 2 ? 'START' : 'PAUSE'));
      const transfer = raw(`/api/machines/${m.id}`, { method: 'PATCH', token: staff.access, body: { owner_id: b.id } });
      const answers = [first, ...(await Promise.all(commands))];
      expect((await transfer).status).toBe(200);
      const ops: { id: number }[] = [];
      for (const res of answers) {
        if (res.status === 202) ops.push(await res.json());
        else expect([409, 403]).toContain(res.status); // invalid in the projected status, or sent after the transfer
      }
      expect(ops.length).toBeGreaterThan(0);
      const owners = async () =>
        (await db.rows<{ owner: number }>(sql`SELECT machine_owner_id AS owner FROM machine_operations WHERE machine_id = ${m.id}`)).map(
          (r) => r.owner,
        );
      expect(await owners()).toEqual(ops.map(() => b.id));
      expect((await myHistory(a.access)).count).toBe(0);
      expect((await myHistory(b.access)).count).toBe(ops.length);
      // the old owner may no longer drive it
      await expectProblem(await command(a.access, m.id, 'STOP'), 403, 'PERMISSION_DENIED');
      gate.resolve();
      for (const op of ops) await waitDone(b.access, `http://api.test/api/machines/${m.id}/operations/${op.id}`);
      expect(await owners()).toEqual(ops.map(() => b.id));
      expect(controller.calls.every((c) => c.body.machine_id === m.id)).toBe(true);
    } finally {
      gate.resolve();
      controller.restore();
    }
  });

  it('PUT replaces (all required), PATCH updates some fields', async () => {
    const u = await createUser();
    const m = await newMachine(u.access, { controller_url: 'https://gw.example.com/1' });
    const missing = await raw(`/api/machines/${m.id}`, { method: 'PUT', token: u.access, body: { name: 'only' } });
    await expectProblem(missing, 400, 'INPUT_VALIDATION_ERROR');
    const put = await api.machines[':id'].$put(
      { param: { id: String(m.id) }, json: { name: 'P', location: 'L', status: 'READY' } },
      authed(u.access),
    );
    expect(await put.json()).toMatchObject({ name: 'P', location: 'L', status: 'READY', controller_url: null });
    const patch = await patchMachine(u.access, m.id, { location: 'L2' });
    expect(await patch.json()).toMatchObject({ name: 'P', location: 'L2', status: 'READY' });
    const url = await raw(`/api/machines/${m.id}`, { method: 'PATCH', token: u.access, body: { controller_url: 'https://169.254.169.254/latest' } });
    await expectProblem(url, 400, 'INPUT_VALIDATION_ERROR');
    // a status set by PATCH goes through the DO: the next command is validated against it
    await raw(`/api/machines/${m.id}`, { method: 'PATCH', token: u.access, body: { status: 'RUNNING' } });
    await expectProblem(await command(u.access, m.id, 'START'), 409, 'INVALID_STATE_TRANSITION');
    expect((await run(u.access, m.id, 'PAUSE')).result).toBe('SUCCESS');
    expect((await machine(u.access, m.id)).status).toBe('PAUSE');
  });

  it('DELETE removes the machine and its history', async () => {
    const u = await createUser();
    const m = await newMachine(u.access);
    const op = await run(u.access, m.id, 'POWER_ON');
    expect((await raw(`/api/machines/${m.id}`, { method: 'DELETE', token: u.access })).status).toBe(204);
    await expectProblem(await raw(`/api/machines/${m.id}`, { token: u.access }), 404, 'NOT_FOUND');
    await expectProblem(await raw(`/api/machines/${m.id}`, { method: 'DELETE', token: u.access }), 404, 'NOT_FOUND');
    await expectProblem(await command(u.access, m.id, 'POWER_OFF'), 404, 'NOT_FOUND');
    const left = await db.first<{ n: number }>(sql`SELECT count(*) AS n FROM machine_operations WHERE id = ${op.id}`);
    expect(left!.n).toBe(0);
  });

  it('404 for unknown ids, 400 for malformed ones', async () => {
    const u = await createUser();
    await expectProblem(await raw('/api/machines/99999999', { token: u.access }), 404, 'NOT_FOUND');
    await expectProblem(await raw('/api/machines/abc', { token: u.access }), 400, 'INPUT_VALIDATION_ERROR');
    await expectProblem(await raw('/api/machines/99999999/operation', { token: u.access, body: { command: 'START' } }), 404, 'NOT_FOUND');
    const m = await newMachine(u.access);
    await expectProblem(await raw(`/api/machines/${m.id}/operations/99999999`, { token: u.access }), 404, 'NOT_FOUND');
    await expectProblem(await command(u.access, m.id, 'JUMP'), 400, 'INPUT_VALIDATION_ERROR');
  });
});

describe('permissions', () => {
  it('a non-owner reads but is refused 403 on every other route; staff may do everything', async () => {
    const owner = await createUser();
    const other = await createUser();
    const staff = await createUser({ staff: true });
    const m = await newMachine(owner.access);
    const op = await run(owner.access, m.id, 'POWER_ON');
    expect((await raw(`/api/machines/${m.id}`, { token: other.access })).status).toBe(200);
    expect((await raw('/api/machines', { token: other.access })).status).toBe(200);
    const refused: [string, string, unknown?][] = [
      ['PUT', `/api/machines/${m.id}`, { name: 'x', location: 'y', status: 'READY' }],
      ['PATCH', `/api/machines/${m.id}`, { name: 'x' }],
      ['DELETE', `/api/machines/${m.id}`],
      ['POST', `/api/machines/${m.id}/operation`, { command: 'START' }],
      ['GET', `/api/machines/${m.id}/history`],
      ['GET', `/api/machines/${m.id}/operations/${op.id}`],
      ['GET', `/api/machines/${m.id}/live`],
    ];
    for (const [method, path, body] of refused) {
      const res = await raw(path, { method, token: other.access, body, headers: path.endsWith('/live') ? { upgrade: 'websocket' } : {} });
      expect(`${method} ${path} ${res.status}`).toBe(`${method} ${path} 403`);
      await expectProblem(res, 403, 'PERMISSION_DENIED');
    }
    expect((await myHistory(other.access)).count).toBe(0);
    const nothing = await myHistory(other.access, { machine_id: m.id });
    expect(nothing.results).toEqual([]);
    // the other user's machine is unchanged
    expect(await machine(owner.access, m.id)).toMatchObject({ name: 'Press', status: 'READY' });
    expect((await raw(`/api/machines/${m.id}/history`, { token: staff.access })).status).toBe(200);
    expect((await raw(`/api/machines/${m.id}/operations/${op.id}`, { token: staff.access })).status).toBe(200);
    expect((await run(staff.access, m.id, 'START')).result).toBe('SUCCESS');
    const put = await patchMachine(staff.access, m.id, { name: 'By staff' });
    expect((await bodyOf(put, 200)).owner_id).toBe(owner.id);
    expect((await raw(`/api/machines/${m.id}`, { method: 'DELETE', token: staff.access })).status).toBe(204);
  });
});

const STATUSES = ['POWEROFF', 'READY', 'RUNNING', 'PAUSE', 'ERROR'] as const;
const ALLOWED: Record<Command, Record<string, string>> = {
  POWER_ON: { POWEROFF: 'READY' },
  START: { READY: 'RUNNING', PAUSE: 'RUNNING' },
  PAUSE: { RUNNING: 'PAUSE' },
  STOP: { RUNNING: 'READY', PAUSE: 'READY' },
  POWER_OFF: { READY: 'POWEROFF' },
  RESET: { ERROR: 'READY' },
};

describe('state machine', () => {
  it('every command from every status: allowed ones succeed with the right status, the rest are 409', async () => {
    const u = await createUser();
    const cases = (Object.keys(ALLOWED) as Command[]).flatMap((cmd) => STATUSES.map((from) => ({ cmd, from, to: ALLOWED[cmd]![from] })));
    expect(cases).toHaveLength(30);
    await Promise.all(
      cases.map(async ({ cmd, from, to }) => {
        const m = await newMachine(u.access, { status: from });
        if (!to) {
          const body = await expectProblem(await command(u.access, m.id, cmd), 409, 'INVALID_STATE_TRANSITION');
          expect(body).toMatchObject({ status: 409, command: cmd });
          expect((await machine(u.access, m.id)).status).toBe(from);
          return;
        }
        const done = await run(u.access, m.id, cmd);
        expect({ cmd, from, result: done.result, status: (await machine(u.access, m.id)).status }).toEqual({
          cmd,
          from,
          result: 'SUCCESS',
          status: to,
        });
        expect(done.completed_at).toMatch(ISO);
        expect(done.worker_id).toBe(u.id);
      }),
    );
  });

  it('validates against the status after the queued commands, and executes them in order', async () => {
    const u = await createUser();
    const m = await newMachine(u.access);
    const a = await accepted(u.access, m.id, 'POWER_ON');
    const b = await accepted(u.access, m.id, 'START');
    const c = await accepted(u.access, m.id, 'PAUSE');
    const refused = await expectProblem(await command(u.access, m.id, 'POWER_ON'), 409, 'INVALID_STATE_TRANSITION');
    expect(refused.status).toBe(409);
    for (const op of [a, b, c]) expect((await waitDone(u.access, op.location)).result).toBe('SUCCESS');
    const ops = (await historyOf(u.access, m.id)).results;
    expect(ops.map((o) => o.command)).toEqual(['PAUSE', 'START', 'POWER_ON']);
    const completed = ops.map((o) => Date.parse(o.completed_at!));
    expect(completed[0]).toBeGreaterThanOrEqual(completed[1]!);
    expect(completed[1]).toBeGreaterThanOrEqual(completed[2]!);
    expect((await machine(u.access, m.id)).status).toBe('PAUSE');
  });

  it('concurrent commands: exactly one of N identical POWER_ONs is accepted', async () => {
    const u = await createUser();
    const m = await newMachine(u.access);
    const answers = await Promise.all(Array.from({ length: 8 }, () => command(u.access, m.id, 'POWER_ON')));
    expect(answers.map((r) => r.status).sort()).toEqual([202, 409, 409, 409, 409, 409, 409, 409]);
  });

  it('a machine seeded straight into D1 (no DO state yet) starts from its row', async () => {
    const u = await createUser();
    const now = Date.now();
    const row = await db.first<{ id: number }>(
      sql`INSERT INTO machines (name, location, status, owner_id, created_at, updated_at)
        VALUES ('Seeded', 'Hall S', 'RUNNING', ${u.id}, ${now}, ${now}) RETURNING id`,
    );
    await expectProblem(await command(u.access, row!.id, 'POWER_ON'), 409, 'INVALID_STATE_TRANSITION');
    expect((await run(u.access, row!.id, 'STOP')).result).toBe('SUCCESS');
    expect((await machine(u.access, row!.id)).status).toBe('READY');
  });
});

describe('lists and history', () => {
  it('filters by status, owner and search; pages by page and by cursor, newest first', async () => {
    const u = await createUser();
    const tag = `zq${Date.now().toString(36)}`;
    const made = [];
    for (let i = 0; i < 5; i++)
      made.push(
        await newMachine(u.access, { name: `${tag} press ${i}`, location: i % 2 ? 'North 50%_hall' : 'South', status: i < 2 ? 'READY' : 'POWEROFF' }),
      );
    const ids = made.map((m) => m.id).reverse();
    const mine = await machines(u.access, { owner: 'me', page_size: 2 });
    expect(mine.count).toBe(5);
    expect(mine.results.map((m) => m.id)).toEqual(ids.slice(0, 2));
    expect(mine.next).toContain('page=2');
    expect(mine.previous).toBeNull();
    const page3 = await machines(u.access, { owner: 'me', page_size: 2, page: 3 });
    expect(page3.results.map((m) => m.id)).toEqual(ids.slice(4));
    expect(page3.next).toBeNull();
    await expectProblem(await raw('/api/machines?owner=me&page_size=2&page=4', { token: u.access }), 404, 'NOT_FOUND');
    // cursor paging walks the same order without a count
    const seen: number[] = [];
    let url: string | null = `/api/machines?owner=me&page_size=2&cursor=${mine.next_cursor}`;
    seen.push(...mine.results.map((m) => m.id));
    while (url) {
      const res = await raw(url, { token: u.access });
      const page: BodyOf<Awaited<ReturnType<typeof api.machines.$get>>, 200> = await res.json();
      expect(page.count).toBeUndefined();
      seen.push(...page.results.map((m) => m.id));
      url = page.next ? new URL(page.next).pathname + new URL(page.next).search : null;
    }
    expect(seen).toEqual(ids);
    const ready = await machines(u.access, { owner: 'me', status: 'READY' });
    expect(ready.results.map((m) => m.id).sort()).toEqual([made[0]!.id, made[1]!.id].sort());
    const search = await machines(u.access, { search: `${tag.toUpperCase()} PRESS 3` });
    expect(search.results.map((m) => m.id)).toEqual([made[3]!.id]);
    const like = await machines(u.access, { owner: 'me', search: '50%_' });
    expect(like.count).toBe(2);
    await expectProblem(await raw('/api/machines?status=NOPE', { token: u.access }), 400, 'INPUT_VALIDATION_ERROR');
    await expectProblem(await raw('/api/machines?cursor=garbage', { token: u.access }), 400, 'INPUT_VALIDATION_ERROR');
  });

  it('history per machine and across my machines: newest first, filters, cursor', async () => {
    const u = await createUser();
    const m1 = await newMachine(u.access);
    const m2 = await newMachine(u.access, { status: 'READY' });
    for (const cmd of ['POWER_ON', 'START', 'STOP'] as const) await run(u.access, m1.id, cmd);
    await run(u.access, m2.id, 'START');
    const h1 = await historyOf(u.access, m1.id);
    expect(h1.count).toBe(3);
    expect(h1.results.map((o) => o.command)).toEqual(['STOP', 'START', 'POWER_ON']);
    expect(h1.results[0]).toMatchObject({ machine_id: m1.id, machine_owner_id: u.id, worker_id: u.id, result: 'SUCCESS', detail: null });
    expect(h1.results[0]!.request_datetime).toMatch(ISO);
    const starts = await myHistory(u.access, { command: 'START' });
    expect(starts.results.map((o) => o.machine_id)).toEqual([m2.id, m1.id]);
    const one = await myHistory(u.access, { machine_id: m2.id, result: 'SUCCESS' });
    expect(one.count).toBe(1);
    const none = await myHistory(u.access, { result: 'REMOTEFAILED' });
    expect(none.count).toBe(0);
    const all = await myHistory(u.access, { page_size: 3 });
    expect(all.count).toBe(4);
    const rest = await myHistory(u.access, { page_size: 3, cursor: all.next_cursor! });
    expect(rest.results).toHaveLength(1);
    expect(rest.results[0]!.id).toBeLessThan(all.results[2]!.id);
    expect(rest.next).toBeNull();
    await expectProblem(await raw('/api/machines/history?result=MAYBE', { token: u.access }), 400, 'INPUT_VALIDATION_ERROR');
  });
});

describe('OpenAPI', () => {
  it('lists every machine route with its error codes', async () => {
    const doc = await openapiDoc();
    const paths = Object.keys(doc.paths).filter((p) => p.startsWith('/api/machines'));
    expect(paths.sort()).toEqual([
      '/api/machines',
      '/api/machines/history',
      '/api/machines/{id}',
      '/api/machines/{id}/controller-secret',
      '/api/machines/{id}/history',
      '/api/machines/{id}/live',
      '/api/machines/{id}/operation',
      '/api/machines/{id}/operations/{operation_id}',
    ]);
    expect(doc.paths['/api/machines/{id}/operation']!.post!.responses['409']!.description).toContain('INVALID_STATE_TRANSITION');
    expect(doc.paths['/api/machines/{id}']!.patch!.responses['409']!.description).toContain('MACHINE_BUSY');
    expect(doc.paths['/api/machines/{id}/live']!.get!.responses['426']!.description).toContain('UPGRADE_REQUIRED');
  });
});
