import { afterEach, beforeEach, type MockInstance, vi } from 'vitest';
// The log guard: no log line of the whole suite may carry a secret. tests/setup.ts wraps console.*
// for every test file, and a test that made any line (the worker's, a Durable Object's, a queue
// consumer's or its own) carry a JWT, a bearer credential, a test password, a one-time code, a full
// phone number, a `whsec_…` signing secret or a secret-named field fails in its afterEach. Tests that silence console.error
// pass `scanOnly` as the mock implementation, so what they hide is still checked.
//
// One exemption, by `msg` and only for the code rule: the console SMS provider (development only,
// src/modules/phone/sms.ts) prints the code on purpose, as the API returns it as `dev_code`.

/** Passwords the tests use (helpers.ts PASSWORD, and the ones tests type by hand). */
const TEST_PASSWORDS = [
  'correct horse battery staple',
  'correct horse battery',
  'a brand new password',
  'whatever password',
  'a long admin password',
];

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export const RULES: [rule: string, pattern: RegExp][] = [
  ['JWT', /eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}/],
  ['bearer credential', /\bBearer\s+[\w.~+/=-]{12,}/i],
  ['test password', new RegExp(TEST_PASSWORDS.map(escapeRegExp).join('|'), 'i')],
  ['one-time code', /"(?:code|confirm_code|dev_code|otp)"\s*:\s*"?\d{4,8}\b/i],
  ['phone number', /\+\d{9,15}\b|\b01[016789]-?\d{3,4}-?\d{4}\b/],
  // Signing secrets (controller, SMS webhook and webhook endpoint secrets: src/lib/signing.ts).
  ['signing secret', /whsec_[A-Za-z0-9+/=]{8,}/],
  // Payment providers: API keys, webhook secrets and a PaymentIntent's client secret.
  ['payment provider secret', /\b(?:sk|rk)_(?:test|live)_\w+|\bwhsec_[\w+/=]+|\bpi_\w+_secret_\w+/],
  [
    'secret field',
    /"(?:password|password_check|current_password|access|refresh|access_token|refresh_token|verification_token|authorization|confirm_code)"\s*:/i,
  ],
];

/** The msg of the one line allowed to hold a code (see the top of this file). */
const CODE_EXEMPT_MSG = 'sms (console provider)';

function msgOf(line: string): string | undefined {
  try {
    return (JSON.parse(line) as { msg?: string }).msg;
  } catch {
    return undefined;
  }
}

/** The rules a log line breaks (empty: a clean line). */
export function violations(line: string): string[] {
  const exempt = msgOf(line) === CODE_EXEMPT_MSG;
  return RULES.filter(([rule, pattern]) => !(exempt && rule === 'one-time code') && pattern.test(line)).map(([rule]) => rule);
}

const text = (args: unknown[]) =>
  args
    .map((a) => {
      if (typeof a === 'string') return a;
      if (a instanceof Error) return `${a.name}: ${a.message}\n${a.stack ?? ''}`;
      try {
        return JSON.stringify(a);
      } catch {
        return String(a);
      }
    })
    .join(' ');

// On globalThis, not in this module: the wrapper must be installed once per isolate even if test
// files re-evaluate this module in it.
const state = ((globalThis as { __logGuard?: { found: string[]; lines: number; installed: boolean } }).__logGuard ??= {
  found: [],
  lines: 0,
  installed: false,
});

/** Checks one console call's arguments; a bad line is kept for the current test's afterEach. */
export function scan(args: unknown[]): void {
  state.lines += 1;
  const line = text(args);
  const broken = violations(line);
  if (broken.length > 0) state.found.push(`${broken.join(', ')}: ${line.slice(0, 300)}`);
}

/** A console mock that prints nothing but still checks (use instead of `() => {}`). */
export const scanOnly = (...args: unknown[]): void => scan(args);

/** Wraps console.log/info/warn/error/debug: every line is scanned, then printed as before. */
export function installLogGuard(): void {
  if (state.installed) return;
  state.installed = true;
  const target = console as unknown as Record<string, (...args: unknown[]) => void>;
  for (const method of ['log', 'info', 'warn', 'error', 'debug']) {
    const original = target[method]!.bind(console);
    target[method] = (...args: unknown[]) => {
      scan(args);
      original(...args);
    };
  }
}

/** The bad lines seen since the last call (and forgets them); how many lines were scanned in all. */
export function takeFindings(): { found: string[]; lines: number } {
  return { found: state.found.splice(0), lines: state.lines };
}

/**
 * For a describe block whose faults log on purpose (retries, timeouts, a failing purge): those
 * console lines are still checked by the guard but not printed, so a passing run shows no error
 * lines and an unexpected one elsewhere stands out.
 */
export function quietExpectedLogs(methods: ('log' | 'warn' | 'error')[] = ['warn', 'error']): void {
  let spies: MockInstance[] = [];
  beforeEach(() => {
    spies = methods.map((m) => vi.spyOn(console, m).mockImplementation(scanOnly));
  });
  afterEach(() => {
    for (const spy of spies) spy.mockRestore();
  });
}
