// Absolute links (`next`/`previous`, `Location`, the phone `next`) are built on PUBLIC_ORIGIN when it
// is set: a forged Host header never comes back in a link.
import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { createItem, staffUser } from './catalog-helpers';
import { createUser, randomIp, randomPhone, withVars } from './helpers';

const PUBLIC = 'https://api.example.com';

/** A request addressed to a hostile host, as a forged Host header would make it. */
function evil(path: string, init: { token?: string; body?: unknown } = {}): Promise<Response> {
  const headers: Record<string, string> = { 'cf-connecting-ip': randomIp() };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  return exports.default.fetch(
    new Request(`http://evil.example${path}`, {
      method: init.body === undefined ? 'GET' : 'POST',
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    }),
  );
}

function links(values: (string | null | undefined)[]): string[] {
  return values.filter((v): v is string => typeof v === 'string');
}

/** The links of a page of a list (the rest is typed elsewhere). */
interface Page {
  next: string | null;
  previous: string | null;
}

describe('absolute links', () => {
  it('use PUBLIC_ORIGIN when it is set, whatever the Host', async () => {
    const user = await createUser();
    const staff = await staffUser();
    for (let i = 0; i < 3; i++) await createItem('exams');
    await withVars({ PUBLIC_ORIGIN: `${PUBLIC}/ignored-path` }, async () => {
      const page = await (await evil('/api/exams?page_size=1&page=2', { token: user.access })).json<Page>();
      const machine = await evil('/api/machines', { token: user.access, body: { name: 'Press', location: 'Hall' } });
      const command = await evil(`/api/machines/${(await machine.clone().json<{ id: number }>()).id}/operation`, {
        token: user.access,
        body: { command: 'POWER_ON' },
      });
      const exam = await evil('/api/exams', {
        token: staff.access,
        body: {
          title: 'Linked',
          description: '',
          price: 1000,
          start_at: new Date().toISOString(),
          end_at: new Date(Date.now() + 3600_000).toISOString(),
        },
      });
      const phone = await (await evil('/api/users/phone/login', { body: { phone: randomPhone() } })).json<{ next: string }>();
      const all = links([
        page.next,
        page.previous,
        machine.headers.get('location'),
        command.headers.get('location'),
        exam.headers.get('location'),
        phone.next,
      ]);
      expect(all).toHaveLength(6);
      expect(page.previous).toBe(`${PUBLIC}/api/exams?page_size=1&page=1`);
      for (const link of all) expect(link.startsWith(`${PUBLIC}/api/`), link).toBe(true);
      expect(page.next).toBe(`${PUBLIC}/api/exams?page_size=1&page=3`);
    });
  });

  it('follow the request origin when PUBLIC_ORIGIN is empty (local development)', async () => {
    const user = await createUser();
    await createItem('exams');
    await createItem('exams');
    const page = await (await evil('/api/exams?page_size=1', { token: user.access })).json<Page>();
    expect(page.next).toBe('http://evil.example/api/exams?page_size=1&page=2');
  });
});
