// Fuzzing driven by /openapi.json: for every documented operation, fast-check generates path
// params, query strings, bodies and headers — valid, boundary and hostile — with and without valid
// tokens, and checks the properties every response must have:
//   - never a 5xx;
//   - every 4xx is problem+json whose `status` equals the HTTP status, with `code` and `detail`;
//   - every status is one the operation documents;
//   - every 2xx JSON body matches the documented response schema.
import { Validator } from '@cfworker/json-schema';
import fc from 'fast-check';
import { expect } from 'vitest';
import { raw } from '../helpers';

type Json = any;
type Op = { method: string; path: string; op: Json };

/** Strings that have broken real services: FTS syntax, SQL, bad dates and phones, unicode, sizes. */
const NASTY = [
  '',
  ' ',
  '"',
  "'",
  '*',
  '"unterminated',
  'NEAR(a b)',
  'title:*',
  'AND OR NOT',
  '^a OR',
  "'; DROP TABLE users; --",
  "1' OR '1'='1",
  '%',
  '_',
  '\\',
  '\u0000',
  '\u202e\u0041',
  '😀'.repeat(50),
  '가나다라',
  'ÅÄÖ ß ǅ',
  'a'.repeat(5000),
  '2026-13-45',
  '2026-02-30',
  '0000-00-00T25:61:00Z',
  '9999-12-31T23:59:59.999Z',
  '-1',
  '1e309',
  'NaN',
  'Infinity',
  'null',
  'true',
  '[]',
  '{}',
  '+82 000',
  '010-0000-0000',
  '+999999999999999',
  '../../etc/passwd',
  '<script>alert(1)</script>',
  'Asia/Nowhere',
  'America/New_York',
  'START',
  'READY',
  'kakaopay',
  'paid',
];

const NUMBERS = [0, -1, 1, 2, 7, 8, 100, 101, 1000, 2 ** 31, 2 ** 53, -(2 ** 53), 1.5, 1e308, Number.MAX_SAFE_INTEGER + 2];

function resolve(schema: Json, doc: Json, depth = 0): Json {
  if (depth > 20 || schema === null || typeof schema !== 'object') return schema;
  if (Array.isArray(schema)) return schema.map((s) => resolve(s, doc, depth + 1));
  if (typeof schema.$ref === 'string') {
    const target = schema.$ref
      .replace(/^#\//, '')
      .split('/')
      .reduce((o: Json, k: string) => o?.[k], doc);
    return resolve(target, doc, depth + 1);
  }
  return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, resolve(v, doc, depth + 1)]));
}

const anyJson: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom(...NASTY),
  fc.constantFrom(...NUMBERS),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.constantFrom(...NASTY), { maxLength: 3 }),
  fc.dictionary(fc.constantFrom('a', 'is_staff', '__proto__', 'constructor'), fc.constantFrom(...NASTY), { maxKeys: 2 }),
);

/** Text the size of a documented limit (and one past it), in the shapes that once broke a database:
 *  one long word, many short words, multi-byte letters, LIKE wildcards, search operators. */
function atLimit(length: number): fc.Arbitrary<string> {
  const fill = (unit: string) => unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
  return fc.constantFrom(...['a', 'a ', '가', '%', '_\\', 'é ', 'OR a ', '"', '😀'].map(fill));
}

function stringArb(schema: Json): fc.Arbitrary<string> {
  const options: fc.Arbitrary<string>[] = [fc.constantFrom(...NASTY), fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 })];
  if (typeof schema.maxLength === 'number') options.push(atLimit(schema.maxLength), atLimit(schema.maxLength), atLimit(schema.maxLength + 1));
  if (typeof schema.minLength === 'number' && schema.minLength > 0) options.push(atLimit(schema.minLength), atLimit(schema.minLength - 1));
  if (Array.isArray(schema.enum)) options.push(fc.constantFrom(...schema.enum), fc.constantFrom(...schema.enum));
  if (schema.example !== undefined) options.push(fc.constant(String(schema.example)));
  if (schema.format === 'email' || /email/.test(schema.description ?? '')) options.push(fc.emailAddress());
  if (schema.format === 'date-time' || schema.format === 'date') options.push(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()));
  if (typeof schema.pattern === 'string') {
    try {
      options.push(fc.stringMatching(new RegExp(schema.pattern, 'u')));
    } catch {
      // a pattern fast-check cannot generate from: the other options still cover it
    }
  }
  return fc.oneof(...options);
}

function numberArb(schema: Json): fc.Arbitrary<number> {
  const edges = [...NUMBERS];
  for (const k of ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum']) {
    if (typeof schema[k] === 'number') edges.push(schema[k], schema[k] - 1, schema[k] + 1);
  }
  const min = typeof schema.minimum === 'number' ? schema.minimum : 0;
  const max = typeof schema.maximum === 'number' ? schema.maximum : 10_000;
  return fc.oneof(fc.constantFrom(...edges), fc.integer({ min: Math.max(-1e9, min), max: Math.min(1e9, Math.max(min, max)) }));
}

/** Values shaped like the schema most of the time, anything at all some of the time. */
export function arbFromSchema(schema: Json, depth = 0): fc.Arbitrary<Json> {
  if (!schema || depth > 6) return anyJson;
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(alternatives)) return fc.oneof(...alternatives.map((s: Json) => arbFromSchema(s, depth + 1)), anyJson);
  const types: string[] = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  const shaped: fc.Arbitrary<Json>[] = types.map((t) => {
    switch (t) {
      case 'string':
        return stringArb(schema);
      case 'integer':
      case 'number':
        return numberArb(schema);
      case 'boolean':
        return fc.boolean();
      case 'null':
        return fc.constant(null);
      case 'array':
        return fc.array(arbFromSchema(schema.items, depth + 1), { maxLength: schema.maxItems ? Math.min(schema.maxItems + 1, 12) : 5 });
      case 'object':
        return objectArb(schema, depth);
      default:
        return anyJson;
    }
  });
  if (Array.isArray(schema.enum) && shaped.length === 0) shaped.push(fc.constantFrom(...schema.enum));
  if (shaped.length === 0) return anyJson;
  return fc.oneof({ arbitrary: fc.oneof(...shaped), weight: 5 }, { arbitrary: anyJson, weight: 1 });
}

function objectArb(schema: Json, depth: number): fc.Arbitrary<Json> {
  const props: Record<string, Json> = schema.properties ?? {};
  const required = new Set<string>(schema.required ?? []);
  const entries = Object.entries(props).map(([name, sub]) => {
    // Required fields are present 9 times in 10, optional ones half of the time.
    const presence = required.has(name) ? fc.integer({ min: 0, max: 9 }).map((n) => n > 0) : fc.boolean();
    return fc.tuple(fc.constant(name), presence, arbFromSchema(sub, depth + 1));
  });
  const extra = fc.option(fc.tuple(fc.constantFrom('is_staff', 'is_superuser', 'owner_id', 'id', 'zzz'), anyJson), { freq: 4 });
  return fc.tuple(fc.tuple(...entries), extra).map(([fields, more]) => {
    const out: Record<string, Json> = {};
    for (const [name, present, value] of fields) if (present) out[name] = value;
    if (more) out[more[0]] = more[1];
    return out;
  });
}

export function operations(doc: Json): Op[] {
  const out: Op[] = [];
  for (const [path, item] of Object.entries<Json>(doc.paths)) {
    for (const [method, op] of Object.entries<Json>(item)) out.push({ method: method.toUpperCase(), path, op });
  }
  return out;
}

export interface Tokens {
  user: string;
  staff: string;
}

function requestArb(doc: Json, { path, op }: Op, tokens: Tokens) {
  const params: Json[] = (op.parameters ?? []).map((p: Json) => resolve(p, doc));
  const pathParams = params.filter((p) => p.in === 'path');
  const queryParams = params.filter((p) => p.in === 'query');
  const bodySchema = resolve(op.requestBody?.content?.['application/json']?.schema, doc);
  const pathValue = fc.oneof(
    fc.integer({ min: 1, max: 50 }).map(String),
    fc.constantFrom('0', '-1', '1.5', 'abc', '99999999999999999999', '%20', '%00', 'null'),
    // "", "." and ".." would be normalised away by the URL parser and address another route.
    fc.string({ maxLength: 12 }).map((s) => (/^\.{0,2}$/.test(s) ? 'x' : encodeURIComponent(s))),
  );
  return fc
    .record({
      pathValues: fc.tuple(...pathParams.map(() => pathValue)),
      query: fc.tuple(...queryParams.map((p) => fc.option(arbFromSchema(p.schema), { freq: 2 }))),
      // Mostly only one query parameter is sent: a value that passes validation then reaches the
      // database instead of being refused for a neighbour's sake.
      focus: fc.option(fc.nat({ max: Math.max(0, queryParams.length - 1) }), { freq: 3 }),
      body: bodySchema ? fc.option(arbFromSchema(bodySchema), { freq: 10 }) : fc.constant(null),
      auth: fc.constantFrom<'none' | 'user' | 'staff' | 'garbage'>('none', 'user', 'user', 'staff', 'staff', 'garbage'),
      lang: fc.constantFrom('en', 'ko', 'ru', 'de', '*', 'ko;q=0.1, ru;q=0.9'),
      idempotencyKey: fc.option(fc.oneof(fc.uuid(), fc.constantFrom('', 'x'.repeat(300))), { freq: 4 }),
    })
    .map((r) => {
      let url = path;
      for (const [i, p] of pathParams.entries()) url = url.replace(`{${p.name}}`, r.pathValues[i]!);
      const qs = new URLSearchParams();
      queryParams.forEach((p, i) => {
        if (r.focus !== null && r.focus !== i) return;
        const v = r.query[i];
        if (v !== null && v !== undefined) qs.set(p.name, typeof v === 'string' ? v : JSON.stringify(v));
      });
      const headers: Record<string, string> = { 'accept-language': r.lang, 'cf-connecting-ip': '10.99.0.1' };
      if (r.auth === 'user') headers.authorization = `Bearer ${tokens.user}`;
      if (r.auth === 'staff') headers.authorization = `Bearer ${tokens.staff}`;
      if (r.auth === 'garbage') headers.authorization = 'Bearer eyJhbGciOiJub25lIn0.e30.';
      if (r.idempotencyKey !== null) headers['idempotency-key'] = r.idempotencyKey;
      const query = qs.toString();
      return { url: query ? `${url}?${query}` : url, body: r.body, headers, auth: r.auth };
    });
}

const validators = new Map<string, Validator>();

function validatorFor(doc: Json, key: string, schema: Json): Validator {
  let v = validators.get(key);
  if (!v) {
    v = new Validator(resolve(schema, doc), '2020-12', false);
    validators.set(key, v);
  }
  return v;
}

/** Sends one generated request and asserts the response properties. */
async function check(doc: Json, o: Op, req: { url: string; body: Json; headers: Record<string, string> }) {
  const res = await raw(req.url, {
    method: o.method,
    headers: req.headers,
    ...(req.body !== null && req.body !== undefined ? { body: req.body } : {}),
  });
  const label = `${o.method} ${req.url} → ${res.status}`;
  const text = await res.text();
  expect(res.status, `${label}: ${text.slice(0, 300)}`).toBeLessThan(500);
  const documented = Object.keys(o.op.responses);
  expect(documented, `${label} is not documented: ${text.slice(0, 300)}`).toContain(String(res.status));
  if (res.status >= 400) {
    expect(res.headers.get('content-type'), label).toContain('application/problem+json');
    const problem = JSON.parse(text);
    expect(problem.status, label).toBe(res.status);
    expect(typeof problem.code, label).toBe('string');
    expect(typeof problem.detail, label).toBe('string');
  } else if (text && res.headers.get('content-type')?.includes('application/json')) {
    const schema = o.op.responses[String(res.status)]?.content?.['application/json']?.schema;
    if (schema) {
      const result = validatorFor(doc, `${o.method} ${o.path} ${res.status}`, schema).validate(JSON.parse(text));
      expect(result.valid, `${label} does not match its schema: ${JSON.stringify(result.errors.slice(0, 3))}`).toBe(true);
    }
  }
}

/** Runs `total` generated requests spread over every operation of the document. */
export async function fuzz(doc: Json, tokens: Tokens, total: number, seed: number): Promise<number> {
  const ops = operations(doc);
  const perOp = Math.max(1, Math.ceil(total / ops.length));
  let sent = 0;
  for (const [i, o] of ops.entries()) {
    await fc.assert(
      fc.asyncProperty(requestArb(doc, o, tokens), async (req) => {
        sent += 1;
        await check(doc, o, req);
      }),
      { numRuns: perOp, seed: seed + i, endOnFailure: true },
    );
  }
  return sent;
}
