import { fanOutAfterResponse } from '../webhooks';
import { router } from '../../lib/openapi';
import { offsetPage } from '../../lib/pagination';
import * as routes from './routes';
import * as service from './service';
import { requestUrl } from '../../lib/links';

export const sales = router();

sales.openapi(routes.createProductRoute, async (c) => {
  return c.json(service.productView(c.var.ctx, await service.createProduct(c.var.ctx, c.req.valid('json'))), 201);
});

sales.openapi(routes.listProductsRoute, async (c) => {
  const q = c.req.valid('query');
  const { count, rows } = await service.listProducts(c.var.ctx, q);
  return c.json(
    offsetPage(
      requestUrl(c),
      q,
      count,
      rows.map((p) => service.productView(c.var.ctx, p)),
    ),
    200,
  );
});

sales.openapi(routes.patchProductRoute, async (c) => {
  const product = await service.updateProduct(c.var.ctx, c.req.valid('param').id, c.req.valid('json'));
  return c.json(service.productView(c.var.ctx, product), 200);
});

sales.openapi(routes.createOrderRoute, async (c) => {
  const order = await service.createOrder(c.var.ctx, c.req.valid('json'));
  fanOutAfterResponse(c.var.ctx); // its order.created event
  return c.json(order, 201);
});

sales.openapi(routes.listOrdersRoute, async (c) => {
  return c.json(await service.listOrders(c.var.ctx, c.req.valid('query'), requestUrl(c)), 200);
});

sales.openapi(routes.getOrderRoute, async (c) => {
  return c.json(await service.getOrder(c.var.ctx, c.req.valid('param').id), 200);
});

sales.openapi(routes.patchOrderRoute, async (c) => {
  const order = await service.changeOrderStatus(c.var.ctx, c.req.valid('param').id, c.req.valid('json').status);
  fanOutAfterResponse(c.var.ctx); // its order.status_changed event
  return c.json(order, 200);
});

sales.openapi(routes.liveSalesRoute, async (c) => {
  const q = c.req.valid('query');
  return c.json(await service.liveSales(c.var.ctx, { start: q['start-date'], end: q['end-date'], interval: q.interval, timezone: q.timezone }), 200);
});

sales.openapi(routes.salesChartRoute, async (c) => {
  const q = c.req.valid('query');
  return c.json(await service.salesChart(c.var.ctx, { start: q['start-date'], end: q['end-date'], limit: q.limit, timezone: q.timezone }), 200);
});
