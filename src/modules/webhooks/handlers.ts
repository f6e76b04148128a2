import { requestUrl } from '../../lib/links';
import { absoluteUrl } from '../../lib/links';
import { router } from '../../lib/openapi';
import * as routes from './routes';
import * as service from './service';

export const webhooks = router();

webhooks.openapi(routes.createEndpointRoute, async (c) => {
  const endpoint = await service.createEndpoint(c.var.ctx, c.get('auth').user, c.req.valid('json'));
  c.header('Location', absoluteUrl(c, `/api/webhook-endpoints/${endpoint.id}`));
  return c.json(endpoint, 201);
});

webhooks.openapi(routes.listEndpointsRoute, async (c) => {
  return c.json(await service.listEndpoints(c.var.ctx, c.get('auth').user, c.req.valid('query'), requestUrl(c)), 200);
});

webhooks.openapi(routes.getEndpointRoute, async (c) => {
  return c.json(service.endpointView(await service.managedEndpoint(c.var.ctx, c.get('auth').user, c.req.valid('param').id)), 200);
});

webhooks.openapi(routes.patchEndpointRoute, async (c) => {
  return c.json(await service.updateEndpoint(c.var.ctx, c.get('auth').user, c.req.valid('param').id, c.req.valid('json')), 200);
});

webhooks.openapi(routes.deleteEndpointRoute, async (c) => {
  await service.deleteEndpoint(c.var.ctx, c.get('auth').user, c.req.valid('param').id);
  return c.body(null, 204);
});

webhooks.openapi(routes.rotateSecretRoute, async (c) => {
  return c.json(await service.rotateSecret(c.var.ctx, c.get('auth').user, c.req.valid('param').id), 201);
});

webhooks.openapi(routes.testEndpointRoute, async (c) => {
  return c.json(await service.sendPing(c.var.ctx, c.get('auth').user, c.req.valid('param').id), 202);
});

webhooks.openapi(routes.listDeliveriesRoute, async (c) => {
  const { id } = c.req.valid('param');
  return c.json(await service.listDeliveries(c.var.ctx, c.get('auth').user, id, c.req.valid('query'), requestUrl(c)), 200);
});

webhooks.openapi(routes.retryDeliveryRoute, async (c) => {
  const { id, delivery_id } = c.req.valid('param');
  return c.json(await service.retryDelivery(c.var.ctx, c.get('auth').user, id, delivery_id), 202);
});
