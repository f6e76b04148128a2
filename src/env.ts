// Bindings, per-request variables, and the typed configuration read from wrangler `[vars]`.
import type { AuthContext } from './lib/auth';

export interface Bindings {
  DB: D1Database;
  PHONE_CODES: KVNamespace;
  JWT_SECRET: string;
  /** Key of the one-time code hashes; falls back to JWT_SECRET when unset. */
  PHONE_CODE_SECRET?: string;
  MACHINE: DurableObjectNamespace<import('./modules/machines/machine.do').MachineDO>;
  MACHINE_QUEUE: Queue<import('./modules/machines/consumer').CommandMessage>;
  USER_LEDGER: DurableObjectNamespace<import('./modules/payments/user-ledger').UserLedger>;
  /** Postgres through Hyperdrive, used when DB_BACKEND = postgres. */
  HYPERDRIVE?: Hyperdrive;
  /** Tests only: another database on the Hyperdrive server (one per test file). */
  PG_DATABASE?: string;
  [name: string]: unknown;
}

declare global {
  namespace Cloudflare {
    interface Env extends Bindings {}
    interface GlobalProps {
      mainModule: typeof import('./index');
    }
  }
}

export interface Variables {
  requestId: string;
  lang: Lang;
  auth: AuthContext;
}

export type Lang = 'en' | 'ko' | 'ru';
export type AppEnv = { Bindings: Bindings; Variables: Variables };

/** Every tunable of the contract's section 8 (and the others), with its default. */
const DEFAULTS = {
  /** `d1` (default) or `postgres` (through the HYPERDRIVE binding). */
  DB_BACKEND: 'd1',
  JWT_ISSUER: 'edge-api',
  JWT_AUDIENCE: 'edge-api',
  ACCESS_TOKEN_TTL: 900,
  REFRESH_TOKEN_TTL: 1_209_600,
  LOGIN_WINDOW_SECONDS: 900,
  LOGIN_MAX_FAILURES_PER_ACCOUNT: 10,
  LOGIN_MAX_FAILURES_PER_ADDRESS: 100,
  /** How long an address that logged into an account stays "known" (it may try past the account limit). */
  LOGIN_KNOWN_ADDRESS_DAYS: 30,
  SIGNUPS_PER_ADDRESS_PER_HOUR: 30,
  PHONE_CODE_TTL: 300,
  PHONE_CODE_LENGTH: 4,
  PHONE_MAX_ATTEMPTS: 5,
  PHONE_SEND_INTERVAL_SECONDS: 60,
  PHONE_SENDS_PER_HOUR: 5,
  PHONE_SENDS_PER_ADDRESS_PER_HOUR: 50,
  PHONE_MAX_FAILURES_PER_DAY: 20,
  /** Digits of a phone's codes once its short-code budget of the day is spent (up to 8). */
  PHONE_ESCALATED_CODE_LENGTH: 8,
  REFERRAL_GUESSES_PER_HOUR: 10,
  MAX_BODY_BYTES: 65_536,
  CORS_ORIGINS: '',
  /** Origin of absolute links (e.g. https://api.example.com); empty: the request's own origin. */
  PUBLIC_ORIGIN: '',
  CURRENCY: 'KRW',
  DEFAULT_PHONE_REGION: 'KR',
  SMS_PROVIDER: 'console',
  SMS_WEBHOOK_URL: '',
  DASHBOARD_TIMEZONE: 'Asia/Seoul',
  MACHINE_SIM_DELAY_MS: 0,
  ALLOW_INSECURE_CONTROLLER_URLS: false,
  /** Backoff of a controller that cannot be reached: base × 2^(attempt−1) seconds (0 in tests). */
  MACHINE_RETRY_BASE_SECONDS: 2,
  MACHINE_CONTROLLER_TIMEOUT_MS: 10_000,
};

export type Config = typeof DEFAULTS;

function parse(raw: unknown, fallback: string | number | boolean): unknown {
  if (raw === undefined || raw === null || raw === '') return fallback;
  if (typeof fallback === 'number') {
    const n = Number(raw);
    return Number.isFinite(n) && n >= 0 ? n : fallback;
  }
  if (typeof fallback === 'boolean') return raw === true || raw === 'true';
  return String(raw);
}

/** A view of `[vars]` that parses a value when it is read (a list view reads one per row). */
class ConfigView {
  constructor(readonly env: Bindings) {}
}
for (const [key, fallback] of Object.entries(DEFAULTS)) {
  Object.defineProperty(ConfigView.prototype, key, {
    get(this: ConfigView) {
      return parse(this.env[key], fallback);
    },
  });
}

/**
 * Reads `[vars]`; a missing or unparsable value falls back to its default. Values are read live
 * (not cached per isolate) so that tests and overrides can change them per request.
 */
export function config(env: Bindings): Config {
  return new ConfigView(env) as unknown as Config;
}

/**
 * An env for one unit of work: the shared one with some bindings replaced (e.g. `DB` by a
 * request-scoped wrapper). defineProperty on a child object, not assignment: an inherited setter
 * would write through to the shared env.
 */
export function scopedEnv<E extends Bindings>(env: E, replace: Record<PropertyKey, unknown>): E {
  const scoped = Object.create(env) as E;
  for (const key of Reflect.ownKeys(replace)) {
    Object.defineProperty(scoped, key, { value: replace[key as keyof typeof replace], enumerable: typeof key === 'string' });
  }
  return scoped;
}
