import type { Context } from 'hono';
import type { AppEnv } from '../../context';
import { clientAddress } from '../../lib/client';
import { router } from '../../lib/openapi';
import { optionalUserId, userView } from '../accounts';
import * as routes from './routes';
import { requestCode, verifyCode } from './service';
import { absoluteUrl } from '../../lib/links';

export const phone = router();

phone.openapi(routes.phoneLoginRoute, async (c) => {
  // The token is in the answer's body; the URL to post it to carries none (access logs record URLs).
  const verifyUrl = absoluteUrl(c, '/api/users/phone/verify');
  const ctx = c.var.ctx;
  const requester = { address: clientAddress(c), callerId: await optionalUserId(ctx, c.req.header('authorization')) };
  return c.json(await requestCode(ctx, c.req.valid('json').phone, requester, verifyUrl), 200);
});

/** Both verify routes: the token comes from the body, or from the deprecated path. */
async function verified(c: Context<AppEnv>, token: string, code: string) {
  const result = await verifyCode(c.var.ctx, token, code, clientAddress(c));
  return { user: userView(result.user), token: result.token, created: result.created };
}

phone.openapi(routes.phoneConfirmRoute, async (c) => {
  const { verification_token, confirm_code } = c.req.valid('json');
  return c.json(await verified(c, verification_token, confirm_code), 200);
});

phone.openapi(routes.phoneVerifyRoute, async (c) => {
  return c.json(await verified(c, c.req.valid('param').verification_token, c.req.valid('json').confirm_code), 200);
});
