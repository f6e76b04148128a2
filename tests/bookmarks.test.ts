// Reads from replicas with read-your-writes (D1 Sessions API). Every response of a request that
// touched D1 carries `X-D1-Bookmark`; a request that sends it back starts its session there, so it
// reads at least what the client has seen, its own writes included, also the writes a Durable
// Object (UserLedger, MachineDO) made for it. Postgres has one primary: no header.
import { env, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { ledgerName } from '../src/modules/payments/user-ledger';
import { createItem } from './catalog-helpers';
import { call, createUser, json, PASSWORD } from './helpers';
import { newMachine } from './machines-helpers';

const BOOKMARK = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/;
const d1 = env.DB_BACKEND !== 'postgres';
const bookmarkOf = (res: Response) => res.headers.get('x-d1-bookmark');

/** The newest bookmark a Durable Object's units of work reached (what it sends back with results). */
async function objectBookmark<T extends Rpc.DurableObjectBranded>(ns: DurableObjectNamespace<T>, name: string): Promise<string | null> {
  const stub = ns.get(ns.idFromName(name));
  return runInDurableObject(stub, (instance: object) => Reflect.get(Reflect.get(instance, 'units') as object, 'latest') as string | null);
}

describe.runIf(d1)('D1 bookmarks', () => {
  it('a response carries the bookmark its request reached; a write moves it forward', async () => {
    const user = await createUser();
    const me = await call('/api/users/me', { token: user.access });
    expect(me.status).toBe(200);
    const before = bookmarkOf(me)!;
    expect(before).toMatch(BOOKMARK);
    const patch = await call('/api/users/me', {
      method: 'PATCH',
      token: user.access,
      body: { first_name: 'Ada' },
      headers: { 'X-D1-Bookmark': before },
    });
    expect(patch.status).toBe(200);
    expect(bookmarkOf(patch)! > before).toBe(true);
    expect(patch.headers.get('access-control-expose-headers')).toContain('X-D1-Bookmark'); // browsers may read it
  });

  it('a request starts its session at the bookmark the client sent (never behind it)', async () => {
    const user = await createUser();
    const ahead = 'ffffffff-00000000-00000000-00000000000000000000000000000000';
    const res = await call('/api/users/me', { token: user.access, headers: { 'X-D1-Bookmark': ahead } });
    expect(res.status).toBe(200);
    expect(bookmarkOf(res)! >= ahead).toBe(true);
  });

  it('a malformed bookmark is ignored: the request runs as if none was sent', async () => {
    const user = await createUser();
    for (const bad of ['garbage', 'ffffffff', `${'f'.repeat(8)}-${'0'.repeat(8)}-${'0'.repeat(8)}-${'z'.repeat(32)}`, 'x'.repeat(5000)]) {
      const res = await call('/api/users/me', { token: user.access, headers: { 'X-D1-Bookmark': bad } });
      expect(res.status).toBe(200);
      expect(bookmarkOf(res)).toMatch(BOOKMARK);
      expect(bookmarkOf(res)).not.toBe(bad);
    }
  });

  it("an apply's response carries the bookmark of the UserLedger's write, and the history read with it shows the payment", async () => {
    const user = await createUser();
    const exam = await createItem('exams', { price: 10_000 });
    const apply = await call(`/api/exams/${exam.id}/apply`, { token: user.access, body: { amount: 10_000, payment_method: 'card' } });
    expect(apply.status).toBe(201);
    const written = await objectBookmark(env.USER_LEDGER, ledgerName(user.id));
    expect(written).toMatch(BOOKMARK);
    expect(bookmarkOf(apply)! >= written!).toBe(true);
    const paymentId = (await json(apply)).payment.id;
    const history = await call('/api/me/payments', { token: user.access, headers: { 'X-D1-Bookmark': bookmarkOf(apply)! } });
    expect((await json(history)).results.map((p: { id: number }) => p.id)).toContain(paymentId);
  });

  it("a cancel's response carries the bookmark of the UserLedger's write, and the payment read with it is cancelled", async () => {
    const user = await createUser();
    const exam = await createItem('exams', { price: 10_000 });
    const apply = await call(`/api/exams/${exam.id}/apply`, { token: user.access, body: { amount: 10_000, payment_method: 'card' } });
    const paymentId = (await json(apply)).payment.id;
    const applied = await objectBookmark(env.USER_LEDGER, ledgerName(user.id));
    const cancel = await call(`/api/payments/${paymentId}/cancel`, { token: user.access, body: {} });
    expect(cancel.status).toBe(200);
    const written = await objectBookmark(env.USER_LEDGER, ledgerName(user.id));
    expect(written! > applied!).toBe(true); // the cancel wrote
    expect(bookmarkOf(cancel)).toMatch(BOOKMARK);
    expect(bookmarkOf(cancel)! >= written!).toBe(true);
    const read = await call(`/api/me/payments/${paymentId}`, { token: user.access, headers: { 'X-D1-Bookmark': bookmarkOf(cancel)! } });
    expect((await json(read)).status).toBe('cancelled');
  });

  it("a machine command's response carries the bookmark of the MachineDO's write", async () => {
    const user = await createUser({ staff: true });
    const m = await newMachine(user.access);
    const res = await call(`/api/machines/${m.id}/operation`, { token: user.access, body: { command: 'POWER_ON' } });
    expect(res.status).toBe(202);
    const written = await objectBookmark(env.MACHINE, String(m.id));
    expect(bookmarkOf(res)! >= written!).toBe(true);
  });

  it.each([
    ['PATCH with a status', 'PATCH', () => ({ status: 'READY' })],
    ['PATCH with a new owner', 'PATCH', (heir: number) => ({ owner_id: heir })],
    ['PUT with a status', 'PUT', () => ({ name: 'Press', location: 'Hall B', status: 'READY' })],
    ['DELETE', 'DELETE', () => undefined],
  ] as const)("a machine %s: the response carries the bookmark of the MachineDO's write", async (_name, method, bodyFor) => {
    const staff = await createUser({ staff: true });
    const heir = await createUser();
    const m = await newMachine(staff.access);
    const res = await call(`/api/machines/${m.id}`, { method, token: staff.access, body: bodyFor(heir.id) });
    expect(res.status).toBe(method === 'DELETE' ? 204 : 200);
    const written = await objectBookmark(env.MACHINE, String(m.id));
    expect(written).toMatch(BOOKMARK);
    expect(bookmarkOf(res)).toMatch(BOOKMARK);
    expect(bookmarkOf(res)! >= written!).toBe(true);
  });

  it('a client that always sends its last bookmark sees each of its writes in the next read (signup → login → me → PATCH → me)', async () => {
    const email = `bm-${crypto.randomUUID()}@example.com`;
    const signup = await call('/api/users/signup', { body: { email, password: PASSWORD, first_name: 'B' } });
    expect(signup.status).toBe(201);
    let bookmark = bookmarkOf(signup)!;
    const next = (res: Response) => {
      expect(bookmarkOf(res)! >= bookmark).toBe(true);
      bookmark = bookmarkOf(res)!;
      return res;
    };
    const login = next(await call('/api/users/login', { body: { email, password: PASSWORD }, headers: { 'X-D1-Bookmark': bookmark } }));
    expect(login.status).toBe(200);
    const access = (await json(login)).token.access;
    for (let i = 0; i < 5; i++) {
      const write = next(
        await call('/api/users/me', { method: 'PATCH', token: access, body: { first_name: `N${i}` }, headers: { 'X-D1-Bookmark': bookmark } }),
      );
      expect(write.status).toBe(200);
      const read = next(await call('/api/users/me', { token: access, headers: { 'X-D1-Bookmark': bookmark } }));
      expect((await json(read)).first_name).toBe(`N${i}`);
    }
  });
});

describe.runIf(!d1)('Postgres', () => {
  it('sends no bookmark (one primary: every read sees every committed write)', async () => {
    const user = await createUser();
    const res = await call('/api/users/me', {
      token: user.access,
      headers: { 'X-D1-Bookmark': 'ffffffff-00000000-00000000-00000000000000000000000000000000' },
    });
    expect(res.status).toBe(200);
    expect(bookmarkOf(res)).toBeNull();
  });
});
