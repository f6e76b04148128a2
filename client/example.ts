// The typed clients in two flavours, both checked by `npm run typecheck` and run against the worker
// by tests/client.test.ts:
//   - example-openapi.ts (openapiExample): any TypeScript project, with the types openapi-typescript
//     generated from /openapi.json (client/schema.d.ts) and the small `openapi-fetch` client; it
//     stands alone (client/README.md shows how to set it up in an empty folder);
//   - example-hono.ts (honoExample): a TypeScript project that can import this repository's types,
//     with Hono's own RPC client `hc<AppType>`.
// Both sign up, log in, list exams and read a typed error.
export { honoExample } from './example-hono';
export { type ExampleResult, openapiExample } from './example-openapi';
