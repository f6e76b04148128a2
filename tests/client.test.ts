// The typed clients of client/example.ts, run against the worker: what an integrator's code does.
import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { honoExample, openapiExample } from '../client/example';
import { ROUTES } from '../src/app-type';
import { createItem } from './catalog-helpers';
import { BASE, openapiDoc, PASSWORD, uniq } from './helpers';

const workerFetch = ((input: RequestInfo | URL, init?: RequestInit) => exports.default.fetch(new Request(input, init))) as typeof fetch;

describe('typed clients (client/example.ts)', () => {
  it('openapi-typescript + openapi-fetch: sign up, log in, list exams, a typed error', async () => {
    const exam = await createItem('exams', { title: `Client exam ${uniq()}` });
    const result = await openapiExample(BASE, `${uniq()}@example.com`, PASSWORD, workerFetch);
    expect(result.userId).toBeGreaterThan(0);
    expect(result.examTitles).toContain(exam.title);
    expect(result.errorCode).toBe('TOKEN_NOT_FOUND');
  });

  it('hc<AppType>: sign up, log in, list exams, a typed error', async () => {
    const exam = await createItem('exams', { title: `Hono exam ${uniq()}` });
    const result = await honoExample(BASE, `${uniq()}@example.com`, PASSWORD, workerFetch);
    expect(result.userId).toBeGreaterThan(0);
    expect(result.examTitles).toContain(exam.title);
    expect(result.errorCode).toBe('TOKEN_NOT_FOUND');
  });

  it('AppType covers every operation of /openapi.json, and nothing else', async () => {
    const doc = await openapiDoc();
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`));
    const typed = Object.values(ROUTES).flatMap((mod) =>
      Object.values(mod as Record<string, unknown>)
        .filter((r): r is { method: string; path: string } => typeof r === 'object' && r !== null && 'method' in r && 'path' in r && 'responses' in r)
        .map((r) => `${r.method} ${r.path}`),
    );
    expect([...new Set(typed)].sort()).toEqual(documented.sort());
  });
});
