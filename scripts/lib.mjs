// Shared bits of the command-line scripts (run on the Node 22 that the `node` devDependency pins).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = new URL('..', import.meta.url).pathname;

/** Runs wrangler from the project's node_modules; CI=true answers its confirmations with "yes". */
export function wrangler(args, opts = {}) {
  const res = spawnSync('npx', ['wrangler', ...args], {
    cwd: ROOT,
    stdio: opts.capture ? ['ignore', 'pipe', 'pipe'] : 'inherit',
    encoding: 'utf8',
    env: { ...process.env, CI: 'true', WRANGLER_SEND_METRICS: 'false' },
  });
  if (res.status !== 0) {
    if (opts.capture) process.stderr.write(`${res.stdout}\n${res.stderr}`);
    throw new Error(`wrangler ${args.join(' ')} failed with exit code ${res.status}`);
  }
  return res.stdout;
}

export function applyMigrations(remote = false) {
  wrangler(['d1', 'migrations', 'apply', 'DB', remote ? '--remote' : '--local'], { capture: !remote });
}

/** Path of the SQLite file behind the local D1 that `wrangler dev` uses (after migrations ran). */
export function localD1File() {
  const dir = join(ROOT, '.wrangler/state/v3/d1/miniflare-D1DatabaseObject');
  if (!existsSync(dir)) return null;
  const file = readdirSync(dir).find((f) => f.endsWith('.sqlite') && f !== 'metadata.sqlite');
  return file ? join(dir, file) : null;
}

export function parseArgs(argv, spec) {
  const out = { ...spec };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}`);
    const [name, inline] = arg.slice(2).split('=', 2);
    if (!(name in spec)) throw new Error(`unknown option --${name}`);
    if (typeof spec[name] === 'boolean') out[name] = inline === undefined ? true : inline === 'true';
    else {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new Error(`--${name} needs a value`);
      out[name] = typeof spec[name] === 'number' ? Number(value) : value;
    }
  }
  return out;
}
