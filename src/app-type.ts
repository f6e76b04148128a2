// The API's type for Hono's RPC client: `hc<AppType>(baseUrl)` (see client/README.md).
//
// It is built from the route definitions (every `createRoute` a module's routes.ts exports, and the
// per-kind ones), the same objects the handlers mount, so handlers keep their plain
// `router.openapi(route, handler)` statements. The worker never imports this file; clients import
// its type, and tests/client.test.ts checks that ROUTES holds every operation of /openapi.json.
import type { OpenAPIHono, RouteConfig } from '@hono/zod-openapi';
import type { AppEnv } from './context';
import * as accounts from './modules/accounts/routes';
import { KINDS } from './modules/catalog/kinds';
import { catalogRoutes } from './modules/catalog/routes';
import * as machines from './modules/machines/routes';
import * as payments from './modules/payments/routes';
import * as phone from './modules/phone/routes';
import * as referrals from './modules/referrals/routes';
import * as sales from './modules/sales/routes';
import * as system from './modules/system/routes';
import * as webhooks from './modules/webhooks/routes';

/** Every module's routes; the values that are not route configs (schemas, helpers) are skipped. */
export const ROUTES = {
  system,
  accounts,
  phone,
  referrals,
  machines,
  sales,
  exams: catalogRoutes(KINDS.exams),
  courses: catalogRoutes(KINDS.courses),
  examRegistrations: payments.registrationRoutes(KINDS.exams),
  courseRegistrations: payments.registrationRoutes(KINDS.courses),
  payments,
  webhooks,
};

type RoutesOf<M> = { [K in keyof M]: M[K] extends RouteConfig ? M[K] : never }[keyof M];
type AllRoutes = { [M in keyof typeof ROUTES]: RoutesOf<(typeof ROUTES)[M]> }[keyof typeof ROUTES];

declare const app: OpenAPIHono<AppEnv>;
/** The schema `app.openapi(route, …)` adds for one route: what zod-openapi itself computes. */
type SchemaOf<R> = R extends RouteConfig ? (ReturnType<typeof app.openapi<R>> extends OpenAPIHono<AppEnv, infer S> ? S : never) : never;
type Intersect<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;

export type AppType = OpenAPIHono<AppEnv, Intersect<SchemaOf<AllRoutes>>>;
