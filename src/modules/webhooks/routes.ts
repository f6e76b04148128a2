import { createRoute } from '@hono/zod-openapi';
import { auth } from '../accounts';
import { bearer, IdParam, jsonBody, jsonResponse } from '../../lib/openapi';
import { PageQuery } from '../../lib/pagination';
import { errorResponses } from '../../lib/problem';
import {
  CreateEndpointBody,
  DeliveryPageSchema,
  DeliveryParams,
  DeliveryQuery,
  DeliverySchema,
  EndpointPageSchema,
  EndpointSchema,
  EndpointWithSecretSchema,
  PatchEndpointBody,
  RotatedSecretSchema,
} from './schemas';

const tags = ['webhooks'];
const common = { tags, security: bearer };

const ACCESS = `An endpoint is private to its owner; staff manage everyone's. Another user's endpoint is 404 \`NOT_FOUND\`
(its existence is not disclosed).`;

const DELIVERY = `Events are POSTed as JSON \`{ id, type, created_at, data: { object } }\` (\`object\` is the resource as the
API returns it), signed by the Standard Webhooks specification: \`webhook-id\` (the event id, the same on every attempt:
de-duplicate on it), \`webhook-timestamp\`, \`webhook-signature\` (\`v1,<base64 HMAC-SHA256>\`; two, space-separated, for
24 h after a rotation). A 2xx within 10 s is success; anything else, redirects included (never followed), is retried
with exponential backoff (5 s, 10 s, 20 s, … at most 12 h apart) for 3 days, then the delivery is \`failed\`. An
endpoint that failed every attempt for 3 days is disabled (\`disabled_reason\`); PATCH \`disabled: false\` re-enables
it. Delivery is at least once, in creation order per endpoint as far as retries allow. See docs/webhooks.md.`;

export const createEndpointRoute = createRoute({
  operationId: 'createWebhookEndpoint',
  ...common,
  middleware: [auth] as const,
  method: 'post',
  path: '/api/webhook-endpoints',
  summary: 'Add a webhook endpoint',
  description: `${DELIVERY}
The answer carries \`secret\` (\`whsec_…\`), shown this once. At most WEBHOOK_ENDPOINTS_PER_USER (10) endpoints per
user: 409 \`TOO_MANY_ENDPOINTS\` past it. \`order.*\` events are for staff (400 for anyone else).`,
  request: { body: jsonBody(CreateEndpointBody) },
  responses: {
    201: jsonResponse(EndpointWithSecretSchema, 'The endpoint, with its secret (shown once).'),
    ...errorResponses(['TOO_MANY_ENDPOINTS'], { auth: true, body: true }),
  },
});

export const listEndpointsRoute = createRoute({
  operationId: 'listWebhookEndpoints',
  ...common,
  middleware: [auth] as const,
  method: 'get',
  path: '/api/webhook-endpoints',
  summary: 'List webhook endpoints',
  description: `The caller's endpoints, newest first (staff: everyone's). Secrets are never listed.`,
  request: { query: PageQuery },
  responses: { 200: jsonResponse(EndpointPageSchema, 'A page of endpoints.'), ...errorResponses(['NOT_FOUND'], { auth: true }) },
});

export const getEndpointRoute = createRoute({
  operationId: 'getWebhookEndpoint',
  ...common,
  middleware: [auth] as const,
  method: 'get',
  path: '/api/webhook-endpoints/{id}',
  summary: 'One webhook endpoint',
  description: ACCESS,
  request: { params: IdParam },
  responses: { 200: jsonResponse(EndpointSchema, 'The endpoint (never its secret).'), ...errorResponses(['NOT_FOUND'], { auth: true }) },
});

export const patchEndpointRoute = createRoute({
  operationId: 'updateWebhookEndpoint',
  ...common,
  middleware: [auth] as const,
  method: 'patch',
  path: '/api/webhook-endpoints/{id}',
  summary: 'Update a webhook endpoint',
  description: `${ACCESS} \`disabled: false\` re-enables an endpoint the service disabled (and clears \`disabled_reason\`);
deliveries that failed meanwhile can be sent again one by one (retry).`,
  request: { params: IdParam, body: jsonBody(PatchEndpointBody) },
  responses: { 200: jsonResponse(EndpointSchema, 'The endpoint.'), ...errorResponses(['NOT_FOUND'], { auth: true, body: true }) },
});

export const deleteEndpointRoute = createRoute({
  operationId: 'deleteWebhookEndpoint',
  ...common,
  middleware: [auth] as const,
  method: 'delete',
  path: '/api/webhook-endpoints/{id}',
  summary: 'Delete a webhook endpoint',
  description: `${ACCESS} Its delivery log goes with it; nothing more is sent to it.`,
  request: { params: IdParam },
  responses: { 204: { description: 'Deleted.' }, ...errorResponses(['NOT_FOUND'], { auth: true }) },
});

export const rotateSecretRoute = createRoute({
  operationId: 'rotateWebhookEndpointSecret',
  ...common,
  middleware: [auth] as const,
  method: 'post',
  path: '/api/webhook-endpoints/{id}/rotate-secret',
  summary: 'Make a new signing secret',
  description: `${ACCESS} The new secret is answered this once. Until \`previous_valid_until\` (24 h) every event carries
two signatures, one per secret, so the receiver can switch without losing an event.`,
  request: { params: IdParam },
  responses: { 201: jsonResponse(RotatedSecretSchema, 'The new secret.'), ...errorResponses(['NOT_FOUND'], { auth: true }) },
});

export const testEndpointRoute = createRoute({
  operationId: 'pingWebhookEndpoint',
  ...common,
  middleware: [auth] as const,
  method: 'post',
  path: '/api/webhook-endpoints/{id}/test',
  summary: 'Send a test ping',
  description: `${ACCESS} Sends a \`ping\` event (\`data.object\` = \`{ endpoint_id, url }\`) to this endpoint only, also when it is
disabled (to check it before re-enabling). Answers the delivery at once (202); its outcome is in the delivery log.`,
  request: { params: IdParam },
  responses: { 202: jsonResponse(DeliverySchema, 'The ping’s delivery (pending).'), ...errorResponses(['NOT_FOUND'], { auth: true }) },
});

export const listDeliveriesRoute = createRoute({
  operationId: 'listWebhookDeliveries',
  ...common,
  middleware: [auth] as const,
  method: 'get',
  path: '/api/webhook-endpoints/{id}/deliveries',
  summary: 'An endpoint’s delivery log',
  description: `${ACCESS} Newest first; filters \`status\` and \`event_type\`. \`next_attempt_at\` is set while a delivery is pending.`,
  request: { params: IdParam, query: DeliveryQuery },
  responses: { 200: jsonResponse(DeliveryPageSchema, 'A page of deliveries.'), ...errorResponses(['NOT_FOUND'], { auth: true }) },
});

export const retryDeliveryRoute = createRoute({
  operationId: 'retryWebhookDelivery',
  ...common,
  middleware: [auth] as const,
  method: 'post',
  path: '/api/webhook-endpoints/{id}/deliveries/{delivery_id}/retry',
  summary: 'Send a delivery again',
  description: `${ACCESS} Sends a succeeded or failed delivery once more, now, with the same event and \`webhook-id\`
(a failure within 3 days of the event resumes its retries). A pending one is 409 \`DELIVERY_PENDING\`.`,
  request: { params: DeliveryParams },
  responses: {
    202: jsonResponse(DeliverySchema, 'The delivery, pending again.'),
    ...errorResponses(['NOT_FOUND', 'DELIVERY_PENDING'], { auth: true }),
  },
});
