// Phone login with one-time codes: normalisation, codes in KV, attempt limits under concurrency,
// send limits, SMS providers.
import { env } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import { deployProblems } from '../scripts/deploy-checks.mjs';
import { randomDigits } from '../src/lib/random';
import wranglerToml from '../wrangler.toml?raw';
import { api, authed, bodyOf, expectProblem, phoneUser, randomIp, randomPhone, raw, requestPhoneCode, verifyPhone, withVars } from './helpers';
import { scanOnly } from './log-guard';
import { db, sql } from './db';
import { Webhook } from 'standardwebhooks';
import { inject } from 'vitest';
import { TWILIO_SID, TWILIO_TOKEN, type TwilioMessage } from './fakes/twilio';
import type {} from './fakes/twilio-server'; // its inject('twilioBase') type

const SMS_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const WEBHOOK_VARS = { SMS_PROVIDER: 'webhook', SMS_WEBHOOK_URL: 'https://sms.example/send', SMS_WEBHOOK_SECRET: SMS_SECRET };
const TWILIO_BASE = inject('twilioBase');
const TWILIO_VARS = {
  SMS_PROVIDER: 'twilio',
  TWILIO_API_BASE: TWILIO_BASE,
  TWILIO_ACCOUNT_SID: TWILIO_SID,
  TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
  TWILIO_FROM: '+15005550006',
  TWILIO_MESSAGING_SERVICE_SID: '',
};

/** The messages the local Twilio server accepted for one number. */
async function twilioSent(to: string): Promise<TwilioMessage[]> {
  return (await fetch(`${TWILIO_BASE}/_sent?to=${encodeURIComponent(to)}`)).json();
}

/** Makes the local Twilio server answer this number with a Twilio error. */
async function twilioFail(to: string, f: { status: number; code: number; message: string }): Promise<void> {
  await fetch(`${TWILIO_BASE}/_fail`, { method: 'POST', body: JSON.stringify({ to, ...f }) });
}

async function sha256hex(text: string): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  return [...d].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Opens the per-phone send interval so a test can resend without waiting 60 s. */
async function openSendInterval(phone: string) {
  await db.run(sql`DELETE FROM rate_limits WHERE key = ${`phone:send:gap:${phone}`}`);
}

const wrongCode = (code: string) => (code.startsWith('0') ? '1' : '0').repeat(code.length);

/** The E.164 form of a test number (010-xxxx-xxxx → +8210xxxxxxxx). */
const normalised = (phone: string) => `+82${phone.replace(/-/g, '').slice(1)}`;

describe('POST /api/users/phone/login', () => {
  it('normalises to E.164 and answers a token, the verify URL and (console provider) dev_code', async () => {
    const body = await bodyOf(await api.users.phone.login.$post({ json: { phone: '010-2345-6789' } }), 200);
    expect(body.phone).toBe('+821023456789');
    expect(body.expires_in).toBe(300);
    expect(body.verification_token).toMatch(/^[A-Za-z0-9_-]{32,}$/); // 192 bits
    // The token goes in the body, never in a URL (access logs record URLs).
    expect(body.next).toBe('http://api.test/api/users/phone/verify');
    expect(body.dev_code).toMatch(/^\d{4}$/);
  });

  it('reads numbers with + in their own region', async () => {
    expect((await requestPhoneCode('+7 999 999-99-99')).phone).toBe('+79999999999');
  });

  it('stores only an HMAC of the code in KV (with a TTL) and only a hash of the token in D1', async () => {
    const body = await requestPhoneCode(randomPhone());
    const tokenHash = await sha256hex(body.verification_token);
    const stored = await env.PHONE_CODES.getWithMetadata(`phone-code:${tokenHash}`);
    expect(stored.value).toMatch(/^4:[0-9a-f]{64}$/); // the code length (what was sent) and the HMAC
    expect(stored.value).not.toContain(body.dev_code);
    const row = await db.first<{ phone: string; expires_at: number; created_at: number }>(
      sql`SELECT * FROM phone_verifications WHERE token_hash = ${tokenHash}`,
    );
    expect(row!.phone).toBe(body.phone);
    expect(row!.expires_at - row!.created_at).toBe(300_000);
    expect(JSON.stringify(row)).not.toContain(body.verification_token);
  });

  it('INVALID_PHONE for numbers that are not valid; INPUT_VALIDATION_ERROR without phone', async () => {
    for (const phone of ['abc', '123', '010-1234', '+1 555 0000', '+82 02 0000 0000']) {
      await expectProblem(await raw('/api/users/phone/login', { body: { phone } }), 400, 'INVALID_PHONE');
    }
    await expectProblem(await raw('/api/users/phone/login', { body: {} }), 400, 'INPUT_VALIDATION_ERROR');
  });

  it('one send per 60 s per phone → 429 with Retry-After and RateLimit headers', async () => {
    const phone = randomPhone();
    await requestPhoneCode(phone);
    const res = await raw('/api/users/phone/login', { body: { phone }, headers: { 'cf-connecting-ip': randomIp() } });
    await expectProblem(res, 429, 'RATE_LIMITED');
    const retry = Number(res.headers.get('retry-after'));
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(60);
    expect(res.headers.get('ratelimit-policy')).toBe('"phone-send-interval";q=1;w=60');
  });

  it('five sends per hour per phone', async () => {
    const phone = randomPhone();
    const e164 = (await requestPhoneCode(phone)).phone;
    for (let i = 1; i < 5; i++) {
      await openSendInterval(e164);
      await requestPhoneCode(phone);
    }
    await openSendInterval(e164);
    const res = await raw('/api/users/phone/login', { body: { phone }, headers: { 'cf-connecting-ip': randomIp() } });
    await expectProblem(res, 429, 'RATE_LIMITED');
    expect(res.headers.get('ratelimit-policy')).toBe('"phone-send-hour";q=5;w=3600');
  });

  it('fifty sends per hour per client address', async () => {
    const ip = randomIp();
    for (let i = 0; i < 50; i += 10) {
      const batch = await Promise.all(
        Array.from({ length: 10 }, () => raw('/api/users/phone/login', { body: { phone: randomPhone() }, headers: { 'cf-connecting-ip': ip } })),
      );
      expect(batch.map((r) => r.status)).toEqual(Array(10).fill(200));
    }
    const res = await raw('/api/users/phone/login', { body: { phone: randomPhone() }, headers: { 'cf-connecting-ip': ip } });
    await expectProblem(res, 429, 'RATE_LIMITED');
    expect(res.headers.get('ratelimit-policy')).toBe('"phone-send-address";q=50;w=3600');
  });

  // Strangers share one send budget per phone; the owner has its own, which they cannot spend
  // (SECURITY.md, "SMS pumping"). The owner is a requester from an address that logged into the
  // phone's account (a phone verify counts) or one signed in as that account.
  it("strangers spending a phone's send budget never block its owner: a known address or the owner's token has its own", async () => {
    const phone = randomPhone();
    const ownerIp = randomIp();
    const first = await requestPhoneCode(phone, ownerIp);
    const owner = await bodyOf(await verifyPhone(first.verification_token, first.dev_code, ownerIp), 200);
    const e164 = first.phone;
    // Before the verify no one owned the phone: that first send was a stranger's. Four more spend
    // the strangers' hour (the interval opened between them, and before the refused fifth).
    for (let i = 0; i < 4; i++) {
      await openSendInterval(e164);
      await requestPhoneCode(phone);
    }
    await openSendInterval(e164);
    const stranger = await raw('/api/users/phone/login', { body: { phone }, headers: { 'cf-connecting-ip': randomIp() } });
    await expectProblem(stranger, 429, 'RATE_LIMITED');
    expect(stranger.headers.get('ratelimit-policy')).toBe('"phone-send-hour";q=5;w=3600');
    // The owner's address still gets a code at once (within the strangers' 60 s interval too).
    const fromKnown = await requestPhoneCode(phone, ownerIp);
    expect((await verifyPhone(fromKnown.verification_token, fromKnown.dev_code, ownerIp)).status).toBe(200);
    // Signed in, from an address never seen: the owner's budget too (its own interval first).
    const signedIn = () => api.users.phone.login.$post({ json: { phone } }, authed(owner.token.access, { 'cf-connecting-ip': randomIp() }));
    const gap = await signedIn();
    await expectProblem(gap, 429, 'RATE_LIMITED');
    expect(gap.headers.get('ratelimit-policy')).toBe('"phone-send-interval-owner";q=1;w=60');
    await db.run(sql`DELETE FROM rate_limits WHERE key = ${`phone:send:gap:owner:${e164}`}`);
    expect((await signedIn()).status).toBe(200);
    // Another account's token is a stranger's request.
    const other = await phoneUser();
    const notOwner = await api.users.phone.login.$post({ json: { phone } }, authed(other.access, { 'cf-connecting-ip': randomIp() }));
    await expectProblem(notOwner, 429, 'RATE_LIMITED');
    // Neither pool spent the other's: 5 sends and 1 refusal by strangers, 2 sends by the owner.
    const count = async (key: string) => Number(await db.value(sql`SELECT count FROM rate_limits WHERE key = ${key}`, 'count'));
    expect(await count(`phone:send:hour:${e164}`)).toBe(6);
    expect(await count(`phone:send:hour:owner:${e164}`)).toBe(2);
  });

  it("the owner's budget is limited too: PHONE_SENDS_PER_HOUR from its known addresses and tokens together", async () => {
    const phone = randomPhone();
    const ownerIp = randomIp();
    const first = await requestPhoneCode(phone, ownerIp);
    expect((await verifyPhone(first.verification_token, first.dev_code, ownerIp)).status).toBe(200);
    for (let i = 0; i < 5; i++) {
      await db.run(sql`DELETE FROM rate_limits WHERE key = ${`phone:send:gap:owner:${first.phone}`}`);
      await requestPhoneCode(phone, ownerIp);
    }
    await db.run(sql`DELETE FROM rate_limits WHERE key = ${`phone:send:gap:owner:${first.phone}`}`);
    const res = await raw('/api/users/phone/login', { body: { phone }, headers: { 'cf-connecting-ip': ownerIp } });
    await expectProblem(res, 429, 'RATE_LIMITED');
    expect(res.headers.get('ratelimit-policy')).toBe('"phone-send-hour-owner";q=5;w=3600');
  });

  it('PHONE_CODE_LENGTH sets the number of digits', async () => {
    await withVars({ PHONE_CODE_LENGTH: '6' }, async () => {
      const body = await requestPhoneCode(randomPhone());
      expect(body.dev_code).toMatch(/^\d{6}$/);
      expect((await verifyPhone(body.verification_token, body.dev_code)).status).toBe(200);
    });
  });
});

describe('SMS providers', () => {
  it('webhook: POSTs {phone, code} signed with SMS_WEBHOOK_SECRET and never returns dev_code', async () => {
    const calls: { url: string; body: { phone: string; code: string }; raw: string; headers: Headers }[] = [];
    const spy = vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
      calls.push({ url: String(input), body: JSON.parse(String(init?.body)), raw: String(init?.body), headers: new Headers(init?.headers) });
      return new Response('ok', { status: 200 });
    });
    try {
      await withVars(WEBHOOK_VARS, async () => {
        const body = await bodyOf(await api.users.phone.login.$post({ json: { phone: '010-3456-7890' } }), 200);
        expect(body).not.toHaveProperty('dev_code');
        expect(JSON.stringify(body)).not.toContain(calls[0]!.body.code);
        expect(calls).toHaveLength(1);
        expect(calls[0]!.url).toBe('https://sms.example/send');
        expect(calls[0]!.body).toEqual({ phone: '+821034567890', code: expect.stringMatching(/^\d{4}$/) });
        // The receiver verifies the signature with the Standard Webhooks library; another secret does not.
        const headers = Object.fromEntries(calls[0]!.headers);
        expect(new Webhook(SMS_SECRET).verify(calls[0]!.raw, headers)).toEqual(calls[0]!.body);
        expect(() => new Webhook('whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA').verify(calls[0]!.raw, headers)).toThrow();
        expect(() => new Webhook(SMS_SECRET).verify(calls[0]!.raw.replace('+82', '+83'), headers)).toThrow();
        // The delivered code works.
        expect((await verifyPhone(body.verification_token, calls[0]!.body.code)).status).toBe(200);
      });
    } finally {
      spy.mockRestore();
    }
  });

  it('webhook failure (error status or network error) → 502 SMS_DELIVERY_FAILED, not a silent success', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(scanOnly);
    for (const failure of [async () => new Response('no', { status: 500 }), async () => Promise.reject(new TypeError('network down'))]) {
      const spy = vi.spyOn(globalThis, 'fetch').mockImplementation(failure);
      try {
        await withVars(WEBHOOK_VARS, async () => {
          const res = await raw('/api/users/phone/login', { body: { phone: randomPhone() } });
          const body = await expectProblem(res, 502, 'SMS_DELIVERY_FAILED');
          expect(body).not.toHaveProperty('dev_code');
        });
      } finally {
        spy.mockRestore();
      }
    }
    log.mockRestore();
  });

  // The console provider hands the code to whoever asks: anyone could log in as any phone user. It
  // works only where the worker knows it runs locally (LOCAL_DEVELOPMENT=true: .dev.vars, the
  // vitest config); anywhere else, and with no provider set (the shipped [vars]), no code is sent.
  it.each([
    ['console outside local development', { SMS_PROVIDER: 'console', LOCAL_DEVELOPMENT: 'false' }],
    ['console with the local flag unset', { SMS_PROVIDER: 'console', LOCAL_DEVELOPMENT: '' }],
    ['no provider (the deployed default)', { SMS_PROVIDER: '' }],
    ['an unknown provider', { SMS_PROVIDER: 'carrier-pigeon' }],
    ['webhook without its URL', { SMS_PROVIDER: 'webhook', SMS_WEBHOOK_URL: '', SMS_WEBHOOK_SECRET: SMS_SECRET }],
  ])('%s → 503 SMS_NOT_CONFIGURED: no dev_code, no code stored, no budget spent', async (_, vars) => {
    const log = vi.spyOn(console, 'error').mockImplementation(scanOnly);
    const phone = randomPhone();
    const ip = randomIp();
    try {
      await withVars(vars, async () => {
        const res = await raw('/api/users/phone/login', { body: { phone }, headers: { 'cf-connecting-ip': ip } });
        const body = await expectProblem(res, 503, 'SMS_NOT_CONFIGURED');
        expect(body).not.toHaveProperty('dev_code');
        expect(body).not.toHaveProperty('verification_token');
      });
      expect(log).toHaveBeenCalledWith(expect.stringContaining('SMS provider not configured'));
    } finally {
      log.mockRestore();
    }
    const e164 = normalised(phone);
    expect(await db.first(sql`SELECT 1 AS x FROM phone_verifications WHERE phone = ${e164}`)).toBeUndefined();
    const spent = await db.rows(sql`SELECT key FROM rate_limits WHERE key LIKE ${`phone:send:%${e164}`} OR key LIKE ${`phone:send:%${ip}`}`);
    expect(spent).toEqual([]);
    // The same phone gets its code at once when the worker runs locally again (nothing was spent).
    expect((await requestPhoneCode(phone, ip)).dev_code).toMatch(/^\d{4}$/);
  });

  it('webhook without SMS_WEBHOOK_SECRET is refused at startup: no request is served, nothing is sent unsigned', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(scanOnly);
    const spy = vi.spyOn(globalThis, 'fetch');
    try {
      await withVars({ ...WEBHOOK_VARS, SMS_WEBHOOK_SECRET: '' }, async () => {
        await expectProblem(await raw('/api/users/phone/login', { body: { phone: randomPhone() } }), 500, 'INTERNAL_ERROR');
        await expectProblem(await raw('/health'), 500, 'INTERNAL_ERROR');
      });
      expect(spy.mock.calls.filter(([u]) => String(u).startsWith('https://sms.example'))).toEqual([]);
      expect(log.mock.calls.some((args) => String(args[0]).includes('SMS_WEBHOOK_SECRET'))).toBe(true);
    } finally {
      spy.mockRestore();
      log.mockRestore();
    }
  });

  it('twilio: the Messages API call as Twilio documents it, to a local server checking form body and Basic auth; the code works', async () => {
    await withVars(TWILIO_VARS, async () => {
      const body = await bodyOf(await api.users.phone.login.$post({ json: { phone: '010-3456-7891' } }), 200);
      expect(body).not.toHaveProperty('dev_code');
      const sent = await twilioSent('+821034567891');
      expect(sent).toHaveLength(1);
      expect(sent[0]).toMatchObject({ to: '+821034567891', from: '+15005550006', messagingServiceSid: null });
      const code = /(\d{4})$/.exec(sent[0]!.body)![1]!;
      expect(JSON.stringify(body)).not.toContain(code);
      expect((await verifyPhone(body.verification_token, code)).status).toBe(200);
    });
    // With a Messaging Service instead of a number.
    await withVars({ ...TWILIO_VARS, TWILIO_FROM: '', TWILIO_MESSAGING_SERVICE_SID: 'MG0123456789abcdef0123456789abcdef' }, async () => {
      const phone = randomPhone();
      const body = await bodyOf(await api.users.phone.login.$post({ json: { phone } }), 200);
      expect(await twilioSent(body.phone)).toMatchObject([{ from: null, messagingServiceSid: 'MG0123456789abcdef0123456789abcdef' }]);
    });
  });

  it.each([
    ['an invalid number (400 21211)', { status: 400, code: 21211, message: "The 'To' number {to} is not a valid phone number." }],
    ['a blocked account (401 20003)', { status: 401, code: 20003, message: 'Authenticate' }],
    ['an outage (503)', { status: 503, code: 20500, message: 'Internal Server Error' }],
  ])('twilio error: %s → 502 SMS_DELIVERY_FAILED, no code, token or number in the answer or the log', async (_, failWith) => {
    const log = vi.spyOn(console, 'error').mockImplementation(scanOnly);
    try {
      await withVars(TWILIO_VARS, async () => {
        const phone = randomPhone();
        await twilioFail(normalised(phone), failWith);
        const res = await raw('/api/users/phone/login', { body: { phone } });
        const body = await expectProblem(res, 502, 'SMS_DELIVERY_FAILED');
        expect(JSON.stringify(body)).not.toMatch(new RegExp(`${failWith.code}|${TWILIO_TOKEN}|twilio`, 'i'));
        expect(await twilioSent(normalised(phone))).toEqual([]);
      });
      const lines = log.mock.calls.map((args) => args.map(String).join(' '));
      expect(lines.some((l) => l.includes('twilio refused the message') && l.includes(`"twilio_code":${failWith.code}`))).toBe(true);
      expect(lines.join('\n')).not.toContain(TWILIO_TOKEN);
      expect(lines.join('\n')).not.toContain(btoa(`${TWILIO_SID}:${TWILIO_TOKEN}`));
    } finally {
      log.mockRestore();
    }
  });

  it('twilio with a wrong auth token is refused by the server (it checks Basic auth): 502, nothing sent', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(scanOnly);
    try {
      await withVars({ ...TWILIO_VARS, TWILIO_AUTH_TOKEN: 'wrong-token' }, async () => {
        const phone = randomPhone();
        await expectProblem(await raw('/api/users/phone/login', { body: { phone } }), 502, 'SMS_DELIVERY_FAILED');
        expect(await twilioSent(normalised(phone))).toEqual([]);
      });
      expect(log.mock.calls.some((args) => String(args[0]).includes('"twilio_code":20003'))).toBe(true);
    } finally {
      log.mockRestore();
    }
  });

  it.each([
    ['no account SID', { TWILIO_ACCOUNT_SID: '' }, 'TWILIO_ACCOUNT_SID'],
    ['no auth token', { TWILIO_AUTH_TOKEN: '' }, 'TWILIO_AUTH_TOKEN'],
    ['no sender', { TWILIO_FROM: '', TWILIO_MESSAGING_SERVICE_SID: '' }, 'TWILIO_FROM'],
  ])('twilio with %s is refused at startup, naming the variable', async (_, vars, name) => {
    const log = vi.spyOn(console, 'error').mockImplementation(scanOnly);
    try {
      await withVars({ ...TWILIO_VARS, ...vars }, async () => {
        await expectProblem(await raw('/api/users/phone/login', { body: { phone: randomPhone() } }), 500, 'INTERNAL_ERROR');
      });
      expect(log.mock.calls.some((args) => String(args[0]).includes(name))).toBe(true);
    } finally {
      log.mockRestore();
    }
  });

  it('the shipped configuration sets no SMS provider and no local flag; npm run deploy refuses either', () => {
    const vars = wranglerToml.slice(wranglerToml.indexOf('[vars]'));
    expect(vars).not.toMatch(/^\s*SMS_PROVIDER\s*=\s*"console"/m);
    expect(vars).not.toMatch(/^\s*LOCAL_DEVELOPMENT\s*=/m);
    expect(deployProblems(wranglerToml)).toEqual([]);
    const withConsole = wranglerToml.replace('[vars]\n', '[vars]\nSMS_PROVIDER = "console"\n');
    expect(deployProblems(withConsole)).toEqual([expect.stringContaining('SMS_PROVIDER = "console"')]);
    const withFlag = wranglerToml.replace('[vars]\n', "[vars]\nLOCAL_DEVELOPMENT = 'true'\n");
    expect(deployProblems(withFlag)).toEqual([expect.stringContaining('LOCAL_DEVELOPMENT')]);
    // An environment's own [env.<name>.vars] is deployed too.
    const inEnv = `${wranglerToml}\n[env.staging.vars]\nSMS_PROVIDER="console"\n`;
    expect(deployProblems(inEnv)).toHaveLength(1);
    // A comment is not configuration.
    expect(deployProblems(`${wranglerToml}\n# SMS_PROVIDER = "console" only in .dev.vars\n`)).toEqual([]);
  });
});

describe('the verification token stays out of URLs', () => {
  it('POST /api/users/phone/verify takes the token in the body and logs in', async () => {
    const sent = await requestPhoneCode(randomPhone());
    const res = await api.users.phone.verify.$post({ json: { verification_token: sent.verification_token, confirm_code: sent.dev_code } });
    const body = await bodyOf(res, 200);
    expect(body).toMatchObject({ created: true, user: { phone: sent.phone } });
    expect(await db.first(sql`SELECT count(*) AS n FROM phone_verifications WHERE phone = ${sent.phone} AND used_at IS NOT NULL`)).toMatchObject({
      n: 1,
    });
  });

  it('a body without the token is a 400 naming it; an unknown token is VERIFICATION_EXPIRED', async () => {
    const missing = await expectProblem(await raw('/api/users/phone/verify', { body: { confirm_code: '1234' } }), 400, 'INPUT_VALIDATION_ERROR');
    expect(missing.errors?.map((e) => e.path)).toEqual(['verification_token']);
    const unknown = await raw('/api/users/phone/verify', { body: { verification_token: 'x'.repeat(32), confirm_code: '1234' } });
    await expectProblem(unknown, 400, 'VERIFICATION_EXPIRED');
  });

  it('the old path with the token in it still works, and is marked deprecated in OpenAPI with what to use instead', async () => {
    const sent = await requestPhoneCode(randomPhone());
    const res = await api.users.phone.verify[':verification_token'].$post({
      param: { verification_token: sent.verification_token },
      json: { confirm_code: sent.dev_code },
    });
    expect((await bodyOf(res, 200)).user.phone).toBe(sent.phone);
    const doc = (await (await raw('/openapi.json')).json()) as {
      paths: Record<string, Record<string, { deprecated?: boolean; description: string }>>;
    };
    const old = doc.paths['/api/users/phone/verify/{verification_token}']!.post!;
    expect(old.deprecated).toBe(true);
    expect(old.description).toContain('POST /api/users/phone/verify');
    expect(old.description).toMatch(/log/);
    expect(doc.paths['/api/users/phone/verify']!.post!.deprecated).toBeUndefined();
  });
});

describe('POST /api/users/phone/verify', () => {
  it('creates the user on first verify, logs in afterwards; tokens work like password login', async () => {
    const phone = randomPhone();
    const first = await requestPhoneCode(phone);
    const body = await bodyOf(await verifyPhone(first.verification_token, first.dev_code), 200);
    expect(body.created).toBe(true);
    expect(body.user).toMatchObject({ phone: first.phone, email: null, is_staff: false });
    expect(body.user.invite_referral_code).toMatch(/^[A-Za-z0-9]{6}$/);
    expect(body.token).toMatchObject({ token_type: 'Bearer', expires_in: 900 });
    expect((await bodyOf(await api.users.me.$get(undefined, authed(body.token.access)), 200)).phone).toBe(first.phone);

    await openSendInterval(first.phone);
    const again = await requestPhoneCode(phone);
    const second = await bodyOf(await verifyPhone(again.verification_token, again.dev_code), 200);
    expect(second.created).toBe(false);
    expect(second.user.id).toBe(body.user.id);

    // Logout works the same way.
    expect((await raw('/api/users/logout', { body: { refresh: body.token.refresh }, token: body.token.access })).status).toBe(204);
    await expectProblem(await raw('/api/users/me', { token: body.token.access }), 401, 'INVALID_TOKEN');
  });

  it('a token works once; unknown and expired tokens are VERIFICATION_EXPIRED', async () => {
    const sent = await requestPhoneCode(randomPhone());
    expect((await verifyPhone(sent.verification_token, sent.dev_code)).status).toBe(200);
    await expectProblem(await verifyPhone(sent.verification_token, sent.dev_code), 400, 'VERIFICATION_EXPIRED');
    await expectProblem(await verifyPhone('unknown-token', '1234'), 400, 'VERIFICATION_EXPIRED');

    const late = await requestPhoneCode(randomPhone());
    await db.run(sql`UPDATE phone_verifications SET expires_at = ${Date.now() - 1} WHERE token_hash = ${await sha256hex(late.verification_token)}`);
    await expectProblem(await verifyPhone(late.verification_token, late.dev_code), 400, 'VERIFICATION_EXPIRED');

    const gone = await requestPhoneCode(randomPhone());
    await env.PHONE_CODES.delete(`phone-code:${await sha256hex(gone.verification_token)}`); // KV TTL elapsed
    await expectProblem(await verifyPhone(gone.verification_token, gone.dev_code), 400, 'VERIFICATION_EXPIRED');
  });

  it('INVALID_CONFIRM_CODE counts down; after 5 wrong codes even the right one is TOO_MANY_ATTEMPTS', async () => {
    const sent = await requestPhoneCode(randomPhone());
    for (let i = 4; i >= 0; i--) {
      const body = await expectProblem(await verifyPhone(sent.verification_token, wrongCode(sent.dev_code)), 400, 'INVALID_CONFIRM_CODE');
      expect(body.remaining_attempts).toBe(i);
    }
    const res = await verifyPhone(sent.verification_token, sent.dev_code);
    await expectProblem(res, 429, 'TOO_MANY_ATTEMPTS');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(res.headers.get('ratelimit-policy')).toBe('"phone-verify";q=5;w=300');
  });

  it('40 concurrent wrong guesses: exactly 5 are judged', async () => {
    const sent = await requestPhoneCode(randomPhone());
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => verifyPhone(sent.verification_token, String(i).padStart(4, '9'))));
    const judged = results.filter((r) => r.status === 400);
    expect(judged).toHaveLength(5 - results.filter((r) => r.status === 200).length);
    expect(results.filter((r) => r.status === 429)).toHaveLength(35);
    const row = await db.first<{ attempts: number }>(
      sql`SELECT attempts FROM phone_verifications WHERE token_hash = ${await sha256hex(sent.verification_token)}`,
    );
    expect(row!.attempts).toBe(5);
  });

  it('concurrent right answers: exactly one logs in', async () => {
    const sent = await requestPhoneCode(randomPhone());
    const results = await Promise.all(Array.from({ length: 4 }, () => verifyPhone(sent.verification_token, sent.dev_code)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    for (const r of results.filter((r) => r.status !== 200)) await expectProblem(r, 400, 'VERIFICATION_EXPIRED');
    const users = await db.first<{ n: number }>(sql`SELECT count(*) AS n FROM users WHERE phone = ${sent.phone}`);
    expect(users!.n).toBe(1);
  });

  it('20 wrong short codes a day do not shut the phone out: its next code is 8 digits and logs in', async () => {
    const phone = randomPhone();
    let sent = await requestPhoneCode(phone);
    for (let round = 0; round < 4; round++) {
      if (round > 0) {
        await openSendInterval(sent.phone);
        sent = await requestPhoneCode(phone);
      }
      expect(sent.dev_code).toHaveLength(4);
      // Spread over addresses: no single address reaches its own daily budget.
      for (let i = 0; i < 5; i++) {
        await expectProblem(await verifyPhone(sent.verification_token, wrongCode(sent.dev_code), randomIp()), 400, 'INVALID_CONFIRM_CODE');
      }
    }
    await openSendInterval(sent.phone);
    const next = await requestPhoneCode(phone);
    expect(next.dev_code).toMatch(/^\d{8}$/);
    expect((await verifyPhone(next.verification_token, next.dev_code)).status).toBe(200);
  });

  it('the daily cap on short codes holds at verify: a live 4-digit code is no longer judged, even when right', async () => {
    const phone = randomPhone();
    const kept = await requestPhoneCode(phone);
    let sent = kept;
    for (let round = 0; round < 4; round++) {
      await openSendInterval(sent.phone);
      sent = await requestPhoneCode(phone);
      for (let i = 0; i < 5; i++)
        await expectProblem(await verifyPhone(sent.verification_token, wrongCode(sent.dev_code), randomIp()), 400, 'INVALID_CONFIRM_CODE');
    }
    const res = await verifyPhone(kept.verification_token, kept.dev_code, randomIp());
    await expectProblem(res, 429, 'RATE_LIMITED');
    expect(res.headers.get('ratelimit-policy')).toBe('"phone-failures";q=20;w=86400');
  });

  it('the daily cap is exact under concurrency: 5 live codes × 5 concurrent wrong guesses judge 20', async () => {
    const phone = randomPhone();
    const tokens: Awaited<ReturnType<typeof requestPhoneCode>>[] = [];
    for (let i = 0; i < 5; i++) {
      await openSendInterval(normalised(phone));
      tokens.push(await requestPhoneCode(phone));
    }
    const results = await Promise.all(
      tokens.flatMap((t) => Array.from({ length: 5 }, () => verifyPhone(t.verification_token, wrongCode(t.dev_code), randomIp()))),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 400)).toHaveLength(20);
    expect(statuses.filter((s) => s === 429)).toHaveLength(5);
  });

  it('one address gets 20 wrong codes a day per phone; others are not shut out', async () => {
    const phone = randomPhone();
    const attacker = randomIp();
    let sent = await requestPhoneCode(phone, attacker);
    for (let round = 0; round < 4; round++) {
      if (round > 0) {
        await openSendInterval(sent.phone);
        sent = await requestPhoneCode(phone, attacker);
      }
      for (let i = 0; i < 5; i++)
        await expectProblem(await verifyPhone(sent.verification_token, wrongCode(sent.dev_code), attacker), 400, 'INVALID_CONFIRM_CODE');
    }
    await openSendInterval(sent.phone);
    const refused = await raw('/api/users/phone/login', { body: { phone }, headers: { 'cf-connecting-ip': attacker } });
    await expectProblem(refused, 429, 'RATE_LIMITED');
    expect(refused.headers.get('ratelimit-policy')).toBe('"phone-failures-address";q=20;w=86400');
    const owner = await requestPhoneCode(phone, randomIp());
    expect((await verifyPhone(owner.verification_token, owner.dev_code, randomIp())).status).toBe(200);
  });

  it('INPUT_VALIDATION_ERROR for a code that is not 4–8 digits', async () => {
    const sent = await requestPhoneCode(randomPhone());
    for (const code of ['12a4', '123', '', '123456789']) {
      await expectProblem(await verifyPhone(sent.verification_token, code), 400, 'INPUT_VALIDATION_ERROR');
    }
  });

  it('a deactivated phone user cannot log in', async () => {
    const u = await phoneUser();
    await db.run(sql`UPDATE users SET is_active = 0 WHERE id = ${u.user.id}`);
    await openSendInterval(u.phone);
    const sent = await requestPhoneCode(u.phone);
    await expectProblem(await verifyPhone(sent.verification_token, sent.dev_code), 401, 'INVALID_CREDENTIALS');
  });
});

describe('code generation', () => {
  it('digits are uniform (CSPRNG with rejection sampling)', () => {
    const counts = Array(10).fill(0);
    for (const d of randomDigits(100_000)) counts[Number(d)] += 1;
    // Each digit expects 10,000; 5 standard deviations is about ±475.
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
  });
});
