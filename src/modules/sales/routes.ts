import { createRoute } from '@hono/zod-openapi';
import { staffOnly, staffReadAuth } from '../accounts';
import { bearer, IdParam, jsonBody, jsonResponse } from '../../lib/openapi';
import { PageQuery } from '../../lib/pagination';
import { errorResponses } from '../../lib/problem';
import {
  CreateOrderBody,
  CreateProductBody,
  LiveSalesQuery,
  LiveSalesSchema,
  OrderListQuery,
  OrderPage,
  OrderSchema,
  PatchOrderBody,
  PatchProductBody,
  ProductPage,
  ProductSchema,
  SalesChartQuery,
  SalesChartSchema,
} from './schemas';

const DENIED = 'PERMISSION_DENIED';

export const createProductRoute = createRoute({
  operationId: 'createProduct',
  method: 'post',
  path: '/api/products',
  tags: ['sales'],
  security: bearer,
  middleware: [staffOnly] as const,
  summary: 'Create a product (staff only)',
  description: 'A product sold in orders; its price is copied into each order item, so a later reprice does not change past orders.',
  request: { body: jsonBody(CreateProductBody) },
  responses: { 201: jsonResponse(ProductSchema, 'The new product.'), ...errorResponses([DENIED], { auth: true, body: true }) },
});

export const listProductsRoute = createRoute({
  operationId: 'listProducts',
  method: 'get',
  path: '/api/products',
  tags: ['sales'],
  security: bearer,
  // The session and staff check ride with the one read (src/modules/accounts/auth.ts, staffReadAuth).
  middleware: [staffReadAuth] as const,
  summary: 'List products by id (staff only)',
  description: 'Paginated with `page`/`page_size`; a page past the end is 404 `NOT_FOUND`.',
  request: { query: PageQuery },
  responses: { 200: jsonResponse(ProductPage, 'A page of products.'), ...errorResponses([DENIED, 'NOT_FOUND'], { auth: true }) },
});

export const patchProductRoute = createRoute({
  operationId: 'updateProduct',
  method: 'patch',
  path: '/api/products/{id}',
  tags: ['sales'],
  security: bearer,
  middleware: [staffOnly] as const,
  summary: 'Rename or reprice a product (staff only)',
  description: 'Existing order items keep the name and unit price they were recorded with.',
  request: { params: IdParam, body: jsonBody(PatchProductBody) },
  responses: { 200: jsonResponse(ProductSchema, 'The updated product.'), ...errorResponses([DENIED, 'NOT_FOUND'], { auth: true, body: true }) },
});

export const createOrderRoute = createRoute({
  operationId: 'createOrder',
  method: 'post',
  path: '/api/orders',
  tags: ['sales'],
  security: bearer,
  middleware: [staffOnly] as const,
  summary: 'Record an order (staff only)',
  description: `The server computes \`item_price\` (Σ unit price × quantity, snapshotted per item),
\`total_price = item_price − discount_price + delivery_price\` (400 if negative) and \`is_first_purchase\`.
\`customer_id\` must be an existing user and every \`product_id\` an existing product (404 \`NOT_FOUND\` otherwise).
Orders with status PAID, SHIPPING or COMPLETED count as sales in the UTC hour of \`paid_at\`.
\`is_first_purchase\` is held by the customer's earliest counted order by \`paid_at\` (then id): recording an
older order moves it there. A partial unique index keeps exactly one per customer under concurrent writes.
The order, its items and every dashboard aggregate are written in one D1 batch (one transaction).

Every figure is exact as a JSON number: prices, discounts and delivery are at most 1,000,000,000, quantities
at most 1,000 and an order has at most 100 lines, so an order is at most 10^14. An hour's dashboard sums are
capped at 2^53 / 32 (a day of 25 hours stays below 2^53) and a product's all-time amount at 2^53 − 1: an
order (or a status change) that would pass a cap is 409 \`SALES_LIMIT_EXCEEDED\` and records nothing.`,
  request: { body: jsonBody(CreateOrderBody) },
  responses: {
    201: jsonResponse(OrderSchema, 'The recorded order.'),
    ...errorResponses([DENIED, 'NOT_FOUND', 'SALES_LIMIT_EXCEEDED'], { auth: true, body: true }),
  },
});

export const getOrderRoute = createRoute({
  operationId: 'getOrder',
  method: 'get',
  path: '/api/orders/{id}',
  tags: ['sales'],
  security: bearer,
  // The session and staff check ride with the one read (src/modules/accounts/auth.ts, staffReadAuth).
  middleware: [staffReadAuth] as const,
  summary: 'An order with its items (staff only)',
  description: 'The order, its status and every item with the price it was sold at.',
  request: { params: IdParam },
  responses: { 200: jsonResponse(OrderSchema, 'The order.'), ...errorResponses([DENIED, 'NOT_FOUND'], { auth: true }) },
});

export const listOrdersRoute = createRoute({
  operationId: 'listOrders',
  method: 'get',
  path: '/api/orders',
  tags: ['sales'],
  security: bearer,
  // The session and staff check ride with the one read (src/modules/accounts/auth.ts, staffReadAuth).
  middleware: [staffReadAuth] as const,
  summary: 'List orders, newest first, with their items (staff only)',
  description: `Newest first by \`created_at\` (then id), each order with its items. Filters, all optional and combined
with AND: \`status\`, \`customer_id\`, \`from\` / \`to\` (local dates of \`created_at\` in \`DASHBOARD_TIMEZONE\`, Asia/Seoul
by default: \`from\` at its midnight, \`to\` through its whole day; \`from\` later than \`to\` is 400 \`INVALID_DATE_RANGE\`)
and \`min_total\` (\`total_price\` at least this).

Paging is by cursor only: \`page_size\` (default 20, max 100), then \`cursor\` = the previous page's \`next_cursor\`
(\`next\` is the same URL with it) with the same filters. Each page is one index range read, equally fast at any
depth, and an order recorded while paging appears on a later first page, never twice or shifted. There is no
\`count\`: an exact count of millions of orders would be a scan on every page (the dashboards have the totals).
A malformed cursor is 400 \`INPUT_VALIDATION_ERROR\` on \`cursor\`.`,
  request: { query: OrderListQuery },
  responses: {
    200: jsonResponse(OrderPage, 'A page of orders.'),
    ...errorResponses([DENIED, 'INVALID_DATE_RANGE'], { auth: true }),
  },
});

export const patchOrderRoute = createRoute({
  operationId: 'updateOrder',
  method: 'patch',
  path: '/api/orders/{id}',
  tags: ['sales'],
  security: bearer,
  middleware: [staffOnly] as const,
  summary: "Change an order's status (staff only)",
  description: `Allowed: PENDING → PAID | CANCELLED; PAID → SHIPPING | COMPLETED | CANCELLED; SHIPPING → COMPLETED |
CANCELLED; COMPLETED → CANCELLED (a refund). CANCELLED is final. Setting the current status again is a no-op (200);
any other move is 400 \`INVALID_STATUS_TRANSITION\` (with \`from\` and \`to\`).
PENDING → PAID sets \`paid_at\` to now unless it was given. A move into or out of the counted statuses
(PAID, SHIPPING, COMPLETED) moves the order into or out of the dashboard aggregates and re-settles the
customer's \`is_first_purchase\` (cancelling the first purchase passes the flag to the next counted order),
atomically with the status change; concurrent changes are serialised by a conditional update on a revision.`,
  request: { params: IdParam, body: jsonBody(PatchOrderBody) },
  responses: {
    200: jsonResponse(OrderSchema, 'The updated order.'),
    ...errorResponses([DENIED, 'NOT_FOUND', 'INVALID_STATUS_TRANSITION', 'SALES_LIMIT_EXCEEDED'], { auth: true, body: true }),
  },
});

const RANGE_RULES = `Dates are \`YYYY-MM-DD\` or ISO 8601 date-times. A bare date is read in the dashboard time zone
(\`timezone\`, default \`DASHBOARD_TIMEZONE\` = Asia/Seoul) and a bare \`end-date\` covers its whole day; a date-time
without an offset is wall-clock time in that zone; \`end-date\` defaults to now. \`start-date\` later than
\`end-date\` is 400 \`INVALID_DATE_RANGE\`. Figures are kept per UTC hour and always cover whole local hours:
a date-time in the middle of an hour includes that whole hour. Zones whose UTC offset is not a whole number of
hours (Asia/Kolkata, Asia/Kathmandu, …) are refused with 400 \`INPUT_VALIDATION_ERROR\` on \`timezone\`; an unknown
zone is 400 too. Only PAID, SHIPPING and COMPLETED orders count, at their \`paid_at\`. The figures come from
pre-aggregated tables written in the same transaction as each order, never from a scan of the orders.`;

export const liveSalesRoute = createRoute({
  operationId: 'getLiveSales',
  method: 'get',
  path: '/api/dashboards/live-sales',
  tags: ['dashboards'],
  security: bearer,
  // Not the deferred check: a non-staff token gets its 403 before the query is validated or any work done.
  middleware: [staffOnly] as const,
  summary: 'Sales per local hour or day (staff only)',
  description: `${RANGE_RULES}

One bucket per local hour (\`interval=hour\`) or local day (\`interval=day\`, 23 or 25 hours across a DST change),
ascending, empty buckets included with zeros, each with \`datetime\` = its start in ISO 8601 with the offset in force
(\`2026-11-22T09:00:00+09:00\`). Buckets are whole: the first one starts at the start of the hour/day containing
\`start-date\`. More than 1,000 buckets is 400 \`RANGE_TOO_LARGE\`.
\`total_amount\` = Σ total_price; \`customer_count\` = distinct customers (exact for every bucket);
\`coupon_amount\` = Σ discount_price; \`first_purchase_count\` / \`first_purchase_amount\` = count and Σ total_price
of the orders flagged \`is_first_purchase\`.`,
  request: { query: LiveSalesQuery },
  responses: {
    200: jsonResponse(LiveSalesSchema, 'One entry per bucket.'),
    ...errorResponses([DENIED, 'INVALID_DATE_RANGE', 'RANGE_TOO_LARGE'], { auth: true }),
  },
});

export const salesChartRoute = createRoute({
  operationId: 'getSalesChart',
  method: 'get',
  path: '/api/dashboards/sales-chart',
  tags: ['dashboards'],
  security: bearer,
  // Not the deferred check: a non-staff token gets its 403 before the query is validated or any work done.
  middleware: [staffOnly] as const,
  summary: 'Best-selling products in a range (staff only)',
  description: `${RANGE_RULES}

Products ranked by quantity sold (ties: total_amount descending, then name, then id), at most \`limit\`
(default 10, max 100); products without sales in the range are left out. \`total_amount\` = Σ unit_price × quantity
of the snapshotted items; \`product_name\` is the product's current name. A range of more than 1,000 days is
400 \`RANGE_TOO_LARGE\`.`,
  request: { query: SalesChartQuery },
  responses: {
    200: jsonResponse(SalesChartSchema, 'The ranking.'),
    ...errorResponses([DENIED, 'INVALID_DATE_RANGE', 'RANGE_TOO_LARGE'], { auth: true }),
  },
});
