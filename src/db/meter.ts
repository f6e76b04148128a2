// Round trips to storage, counted where they leave the worker: a D1 call (a batch or one statement),
// a statement sent to Postgres (BEGIN, advisory locks and COMMIT included), a new Postgres
// connection, and a Durable Object call. Nothing is counted unless a sink is set: the tests set one
// (tests/trips.ts) to pin every route's counts (docs/performance.md, "Round trips per request"); in
// production each meter() is one null check and metered() hands the stub back as it is.
export type Trip = 'd1' | 'pg' | 'pg-connect' | 'do';

let sink: ((trip: Trip) => void) | null = null;

/** Where the counts go (null: nowhere). */
export function setTripSink(next: ((trip: Trip) => void) | null): void {
  sink = next;
}

export function meter(trip: Trip): void {
  sink?.(trip);
}

/** A Durable Object stub whose calls (RPC methods and fetch) are metered while a sink is set. */
export function metered<T extends object>(stub: T): T {
  if (!sink) return stub;
  return new Proxy(stub, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (typeof value !== 'function' || prop === 'then') return value;
      // Called as a method of the stub itself: on an RPC stub `value.apply` would be a remote method.
      return (...args: unknown[]) => {
        meter('do');
        return (target as Record<PropertyKey, (...a: unknown[]) => unknown>)[prop]!(...args);
      };
    },
  });
}
