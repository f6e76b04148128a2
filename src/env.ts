// Bindings, per-request variables, and the typed configuration read from wrangler `[vars]`.
import type { AuthContext } from './lib/auth';

export interface Bindings {
  DB: D1Database;
  JWT_SECRET: string;
  USER_LEDGER: DurableObjectNamespace<import('./modules/payments/user-ledger').UserLedger>;
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
  JWT_ISSUER: 'edge-api',
  JWT_AUDIENCE: 'edge-api',
  ACCESS_TOKEN_TTL: 900,
  REFRESH_TOKEN_TTL: 1_209_600,
  LOGIN_WINDOW_SECONDS: 900,
  LOGIN_MAX_FAILURES_PER_ACCOUNT: 10,
  LOGIN_MAX_FAILURES_PER_ADDRESS: 100,
  SIGNUPS_PER_ADDRESS_PER_HOUR: 30,
  PHONE_CODE_TTL: 300,
  PHONE_CODE_LENGTH: 4,
  PHONE_MAX_ATTEMPTS: 5,
  PHONE_SEND_INTERVAL_SECONDS: 60,
  PHONE_SENDS_PER_HOUR: 5,
  PHONE_SENDS_PER_ADDRESS_PER_HOUR: 50,
  PHONE_MAX_FAILURES_PER_DAY: 20,
  MAX_BODY_BYTES: 65_536,
  CORS_ORIGINS: '',
  CURRENCY: 'KRW',
  DEFAULT_PHONE_REGION: 'KR',
  SMS_PROVIDER: 'console',
  SMS_WEBHOOK_URL: '',
  DASHBOARD_TIMEZONE: 'Asia/Seoul',
  MACHINE_SIM_DELAY_MS: 0,
  ALLOW_INSECURE_CONTROLLER_URLS: false,
};

export type Config = typeof DEFAULTS;

const cache = new WeakMap<object, Config>();

/** Parses `[vars]` once per env object; a missing or unparsable value falls back to its default. */
export function config(env: Bindings): Config {
  let cfg = cache.get(env);
  if (cfg) return cfg;
  const out: Record<string, unknown> = {};
  for (const [key, fallback] of Object.entries(DEFAULTS)) {
    const raw = env[key];
    if (raw === undefined || raw === null || raw === '') out[key] = fallback;
    else if (typeof fallback === 'number') {
      const n = Number(raw);
      out[key] = Number.isFinite(n) && n >= 0 ? n : fallback;
    } else if (typeof fallback === 'boolean') out[key] = raw === true || raw === 'true';
    else out[key] = String(raw);
  }
  cfg = out as Config;
  cache.set(env, cfg);
  return cfg;
}
