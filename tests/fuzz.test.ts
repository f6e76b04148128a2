// Generated bad input over every operation of /openapi.json (see tests/fuzz/openapi-fuzz.ts).
// `npm test` runs a fixed-seed sample; `npm run test:fuzz` runs FUZZ_RUNS (10,000+) requests.
import { env } from 'cloudflare:workers';
import { expect, it } from 'vitest';
import { call, createUser } from './helpers';
import { fuzz, operations } from './fuzz/openapi-fuzz';

const vars = env as unknown as Record<string, string | undefined>;
const total = Number(vars.FUZZ_RUNS) || 600;
const seed = Number(vars.FUZZ_SEED) || 20261123;

it(`no generated request breaks the API (${total} requests, seed ${seed})`, { timeout: 60 * 60 * 1000 }, async () => {
  const doc = await (await call('/openapi.json')).json<any>();
  expect(operations(doc).length).toBeGreaterThan(10);
  const user = await createUser();
  const staff = await createUser({ staff: true });
  const sent = await fuzz(doc, { user: user.access, staff: staff.access }, total, seed);
  expect(sent).toBeGreaterThanOrEqual(total);
});
