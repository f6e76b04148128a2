// The OpenAPI document as integrators' tools read it. docs/openapi.json is the committed copy that
// `npm run lint:openapi` (in .ci/run) lints with Redocly and Spectral; the first test fails when it
// is stale (`npm run openapi` rewrites it and client/schema.d.ts).
import { describe, expect, it } from 'vitest';
import { api, fromIp, PASSWORD, type Problem, raw, uniq } from './helpers';

type Json = any;
const docOf = async (): Promise<Json> => (await raw('/openapi.json')).json();

describe('/openapi.json', () => {
  it('docs/openapi.json is the document the worker serves (npm run openapi rewrites it)', async () => {
    await expect(`${JSON.stringify(await docOf(), null, 2)}\n`).toMatchFileSnapshot('../docs/openapi.json');
  });

  it('every operation has a unique operationId and says who may call it', async () => {
    const doc = await docOf();
    const ops = Object.values(doc.paths as Record<string, Record<string, Json>>).flatMap((o) => Object.values(o));
    const ids = ops.map((op) => op.operationId);
    expect(ids.every((id) => typeof id === 'string' && /^[a-z][A-Za-z]+$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ops.length);
    expect(ops.every((op) => Array.isArray(op.security))).toBe(true);
    expect(doc.paths['/api/exams'].get.operationId).toBe('listExams');
    expect(doc.paths['/api/courses'].get.operationId).toBe('listCourses');
  });

  it('each error status lists its codes as an enum', async () => {
    const doc = await docOf();
    const schema = doc.paths['/api/users/login'].post.responses['401'].content['application/problem+json'].schema;
    expect(schema.allOf[0]).toEqual({ $ref: '#/components/schemas/Problem' });
    expect(schema.allOf[1].properties.code.enum).toEqual(['INVALID_CREDENTIALS']);
    const me = doc.paths['/api/users/me'].get.responses['401'].content['application/problem+json'].schema;
    expect(me.allOf[1].properties.code.enum).toEqual(['TOKEN_NOT_FOUND', 'TOKEN_EXPIRED', 'INVALID_TOKEN']);
  });

  it('rate-limited routes document RateLimit headers on every response and Retry-After on the 429; others have no 429', async () => {
    const doc = await docOf();
    const limited = [
      ['/api/users/signup', 'post'],
      ['/api/users/login', 'post'],
      ['/api/users/phone/login', 'post'],
      ['/api/users/phone/verify', 'post'],
      ['/api/users/phone/verify/{verification_token}', 'post'],
      ['/api/profile', 'post'],
    ];
    for (const [path, method] of limited) {
      const responses = doc.paths[path!][method!].responses as Record<string, Json>;
      for (const [status, r] of Object.entries(responses)) {
        expect({ path, status, headers: Object.keys(r.headers ?? {}).sort() }).toEqual({
          path,
          status,
          headers: status === '429' ? ['RateLimit', 'RateLimit-Policy', 'Retry-After'] : ['RateLimit', 'RateLimit-Policy'],
        });
      }
    }
    expect(doc.paths['/api/users/me'].get.responses['429']).toBeUndefined();
  });

  it('the WebSocket route documents its 101 upgrade', async () => {
    const live = (await docOf()).paths['/api/machines/{id}/live'].get.responses['101'];
    expect(Object.keys(live.headers)).toEqual(['Upgrade', 'Connection', 'Sec-WebSocket-Accept']);
  });
});

describe('the username pattern', () => {
  // Accepted by the server (Unicode letters and digits of any script, astral ones too) …
  const valid = ['ada', 'Ада Лавлейс', '김철수', 'José_1.2@x+y-z', '𝒜da', '١٢٣', 'ǅemal'];
  // … and refused: ASCII punctuation outside _ . @ + -, controls, symbols and emoji.
  const invalid = ['a!b', 'a/b', 'a#b', 'a`b', 'tab\there', 'a\u0085b', 'a😀', 'a€b'];

  it('the server keeps its rule: letters and digits of any script, spaces and _ . @ + -', async () => {
    for (const name of valid) {
      const username = `${name}${uniq('')}`; // unique also after NFKC (𝒜da is ada)
      const res = await api.users.signup.$post({ json: { username, password: PASSWORD } }, fromIp());
      expect({ username, status: res.status }).toEqual({ username, status: 201 });
    }
    for (const name of invalid) {
      const username = `${name}${uniq('')}`;
      const res = await api.users.signup.$post({ json: { username, password: PASSWORD } }, fromIp());
      const body = (await res.json()) as Problem;
      expect({ username, status: res.status, path: body.errors?.[0]?.path }).toEqual({ username, status: 400, path: 'username' });
    }
  });

  it('the document’s pattern has no \\p{…}, reads the same with and without the u flag, and never refuses a valid name', async () => {
    const schema = (await docOf()).components.schemas.SignupRequest.properties.username;
    expect(schema.pattern).not.toMatch(/\\p\{/);
    const plain = new RegExp(schema.pattern);
    const unicode = new RegExp(schema.pattern, 'u');
    for (const name of [schema.example, ...valid])
      expect({ name, plain: plain.test(name), unicode: unicode.test(name) }).toEqual({ name, plain: true, unicode: true });
    // What it can express (ASCII and controls) it refuses like the server; the rest is in its description.
    for (const name of invalid.slice(0, 6))
      expect({ name, plain: plain.test(name), unicode: unicode.test(name) }).toEqual({ name, plain: false, unicode: false });
  });
});
