// The bottom layer: the bindings and the configuration (the request context is src/context.ts).
// The bindings' types are generated from wrangler.toml by `npm run types` (worker-configuration.d.ts;
// CI checks it is current); `[vars]` and the secrets are parsed once per unit of work by one zod
// schema, which holds the defaults and refuses what does not parse (see parseConfig).
import { z } from 'zod';
import { logLine } from './lib/log';
import { isSecretsKey } from './lib/secret-box';
import type { CommandMessage } from './modules/machines/message';
import type { RefundMessage } from './modules/payments/message';
import type { DeliveryMessage } from './modules/webhooks/message';

declare global {
  namespace Cloudflare {
    // Bindings that wrangler.toml does not declare, so `wrangler types` cannot know them.
    interface Env {
      /** Postgres through Hyperdrive: added by the Postgres runs (scripts, tests) and deploys. */
      HYPERDRIVE?: Hyperdrive;
      /** Tests only: another database on the Hyperdrive server (one per test file). */
      PG_DATABASE?: string;
      /** Secret (optional): `X-Operator-Key` with this value sees the readiness details (docs/operations.md). */
      OPERATOR_KEY?: string;
      /** `true` only on a developer's machine (.dev.vars, the test config): see Config.LOCAL_DEVELOPMENT. */
      LOCAL_DEVELOPMENT?: string;
    }
  }
}

/** wrangler.toml's bindings (generated), with what the generator cannot type. */
export interface Bindings extends Omit<Cloudflare.Env, 'MACHINE_QUEUE' | 'PAYMENT_QUEUE' | 'WEBHOOK_QUEUE' | 'PHONE_CODE_SECRET'> {
  /** The generated type has no message type. */
  MACHINE_QUEUE: Queue<CommandMessage>;
  /** Refunds whose answer was lost, retried (src/modules/payments/consumer.ts). */
  PAYMENT_QUEUE: Queue<RefundMessage>;
  /** Event webhook deliveries (src/modules/webhooks/delivery.ts). */
  WEBHOOK_QUEUE: Queue<DeliveryMessage>;
  /** Key of the one-time code hashes; falls back to JWT_SECRET when unset. */
  PHONE_CODE_SECRET?: string;
}

// No field `.catch()`es: an unparsable value is an error (parseConfig decides what it costs). A value
// that is unset or blank takes the field's default.
const count = (fallback: number) => z.coerce.number().int().min(0).default(fallback);
const positive = (fallback: number) => z.coerce.number().int().min(1).default(fallback);
const fraction = (fallback: number) => z.coerce.number().min(0).max(1).default(fallback);
const text = (fallback: string) => z.string().default(fallback);
const flag = (fallback: boolean) => z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]).default(fallback);

/**
 * Every tunable with its default, and the secrets. wrangler.toml [vars] repeats the defaults so a
 * deploy shows them; tests/config.test.ts fails when the two disagree.
 */
export const ConfigSchema = z.object({
  /** Secret: the HS256 key of every token, at least 32 characters. */
  JWT_SECRET: z.string().min(32, 'at least 32 characters'),
  /** Secret (optional): key of the one-time code hashes; unset, the JWT_SECRET is used. */
  PHONE_CODE_SECRET: z.string().optional(),
  /** Secret (optional): `X-Operator-Key` with this value sees the readiness details. */
  OPERATOR_KEY: z.string().optional(),
  /**
   * Secret: the AES-256-GCM key that seals stored signing secrets (src/lib/secret-box.ts), 32 random
   * bytes in base64. Required outside local development (see parseConfig).
   */
  SECRETS_KEY: z.string().refine(isSecretsKey, '32 bytes in base64 or base64url').optional(),
  /** `d1` (default) or `postgres` (through the HYPERDRIVE binding). */
  DB_BACKEND: z.enum(['d1', 'postgres']).default('d1'),
  JWT_ISSUER: text('edge-api'),
  JWT_AUDIENCE: text('edge-api'),
  ACCESS_TOKEN_TTL: count(900),
  REFRESH_TOKEN_TTL: count(1_209_600),
  LOGIN_WINDOW_SECONDS: count(900),
  LOGIN_MAX_FAILURES_PER_ACCOUNT: count(10),
  LOGIN_MAX_FAILURES_PER_ADDRESS: count(100),
  /** How long an address that logged into an account stays "known" (it may try past the account limit). */
  LOGIN_KNOWN_ADDRESS_DAYS: count(30),
  SIGNUPS_PER_ADDRESS_PER_HOUR: count(30),
  PHONE_CODE_TTL: count(300),
  PHONE_CODE_LENGTH: count(4),
  PHONE_MAX_ATTEMPTS: count(5),
  PHONE_SEND_INTERVAL_SECONDS: count(60),
  PHONE_SENDS_PER_HOUR: count(5),
  PHONE_SENDS_PER_ADDRESS_PER_HOUR: count(50),
  PHONE_MAX_FAILURES_PER_DAY: count(20),
  /** Digits of a phone's codes once its short-code budget of the day is spent (up to 8). */
  PHONE_ESCALATED_CODE_LENGTH: count(8),
  REFERRAL_GUESSES_PER_HOUR: count(10),
  MAX_BODY_BYTES: count(65_536),
  CORS_ORIGINS: text(''),
  /** Origin of absolute links (e.g. https://api.example.com); empty: the request's own origin. */
  PUBLIC_ORIGIN: text(''),
  CURRENCY: text('KRW'),
  DEFAULT_PHONE_REGION: text('KR'),
  /**
   * `twilio`, `webhook`, or `console` (logs the code and answers it as `dev_code`: local development
   * only, refused unless LOCAL_DEVELOPMENT). Unset: no provider, and phone codes answer 503.
   */
  SMS_PROVIDER: z.enum(['console', 'webhook', 'twilio']).optional(),
  SMS_WEBHOOK_URL: text(''),
  /** Secret (required with SMS_PROVIDER=webhook): the `whsec_…` secret that signs each SMS webhook. */
  SMS_WEBHOOK_SECRET: z
    .string()
    .regex(/^whsec_[A-Za-z0-9+/]{16,}={0,2}$/, 'a whsec_<base64> secret')
    .optional(),
  /** Twilio (SMS_PROVIDER=twilio): the Messages API's origin (tests point it at a local fake). */
  TWILIO_API_BASE: text('https://api.twilio.com'),
  TWILIO_ACCOUNT_SID: text(''),
  /** Secret (required with SMS_PROVIDER=twilio). */
  TWILIO_AUTH_TOKEN: z.string().optional(),
  /** The sender: a Twilio number (E.164), or leave empty and set TWILIO_MESSAGING_SERVICE_SID. */
  TWILIO_FROM: text(''),
  TWILIO_MESSAGING_SERVICE_SID: text(''),
  DASHBOARD_TIMEZONE: text('Asia/Seoul'),
  MACHINE_SIM_DELAY_MS: count(0),
  ALLOW_INSECURE_CONTROLLER_URLS: flag(false),
  /**
   * The worker runs on a developer's machine (set only by .dev.vars, which `wrangler deploy` never
   * uploads, and by the test config; `npm run deploy` refuses it in wrangler.toml). Nothing but this
   * flag lets the console SMS provider answer codes.
   */
  LOCAL_DEVELOPMENT: flag(false),
  /** Backoff of a controller that cannot be reached: base × 2^(attempt−1) seconds (0 in tests). */
  MACHINE_RETRY_BASE_SECONDS: count(2),
  MACHINE_CONTROLLER_TIMEOUT_MS: count(10_000),
  // The scheduled purge (docs/operations.md). Retention = days a row is kept after it ended.
  /** Sessions (refresh families) after they expired or were revoked (their revoke reason is audit). */
  SESSION_RETENTION_DAYS: count(30),
  /** Phone verification rows after they expired. */
  PHONE_VERIFICATION_RETENTION_DAYS: count(1),
  /** Idempotency records after they expired (24 h after their request). */
  IDEMPOTENCY_RETENTION_DAYS: count(0),
  /** Finished machine operations (command history users read): 0 keeps them forever. */
  MACHINE_HISTORY_RETENTION_DAYS: count(0),
  /** Rows one purge statement deletes at most. */
  PURGE_BATCH_SIZE: positive(1000),
  /** Statements one purge run sends at most (a free-plan invocation may make 50 D1 queries). */
  PURGE_MAX_STATEMENTS: positive(40),
  /** A purge run starts no statement after this long. */
  PURGE_TIME_BUDGET_MS: positive(20_000),
  /** Share of requests written to the request log (0..1); responses ≥ 500 are always logged. */
  REQUEST_LOG_SAMPLE_RATE: fraction(1),
  // Payments (contract 4.1; docs/payments-providers.md). A real provider needs all of its keys
  // (checkProviderKeys): it never falls back to `simulated`.
  /** `simulated` (no money moves), `stripe` or `portone`. */
  PAYMENT_PROVIDER: z.enum(['simulated', 'stripe', 'portone']).default('simulated'),
  /** How long a pending payment waits for the provider before the scheduled job expires it. */
  PAYMENT_PENDING_TTL_SECONDS: positive(1800),
  /** A provider call that takes longer than this counts as unanswered (its outcome unknown). */
  PAYMENT_PROVIDER_TIMEOUT_MS: positive(10_000),
  /** Origin of Stripe's API (a local fake in tests). */
  STRIPE_API_BASE: z.url().default('https://api.stripe.com'),
  /** Secret. */
  STRIPE_SECRET_KEY: z.string().optional(),
  STRIPE_PUBLISHABLE_KEY: z.string().optional(),
  /** Secret: the endpoint's signing secret (whsec_…). */
  STRIPE_WEBHOOK_SECRET: z.string().optional(),
  /** Origin of PortOne's API (a local fake in tests). */
  PORTONE_API_BASE: z.url().default('https://api.portone.io'),
  /** Secret: the V2 API secret. */
  PORTONE_API_SECRET: z.string().optional(),
  PORTONE_STORE_ID: z.string().optional(),
  /** JSON object: payment method → channel key (e.g. {"card":"channel-key-…","kakaopay":"channel-key-…"}). */
  PORTONE_CHANNEL_KEYS: z.string().optional(),
  /** Secret: the Standard Webhooks secret (whsec_…). */
  PORTONE_WEBHOOK_SECRET: z.string().optional(),
  /** Event webhook endpoints one user may have (409 TOO_MANY_ENDPOINTS past it). */
  WEBHOOK_ENDPOINTS_PER_USER: positive(10),
  /** One delivery attempt's time limit (a 2xx within it is success). */
  WEBHOOK_TIMEOUT_MS: positive(10_000),
  /** First retry delay of a failed delivery, doubled per attempt (capped at 12 h); 0 in tests. */
  WEBHOOK_RETRY_BASE_SECONDS: count(5),
  /** How long a delivery is retried, and how long an endpoint may fail before it is disabled. */
  WEBHOOK_RETRY_WINDOW_SECONDS: positive(259_200),
  /** Webhook events and their delivery log, days after they were fanned out (the scheduled purge). */
  WEBHOOK_RETENTION_DAYS: positive(30),
});

export type Config = z.output<typeof ConfigSchema>;

const PROVIDER_KEYS = {
  simulated: [],
  stripe: ['STRIPE_SECRET_KEY', 'STRIPE_PUBLISHABLE_KEY', 'STRIPE_WEBHOOK_SECRET'],
  portone: ['PORTONE_API_SECRET', 'PORTONE_STORE_ID', 'PORTONE_CHANNEL_KEYS', 'PORTONE_WEBHOOK_SECRET'],
} as const satisfies Record<Config['PAYMENT_PROVIDER'], (keyof Config)[]>;

/** The chosen payment provider's missing or malformed keys (nothing for `simulated`). */
function providerProblems(config: Config): Record<string, string> {
  const problems: Record<string, string> = {};
  for (const key of PROVIDER_KEYS[config.PAYMENT_PROVIDER]) {
    if (!config[key]) problems[key] = `required when PAYMENT_PROVIDER is ${config.PAYMENT_PROVIDER}`;
  }
  if (config.PAYMENT_PROVIDER === 'portone' && config.PORTONE_CHANNEL_KEYS && !portoneChannelKeys(config)) {
    problems.PORTONE_CHANNEL_KEYS = 'a JSON object of payment method → channel key';
  }
  return problems;
}

/** PORTONE_CHANNEL_KEYS parsed: payment method → channel key (null when it is not such an object). */
export function portoneChannelKeys(config: Pick<Config, 'PORTONE_CHANNEL_KEYS'>): Record<string, string> | null {
  try {
    const parsed: unknown = JSON.parse(config.PORTONE_CHANNEL_KEYS ?? '');
    const keys = z.record(z.string(), z.string().min(1)).safeParse(parsed);
    return keys.success ? keys.data : null;
  } catch {
    return null;
  }
}

/** The variables that do not parse, each with what is wrong (never its value: it may be a secret). */
export class ConfigError extends Error {
  constructor(readonly problems: Record<string, string>) {
    super(
      `invalid configuration: ${Object.entries(problems)
        .map(([key, issue]) => `${key} (${issue})`)
        .join(', ')}`,
    );
    this.name = 'ConfigError';
  }
}

/** A typo here must never quietly become the default, locally neither: `simulated` would take no money. */
const NEVER_DEFAULTED = new Set(['PAYMENT_PROVIDER']);

/** Variables already warned about in this isolate (by name and value), so a warning is not per request. */
const warned = new Set<string>();

/**
 * Parses `[vars]` and the secrets; unset or blank takes the default. A value that does not parse
 * throws a ConfigError naming every such variable, so a typo cannot quietly become the default in
 * production (the request answers 500 and its log line names them: docs/configuration.md). On a
 * developer's machine (LOCAL_DEVELOPMENT=true) it is logged as a warning and the default is used, as
 * before; a required secret has no default, so a missing or short one fails there too. Called once
 * per unit of work, not cached per isolate, so tests and overrides can change values between requests.
 */
export function parseConfig(env: Bindings): Config {
  const vars = Object.fromEntries(Object.keys(ConfigSchema.shape).map((key) => [key, blankToUndefined(env[key as keyof Bindings])]));
  const parsed = ConfigSchema.safeParse(vars);
  if (parsed.success) return withRequiredSecrets(parsed.data);
  const problems = Object.fromEntries(parsed.error.issues.map((issue) => [String(issue.path[0]), issue.message]));
  const local = vars.LOCAL_DEVELOPMENT === true || vars.LOCAL_DEVELOPMENT === 'true';
  // A field without a default (a required secret) has nothing to fall back to, even locally.
  const shape: Record<string, z.ZodType> = ConfigSchema.shape;
  const withoutDefault = Object.keys(problems).some((key) => !shape[key]?.safeParse(undefined).success || NEVER_DEFAULTED.has(key));
  if (!local || 'LOCAL_DEVELOPMENT' in problems || withoutDefault) throw new ConfigError(problems);
  for (const [key, issue] of Object.entries(problems)) {
    const seen = `${key}\n${String(vars[key])}`;
    if (warned.has(seen)) continue;
    warned.add(seen);
    logLine('warn', 'invalid configuration value; the default is used (local development only)', { variable: key, issue });
  }
  return withRequiredSecrets(ConfigSchema.parse({ ...vars, ...Object.fromEntries(Object.keys(problems).map((key) => [key, undefined])) }));
}

/**
 * Secrets that other settings make required, refused like a value that does not parse, in local
 * development too: a real payment provider without its keys never falls back to simulated; signed
 * messages are never sent unsigned (contract section 8); a deployed worker never runs without the
 * key that seals stored secrets.
 */
function withRequiredSecrets(config: Config): Config {
  const problems = { ...providerProblems(config), ...missingSecrets(config) };
  if (Object.keys(problems).length > 0) throw new ConfigError(problems);
  return config;
}

function missingSecrets(cfg: Config): Record<string, string> {
  const out: Record<string, string> = {};
  if (!cfg.SECRETS_KEY && !cfg.LOCAL_DEVELOPMENT) out.SECRETS_KEY = 'required outside local development';
  if (cfg.SMS_PROVIDER === 'webhook' && !cfg.SMS_WEBHOOK_SECRET)
    out.SMS_WEBHOOK_SECRET = 'required with SMS_PROVIDER=webhook (unsigned sending is refused)';
  if (cfg.SMS_PROVIDER === 'twilio') {
    if (!cfg.TWILIO_ACCOUNT_SID) out.TWILIO_ACCOUNT_SID = 'required with SMS_PROVIDER=twilio';
    if (!cfg.TWILIO_AUTH_TOKEN) out.TWILIO_AUTH_TOKEN = 'required with SMS_PROVIDER=twilio';
    if (!cfg.TWILIO_FROM && !cfg.TWILIO_MESSAGING_SERVICE_SID)
      out.TWILIO_FROM = 'TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID is required with SMS_PROVIDER=twilio';
  }
  return out;
}

const blankToUndefined = (v: unknown) => (v === '' || v === null ? undefined : v);
