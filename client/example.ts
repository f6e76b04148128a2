// A typed client in two flavours, both checked by `npm run typecheck` and run against the worker by
// tests/client.test.ts:
//   - openapiExample: any TypeScript project, with the types openapi-typescript generated from
//     /openapi.json (client/schema.d.ts) and the small `openapi-fetch` client;
//   - honoExample: a TypeScript project that can import this repository's types, with Hono's own
//     RPC client `hc<AppType>`.
// Both sign up, log in, list exams and read a typed error.
import { hc } from 'hono/client';
import createClient from 'openapi-fetch';
import type { AppType } from '../src/app-type';
import type { paths } from './schema';

export interface ExampleResult {
  userId: number;
  examTitles: string[];
  /** The `code` of the problem+json that an unauthenticated GET /api/users/me answers. */
  errorCode: string;
}

export async function openapiExample(baseUrl: string, email: string, password: string, fetch = globalThis.fetch): Promise<ExampleResult> {
  const api = createClient<paths>({ baseUrl, fetch });

  const signup = await api.POST('/api/users/signup', { body: { email, password } });
  if (!signup.data) throw new Error(`signup failed: ${signup.error?.code}`);

  const login = await api.POST('/api/users/login', { body: { email, password } });
  if (!login.data) throw new Error(`login failed: ${login.error?.code}`);
  const auth = { Authorization: `Bearer ${login.data.token.access}` };

  const exams = await api.GET('/api/exams', { params: { query: { page_size: 5, sort: 'popular' } }, headers: auth });
  if (!exams.data) throw new Error(`listing exams failed: ${exams.error?.code}`);

  // Errors are typed too: `code` is the union of the codes this route documents for the status.
  const me = await api.GET('/api/users/me');
  const code: 'TOKEN_NOT_FOUND' | 'TOKEN_EXPIRED' | 'INVALID_TOKEN' | 'INPUT_VALIDATION_ERROR' | 'INTERNAL_ERROR' | undefined = me.error?.code;

  return { userId: signup.data.id, examTitles: exams.data.results.map((e) => e.title), errorCode: code ?? 'none' };
}

export async function honoExample(baseUrl: string, email: string, password: string, fetch = globalThis.fetch): Promise<ExampleResult> {
  const api = hc<AppType>(baseUrl, { fetch });

  const signup = await api.api.users.signup.$post({ json: { email, password } });
  if (signup.status !== 201) throw new Error(`signup failed: ${signup.status}`);
  const user = await signup.json();

  const login = await api.api.users.login.$post({ json: { email, password } });
  if (login.status !== 200) throw new Error(`login failed: ${login.status}`);
  const { token } = await login.json();
  const auth = { headers: { Authorization: `Bearer ${token.access}` } };

  const exams = await api.api.exams.$get({ query: { page_size: 5, sort: 'popular' } }, auth);
  if (exams.status !== 200) throw new Error(`listing exams failed: ${exams.status}`);
  const page = await exams.json();

  const me = await api.api.users.me.$get();
  if (me.status !== 401) throw new Error(`expected 401, got ${me.status}`);
  const problem = await me.json();

  return { userId: user.id, examTitles: page.results.map((e) => e.title), errorCode: problem.code };
}
