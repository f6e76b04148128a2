// Signed machine commands (contract sections 6 and 8): every command a controller receives is signed
// with the machine's controller secret by the Standard Webhooks scheme; a controller that verifies
// (scripts/controller-verify.mjs, the same code as scripts/fake-controller.mjs, on the
// `standardwebhooks` library) accepts ours and refuses a forged, stale or replayed one. The secret is
// answered once (create, first controller_url, rotate), never by a GET, and stored sealed.
import { afterEach, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { commandVerifier } from '../scripts/controller-verify.mjs';
import { signMessage } from '../src/lib/signing';
import { api, authed, bodyOf, createUser, expectProblem, raw } from './helpers';
import { db, sql } from './db';
import { DEVICE, machine, newMachine, run, stubController } from './machines-helpers';

let restore: (() => void) | null = null;
afterEach(() => {
  restore?.();
  restore = null;
});

interface Sent {
  body: string;
  headers: Record<string, string>;
}

/** A device at DEVICE that verifies with `secrets` (changeable): 401 for what it refuses. */
function verifyingDevice(secrets: () => string[]) {
  const sent: Sent[] = [];
  const ran: number[] = [];
  const verdicts: number[] = [];
  let verifier = commandVerifier(secrets());
  let current = secrets().join(' ');
  const s = stubController((_call, init) => {
    if (secrets().join(' ') !== current) {
      current = secrets().join(' ');
      verifier = commandVerifier(secrets());
    }
    const body = String(init?.body);
    const headers = Object.fromEntries(new Headers(init?.headers));
    sent.push({ body, headers });
    const verdict = verifier.check(body, headers);
    verdicts.push(verdict.status);
    if (verdict.status === 200 && !verdict.duplicate) ran.push(verdict.command.operation_id);
    return new Response(null, { status: verdict.status });
  });
  restore = s.restore;
  return { sent, ran, verdicts };
}

const SECRET = /^whsec_[A-Za-z0-9+/]{43}=$/;

describe('controller secrets', () => {
  it('POST /api/machines with a controller_url answers controller_secret once; no GET or list shows it; stored sealed', async () => {
    const u = await createUser();
    const res = await api.machines.$post({ json: { name: 'Press', location: 'Hall A', controller_url: `${DEVICE}/1` } }, authed(u.access));
    const m = await bodyOf(res, 201);
    expect(m.controller_secret).toMatch(SECRET);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const shown = await machine(u.access, m.id);
    expect(shown).not.toHaveProperty('controller_secret');
    const list = await bodyOf(await api.machines.$get({ query: { owner: 'me' } }, authed(u.access)), 200);
    expect(JSON.stringify(list)).not.toContain('whsec_');
    const row = await db.first<{ controller_secret: string }>(sql`SELECT controller_secret FROM machines WHERE id = ${m.id}`);
    expect(row!.controller_secret).toMatch(/^v1\./);
    expect(row!.controller_secret).not.toContain(m.controller_secret!.slice(6, 20));
    // Without a controller_url there is no secret to answer.
    expect(await newMachine(u.access)).not.toHaveProperty('controller_secret');
  });

  it('a controller that verifies accepts our commands (one signature, the operation id as webhook-id)', async () => {
    const u = await createUser();
    const m = await newMachine(u.access, { controller_url: `${DEVICE}/2` });
    const device = verifyingDevice(() => [m.controller_secret!]);
    const done = await run(u.access, m.id, 'POWER_ON');
    expect(done.result).toBe('SUCCESS');
    expect(device.ran).toEqual([done.id]);
    const { headers, body } = device.sent[0]!;
    expect(headers['webhook-id']).toBe(`op_${done.id}`);
    expect(headers['webhook-signature']!.split(' ')).toHaveLength(1);
    expect(Math.abs(Number(headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
    // The Standard Webhooks library on the receiving side, directly.
    expect(new Webhook(m.controller_secret!).verify(body, headers)).toEqual({ operation_id: done.id, machine_id: m.id, command: 'POWER_ON' });
  });

  it('a controller holding another secret refuses our commands (401 → REMOTEFAILED), so a forger is refused too', async () => {
    const u = await createUser();
    const m = await newMachine(u.access, { controller_url: `${DEVICE}/3` });
    const other = await newMachine(u.access, { controller_url: `${DEVICE}/3b` });
    const device = verifyingDevice(() => [other.controller_secret!]);
    const done = await run(u.access, m.id, 'POWER_ON');
    expect(done).toMatchObject({ result: 'REMOTEFAILED', detail: 'the controller answered HTTP 401' });
    expect(device.ran).toEqual([]);
  });

  it('the verifier refuses a replay, a stale or future timestamp, a tampered body and an unsigned message', async () => {
    const u = await createUser();
    const m = await newMachine(u.access, { controller_url: `${DEVICE}/4` });
    const device = verifyingDevice(() => [m.controller_secret!]);
    const done = await run(u.access, m.id, 'POWER_ON');
    const captured = device.sent[0]!;
    const v = commandVerifier([m.controller_secret!]);
    expect(v.check(captured.body, captured.headers)).toMatchObject({ status: 200, duplicate: false });
    // The same message again (a replay by whoever captured it): known, not run again.
    expect(v.check(captured.body, captured.headers)).toMatchObject({ status: 200, duplicate: true });
    // Re-signed by someone without the secret, with another id: refused.
    const forged = signMessage({ current: 'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=' }, 'op_999', captured.body);
    expect(v.check(captured.body, { ...forged })).toMatchObject({ status: 401 });
    // Tampered: START instead of POWER_ON under the original signature.
    expect(v.check(captured.body.replace('POWER_ON', 'START'), { ...captured.headers, 'webhook-id': 'op_x' })).toMatchObject({ status: 401 });
    // Stale and future (signed with the right secret, 6 minutes off).
    for (const offset of [-6 * 60_000, 6 * 60_000]) {
      const old = signMessage({ current: m.controller_secret! }, `op_${done.id}_t${offset}`, captured.body, new Date(Date.now() + offset));
      expect(v.check(captured.body, { ...old })).toMatchObject({ status: 401 });
    }
    // Unsigned (what anyone on the network could send).
    expect(v.check(captured.body, { 'content-type': 'application/json' })).toMatchObject({ status: 401 });
  });

  it('the first PUT/PATCH that sets a controller_url answers the secret; later ones do not', async () => {
    const u = await createUser();
    const m = await newMachine(u.access);
    const first = await bodyOf(
      await api.machines[':id'].$patch({ param: { id: String(m.id) }, json: { controller_url: `${DEVICE}/5` } }, authed(u.access)),
      200,
    );
    expect(first.controller_secret).toMatch(SECRET);
    const again = await bodyOf(
      await api.machines[':id'].$patch({ param: { id: String(m.id) }, json: { controller_url: `${DEVICE}/5b` } }, authed(u.access)),
      200,
    );
    expect(again).not.toHaveProperty('controller_secret');
    const device = verifyingDevice(() => [first.controller_secret!]);
    expect((await run(u.access, m.id, 'POWER_ON')).result).toBe('SUCCESS');
    expect(device.ran).toHaveLength(1);
  });

  it('rotation: 201 with previous_valid_until (24 h); both signatures until then, and a device on either secret accepts', async () => {
    const u = await createUser();
    const m = await newMachine(u.access, { controller_url: `${DEVICE}/6` });
    const res = await api.machines[':id']['controller-secret'].$post({ param: { id: String(m.id) } }, authed(u.access));
    const rotated = await bodyOf(res, 201);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(rotated.controller_secret).toMatch(SECRET);
    expect(rotated.controller_secret).not.toBe(m.controller_secret);
    const until = Date.parse(rotated.previous_valid_until!);
    expect(Math.abs(until - (Date.now() + 86_400_000))).toBeLessThan(60_000);

    let secrets = [m.controller_secret!];
    const device = verifyingDevice(() => secrets);
    expect((await run(u.access, m.id, 'POWER_ON')).result).toBe('SUCCESS'); // the device still has the old one
    expect(device.sent[0]!.headers['webhook-signature']!.split(' ')).toHaveLength(2);
    secrets = [rotated.controller_secret];
    expect((await run(u.access, m.id, 'POWER_OFF')).result).toBe('SUCCESS'); // switched to the new one

    // After the overlap only the new secret signs: a device still on the old one refuses.
    await db.run(sql`UPDATE machines SET controller_secret_previous_until = ${Date.now() - 1000} WHERE id = ${m.id}`);
    secrets = [m.controller_secret!];
    expect((await run(u.access, m.id, 'POWER_ON')).result).toBe('REMOTEFAILED');
    expect(device.sent.at(-1)!.headers['webhook-signature']!.split(' ')).toHaveLength(1);
  });

  it('rotation is owner or staff only (403), 404 for no machine; staff may rotate', async () => {
    const owner = await createUser();
    const stranger = await createUser();
    const staff = await createUser({ staff: true });
    const m = await newMachine(owner.access, { controller_url: `${DEVICE}/7` });
    await expectProblem(await raw(`/api/machines/${m.id}/controller-secret`, { token: stranger.access, method: 'POST' }), 403, 'PERMISSION_DENIED');
    await expectProblem(await raw('/api/machines/99999999/controller-secret', { token: owner.access, method: 'POST' }), 404, 'NOT_FOUND');
    await bodyOf(await api.machines[':id']['controller-secret'].$post({ param: { id: String(m.id) } }, authed(staff.access)), 201);
  });

  it('a machine made before secrets (no secret in its row) gets one on its first command: it is never sent unsigned', async () => {
    const u = await createUser();
    const m = await newMachine(u.access, { controller_url: `${DEVICE}/8` });
    await db.run(sql`UPDATE machines SET controller_secret = NULL WHERE id = ${m.id}`);
    const device = verifyingDevice(() => [m.controller_secret!]);
    expect((await run(u.access, m.id, 'POWER_ON')).result).toBe('REMOTEFAILED'); // signed, with a secret the device has not got yet
    expect(device.sent[0]!.headers['webhook-signature']).toMatch(/^v1,/);
    const row = await db.first<{ controller_secret: string | null }>(sql`SELECT controller_secret FROM machines WHERE id = ${m.id}`);
    expect(row!.controller_secret).toMatch(/^v1\./);
    // The owner learns a secret by rotating, then the device accepts.
    const rotated = await bodyOf(await api.machines[':id']['controller-secret'].$post({ param: { id: String(m.id) } }, authed(u.access)), 201);
    expect(rotated.previous_valid_until).not.toBeNull();
    await bodyOf(await api.machines[':id'].$patch({ param: { id: String(m.id) }, json: { status: 'POWEROFF' } }, authed(u.access)), 200);
    const device2 = verifyingDevice(() => [rotated.controller_secret]);
    expect((await run(u.access, m.id, 'POWER_ON')).result).toBe('SUCCESS');
    expect(device2.ran).toHaveLength(1);
  });
});
