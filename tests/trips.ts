// Round trips per request (issue 26): what one request costs in storage calls that leave the worker,
// counted by src/db/meter.ts while a sink is set. The worker, its Durable Objects and this test run
// in one isolate, so one sink sees them all: a Durable Object's own database calls count for the
// request that called it.
import { setTripSink, type Trip } from '../src/db/meter';

export interface Trips {
  /** Database round trips: D1 calls (a batch is one) or Postgres statements (BEGIN/locks/COMMIT included). */
  db: number;
  /** New Postgres connections (one per unit of work that touches the database; 0 on D1). */
  connect: number;
  /** Durable Object calls (RPC or fetch). */
  do: number;
}

const empty = (): Trips => ({ db: 0, connect: 0, do: 0 });
let current = empty();
let last = 0;

const KEY: Record<Trip, keyof Trips> = { d1: 'db', pg: 'db', 'pg-connect': 'connect', do: 'do' };

setTripSink((trip) => {
  current[KEY[trip]] += 1;
  last = Date.now();
});

/** Waits until no trip has been counted for `idleMs` (work a previous request left behind: queues, waitUntil). */
export async function quiet(idleMs = 150, maxMs = 5_000): Promise<void> {
  const started = Date.now();
  last = Date.now();
  while (Date.now() - last < idleMs && Date.now() - started < maxMs) await new Promise((r) => setTimeout(r, 25));
}

/**
 * The trips of one request: counted from the call until its response and body have arrived
 * (what the caller waits for; work after the response, such as a queue consumer, is not included).
 */
export async function tripsOf(request: () => Promise<Response>): Promise<{ res: Response; body: string; trips: Trips }> {
  await quiet();
  current = empty();
  const res = await request();
  const body = res.status === 101 ? '' : await res.text();
  const trips = current;
  current = empty();
  return { res, body, trips };
}
