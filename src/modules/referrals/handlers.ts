import { router } from '../../lib/openapi';
import { offsetPage } from '../../lib/pagination';
import * as routes from './routes';
import * as service from './service';
import { requestUrl } from '../../lib/links';

export const referrals = router();

referrals.openapi(routes.getProfileRoute, async (c) => c.json(await service.profile(c.env, c.get('auth').user), 200));

referrals.openapi(routes.setReferralRoute, async (c) => {
  const user = await service.setReferralCode(c.env, c.get('auth').user.id, c.req.valid('json').used_referral_code);
  return c.json(await service.profile(c.env, user), 200);
});

referrals.openapi(routes.referredUsersRoute, async (c) => {
  const q = c.req.valid('query');
  const { count, results } = await service.referredUsers(c.env, c.get('auth').user.id, q);
  return c.json(offsetPage(requestUrl(c), q, count, results), 200);
});
