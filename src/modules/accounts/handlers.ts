import { router } from '../../lib/openapi';
import { clientAddress } from '../../lib/client';
import { ApiError } from '../../lib/problem';
import { authenticate } from './auth';
import * as routes from './routes';
import * as service from './service';

export const accounts = router();

accounts.openapi(routes.signupRoute, async (c) => {
  const user = await service.signup(c.var.ctx, c.req.valid('json'), clientAddress(c));
  return c.json(service.userView(user), 201);
});

accounts.openapi(routes.loginRoute, async (c) => {
  const { user, token } = await service.login(c.var.ctx, c.req.valid('json'), clientAddress(c));
  return c.json({ user: service.userView(user), token }, 200);
});

accounts.openapi(routes.refreshRoute, async (c) => {
  return c.json(await service.refresh(c.var.ctx, c.req.valid('json').refresh), 200);
});

accounts.openapi(routes.logoutRoute, async (c) => {
  await service.logout(c.var.ctx, c.get('auth'), c.req.valid('json').refresh);
  return c.body(null, 204);
});

accounts.openapi(routes.verifyRoute, async (c) => {
  const token = c.req.valid('json').token;
  if (!token) throw new ApiError('TOKEN_NOT_FOUND');
  const { claims } = await authenticate(c.var.ctx, token);
  return c.json({ valid: true as const, user_id: claims.userId, token_type: claims.typ, expires_at: new Date(claims.exp * 1000).toISOString() }, 200);
});

accounts.openapi(routes.getMeRoute, (c) => c.json(service.userView(c.get('auth').user), 200));

accounts.openapi(routes.patchMeRoute, async (c) => {
  const user = await service.updateMe(c.var.ctx, c.get('auth'), c.req.valid('json'), clientAddress(c));
  return c.json(service.userView(user), 200);
});

accounts.openapi(routes.adminPatchUserRoute, async (c) => {
  const user = await service.adminUpdateUser(c.var.ctx, c.get('auth').user, c.req.valid('param').id, c.req.valid('json'));
  return c.json(service.userView(user), 200);
});
