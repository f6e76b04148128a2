// The OpenAPI document's frame: info, servers, tags, security schemes and the shared response
// headers. Routes describe themselves (createRoute); this file says what the whole API is.
import type { OpenAPIHono } from '@hono/zod-openapi';
import { etag } from 'hono/etag';
import type { AppEnv } from '../context';
import { revalidate } from './cache-control';

const DESCRIPTION = `One edge API for accounts (JWT), phone login and referrals, sales dashboards, exams and
courses with payments, and injection-moulding machines.

Conventions: JSON bodies with snake_case fields; every error is RFC 9457 \`application/problem+json\`
with \`status\`, \`code\` and \`detail\` (localised by \`Accept-Language\`: en, ko, ru); each response
documents the \`code\` values its status can carry. A trailing slash is optional on every route; bodies
over MAX_BODY_BYTES (64 KiB) answer 413, non-JSON bodies 415; text containing U+0000 (in the body, the
path or the query) is refused with 400 on every backend; every response carries \`X-Request-Id\`, and a
500 names it as \`instance\`. Responses are \`Cache-Control: no-store\` (they carry tokens or the
caller's data); this document itself is \`no-cache\` with an \`ETag\`.

Read-your-writes (D1 read replicas): a response that touched the database carries \`X-D1-Bookmark\`;
send the newest one you have received back as \`X-D1-Bookmark\` and the request reads at least
everything you have seen, your own writes included. Without it, a GET may be served by a replica a
moment behind; writes always decide on the latest data. A malformed bookmark is ignored. On Postgres
there is no bookmark: every read sees every committed write.`;

/** Every tag an operation uses, in the order a reader meets them. */
export const TAGS = [
  { name: 'accounts', description: 'Sign up, log in, rotate and revoke tokens, the caller’s profile, user administration.' },
  { name: 'phone login', description: 'Log in or sign up with a one-time code sent by SMS.' },
  { name: 'referrals', description: 'Invite codes: enter the code of the user who referred you, list the users you referred.' },
  { name: 'exams', description: 'The exam catalog, and applying for an exam (with its payment).' },
  { name: 'courses', description: 'The course catalog, and enrolling in a course (with its payment).' },
  { name: 'payments', description: 'The caller’s payments and their cancellation (refund).' },
  { name: 'sales', description: 'Products and orders (staff).' },
  { name: 'dashboards', description: 'Sales dashboards over the orders (staff).' },
  { name: 'machines', description: 'Injection-moulding machines: CRUD, asynchronous commands, history, a live WebSocket.' },
  { name: 'webhooks', description: 'Event webhooks: endpoints that receive signed events (payments, registrations, machines, orders).' },
  { name: 'operations', description: 'Health and readiness of the service for load balancers, monitors and operators.' },
];

// A variable, not a literal: `identifier` is OpenAPI 3.1, which the generator's (3.0) types lack.
const LICENSE = { name: 'Apache-2.0', identifier: 'Apache-2.0' };

function registerComponents(app: OpenAPIHono<AppEnv>): void {
  const registry = app.openAPIRegistry;
  registry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'An access token from /api/users/login (or phone verify).',
  });
  registry.registerComponent('securitySchemes', 'operatorKey', {
    type: 'apiKey',
    in: 'header',
    name: 'X-Operator-Key',
    description: 'The OPERATOR_KEY secret of the deployment: readiness details for operators (docs/operations.md).',
  });
  registry.registerComponent('headers', 'RateLimit', {
    description:
      'IETF RateLimit header: the policy that is closest to its limit, with `r` requests remaining and `t` seconds until its window resets.',
    schema: { type: 'string', example: '"login-address";r=0;t=840' },
  });
  registry.registerComponent('headers', 'RateLimit-Policy', {
    description: 'IETF RateLimit-Policy header: the limit (`q` requests per `w` seconds) of the policy named in RateLimit.',
    schema: { type: 'string', example: '"login-address";q=100;w=900' },
  });
  registry.registerComponent('headers', 'Retry-After', {
    description: 'Seconds to wait before trying again (also in the body as `retry_after`).',
    schema: { type: 'integer', minimum: 1, example: 840 },
  });
}

/** Registers the shared components and serves the document at /openapi.json. */
export function documentApi(app: OpenAPIHono<AppEnv>): void {
  registerComponents(app);
  app.use('/openapi.json', revalidate, etag());
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Edge API',
      version: '1.0.0',
      description: DESCRIPTION,
      contact: { name: 'Edge API maintainers (see SECURITY.md in the repository for vulnerability reports)' },
      license: LICENSE,
    },
    servers: [{ url: '/', description: 'The origin that serves this document (npm run dev: http://localhost:8787).' }],
    tags: TAGS,
  });
}
