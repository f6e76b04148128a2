// What the browser tests share: Chromium (Debian's package through playwright-core) with every
// request that leaves the loopback interface blocked and recorded, checks that pages raised no
// script errors and no Content-Security-Policy violations, and API shortcuts to make test data.
import { randomUUID } from 'node:crypto';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Locator, type Page } from 'playwright-core';
import { expect, inject } from 'vitest';

export const BASE = inject('baseURL');
export const STAFF = inject('staff');
export const PASSWORD = 'correct horse battery';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// Without these, Chromium on a machine with no internet hangs on its own background requests.
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

export interface Tracked {
  page: Page;
  context: BrowserContext;
  /** URLs the page tried to reach outside the loopback interface (all blocked). */
  blocked: string[];
  /** Uncaught script errors in any page of the context. */
  errors: string[];
}

export async function launch(): Promise<Browser> {
  // playwright-core gives every launch a fresh temporary profile (--user-data-dir).
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
}

/** A page in a fresh context (own storage), offline except for the loopback test server. */
export async function openPage(browser: Browser, options: BrowserContextOptions = {}): Promise<Tracked> {
  const context = await browser.newContext({ baseURL: BASE, locale: 'en-US', timezoneId: 'Asia/Seoul', ...options });
  const blocked: string[] = [];
  const errors: string[] = [];
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.protocol === 'data:' || url.protocol === 'blob:' || LOOPBACK.has(url.hostname)) return route.continue();
    blocked.push(url.href);
    return route.abort('internetdisconnected');
  });
  // CSP violations are reported to the page as events; collect them where the test can read them.
  await context.addInitScript(() => {
    const w = window as unknown as { __csp: string[] };
    w.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => w.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  context.on('weberror', (e) => errors.push(String(e.error())));
  const page = await context.newPage();
  return { page, context, blocked, errors };
}

/** No request left the machine, no script failed, nothing broke the Content-Security-Policy. */
export async function expectClean(t: Tracked): Promise<void> {
  const csp = await t.page.evaluate(() => (window as unknown as { __csp?: string[] }).__csp ?? []);
  expect({ blocked: t.blocked, errors: t.errors, csp }).toEqual({ blocked: [], errors: [], csp: [] });
}

// ---- test data through the API ---------------------------------------------------------------

export const uniqueEmail = (prefix = 'user') => `${prefix}-${randomUUID().slice(0, 8)}@example.com`;

export async function call<T = any>(
  path: string,
  opts: { method?: string; body?: unknown; token?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const res = await fetch(BASE + path, {
    method: opts.method ?? (opts.body === undefined ? 'GET' : 'POST'),
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

export async function login(email: string, password = PASSWORD): Promise<{ access: string; user: any }> {
  const res = await call('/api/users/login', { body: { email, password } });
  expect(res.status).toBe(200);
  return { access: res.body.token.access, user: res.body.user };
}

/** A new member (not staff), signed up and logged in through the API. */
export async function newUser(prefix = 'user'): Promise<{ email: string; access: string; user: any }> {
  const email = uniqueEmail(prefix);
  expect((await call('/api/users/signup', { body: { email, password: PASSWORD } })).status).toBe(201);
  return { email, ...(await login(email)) };
}

export const staffLogin = () => login(STAFF.email, STAFF.password);

/** An exam or course open now (from yesterday to a month ahead). */
export async function newItem(
  token: string,
  kind: 'exams' | 'courses',
  fields: { title: string; price: number; description?: string },
): Promise<any> {
  const day = 86_400_000;
  const res = await call(`/api/${kind}`, {
    token,
    body: { description: '', ...fields, start_at: new Date(Date.now() - day).toISOString(), end_at: new Date(Date.now() + 30 * day).toISOString() },
  });
  expect(res.status).toBe(201);
  return res.body;
}

/** Signs the page in through the sign-in form. */
export async function signIn(page: Page, email: string, password = PASSWORD): Promise<void> {
  await page.goto('/#/signin');
  const form = page.locator('form', { has: page.getByRole('heading', { name: 'With a password' }) });
  await form.getByLabel('Email or username').fill(email);
  await form.getByLabel('Password').fill(password);
  await form.getByRole('button', { name: 'Sign in' }).click();
  await expect.poll(() => page.url()).toContain('#/exams');
}

/** The session the console keeps in localStorage. */
export async function storedSession(page: Page): Promise<{ access: string; refresh: string; user: any } | null> {
  return page.evaluate(() => JSON.parse(localStorage.getItem('edge-console.session') ?? 'null'));
}

/** Resolves once the locator is visible (playwright-core has no expect(locator).toBeVisible()). */
export async function visible(locator: Locator, timeout = 15_000): Promise<Locator> {
  await locator.waitFor({ state: 'visible', timeout });
  return locator;
}
