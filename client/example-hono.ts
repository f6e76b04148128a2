// A typed client for a TypeScript project that can import this repository's types: Hono's own RPC
// client `hc<AppType>`, with AppType from src/app-type.ts. Same steps as example-openapi.ts. Checked
// by `npm run typecheck` and run against the worker by tests/client.test.ts (through example.ts).
import { hc } from 'hono/client';
import type { AppType } from '../src/app-type';
import type { ExampleResult } from './example-openapi';

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
