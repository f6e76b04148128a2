// GET /api/machines?search=: the exact count of a search over all machines is memoised per isolate
// under machines_text_version (moved by triggers on create, delete, rename and move; not by status
// changes). Each step checks the API's count against the database's own count, on both backends.
import { beforeAll, describe, expect, it } from 'vitest';
import { api, authed, bodyOf, createUser, type TestUser, uniq } from './helpers';
import { db, sql } from './db';
import { newMachine } from './machines-helpers';

let owner: TestUser;
let staff: TestUser;
const word = uniq('zq').toLowerCase();

const version = async () => Number(await db.value(sql`SELECT version FROM machines_text_version WHERE id = 1`, 'version'));
const truth = async () =>
  Number(await db.value(sql`SELECT count(*) AS n FROM machines WHERE lower(name) LIKE ${`%${word}%`} OR lower(location) LIKE ${`%${word}%`}`, 'n'));
const listed = async (query: Record<string, string> = {}) =>
  bodyOf(await api.machines.$get({ query: { search: word, page_size: '2', ...query } }, authed(owner.access)), 200);

beforeAll(async () => {
  [owner, staff] = await Promise.all([createUser(), createUser({ staff: true })]);
});

describe('machines search count, memoised per text version', () => {
  it('stays exact through creates, renames, moves, deletes and status changes', async () => {
    const made = [];
    for (let i = 0; i < 3; i++) made.push(await newMachine(owner.access, { name: `Press ${word} ${i}`, location: 'Hall A' }));
    const other = await newMachine(owner.access, { name: 'Lathe', location: 'Hall B' });
    expect((await listed()).count).toBe(3);
    // Memoised: a second read answers the same, and the version has not moved.
    const v = await version();
    expect((await listed()).count).toBe(3);
    expect(await version()).toBe(v);

    // A move into the search, a rename out of it, a create and a delete each move the version.
    await bodyOf(await api.machines[':id'].$patch({ param: { id: String(other.id) }, json: { location: `Bay ${word}` } }, authed(owner.access)), 200);
    expect(await version()).toBeGreaterThan(v);
    expect((await listed()).count).toBe(4);
    await bodyOf(await api.machines[':id'].$patch({ param: { id: String(made[0]!.id) }, json: { name: 'Renamed' } }, authed(owner.access)), 200);
    expect((await listed()).count).toBe(3);
    await newMachine(staff.access, { name: `Mill ${word.toUpperCase()}`, location: 'Hall C' });
    expect((await listed()).count).toBe(4);
    expect((await api.machines[':id'].$delete({ param: { id: String(made[1]!.id) } }, authed(owner.access))).status).toBe(204);
    expect((await listed()).count).toBe(3);
    expect(await truth()).toBe(3);

    // A status change (the frequent write) leaves the version, and the count stays right.
    const before = await version();
    await bodyOf(await api.machines[':id'].$patch({ param: { id: String(made[2]!.id) }, json: { status: 'READY' } }, authed(owner.access)), 200);
    expect(await version()).toBe(before);
    expect((await listed()).count).toBe(3);
    // With a status or owner filter the count is read with the page, never memoised.
    expect((await listed({ status: 'READY' })).count).toBe(1);
    expect((await listed({ owner: 'me' })).count).toBe(2);
    // Pages agree with the count.
    const all = await listed({ page_size: '100' });
    expect(all.results.length).toBe(all.count);
  });
});
