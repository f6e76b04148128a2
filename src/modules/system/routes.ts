import { createRoute, z } from '@hono/zod-openapi';
import { jsonResponse, publicRoute } from '../../lib/openapi';
import { errorResponses } from '../../lib/problem';

export const HealthSchema = z.object({ status: z.literal('ok'), database: z.literal('ok') }).openapi('Health');

export const healthRoute = createRoute({
  operationId: 'getHealth',
  method: 'get',
  path: '/health',
  tags: ['operations'],
  security: publicRoute,
  summary: 'Liveness with a real database round trip',
  description: 'Public. 503 `SERVICE_UNAVAILABLE` when the database does not answer.',
  responses: {
    200: jsonResponse(HealthSchema, 'The service and its database answer.'),
    ...errorResponses(['SERVICE_UNAVAILABLE']),
  },
});
