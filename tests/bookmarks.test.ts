// Reads from replicas with read-your-writes (D1 Sessions API). Every response of a request that
// touched D1 carries `X-D1-Bookmark`; a request that sends it back starts its session there, so it
// reads at least what the client has seen, its own writes included, also the writes a Durable
// Object (UserLedger, MachineDO) made for it. Postgres has one primary: no header.
import { env, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { ledgerName } from '../src/modules/payments/user-ledger';
import { createItem, register } from './catalog-helpers';
import { api, authed, bodyOf, createUser, PASSWORD } from './helpers';
import { newMachine } from './machines-helpers';

const BOOKMARK = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/;
const d1 = env.DB_BACKEND !== 'postgres';
const bookmarkOf = (res: { headers: Headers }) => res.headers.get('x-d1-bookmark');
const at = (bookmark: string) => ({ 'X-D1-Bookmark': bookmark });

/** The newest bookmark a Durable Object's units of work reached (what it sends back with results). */
async function objectBookmark<T extends Rpc.DurableObjectBranded>(ns: DurableObjectNamespace<T>, name: string): Promise<string | null> {
  const stub = ns.get(ns.idFromName(name));
  return runInDurableObject(stub, (instance: object) => Reflect.get(Reflect.get(instance, 'units') as object, 'latest') as string | null);
}

describe.runIf(d1)('D1 bookmarks', () => {
  it('a response carries the bookmark its request reached; a write moves it forward', async () => {
    const user = await createUser();
    const me = await api.users.me.$get(undefined, authed(user.access));
    expect(me.status).toBe(200);
    const before = bookmarkOf(me)!;
    expect(before).toMatch(BOOKMARK);
    const patch = await api.users.me.$patch({ json: { first_name: 'Ada' } }, authed(user.access, at(before)));
    expect(patch.status).toBe(200);
    expect(bookmarkOf(patch)! > before).toBe(true);
    expect(patch.headers.get('access-control-expose-headers')).toContain('X-D1-Bookmark'); // browsers may read it
  });

  it('a request starts its session at the bookmark the client sent (never behind it)', async () => {
    const user = await createUser();
    const ahead = 'ffffffff-00000000-00000000-00000000000000000000000000000000';
    const res = await api.users.me.$get(undefined, authed(user.access, at(ahead)));
    expect(res.status).toBe(200);
    expect(bookmarkOf(res)! >= ahead).toBe(true);
  });

  it('a malformed bookmark is ignored: the request runs as if none was sent', async () => {
    const user = await createUser();
    for (const bad of ['garbage', 'ffffffff', `${'f'.repeat(8)}-${'0'.repeat(8)}-${'0'.repeat(8)}-${'z'.repeat(32)}`, 'x'.repeat(5000)]) {
      const res = await api.users.me.$get(undefined, authed(user.access, at(bad)));
      expect(res.status).toBe(200);
      expect(bookmarkOf(res)).toMatch(BOOKMARK);
      expect(bookmarkOf(res)).not.toBe(bad);
    }
  });

  it("an apply's response carries the bookmark of the UserLedger's write, and the history read with it shows the payment", async () => {
    const user = await createUser();
    const exam = await createItem('exams', { price: 10_000 });
    const apply = await register('exams', exam.id, user.access, { amount: 10_000, payment_method: 'card' });
    const paymentId = (await bodyOf(apply, 201)).payment.id;
    const written = await objectBookmark(env.USER_LEDGER, ledgerName(user.id));
    expect(written).toMatch(BOOKMARK);
    expect(bookmarkOf(apply)! >= written!).toBe(true);
    const history = await api.me.payments.$get({ query: {} }, authed(user.access, at(bookmarkOf(apply)!)));
    expect((await bodyOf(history, 200)).results.map((p) => p.id)).toContain(paymentId);
  });

  it("a cancel's response carries the bookmark of the UserLedger's write, and the payment read with it is cancelled", async () => {
    const user = await createUser();
    const exam = await createItem('exams', { price: 10_000 });
    const apply = await register('exams', exam.id, user.access, { amount: 10_000, payment_method: 'card' });
    const paymentId = (await bodyOf(apply, 201)).payment.id;
    const applied = await objectBookmark(env.USER_LEDGER, ledgerName(user.id));
    const cancel = await api.payments[':id'].cancel.$post({ param: { id: String(paymentId) }, header: {}, json: {} }, authed(user.access));
    expect(cancel.status).toBe(200);
    const written = await objectBookmark(env.USER_LEDGER, ledgerName(user.id));
    expect(written! > applied!).toBe(true); // the cancel wrote
    expect(bookmarkOf(cancel)).toMatch(BOOKMARK);
    expect(bookmarkOf(cancel)! >= written!).toBe(true);
    const read = await api.me.payments[':id'].$get({ param: { id: String(paymentId) } }, authed(user.access, at(bookmarkOf(cancel)!)));
    expect((await bodyOf(read, 200)).status).toBe('cancelled');
  });

  it("a machine command's response carries the bookmark of the MachineDO's write", async () => {
    const user = await createUser({ staff: true });
    const m = await newMachine(user.access);
    const res = await api.machines[':id'].operation.$post({ param: { id: String(m.id) }, json: { command: 'POWER_ON' } }, authed(user.access));
    expect(res.status).toBe(202);
    const written = await objectBookmark(env.MACHINE, String(m.id));
    expect(bookmarkOf(res)! >= written!).toBe(true);
  });

  type Send = (param: { id: string }, heir: number, token: string) => Promise<{ status: number; headers: Headers }>;
  it.each<[string, number, Send]>([
    ['PATCH with a status', 200, (param, _, t) => api.machines[':id'].$patch({ param, json: { status: 'READY' } }, authed(t))],
    ['PATCH with a new owner', 200, (param, heir, t) => api.machines[':id'].$patch({ param, json: { owner_id: heir } }, authed(t))],
    [
      'PUT with a status',
      200,
      (param, _, t) => api.machines[':id'].$put({ param, json: { name: 'Press', location: 'Hall B', status: 'READY' } }, authed(t)),
    ],
    ['DELETE', 204, (param, _, t) => api.machines[':id'].$delete({ param }, authed(t))],
  ])("a machine %s: the response carries the bookmark of the MachineDO's write", async (_name, status, send) => {
    const staff = await createUser({ staff: true });
    const heir = await createUser();
    const m = await newMachine(staff.access);
    const res = await send({ id: String(m.id) }, heir.id, staff.access);
    expect(res.status).toBe(status);
    const written = await objectBookmark(env.MACHINE, String(m.id));
    expect(written).toMatch(BOOKMARK);
    expect(bookmarkOf(res)).toMatch(BOOKMARK);
    expect(bookmarkOf(res)! >= written!).toBe(true);
  });

  it('a client that always sends its last bookmark sees each of its writes in the next read (signup → login → me → PATCH → me)', async () => {
    const email = `bm-${crypto.randomUUID()}@example.com`;
    const signup = await api.users.signup.$post({ json: { email, password: PASSWORD, first_name: 'B' } });
    expect(signup.status).toBe(201);
    let bookmark = bookmarkOf(signup)!;
    const next = <R extends { headers: Headers }>(res: R) => {
      expect(bookmarkOf(res)! >= bookmark).toBe(true);
      bookmark = bookmarkOf(res)!;
      return res;
    };
    const login = next(await api.users.login.$post({ json: { email, password: PASSWORD } }, { headers: at(bookmark) }));
    const access = (await bodyOf(login, 200)).token.access;
    for (let i = 0; i < 5; i++) {
      const write = next(await api.users.me.$patch({ json: { first_name: `N${i}` } }, authed(access, at(bookmark))));
      expect(write.status).toBe(200);
      const read = next(await api.users.me.$get(undefined, authed(access, at(bookmark))));
      expect((await bodyOf(read, 200)).first_name).toBe(`N${i}`);
    }
  });
});

describe.runIf(!d1)('Postgres', () => {
  it('sends no bookmark (one primary: every read sees every committed write)', async () => {
    const user = await createUser();
    const res = await api.users.me.$get(undefined, authed(user.access, at('ffffffff-00000000-00000000-00000000000000000000000000000000')));
    expect(res.status).toBe(200);
    expect(bookmarkOf(res)).toBeNull();
  });
});
