// Fixtures shared by the catalog and payments tests.
import { expect } from 'vitest';
import { call, createUser, type TestUser } from './helpers';

export const KINDS = [
  { kind: 'exams', type: 'exam', action: 'apply', active: 'applied' },
  { kind: 'courses', type: 'course', action: 'enroll', active: 'enrolled' },
] as const;
export type KindCase = (typeof KINDS)[number];

const HOUR = 3600_000;
export const iso = (ms: number) => new Date(ms).toISOString();

let staff: TestUser | null = null;
export async function staffUser(): Promise<TestUser> {
  staff ??= await createUser({ staff: true });
  return staff;
}

/** Creates an item that is open now (unless start/end are given). */
export async function createItem(kind: string, fields: Record<string, unknown> = {}): Promise<any> {
  const now = Date.now();
  const res = await call(`/api/${kind}`, {
    token: (await staffUser()).access,
    body: { title: 'Item', description: '', price: 10_000, start_at: iso(now - HOUR), end_at: iso(now + 24 * HOUR), ...fields },
  });
  expect(res.status).toBe(201);
  return res.json();
}
