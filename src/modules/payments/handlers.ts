import type { Context } from 'hono';
import type { AppEnv } from '../../env';
import { router } from '../../lib/openapi';
import { ApiError } from '../../lib/problem';
import { KINDS, type KindConfig } from '../catalog/kinds';
import { requestHash, type LedgerResult } from './idempotency';
import { cancelRoute, historyRoute, paymentRoute, registrationRoutes } from './routes';
import * as service from './service';
import { ledger } from './user-ledger';
import { requestUrl } from '../../lib/links';

async function idempotencyOf(c: Context<AppEnv>, key: string | undefined, body: unknown) {
  return key === undefined ? undefined : { key, hash: await requestHash(c.req.method, c.req.path, body) };
}

/** A ledger result as the HTTP answer: problem codes are thrown like everywhere else. */
function unwrap(c: Context<AppEnv>, r: LedgerResult): unknown {
  if (r.replayed) c.header('Idempotent-Replayed', 'true');
  if (r.code) throw new ApiError(r.code, { extras: r.extras });
  return r.body;
}

function registrationRouter(k: KindConfig) {
  const r = registrationRoutes(k);
  const app = router();

  app.openapi(r.register, async (c) => {
    const input = c.req.valid('json');
    const userId = c.get('auth').user.id;
    const idem = await idempotencyOf(c, c.req.valid('header')['idempotency-key'], input);
    const result = await ledger(c.env, userId).run({ op: 'register', kind: k.kind, userId, itemId: c.req.valid('param').id, input }, idem);
    return c.json(unwrap(c, result) as Awaited<ReturnType<typeof service.register>>, 201);
  });

  app.openapi(r.complete, async (c) => {
    const registration = await service.complete(c.env, k, c.get('auth').user.id, c.req.valid('param').id);
    return c.json(registration, 200);
  });

  return app;
}

export const payments = router()
  .route('/', registrationRouter(KINDS.exams))
  .route('/', registrationRouter(KINDS.courses));

payments.openapi(historyRoute, async (c) => {
  return c.json(await service.listPayments(c.env, c.get('auth').user.id, c.req.valid('query'), requestUrl(c)), 200);
});

payments.openapi(paymentRoute, async (c) => {
  return c.json(await service.getPayment(c.env, c.get('auth').user.id, c.req.valid('param').id), 200);
});

payments.openapi(cancelRoute, async (c) => {
  const body = c.req.valid('json') ?? {};
  const userId = c.get('auth').user.id;
  const idem = await idempotencyOf(c, c.req.valid('header')['idempotency-key'], body);
  const op = { op: 'cancel' as const, userId, paymentId: c.req.valid('param').id, reason: body.reason ?? null };
  const result = await ledger(c.env, userId).run(op, idem);
  return c.json(unwrap(c, result) as Awaited<ReturnType<typeof service.cancel>>, 200);
});
