import { createRoute, z } from '@hono/zod-openapi';
import { bearer, jsonResponse, publicRoute } from '../../lib/openapi';
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

const CheckSchema = z.object({
  ok: z.boolean(),
  ms: z.number().int().min(0).openapi({ description: 'How long the check took.' }),
  error: z.string().optional().openapi({ description: 'Why it failed (an error name and message).' }),
});

export const ReadinessChecksSchema = z
  .object({
    database: CheckSchema.extend({ backend: z.enum(['d1', 'postgres']) }).openapi({ description: 'A round trip to the database.' }),
    kv: CheckSchema.openapi({ description: 'A read from the PHONE_CODES namespace.' }),
    queue: z.object({ ok: z.boolean() }).openapi({ description: 'The MACHINE_QUEUE producer binding is present.' }),
    migrations: CheckSchema.extend({
      expected: z.number().int().openapi({ description: 'Migrations this build was made with.' }),
      applied: z.number().int().openapi({ description: 'Migrations the database records as applied.' }),
      missing: z
        .array(z.string())
        .openapi({ description: 'Expected migrations the database has not applied (D1: file names; Postgres: journal times).' }),
    }),
  })
  .openapi('ReadinessChecks');

export const ReadinessSchema = z
  .object({
    status: z.literal('ready'),
    checks: ReadinessChecksSchema.optional().openapi({ description: 'Only for staff or with `X-Operator-Key`.' }),
  })
  .openapi('Readiness');

/** Anyone (`{}`); staff (bearer) or the operator key also get the checks. */
const readinessSecurity: Record<string, string[]>[] = [{}, ...bearer, { operatorKey: [] }];

export const readinessRoute = createRoute({
  operationId: 'getReadiness',
  method: 'get',
  path: '/health/ready',
  tags: ['operations'],
  security: readinessSecurity,
  summary: 'Readiness: database, KV, queue binding and migrations',
  description: `For load balancers and operators. Checks that the database and KV answer, that the queue binding is
present and that the database has applied every migration of this build. Anyone gets \`{ "status": "ready" }\`
or a 503 \`SERVICE_UNAVAILABLE\` problem; a staff access token or the \`X-Operator-Key\` header (the
\`OPERATOR_KEY\` secret) adds \`checks\`, on the 200 and as a member of the 503 problem. The operator key works
when the database is down, a staff token needs the database to be checked; a wrong key gets the public answer.
Each check gives up after 3 s.`,
  responses: {
    200: jsonResponse(ReadinessSchema, 'Ready to serve.'),
    ...errorResponses(['SERVICE_UNAVAILABLE', 'PERMISSION_DENIED', 'TOKEN_EXPIRED', 'INVALID_TOKEN']),
  },
});
