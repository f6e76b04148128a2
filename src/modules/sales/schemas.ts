import { z } from '@hono/zod-openapi';
import { ORDER_STATUSES } from '../../db/schema';
import { CursorQuery, pageSchema } from '../../lib/pagination';
import { canonicalTimeZone } from './dates';

// Bounds that keep every order exact as a JSON number: 100 lines × 1,000 × 1,000,000,000 = 10^14
// (< 2^53), and one order always fits an hour's figures (src/db/schema/sales.ts, HOUR_AMOUNT_CAP).
const money = z.number().int().min(0).max(1_000_000_000);
const isoTime = z.string().openapi({ example: '2026-11-22T03:00:00.000Z' });

export const ProductSchema = z
  .object({
    id: z.number().int(),
    name: z.string(),
    price: z.number().int(),
    currency: z.string().openapi({ example: 'KRW' }),
    created_at: isoTime,
    updated_at: isoTime,
  })
  .openapi('Product');

export const ProductPage = pageSchema(ProductSchema, 'ProductPage');

const productName = z.string().trim().min(1).max(200).openapi({ example: 'Wireless mouse' });

export const CreateProductBody = z.object({ name: productName, price: money.openapi({ example: 15000 }) }).openapi('CreateProductRequest');

export const PatchProductBody = z
  .object({ name: productName.optional(), price: money.optional() })
  .refine((v) => v.name !== undefined || v.price !== undefined, { message: 'name or price is required', path: ['name'] })
  .openapi('PatchProductRequest', { description: 'A new price applies to later orders only: order items keep their snapshot.' });

export const OrderStatusSchema = z.enum(ORDER_STATUSES).openapi('OrderStatus');

export const OrderItemSchema = z
  .object({
    product_id: z.number().int(),
    product_name: z.string().openapi({ description: 'Snapshot of the product name when the order was recorded.' }),
    unit_price: z.number().int().openapi({ description: 'Snapshot of the product price when the order was recorded.' }),
    quantity: z.number().int(),
  })
  .openapi('OrderItem');

export const OrderSchema = z
  .object({
    id: z.number().int(),
    customer_id: z.number().int(),
    status: OrderStatusSchema,
    item_price: z.number().int().openapi({ description: 'Σ unit_price × quantity.' }),
    discount_price: z.number().int(),
    delivery_price: z.number().int(),
    total_price: z.number().int().openapi({ description: 'item_price − discount_price + delivery_price.' }),
    is_first_purchase: z.boolean().openapi({
      description: "True on the customer's earliest counted (PAID, SHIPPING, COMPLETED) order by paid_at, then id.",
    }),
    payment_method: z.string().nullable(),
    paid_at: isoTime.nullable(),
    currency: z.string(),
    items: z.array(OrderItemSchema),
    created_at: isoTime,
    updated_at: isoTime,
  })
  .openapi('Order');

export const CreateOrderBody = z
  .object({
    customer_id: z.number().int().positive().openapi({ description: 'A user id (404 NOT_FOUND if there is no such user).' }),
    items: z
      .array(z.object({ product_id: z.number().int().positive(), quantity: z.number().int().min(1).max(1_000) }))
      .min(1)
      .max(100),
    discount_price: money.default(0),
    delivery_price: money.default(0),
    payment_method: z.string().trim().min(1).max(50).optional(),
    status: OrderStatusSchema.default('PAID'),
    paid_at: z.iso.datetime({ offset: true }).optional().openapi({
      description: 'When the order was paid (default: now for PAID, SHIPPING, COMPLETED; none for PENDING and CANCELLED).',
    }),
  })
  .openapi('CreateOrderRequest');

const localDay = (name: 'from' | 'to') =>
  z.iso
    .date()
    .optional()
    .openapi({
      param: { name, in: 'query' },
      example: name === 'from' ? '2026-11-01' : '2026-11-30',
      description:
        name === 'from'
          ? 'Orders created on or after this local date (`YYYY-MM-DD`, in `DASHBOARD_TIMEZONE`: from its midnight).'
          : 'Orders created on or before this local date (`YYYY-MM-DD`, in `DASHBOARD_TIMEZONE`: the whole day).',
    });

export const OrderListQuery = z.object({
  status: OrderStatusSchema.optional().openapi({ param: { name: 'status', in: 'query' } }),
  customer_id: z.coerce
    .number()
    .int()
    .positive()
    .max(Number.MAX_SAFE_INTEGER)
    .optional()
    .openapi({ param: { name: 'customer_id', in: 'query' }, description: "Only this customer's orders." }),
  from: localDay('from'),
  to: localDay('to'),
  min_total: z.coerce
    .number()
    .int()
    .min(0)
    .max(Number.MAX_SAFE_INTEGER)
    .optional()
    .openapi({ param: { name: 'min_total', in: 'query' }, description: 'Only orders whose `total_price` is at least this.' }),
  page_size: CursorQuery.shape.page_size,
  cursor: CursorQuery.shape.cursor.openapi({ description: 'The `next_cursor` of the previous page (the same filters must be sent again).' }),
});
export type OrderListInput = z.output<typeof OrderListQuery>;

export const OrderPage = z
  .object({
    next: z.string().nullable().openapi({ description: 'The next page (the same filters and `cursor`), or null on the last page.' }),
    previous: z.null().openapi({ description: 'Always null: the list pages forward only.' }),
    next_cursor: z.string().nullable(),
    results: z.array(OrderSchema),
  })
  .openapi('OrderPage');

export const PatchOrderBody = z.object({ status: OrderStatusSchema }).openapi('PatchOrderRequest');

const dateParam = (name: string, description: string) =>
  z
    .string()
    .min(10)
    .max(40)
    .openapi({ param: { name, in: 'query' }, description, example: name === 'start-date' ? '2026-11-22' : '2026-11-22T18:00:00+09:00' });

const timezone = z
  .string()
  .max(64)
  // One name per zone downstream (caches and memos are keyed by it), whatever the spelling.
  .transform((tz, ctx) => {
    const zone = canonicalTimeZone(tz);
    if (zone === null) ctx.addIssue({ code: 'custom', message: 'unknown IANA time zone' });
    return zone ?? z.NEVER;
  })
  .optional()
  .openapi({ param: { name: 'timezone', in: 'query' }, description: 'IANA zone (default DASHBOARD_TIMEZONE, Asia/Seoul).', example: 'Asia/Seoul' });

export const LiveSalesQuery = z.object({
  'start-date': dateParam('start-date', '`YYYY-MM-DD` (local midnight) or an ISO 8601 date-time.'),
  'end-date': dateParam('end-date', '`YYYY-MM-DD` (the whole local day) or an ISO 8601 date-time; default now.').optional(),
  interval: z
    .enum(['hour', 'day'])
    .default('hour')
    .openapi({ param: { name: 'interval', in: 'query' } }),
  timezone,
});

export const SalesChartQuery = z.object({
  'start-date': dateParam('start-date', '`YYYY-MM-DD` (local midnight) or an ISO 8601 date-time.'),
  'end-date': dateParam('end-date', '`YYYY-MM-DD` (the whole local day) or an ISO 8601 date-time; default now.').optional(),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(10)
    .openapi({ param: { name: 'limit', in: 'query' } }),
  timezone,
});

export const LiveSalesBucketSchema = z
  .object({
    datetime: z.string().openapi({ example: '2026-11-22T09:00:00+09:00', description: 'Bucket start, ISO 8601 with the zone offset.' }),
    total_amount: z.number().int(),
    customer_count: z.number().int().openapi({ description: 'Distinct customers with a counted order in the bucket.' }),
    coupon_amount: z.number().int(),
    first_purchase_count: z.number().int(),
    first_purchase_amount: z.number().int(),
  })
  .openapi('LiveSalesBucket');

export const LiveSalesSchema = z.object({ results: z.array(LiveSalesBucketSchema) }).openapi('LiveSales');

export const SalesChartSchema = z
  .object({
    results: z.array(
      z.object({ product_id: z.number().int(), product_name: z.string(), total_amount: z.number().int(), quantity: z.number().int() }),
    ),
  })
  .openapi('SalesChart');
