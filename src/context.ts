// What a unit of work carries, one layer above the store: the Ctx handed to services and the
// request's Hono variables. The bindings and the configuration below it are src/env.ts.
import type { UserRow } from './db/schema';
import type { Store } from './db/store';
import type { Bindings, Config } from './env';
import type { Lang } from './lib/i18n';
import type { Observation } from './lib/rate-limit/types';

/**
 * What a unit of work (a request, a Durable Object call, a queue batch) hands to services: its one
 * store, its parsed configuration, and the bindings that are not the database (KV, Durable Objects,
 * the queue, secrets).
 */
export interface Ctx {
  readonly store: Store;
  readonly config: Config;
  readonly env: Bindings;
  /** The rate limits this request consulted (a request's only; reported in RateLimit headers). */
  readonly limits?: Map<string, Observation>;
  /**
   * Work to run after the response, on this unit's own store, before it closes (a request's only;
   * lib/unit-of-work.ts afterResponse): e.g. fanning out the events its write added, without opening
   * another connection.
   */
  readonly after?: ((ctx: Ctx) => Promise<unknown>)[];
}

/** The caller of an authenticated request (set by the bearer middleware, src/modules/accounts/auth.ts). */
export interface AuthContext {
  user: UserRow;
  sessionId: string;
  /** The access token's `exp` (seconds), where the middleware read it (a /live socket ends then). */
  tokenExp?: number;
}

export interface Variables {
  requestId: string;
  lang: Lang;
  auth: AuthContext;
  ctx: Ctx;
}

export type AppEnv = { Bindings: Bindings; Variables: Variables };
