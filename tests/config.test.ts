// The configuration fails loudly: a value that does not parse is an error outside local development
// (the request answers 500 and the log line names the variable) and a warning on a developer's
// machine; wrangler.toml's [vars] repeat the schema's defaults and must agree with them.
import { env } from 'cloudflare:test';
import { describe, expect, it, vi } from 'vitest';
import wranglerToml from '../wrangler.toml?raw';
import { type Bindings, ConfigError, ConfigSchema, parseConfig } from '../src/env';
import { expectProblem, raw, withVars } from './helpers';
import { scanOnly } from './log-guard';

/** `KEY = "value"` lines of wrangler.toml's top-level [vars] table. */
function wranglerVars(): Record<string, string> {
  const table = /^\[vars\]\n([\s\S]*?)(?=^\[)/m.exec(wranglerToml)?.[1] ?? '';
  return Object.fromEntries([...table.matchAll(/^([A-Z_]+)\s*=\s*"([^"]*)"/gm)].map((m) => [m[1]!, m[2]!]));
}

/** Console lines written while fn runs (console.warn and console.error, silenced but still guarded). */
async function logged<T>(fn: () => Promise<T>): Promise<{ value: T; lines: string[] }> {
  const spies = (['warn', 'error'] as const).map((m) => vi.spyOn(console, m).mockImplementation(scanOnly));
  try {
    const value = await fn();
    return { value, lines: spies.flatMap((s) => s.mock.calls.map((args) => args.map(String).join(' '))) };
  } finally {
    for (const s of spies) s.mockRestore();
  }
}

const bindings = (vars: Record<string, string>) => ({ ...env, ...vars }) as Bindings;

describe('configuration', () => {
  it("wrangler.toml's [vars] are the schema's defaults, and every tunable is there", () => {
    const vars = wranglerVars();
    expect(Object.keys(vars).length).toBeGreaterThan(30);
    const shape: Record<string, (typeof ConfigSchema.shape)[keyof typeof ConfigSchema.shape]> = ConfigSchema.shape;
    for (const [key, value] of Object.entries(vars)) {
      expect(shape[key], `${key} is in wrangler.toml but not in the schema`).toBeDefined();
      expect(shape[key]!.parse(value === '' ? undefined : value), key).toEqual(shape[key]!.parse(undefined));
    }
    // Secrets live in `wrangler secret put`; LOCAL_DEVELOPMENT only in .dev.vars (deploy refuses it).
    const elsewhere = [
      'JWT_SECRET',
      'PHONE_CODE_SECRET',
      'OPERATOR_KEY',
      'LOCAL_DEVELOPMENT',
      'SECRETS_KEY',
      'SMS_WEBHOOK_SECRET',
      'TWILIO_AUTH_TOKEN',
      'STRIPE_SECRET_KEY',
      'STRIPE_WEBHOOK_SECRET',
      'PORTONE_API_SECRET',
      'PORTONE_WEBHOOK_SECRET',
    ];
    expect(Object.keys(shape).filter((k) => !(k in vars) && !elsewhere.includes(k))).toEqual([]);
  });

  it('outside local development a typo fails, naming the variable (never its value)', () => {
    const vars = { LOCAL_DEVELOPMENT: 'false', ACCESS_TOKEN_TTL: '9OO', SMS_PROVIDER: 'consol' };
    const err = (() => {
      try {
        parseConfig(bindings(vars));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(Object.keys((err as ConfigError).problems).sort()).toEqual(['ACCESS_TOKEN_TTL', 'SMS_PROVIDER']);
    expect((err as ConfigError).message).toContain('ACCESS_TOKEN_TTL');
    expect((err as ConfigError).message).not.toContain('9OO');
  });

  it('a required secret that is missing or short fails, in local development too (it has no default)', () => {
    for (const LOCAL_DEVELOPMENT of ['false', 'true']) {
      for (const JWT_SECRET of ['', 'short']) {
        expect(() => parseConfig(bindings({ LOCAL_DEVELOPMENT, JWT_SECRET }))).toThrow(ConfigError);
        expect(() => parseConfig(bindings({ LOCAL_DEVELOPMENT, JWT_SECRET }))).toThrow(/JWT_SECRET/);
      }
    }
  });

  it('SECRETS_KEY is required outside local development, and must be 32 bytes of base64', () => {
    expect(() => parseConfig(bindings({ LOCAL_DEVELOPMENT: 'false', SECRETS_KEY: '' }))).toThrow(
      /SECRETS_KEY \(required outside local development\)/,
    );
    expect(parseConfig(bindings({ LOCAL_DEVELOPMENT: 'true', SECRETS_KEY: '' })).SECRETS_KEY).toBeUndefined();
    expect(() => parseConfig(bindings({ LOCAL_DEVELOPMENT: 'false', SECRETS_KEY: 'too-short' }))).toThrow(/SECRETS_KEY \(32 bytes/);
    expect(parseConfig(bindings({ LOCAL_DEVELOPMENT: 'false', SECRETS_KEY: btoa('k'.repeat(32)) })).SECRETS_KEY).toBe(btoa('k'.repeat(32)));
  });

  it('an invalid LOCAL_DEVELOPMENT is not local development', () => {
    expect(() => parseConfig(bindings({ LOCAL_DEVELOPMENT: 'yes' }))).toThrow(/LOCAL_DEVELOPMENT/);
  });

  it('a request under an invalid config answers 500 and its log line names the variable', async () => {
    const { value: res, lines } = await logged(() => withVars({ LOCAL_DEVELOPMENT: 'false', MAX_BODY_BYTES: '64k' }, () => raw('/health')));
    await expectProblem(res, 500, 'INTERNAL_ERROR');
    expect(lines.some((l) => l.includes('"unhandled error"') && l.includes('MAX_BODY_BYTES'))).toBe(true);
  });

  it('in local development a typo is a warning naming the variable, and the default is used', async () => {
    const { value: res, lines } = await logged(() => withVars({ PHONE_CODE_TTL: '5 minutes' }, () => raw('/health')));
    expect(res.status).toBe(200);
    expect(lines.some((l) => l.includes('"warn"') && l.includes('PHONE_CODE_TTL'))).toBe(true);
    expect(parseConfig(bindings({ PHONE_CODE_TTL: '5 minutes' })).PHONE_CODE_TTL).toBe(300);
  });
});
