// The OpenAPI document as integrators' tools read it. docs/openapi.json is the committed copy that
// `.ci/run` lints with Redocly and Spectral; this test fails when it is stale (`npm run openapi`
// rewrites it).
import { describe, expect, it } from 'vitest';
import { call } from './helpers';

describe('/openapi.json', () => {
  it('docs/openapi.json is the document the worker serves (npm run openapi rewrites it)', async () => {
    const doc = await (await call('/openapi.json')).json();
    await expect(`${JSON.stringify(doc, null, 2)}\n`).toMatchFileSnapshot('../docs/openapi.json');
  });
});
