import type { Context } from 'hono';
import type { AppEnv } from '../../context';
import { errorText, logLine } from '../../lib/log';
import { router } from '../../lib/openapi';
import { ApiError } from '../../lib/problem';
import { authenticate, bearerToken } from '../accounts';
import { isOperatorKey, readiness } from './readiness';
import { ping } from './repository';
import { healthRoute, readinessRoute } from './routes';

export const system = router();

system.openapi(healthRoute, async (c) => {
  try {
    await ping(c.var.ctx.store);
  } catch (err) {
    logLine('error', 'health check failed', { request_id: c.get('requestId'), error: errorText(err) });
    throw new ApiError('SERVICE_UNAVAILABLE');
  }
  return c.json({ status: 'ok' as const, database: 'ok' as const }, 200);
});

/**
 * Whether the caller may see the readiness checks: the operator key, or a staff access token. A token
 * that is sent is checked (401/403 as on every route), unless the database cannot be asked: then
 * the caller gets the public answer (the operator key still works).
 */
async function seesChecks(c: Context<AppEnv>): Promise<boolean> {
  const ctx = c.var.ctx;
  if (await isOperatorKey(ctx, c.req.header('x-operator-key'))) return true;
  const token = bearerToken(c.req.header('authorization'));
  if (!token) return false;
  let staff: boolean;
  try {
    staff = (await authenticate(ctx, token, 'access')).user.isStaff;
  } catch (err) {
    if (err instanceof ApiError) throw err;
    return false;
  }
  if (!staff) throw new ApiError('PERMISSION_DENIED');
  return true;
}

system.openapi(readinessRoute, async (c) => {
  const detailed = await seesChecks(c);
  const { ready, checks } = await readiness(c.var.ctx);
  if (!ready) {
    logLine('warn', 'not ready', { request_id: c.get('requestId'), checks });
    throw new ApiError('SERVICE_UNAVAILABLE', detailed ? { extras: { checks } } : {});
  }
  return c.json(detailed ? { status: 'ready' as const, checks } : { status: 'ready' as const }, 200);
});
