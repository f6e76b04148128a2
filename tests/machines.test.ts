// Machines: CRUD and permissions, the state machine, the async flow through the real queue.
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { call, createUser, expectProblem, json } from './helpers';

export async function newMachine(token: string, body: Record<string, unknown> = {}) {
  const res = await call('/api/machines', { token, body: { name: 'Press', location: 'Hall A', ...body } });
  expect(res.status).toBe(201);
  return json(res);
}

export async function waitDone(token: string, location: string, timeoutMs = 10_000) {
  const started = Date.now();
  for (;;) {
    const res = await call(new URL(location).pathname, { token });
    expect(res.status).toBe(200);
    const op = await json(res);
    if (op.result !== 'PENDING') return op;
    if (Date.now() - started > timeoutMs) throw new Error(`operation still PENDING: ${JSON.stringify(op)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('smoke', () => {
  it('creates a machine and powers it on', async () => {
    const u = await createUser();
    const m = await newMachine(u.access);
    expect(m).toMatchObject({ status: 'POWEROFF', owner_id: u.id, controller_url: null });
    const res = await call(`/api/machines/${m.id}/operation`, { token: u.access, body: { command: 'POWER_ON' } });
    expect(res.status).toBe(202);
    const op = await json(res);
    expect(op.result).toBe('PENDING');
    const done = await waitDone(u.access, res.headers.get('location')!);
    expect(done.result).toBe('SUCCESS');
    const after = await json(await call(`/api/machines/${m.id}`, { token: u.access }));
    expect(after.status).toBe('READY');
  });
});
