// Fixtures shared by the catalog and payments tests.
import type { InferRequestType } from 'hono/client';
import { api, authed, bodyOf, createUser, type TestUser } from './helpers';

export const KINDS = [
  { kind: 'exams', type: 'exam', action: 'apply', active: 'applied' },
  { kind: 'courses', type: 'course', action: 'enroll', active: 'enrolled' },
] as const;
export type KindCase = (typeof KINDS)[number];
export type Kind = KindCase['kind'];

const HOUR = 3600_000;
export const iso = (ms: number) => new Date(ms).toISOString();

let staff: TestUser | null = null;
export async function staffUser(): Promise<TestUser> {
  staff ??= await createUser({ staff: true });
  return staff;
}

type ItemFields = Partial<InferRequestType<typeof api.exams.$post>['json']>;

/** Creates an item that is open now (unless start/end are given). */
export async function createItem(kind: Kind, fields: ItemFields = {}) {
  const now = Date.now();
  const res = await api[kind].$post(
    { json: { title: 'Item', description: '', price: 10_000, start_at: iso(now - HOUR), end_at: iso(now + 24 * HOUR), ...fields } },
    authed((await staffUser()).access),
  );
  return bodyOf(res, 201);
}

type RegisterJson = InferRequestType<(typeof api.exams)[':id']['apply']['$post']>['json'];

/** Applies to an exam or enrolls in a course (the kind's action) as `token`; the typed response, unchecked. */
export function register(kind: Kind, id: number, token: string, json: RegisterJson, idempotencyKey?: string) {
  const args = { param: { id: String(id) }, header: idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}, json };
  return kind === 'exams' ? api.exams[':id'].apply.$post(args, authed(token)) : api.courses[':id'].enroll.$post(args, authed(token));
}
