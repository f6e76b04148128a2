// The web console's hand-written response shapes (web/src/lib/types.ts) checked against the API's
// routes: every body a route the console calls answers with must fit the shape the console reads.
// Type-level only (nothing runs): `npm run typecheck` fails when a route and the console drift apart.
// It lives in the worker's program, which already type-checks AppType, so the console's own program
// stays small (docs/console.md "The contract with the API").
import type { InferResponseType } from 'hono/client';
import type { StatusCode } from 'hono/utils/http-status';
import type * as Web from '../web/src/lib/types';
import type { api } from './client';

type Client = typeof api;
/** true when the route's `status` body fits the console's `Shape`; otherwise why not (a type error in Ok). */
type Fits<Route, Shape, Status extends StatusCode = 200> = [InferResponseType<Route, Status>] extends [never]
  ? 'the route has no such JSON body'
  : 0 extends 1 & InferResponseType<Route, Status>
    ? 'the route body is untyped'
    : [InferResponseType<Route, Status>] extends [Shape]
      ? true
      : 'the route body does not fit the console shape';
type Ok<_ extends true> = true;

export type WebContract = [
  Ok<Fits<Client['users']['login']['$post'], Web.LoginResult>>,
  Ok<Fits<Client['users']['refresh']['$post'], Web.TokenPair>>,
  Ok<Fits<Client['users']['me']['$get'], Web.User>>,
  Ok<Fits<Client['users']['phone']['login']['$post'], Web.PhoneLoginResult>>,
  Ok<Fits<Client['users']['phone']['verify']['$post'], Web.LoginResult>>,
  Ok<Fits<Client['profile']['$get'], Web.Profile>>,
  Ok<Fits<Client['profile']['referred-users']['$get'], Web.Page<Web.ReferredUser>>>,
  Ok<Fits<Client['exams']['$get'], Web.Page<Web.Item>>>,
  Ok<Fits<Client['courses']['$get'], Web.Page<Web.Item>>>,
  Ok<Fits<Client['exams'][':id']['apply']['$post'], { payment: Web.Payment }, 201>>,
  Ok<Fits<Client['courses'][':id']['enroll']['$post'], { payment: Web.Payment }, 201>>,
  Ok<Fits<Client['me']['payments']['$get'], Web.Page<Web.Payment>>>,
  Ok<Fits<Client['payments'][':id']['cancel']['$post'], Web.Payment>>,
  Ok<Fits<Client['products']['$get'], Web.Page<Web.Product>>>,
  Ok<Fits<Client['orders']['$post'], Web.Order, 201>>,
  Ok<Fits<Client['orders']['$get'], Web.OrderPage>>,
  Ok<Fits<Client['orders'][':id']['$get'], Web.Order>>,
  Ok<Fits<Client['orders'][':id']['$patch'], Web.Order>>,
  Ok<Fits<Client['dashboards']['live-sales']['$get'], { results: Web.SalesBucket[] }>>,
  Ok<Fits<Client['dashboards']['sales-chart']['$get'], { results: Web.ProductSales[] }>>,
  Ok<Fits<Client['machines']['$get'], Web.Page<Web.Machine>>>,
  Ok<Fits<Client['machines'][':id']['$get'], Web.Machine>>,
  Ok<Fits<Client['machines'][':id']['history']['$get'], Web.Page<Web.Operation>>>,
  Ok<Fits<Client['webhook-endpoints']['$get'], Web.Page<Web.WebhookEndpoint>>>,
  Ok<Fits<Client['webhook-endpoints']['$post'], Web.WebhookEndpoint & { secret: string }, 201>>,
  Ok<Fits<Client['webhook-endpoints'][':id']['deliveries']['$get'], Web.Page<Web.WebhookDelivery>>>,
];
