import { z } from '@hono/zod-openapi';
import { DELIVERY_STATUSES, WEBHOOK_EVENT_TYPES } from '../../db/schema';
import { IdParam, positiveId } from '../../lib/openapi';
import { pageSchema, PageQuery } from '../../lib/pagination';

const iso = z.string().openapi({ example: '2026-11-22T03:00:00.000Z' });
const eventType = z.enum(WEBHOOK_EVENT_TYPES).openapi({ example: 'payment.paid' });
const secret = z.string().openapi({
  example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  description: 'The signing secret (Standard Webhooks, `whsec_…`). Answered only here, once: store it now.',
});

const url = z
  .string()
  .trim()
  .max(2048)
  .openapi({
    example: 'https://hooks.example.com/edge-api',
    description:
      'Where events are POSTed. `https://` only, and never a private, loopback or link-local host (the controller URL ' +
      'policy; checked on write and again before every send). Redirects are not followed.',
  });
const events = z
  .array(z.union([eventType, z.literal('*')]))
  .min(1)
  .max(WEBHOOK_EVENT_TYPES.length + 1)
  .openapi({
    example: ['payment.paid', 'payment.cancelled'],
    description:
      'Event types to receive, or `["*"]` for all. `order.created` and `order.status_changed` reach staff endpoints only; ' +
      'a user’s endpoint receives only events about that user’s own resources (staff endpoints: everyone’s).',
  });
const description = z.string().trim().max(256).nullable().openapi({ example: 'Accounting sync' });

export const EndpointSchema = z
  .object({
    id: z.number().int(),
    owner_id: z.number().int(),
    url: z.string(),
    description: z.string().nullable(),
    events: z.array(z.string()),
    disabled: z.boolean(),
    disabled_reason: z.string().nullable().openapi({ description: 'Why the service disabled it (null when enabled, or disabled by its owner).' }),
    created_at: iso,
    updated_at: iso,
  })
  .openapi('WebhookEndpoint');

export const EndpointWithSecretSchema = EndpointSchema.extend({ secret }).openapi('WebhookEndpointWithSecret');

export const CreateEndpointBody = z.object({ url, events, description: description.optional() }).openapi('CreateWebhookEndpointRequest');

export const PatchEndpointBody = z
  .object({
    url: url.optional(),
    events: events.optional(),
    description: description.optional(),
    disabled: z.boolean().optional().openapi({ description: '`false` re-enables an endpoint the service disabled after 3 days of failures.' }),
  })
  .openapi('UpdateWebhookEndpointRequest');

export const RotatedSecretSchema = z
  .object({
    secret,
    previous_valid_until: iso.openapi({ description: 'Until then every event carries a signature with the previous secret too (24 h).' }),
  })
  .openapi('WebhookEndpointSecret');

export const DeliverySchema = z
  .object({
    id: z.number().int(),
    event_id: z.string().openapi({ example: 'evt_0f8c3e1b9a7d4c2e8b6a5f4e3d2c1b0a', description: 'Also the `webhook-id` of every attempt.' }),
    event_type: z.string().openapi({ example: 'payment.paid' }),
    status: z.enum(DELIVERY_STATUSES),
    attempts: z.number().int(),
    last_status_code: z.number().int().nullable(),
    last_error: z.string().nullable(),
    next_attempt_at: iso.nullable(),
    created_at: iso,
    delivered_at: iso.nullable(),
  })
  .openapi('WebhookDelivery');

export const DeliveryQuery = PageQuery.extend({
  status: z.enum(DELIVERY_STATUSES).optional(),
  event_type: z
    .union([eventType, z.literal('ping')])
    .optional()
    .openapi({ example: 'payment.paid' }),
});

export const DeliveryParams = IdParam.extend({
  delivery_id: positiveId().openapi({ param: { name: 'delivery_id', in: 'path' }, example: 1 }),
});

export const EndpointPageSchema = pageSchema(EndpointSchema, 'WebhookEndpointPage');
export const DeliveryPageSchema = pageSchema(DeliverySchema, 'WebhookDeliveryPage');

export type CreateEndpointInput = z.infer<typeof CreateEndpointBody>;
export type PatchEndpointInput = z.infer<typeof PatchEndpointBody>;
export type DeliveryQueryInput = z.infer<typeof DeliveryQuery>;
