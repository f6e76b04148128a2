// The request log (one JSON line per request, sampled, never a secret) and the log guard that checks
// every line of the whole suite (tests/log-guard.ts, installed by tests/setup.ts).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createItem, register } from './catalog-helpers';
import {
  api,
  authed,
  bodyOf,
  createUser,
  expectProblem,
  fromIp,
  health,
  PASSWORD,
  raw,
  randomPhone,
  type requestPhoneCode,
  uniq,
  withVars,
} from './helpers';
import { scanOnly, takeFindings, violations } from './log-guard';
import { DEVICE, newMachine, run, stubController } from './machines-helpers';

interface Line {
  level: string;
  msg: string;
  [field: string]: unknown;
}

/** Every console line written while fn runs (still printed and guarded as usual). */
async function captured<T>(fn: () => Promise<T>): Promise<{ value: T; lines: string[] }> {
  const spies = (['log', 'warn', 'error'] as const).map((m) => vi.spyOn(console, m));
  try {
    const value = await fn();
    return { value, lines: spies.flatMap((s) => s.mock.calls.map((args) => args.map(String).join(' '))) };
  } finally {
    for (const s of spies) s.mockRestore();
  }
}

const parsed = (lines: string[]): Line[] =>
  lines.flatMap((l) => {
    try {
      return [JSON.parse(l) as Line];
    } catch {
      return [];
    }
  });
const requestLines = (lines: string[]) => parsed(lines).filter((l) => l.msg === 'request');

describe('request log', () => {
  it('one line per request: method, route pattern, status, duration, request id, user id', async () => {
    const u = await createUser();
    const m = await newMachine(u.access);
    const { value: res, lines } = await captured(() => api.machines[':id'].$get({ param: { id: String(m.id) } }, authed(u.access)));
    expect(res.status).toBe(200);
    const logged = requestLines(lines);
    expect(logged).toEqual([
      {
        level: 'info',
        msg: 'request',
        method: 'GET',
        route: '/api/machines/:id',
        status: 200,
        ms: expect.any(Number),
        request_id: res.headers.get('x-request-id'),
        user_id: u.id,
        sample_rate: 1,
      },
    ]);
  });

  it("names Smart Placement's routing of the request when Cloudflare sends it (cf-placement)", async () => {
    const { lines } = await captured(() => health.$get(undefined, { headers: { 'cf-placement': 'remote-LHR' } }));
    expect(requestLines(lines)).toEqual([expect.objectContaining({ route: '/health', status: 200, placement: 'remote-LHR' })]);
    // Anything else in that header is not Cloudflare's, and not logged.
    const forged = await captured(() => health.$get(undefined, { headers: { 'cf-placement': 'remote-LHR","admin":true' } }));
    expect(requestLines(forged.lines)[0]).not.toHaveProperty('placement');
  });

  it('4xx are warnings, an unknown path has no route, and the path itself is never logged', async () => {
    const token = uniq('secretlookingpath');
    const { lines } = await captured(async () => {
      await expectProblem(await raw(`/nowhere/${token}`), 404, 'NOT_FOUND');
      const verify = api.users.phone.verify[':verification_token'].$post({ param: { verification_token: token }, json: { confirm_code: '0000' } });
      await expectProblem(await verify, 400, 'VERIFICATION_EXPIRED');
    });
    expect(requestLines(lines).map((l) => [l.level, l.route, l.status])).toEqual([
      ['warn', '(no route)', 404],
      ['warn', '/api/users/phone/verify/:verification_token', 400],
    ]);
    expect(lines.join('\n')).not.toContain(token);
  });

  it('is sampled by REQUEST_LOG_SAMPLE_RATE, but a 5xx is always logged (and the error line names the route, not the path)', async () => {
    await withVars({ REQUEST_LOG_SAMPLE_RATE: '0' }, async () => {
      const quiet = await captured(() => health.$get());
      expect(requestLines(quiet.lines)).toEqual([]);

      const spy = vi.spyOn(crypto.subtle, 'deriveBits').mockImplementation(() => {
        throw new Error('boom');
      });
      const silence = vi.spyOn(console, 'error').mockImplementation(scanOnly);
      try {
        const failed = await captured(() => api.users.login.$post({ json: { email: 'a@example.com', password: 'whatever password' } }));
        expect(failed.value.status).toBe(500);
        const [line] = requestLines(failed.lines);
        expect(line).toMatchObject({ level: 'error', route: '/api/users/login', status: 500, sample_rate: 0 });
        const error = parsed(failed.lines).find((l) => l.msg === 'unhandled error')!;
        expect(error).toMatchObject({ route: '/api/users/login', request_id: line!.request_id });
        expect(error.path).toBeUndefined();
      } finally {
        spy.mockRestore();
        silence.mockRestore();
      }
    });
  });

  it('carries no secret over signup, login, phone login, refresh, password change, payments and machine commands', async () => {
    const email = `${uniq()}@example.com`;
    const phone = randomPhone();
    const secrets: string[] = [PASSWORD, 'a brand new password', phone, phone.replace(/-/g, '')];
    let devCode = '';
    const { lines } = await captured(async () => {
      const from = fromIp();
      expect((await api.users.signup.$post({ json: { email, password: PASSWORD, password_check: PASSWORD } }, from)).status).toBe(201);
      const login = await bodyOf(await api.users.login.$post({ json: { email, password: PASSWORD } }, from), 200);
      const wrong = await api.users.login.$post({ json: { email, password: 'whatever password' } }, from);
      expect(wrong.status).toBe(401);
      const rotated = await bodyOf(await api.users.refresh.$post({ json: { refresh: login.token.refresh } }), 200);
      const changed = await api.users.me.$patch({ json: { password: 'a brand new password', current_password: PASSWORD } }, authed(rotated.access));
      expect(changed.status).toBe(200);
      secrets.push(login.token.access, login.token.refresh, rotated.access, rotated.refresh);

      // The tests' SMS provider is the console one, which answers the code (the schema has it optional).
      const sent = (await bodyOf(await api.users.phone.login.$post({ json: { phone } }, fromIp()), 200)) as Awaited<
        ReturnType<typeof requestPhoneCode>
      >;
      const wrongCode = sent.dev_code === '0000' ? '1111' : '0000';
      const verify = (confirm_code: string) =>
        api.users.phone.verify[':verification_token'].$post({ param: { verification_token: sent.verification_token }, json: { confirm_code } });
      expect((await verify(wrongCode)).status).toBe(400);
      const verified = await bodyOf(await verify(sent.dev_code), 200);
      devCode = sent.dev_code;
      secrets.push(sent.verification_token, sent.phone, verified.token.access, verified.token.refresh);

      const buyer = verified.token.access;
      const item = await createItem('exams');
      const key = uniq('idem');
      const pay = { amount: 10_000, payment_method: 'card' as const };
      expect((await register('exams', item.id, buyer, pay, key)).status).toBe(201);
      expect((await register('exams', item.id, buyer, pay, key)).status).toBe(201);

      const m = await newMachine(buyer);
      expect((await run(buyer, m.id, 'POWER_ON')).result).toBe('SUCCESS');
    });

    const logged = requestLines(lines);
    expect(logged.length).toBeGreaterThanOrEqual(14);
    for (const line of logged) {
      expect(Object.keys(line).sort()).toEqual(expect.arrayContaining(['level', 'method', 'ms', 'msg', 'request_id', 'route', 'status']));
      expect(line.route, 'a route pattern, never a path with ids').not.toMatch(/\/\d+(\/|$)/);
    }
    for (const secret of secrets) {
      const leaks = lines.filter((l) => l.includes(secret));
      expect(leaks, `a log line carries ${secret.slice(0, 12)}…`).toEqual([]);
    }
    // The dev code appears only in the development SMS provider's own line (see tests/log-guard.ts).
    const withCode = parsed(lines).filter((l) => JSON.stringify(l).includes(`"${devCode}"`));
    expect(withCode.map((l) => l.msg)).toEqual(['sms (console provider)']);
    expect(lines.filter((l) => violations(l).length > 0)).toEqual([]);
  });
});

describe('log guard', () => {
  afterEach(() => vi.restoreAllMocks());

  it('is installed on the console every test uses: a line with a secret is caught for the afterEach', () => {
    expect(takeFindings().found).toEqual([]);
    const before = takeFindings().lines;
    console.log(JSON.stringify({ msg: 'leak on purpose', refresh: 'not-a-real-token' }));
    const { found, lines } = takeFindings(); // taken here, so this test's afterEach stays green
    expect(lines).toBe(before + 1);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^secret field: .*leak on purpose/);
  });

  it('flags every kind of secret and passes a clean request line', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';
    expect(violations(`{"msg":"x","error":"token ${jwt}"}`)).toContain('JWT');
    expect(violations('{"authorization_header":"Bearer abcdefghijklmnopqrstuvwxyz"}')).toContain('bearer credential');
    expect(violations(`{"body":"${PASSWORD}"}`)).toContain('test password');
    expect(violations('{"msg":"sms","code":"4821"}')).toContain('one-time code');
    expect(violations('{"confirm_code":48213377}')).toEqual(expect.arrayContaining(['one-time code', 'secret field']));
    expect(violations('{"to":"+821012345678"}')).toContain('phone number');
    expect(violations('{"to":"010-1234-5678"}')).toContain('phone number');
    expect(violations('{"verification_token":"abc"}')).toContain('secret field');
    expect(violations('{"refresh":"abc"}')).toContain('secret field');
    const clean = JSON.stringify({
      level: 'info',
      msg: 'request',
      method: 'POST',
      route: '/api/users/phone/verify/:verification_token',
      status: 400,
      ms: 12,
      request_id: crypto.randomUUID(),
      user_id: 1795434084055,
      sample_rate: 1,
    });
    expect(violations(clean)).toEqual([]);
  });

  it('exempts only the development SMS line, and only from the code rule', () => {
    expect(violations('{"msg":"sms (console provider)","phone":"+82******5678","code":"4821"}')).toEqual([]);
    expect(violations('{"msg":"sms (console provider)","phone":"+821012345678","code":"4821"}')).toEqual(['phone number']);
    expect(violations('{"msg":"sms (webhook)","code":"4821"}')).toEqual(['one-time code']);
  });

  it('the development SMS provider masks the phone number', async () => {
    const phone = randomPhone();
    const { lines } = await captured(() => api.users.phone.login.$post({ json: { phone } }, fromIp()));
    const sms = parsed(lines).find((l) => l.msg === 'sms (console provider)')!;
    expect(sms.phone).toMatch(/^\+82\*+\d{4}$/);
    expect(String(sms.phone).slice(-4)).toBe(phone.slice(-4));
  });

  it('sees what Durable Objects log, not only the worker', async () => {
    // The guard wraps console in the isolate that the worker, its objects and its consumers share:
    // a controller that cannot be reached makes the machine's object log each retry.
    const controller = stubController(() => {
      throw new TypeError('network down');
    });
    const silence = vi.spyOn(console, 'warn').mockImplementation(scanOnly);
    try {
      const u = await createUser();
      const m = await newMachine(u.access, { controller_url: `${DEVICE}/press/9` });
      expect((await run(u.access, m.id, 'POWER_ON')).result).toBe('INTERNALFAILED');
      const retries = silence.mock.calls.map((args) => String(args[0])).filter((l) => l.includes('machine command will be retried'));
      expect(retries.length).toBeGreaterThan(0);
    } finally {
      silence.mockRestore();
      controller.restore();
    }
  });
});
