// A typed client for any TypeScript project: the types that openapi-typescript generates from the
// API's /openapi.json (schema.d.ts) and the small `openapi-fetch` client. It signs up, logs in, lists
// exams and reads a typed error. This file stands alone: copy it next to your generated schema.d.ts
// (client/README.md has the commands; scripts/check-client.sh runs them in an empty folder). In this
// repository it is typechecked by `npm run typecheck` and run against the worker by
// tests/client.test.ts (through example.ts).
import createClient from 'openapi-fetch';
import type { paths } from './schema.js';

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
