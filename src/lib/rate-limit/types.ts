// What a rate limit is and what a request learnt of it: plain types, so the request context
// (src/context.ts) can hold the observations without importing the counters.
export interface Limit {
  /** Policy name shown in the RateLimit headers, e.g. "login-account". */
  name: string;
  key: string;
  max: number;
  windowSeconds: number;
}

export interface Hit {
  count: number;
  resetAt: number;
}

/** A limit as the request left it: what the headers report. */
export interface Observation {
  limit: Limit;
  hit: Hit;
}
