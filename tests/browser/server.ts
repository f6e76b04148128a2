// Global setup of the browser tests: a real `wrangler dev` (which also builds the console) on a
// loopback port, with its own fresh local state in a temp directory (never the developer's
// .wrangler/state), the D1 migrations applied, and a staff user. Torn down after the run.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { throwawaySchemaSql } from '../../scripts/throwaway-schema.mjs';

const ROOT = new URL('../..', import.meta.url).pathname;
export const PORT = Number(process.env.BROWSER_TEST_PORT ?? 8811);
const BASE = `http://127.0.0.1:${PORT}`;
const STARTUP_MS = 90_000;

export const STAFF = { email: 'staff@example.com', password: 'staff password 123' };

function wrangler(args: string[], persist: string): string {
  const res = spawnSync('npx', ['wrangler', ...args, '--local', '--persist-to', persist], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, CI: 'true', WRANGLER_SEND_METRICS: 'false' },
  });
  if (res.status !== 0) throw new Error(`wrangler ${args.join(' ')} failed:\n${res.stdout}\n${res.stderr}`);
  return res.stdout;
}

async function waitForHealth(base: string, server: ChildProcess, log: string): Promise<void> {
  const deadline = Date.now() + STARTUP_MS;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) break;
    try {
      if ((await fetch(`${base}/health`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`wrangler dev did not become healthy on ${base}:\n${readFileSync(log, 'utf8').slice(-4000)}`);
}

export interface Server {
  base: string;
  stop: () => Promise<void>;
}

/**
 * A `wrangler dev` on a loopback port with its own throwaway state (schema applied) and a staff
 * user; `vars` are added to (or override) the common test variables. Also used by tests that need a
 * second server with another configuration (tests/browser/checkout.test.ts: Stripe).
 */
export async function startWrangler(port: number, extra: Record<string, string> = {}): Promise<Server> {
  const base = `http://127.0.0.1:${port}`;
  const dir = mkdtempSync(join(tmpdir(), 'console-browser-'));
  const persist = join(dir, 'state');
  const log = join(dir, 'wrangler.log');
  const schema = join(dir, 'schema.sql');
  writeFileSync(schema, throwawaySchemaSql());
  wrangler(['d1', 'execute', 'DB', '--file', schema], persist);

  const vars = {
    JWT_SECRET: randomBytes(32).toString('base64url'),
    PHONE_CODE_SECRET: randomBytes(32).toString('base64url'),
    SECRETS_KEY: randomBytes(32).toString('base64'),
    // A developer's machine: the console SMS provider (codes answered as dev_code) runs only with it.
    LOCAL_DEVELOPMENT: 'true',
    SMS_PROVIDER: 'console',
    // Slow enough to see a command PENDING before it succeeds.
    MACHINE_SIM_DELAY_MS: '800',
    // Every test user signs up from 127.0.0.1.
    SIGNUPS_PER_ADDRESS_PER_HOUR: '10000',
    PHONE_SENDS_PER_ADDRESS_PER_HOUR: '10000',
    ...extra,
  };
  // Its own inspector port too, so two servers (tests/browser/checkout.test.ts) can run side by side.
  const args = [
    'wrangler',
    'dev',
    '--port',
    String(port),
    '--inspector-port',
    String(port + 1000),
    '--ip',
    '127.0.0.1',
    '--persist-to',
    persist,
    '--show-interactive-dev-session=false',
  ];
  for (const [k, v] of Object.entries(vars)) args.push('--var', `${k}:${v}`);
  const out = openSync(log, 'a');
  // Its own process group, so teardown stops wrangler and the workerd it starts, and nothing else.
  const server = spawn('npx', args, {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', out, out],
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
  });
  const kill = () => {
    if (server.pid && server.exitCode === null) {
      try {
        process.kill(-server.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  };
  const stop = async () => {
    kill();
    const deadline = Date.now() + 10_000;
    while (server.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForHealth(base, server, log);
    const signup = await fetch(`${base}/api/users/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...STAFF, password_check: STAFF.password }),
    });
    if (signup.status !== 201) throw new Error(`staff signup: ${signup.status} ${await signup.text()}`);
  } catch (e) {
    await stop();
    throw e;
  }
  return { base, stop };
}

export default async function setup(project: TestProject) {
  const started = Date.now();
  const server = await startWrangler(PORT);
  console.log(`browser tests: wrangler dev ready on ${BASE} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  project.provide('baseURL', BASE);
  project.provide('staff', STAFF);
  return server.stop;
}

declare module 'vitest' {
  export interface ProvidedContext {
    baseURL: string;
    staff: { email: string; password: string };
  }
}
