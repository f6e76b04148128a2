import { clientAddress } from '../../lib/client';
import { router } from '../../lib/openapi';
import { optionalUserId, userView } from '../accounts';
import * as routes from './routes';
import { requestCode, verifyCode } from './service';
import { absoluteUrl } from '../../lib/links';

export const phone = router();

phone.openapi(routes.phoneLoginRoute, async (c) => {
  const verifyUrl = (token: string) => absoluteUrl(c, `/api/users/phone/verify/${token}`);
  const ctx = c.var.ctx;
  const requester = { address: clientAddress(c), callerId: await optionalUserId(ctx, c.req.header('authorization')) };
  return c.json(await requestCode(ctx, c.req.valid('json').phone, requester, verifyUrl), 200);
});

phone.openapi(routes.phoneVerifyRoute, async (c) => {
  const { verification_token } = c.req.valid('param');
  const result = await verifyCode(c.var.ctx, verification_token, c.req.valid('json').confirm_code, clientAddress(c));
  return c.json({ user: userView(result.user), token: result.token, created: result.created }, 200);
});
