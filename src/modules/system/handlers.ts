import { router } from '../../lib/openapi';
import { ApiError } from '../../lib/problem';
import { ping } from './repository';
import { healthRoute } from './routes';

export const system = router();

system.openapi(healthRoute, async (c) => {
  try {
    await ping(c.var.ctx.store);
  } catch (err) {
    console.error(JSON.stringify({ msg: 'health check failed', request_id: c.get('requestId'), error: String(err) }));
    throw new ApiError('SERVICE_UNAVAILABLE');
  }
  return c.json({ status: 'ok' as const, database: 'ok' as const }, 200);
});
