// Round trips pinned (issue 26): every operation of /openapi.json is sent once, as a successful
// request, and its database round trips, new Postgres connections and Durable Object calls
// (tests/trips.ts) must equal the row of the table in docs/performance.md ("Round trips per
// request") for this backend. An operation without a request here, or without a row there, fails;
// so does a change that adds (or saves) a round trip until the table says so.
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import performanceMd from '../docs/performance.md?raw';
import { BASE, createUser, openapiDoc, randomIp, randomPhone, raw, requestPhoneCode, type TestUser, uniq } from './helpers';
import { exports } from 'cloudflare:workers';
import { type Trips, tripsOf } from './trips';
import { stubFetch } from './fakes/http';
import { db, sql } from './db';
import { FakePortOne, PORTONE_VARS } from './fakes/portone';
import { FakeStripe, STRIPE_VARS } from './fakes/stripe';
import { eventually, HOOKS, stubReceiver } from './webhooks-helpers';

const backend = env.DB_BACKEND === 'postgres' ? 'postgres' : 'd1';

/** The pinned counts: `| operationId | METHOD path | D1 db/do | Postgres db/connect/do | …` rows. */
function pinned(): Map<string, Trips> {
  const section = performanceMd.split('## Round trips per request')[1]?.split('\n## ')[0] ?? '';
  const out = new Map<string, Trips>();
  for (const line of section.split('\n')) {
    const m = /^\| `(\w+)` \| [^|]+ \| (\d+) \/ (\d+) \| (\d+) \/ (\d+) \/ (\d+) \|/.exec(line);
    if (!m) continue;
    const [, id, d1db, d1do, pgdb, pgconnect, pgdo] = m;
    out.set(id!, backend === 'd1' ? { db: +d1db!, connect: 0, do: +d1do! } : { db: +pgdb!, connect: +pgconnect!, do: +pgdo! });
  }
  return out;
}

type Send = () => Promise<Response>;
/** The fields these requests read back from a body (ids). */
type Created = { id: number; payment: { id: number } };
const json = (res: Response) => res.json() as Promise<Created>;
const ok = async (res: Response, status = res.status) => {
  expect(res.status, await res.clone().text()).toBe(status);
  return json(res);
};
const iso = (ms: number) => new Date(ms).toISOString();
const HOUR = 3_600_000;

let staff: TestUser;
let admin: TestUser;
let member: TestUser;

beforeAll(async () => {
  [staff, admin, member] = await Promise.all([createUser({ staff: true }), createUser({ superuser: true }), createUser()]);
});

/**
 * One successful request per operation: `prepare` makes what it needs (not counted) and returns the
 * request to count. Keyed by operationId; the order is the order they run in.
 */
const requests: Record<string, () => Promise<Send>> = {
  getHealth: async () => () => raw('/health'),
  getReadiness: async () => () => raw('/health/ready', { token: staff.access }),
  signUp: async () => () =>
    raw('/api/users/signup', {
      body: { email: `${uniq()}@example.com`, password: 'correct horse battery staple' },
      headers: { 'cf-connecting-ip': randomIp() },
    }),
  logIn: async () => () =>
    raw('/api/users/login', {
      body: { email: member.user.email, password: 'correct horse battery staple' },
      headers: { 'cf-connecting-ip': randomIp() },
    }),
  refreshTokens: async () => {
    const u = await createUser();
    return () => raw('/api/users/refresh', { body: { refresh: u.refresh } });
  },
  logOut: async () => {
    const u = await createUser();
    return () => raw('/api/users/logout', { token: u.access, body: { refresh: u.refresh } });
  },
  verifyToken: async () => () => raw('/api/users/verify', { body: { token: member.access } }),
  getMe: async () => () => raw('/api/users/me', { token: member.access }),
  updateMe: async () => () => raw('/api/users/me', { method: 'PATCH', token: member.access, body: { name: 'Renamed' } }),
  updateUser: async () => {
    const u = await createUser();
    return () => raw(`/api/users/${u.user.id}`, { method: 'PATCH', token: admin.access, body: { is_staff: true } });
  },
  sendPhoneCode: async () => () => raw('/api/users/phone/login', { body: { phone: randomPhone() }, headers: { 'cf-connecting-ip': randomIp() } }),
  confirmPhoneCode: async () => {
    const sent = await requestPhoneCode(randomPhone());
    return () =>
      raw('/api/users/phone/verify', {
        body: { verification_token: sent.verification_token, confirm_code: sent.dev_code },
        headers: { 'cf-connecting-ip': randomIp() },
      });
  },
  verifyPhoneCode: async () => {
    const sent = await requestPhoneCode(randomPhone());
    return () =>
      raw(`/api/users/phone/verify/${sent.verification_token}`, {
        body: { confirm_code: sent.dev_code },
        headers: { 'cf-connecting-ip': randomIp() },
      });
  },
  getProfile: async () => () => raw('/api/profile', { token: member.access }),
  setReferralCode: async () => {
    const newbie = await createUser();
    return () => raw('/api/profile', { token: newbie.access, body: { used_referral_code: member.user.invite_referral_code } });
  },
  listReferredUsers: async () => () => raw('/api/profile/referred-users', { token: member.access }),
  ...machineRequests(),
  ...salesRequests(),
  ...catalogRequests('exams', 'Exam'),
  ...catalogRequests('courses', 'Course'),
  ...paymentRequests(),
  ...providerRequests(),
  ...webhookRequests(),
};

/**
 * The endpoints API, on an endpoint of a user of its own (no other request here makes events for
 * it, so no delivery runs behind a later measurement), whose receiver is stubbed to answer 204 at
 * once: a delivery never goes to the network (an unresolvable host is an unhandled rejection in workerd).
 */
function webhookRequests(): Record<string, () => Promise<Send>> {
  let owner: TestUser;
  let id = 0;
  const path = () => `/api/webhook-endpoints/${id}`;
  const as = (p: string, init: Parameters<typeof raw>[1] = {}) => raw(p, { token: owner.access, ...init });
  return {
    createWebhookEndpoint: async () => {
      stubReceiver();
      owner = await createUser();
      return async () => {
        const res = await as('/api/webhook-endpoints', { body: { url: `${HOOKS}/round-trips`, events: ['payment.paid'] } });
        id = (await json(res.clone())).id;
        return res;
      };
    },
    listWebhookEndpoints: async () => () => as('/api/webhook-endpoints'),
    getWebhookEndpoint: async () => () => as(path()),
    updateWebhookEndpoint: async () => () => as(path(), { method: 'PATCH', body: { description: 'trips' } }),
    rotateWebhookEndpointSecret: async () => () => as(`${path()}/rotate-secret`, { method: 'POST' }),
    pingWebhookEndpoint: async () => () => as(`${path()}/test`, { method: 'POST' }),
    listWebhookDeliveries: async () => () => as(`${path()}/deliveries`),
    retryWebhookDelivery: async () => {
      // The ping's delivery, once delivered (a pending one answers 409 DELIVERY_PENDING).
      const delivery = await eventually(() =>
        db.first<{ id: number }>(sql`SELECT id FROM webhook_deliveries WHERE endpoint_id = ${id} AND status = 'succeeded'`),
      );
      return () => as(`${path()}/deliveries/${delivery.id}/retry`, { method: 'POST' });
    },
    deleteWebhookEndpoint: async () => () => as(path(), { method: 'DELETE' }),
  };
}

function machineRequests(): Record<string, () => Promise<Send>> {
  let id = 0;
  let opId = 0;
  const path = () => `/api/machines/${id}`;
  return {
    createMachine: async () => async () => {
      const res = await raw('/api/machines', { token: member.access, body: { name: 'Press', location: 'Hall A' } });
      id = (await json(res.clone())).id;
      return res;
    },
    listMachines: async () => () => raw('/api/machines', { token: member.access }),
    getMachine: async () => () => raw(path(), { token: member.access }),
    replaceMachine: async () => () =>
      raw(path(), { method: 'PUT', token: member.access, body: { name: 'Press 2', location: 'Hall B', status: 'POWEROFF' } }),
    updateMachine: async () => () => raw(path(), { method: 'PATCH', token: member.access, body: { name: 'Press 3' } }),
    sendMachineCommand: async () => async () => {
      const res = await raw(`${path()}/operation`, { token: member.access, body: { command: 'POWER_ON' } });
      opId = (await json(res.clone())).id;
      return res;
    },
    getMachineOperation: async () => () => raw(`${path()}/operations/${opId}`, { token: member.access }),
    rotateMachineControllerSecret: async () => () => raw(`${path()}/controller-secret`, { method: 'POST', token: member.access }),
    listMachineOperations: async () => () => raw(`${path()}/history`, { token: member.access }),
    listMyMachineOperations: async () => () => raw('/api/machines/history', { token: member.access }),
    watchMachine: async () => async () => {
      const res = await exports.default.fetch(
        new Request(`${BASE}${path()}/live`, { headers: { upgrade: 'websocket', authorization: `Bearer ${member.access}` } }),
      );
      res.webSocket?.accept();
      res.webSocket?.close();
      return res;
    },
    deleteMachine: async () => () => raw(path(), { method: 'DELETE', token: member.access }),
  };
}

function salesRequests(): Record<string, () => Promise<Send>> {
  let product = 0;
  let order = 0;
  return {
    createProduct: async () => async () => {
      const res = await raw('/api/products', { token: staff.access, body: { name: 'Mug', price: 12_000 } });
      product = (await json(res.clone())).id;
      return res;
    },
    listProducts: async () => () => raw('/api/products', { token: staff.access }),
    updateProduct: async () => () => raw(`/api/products/${product}`, { method: 'PATCH', token: staff.access, body: { price: 13_000 } }),
    createOrder: async () => async () => {
      const res = await raw('/api/orders', {
        token: staff.access,
        body: { customer_id: member.user.id, items: [{ product_id: product, quantity: 2 }] },
      });
      order = (await json(res.clone())).id;
      return res;
    },
    listOrders: async () => () => raw('/api/orders', { token: staff.access }),
    getOrder: async () => () => raw(`/api/orders/${order}`, { token: staff.access }),
    updateOrder: async () => () => raw(`/api/orders/${order}`, { method: 'PATCH', token: staff.access, body: { status: 'SHIPPING' } }),
    getLiveSales: async () => () => raw(`/api/dashboards/live-sales?start-date=${iso(Date.now() - 2 * HOUR).slice(0, 10)}`, { token: staff.access }),
    getSalesChart: async () => () =>
      raw(`/api/dashboards/sales-chart?start-date=${iso(Date.now() - 48 * HOUR).slice(0, 10)}`, { token: staff.access }),
  };
}

const catalogIds: Record<'exams' | 'courses', number[]> = { exams: [], courses: [] };

function catalogRequests(kind: 'exams' | 'courses', name: 'Exam' | 'Course'): Record<string, () => Promise<Send>> {
  const body = () => ({ title: `${name} ${uniq()}`, price: 10_000, start_at: iso(Date.now() - HOUR), end_at: iso(Date.now() + 48 * HOUR) });
  const create = async () => (await ok(await raw(`/api/${kind}`, { token: staff.access, body: body() }), 201)).id as number;
  return {
    [`list${name}s`]: async () => {
      // Open items for the applies and enrolls below.
      for (let i = 0; i < 4; i++) catalogIds[kind].push(await create());
      return () => raw(`/api/${kind}`, { token: member.access });
    },
    [`create${name}`]: async () => () => raw(`/api/${kind}`, { token: staff.access, body: body() }),
    [`get${name}`]: async () => () => raw(`/api/${kind}/${catalogIds[kind][0]}`, { token: member.access }),
    [`update${name}`]: async () => () =>
      raw(`/api/${kind}/${catalogIds[kind][0]}`, { method: 'PATCH', token: staff.access, body: { price: 10_000 } }),
    [`delete${name}`]: async () => {
      const id = await create();
      return () => raw(`/api/${kind}/${id}`, { method: 'DELETE', token: staff.access });
    },
  };
}

function paymentRequests(): Record<string, () => Promise<Send>> {
  let payment = 0;
  const register = (kind: 'exams' | 'courses', action: string, i: number) => async () => {
    const res = await raw(`/api/${kind}/${catalogIds[kind][i]}/${action}`, {
      token: member.access,
      body: { amount: 10_000, payment_method: 'card' },
      headers: { 'idempotency-key': uniq('k') },
    });
    if (res.status === 201) payment = (await json(res.clone())).payment.id;
    return res;
  };
  return {
    applyForExam: async () => register('exams', 'apply', 1),
    completeExam: async () => () => raw(`/api/exams/${catalogIds.exams[1]}/complete`, { token: member.access, method: 'POST' }),
    enrollInCourse: async () => register('courses', 'enroll', 1),
    completeCourse: async () => () => raw(`/api/courses/${catalogIds.courses[1]}/complete`, { token: member.access, method: 'POST' }),
    listMyPayments: async () => () => raw('/api/me/payments', { token: member.access }),
    getMyPayment: async () => () => raw(`/api/me/payments/${payment}`, { token: member.access }),
    cancelPayment: async () => {
      await ok(await register('exams', 'apply', 2)(), 201);
      return () => raw(`/api/payments/${payment}/cancel`, { token: member.access, body: { reason: 'changed my mind' } });
    },
  };
}

/** Confirm and the two provider webhooks, each with its provider configured and faked for the request only. */
function providerRequests(): Record<string, () => Promise<Send>> {
  const stripe = new FakeStripe();
  const portone = new FakePortOne();
  const under =
    <T>(vars: Record<string, string>, fn: () => Promise<T>) =>
    async (): Promise<T> => {
      const target = env as unknown as Record<string, unknown>;
      const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, target[k]]));
      Object.assign(target, vars);
      const restore = stubFetch(stripe, portone);
      try {
        return await fn();
      } finally {
        restore();
        Object.assign(target, saved);
      }
    };
  /** A payment pending at the API and paid at the provider: its id and its checkout. */
  const paidAtProvider = async (vars: Record<string, string>, method: 'card' | 'kakaopay') => {
    const user = await createUser();
    const res = await under(vars, () =>
      raw(`/api/exams/${catalogIds.exams[3]}/apply`, {
        token: user.access,
        body: { payment_method: method },
        headers: { 'idempotency-key': uniq('k') },
      }),
    )();
    const body = (await ok(res, 201)) as unknown as { payment: { id: number; checkout: Record<string, string> } };
    return { user, payment: body.payment.id, checkout: body.payment.checkout };
  };
  return {
    confirmPayment: async () => {
      const p = await paidAtProvider(STRIPE_VARS, 'card');
      stripe.pay(stripe.byClientSecret(p.checkout.client_secret!).id);
      return under(STRIPE_VARS, () => raw(`/api/payments/${p.payment}/confirm`, { method: 'POST', token: p.user.access }));
    },
    stripeWebhook: async () => {
      const p = await paidAtProvider(STRIPE_VARS, 'card');
      const { body, signature } = await stripe.webhook(stripe.pay(stripe.byClientSecret(p.checkout.client_secret!).id));
      return under(STRIPE_VARS, () =>
        raw('/api/payments/webhooks/stripe', { rawBody: body, headers: { 'content-type': 'application/json', 'stripe-signature': signature } }),
      );
    },
    portoneWebhook: async () => {
      const p = await paidAtProvider(PORTONE_VARS, 'kakaopay');
      portone.pay(p.checkout.payment_id!);
      const delivery = portone.webhook(p.checkout.payment_id!);
      return under(PORTONE_VARS, () => raw('/api/payments/webhooks/portone', { rawBody: delivery.body, headers: delivery.headers }));
    },
  };
}

describe(`round trips per request (${backend})`, () => {
  it('every documented operation has a request here and a pinned row in docs/performance.md', async () => {
    const doc = await openapiDoc();
    const documented = Object.values(doc.paths).flatMap((item) => Object.values(item).map((op) => op.operationId));
    expect(Object.keys(requests).sort()).toEqual([...documented].sort());
    expect([...pinned().keys()].sort()).toEqual([...documented].sort());
  });

  it('each request succeeds with exactly its pinned database round trips, connections and Durable Object calls', async () => {
    const table = pinned();
    const measured: Record<string, Trips> = {};
    for (const [id, prepare] of Object.entries(requests)) {
      const send = await prepare();
      const { res, body, trips } = await tripsOf(send);
      expect({ id, status: res.status < 300 ? 'ok' : `${res.status} ${body}` }).toEqual({ id, status: 'ok' });
      measured[id] = trips;
    }
    // All rows at once, so one run shows every difference (and prints the table to paste).
    console.log(`trips ${backend}: ${JSON.stringify(measured)}`);
    expect(measured).toEqual(Object.fromEntries([...table].filter(([id]) => id in measured)));
  });
});
