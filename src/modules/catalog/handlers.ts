import { router } from '../../lib/openapi';
import { KINDS, type KindConfig } from './kinds';
import { catalogRoutes } from './routes';
import * as service from './service';
import { absoluteUrl, requestUrl } from '../../lib/links';

function catalogRouter(k: KindConfig) {
  const r = catalogRoutes(k);
  const app = router();

  app.openapi(r.list, async (c) => {
    const page = await service.listItems(c.env, k, c.get('auth').user.id, c.req.valid('query'), requestUrl(c));
    return c.json(page, 200);
  });

  app.openapi(r.get, async (c) => {
    const row = await service.getItem(c.env, k, c.get('auth').user.id, c.req.valid('param').id);
    return c.json(service.itemView(c.env, row), 200);
  });

  app.openapi(r.create, async (c) => {
    const row = await service.createItem(c.env, k, c.req.valid('json'));
    c.header('Location', absoluteUrl(c, `/api/${k.kind}/${row.id}`));
    return c.json(service.itemView(c.env, row), 201);
  });

  app.openapi(r.update, async (c) => {
    const row = await service.updateItem(c.env, k, c.get('auth').user.id, c.req.valid('param').id, c.req.valid('json'));
    return c.json(service.itemView(c.env, row), 200);
  });

  app.openapi(r.remove, async (c) => {
    await service.deleteItem(c.env, k, c.req.valid('param').id);
    return c.body(null, 204);
  });

  return app;
}

/** Both kinds, from the same code. */
export const catalog = router().route('/', catalogRouter(KINDS.exams)).route('/', catalogRouter(KINDS.courses));
