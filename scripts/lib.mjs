// Shared bits of the command-line scripts (run on the Node 22 that the `node` devDependency pins).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

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

/**
 * Path of the SQLite file behind the local D1 that `wrangler dev` uses (after migrations ran), under
 * its default state or a `--persist-to` directory.
 */
export function localD1File(persistTo = join(ROOT, '.wrangler/state')) {
  const dir = join(persistTo, 'v3/d1/miniflare-D1DatabaseObject');
  if (!existsSync(dir)) return null;
  const file = readdirSync(dir).find((f) => f.endsWith('.sqlite') && f !== 'metadata.sqlite');
  return file ? join(dir, file) : null;
}

/** A mistake in how a script was called: reported in one line, without a stack trace. */
export class UsageError extends Error {}

/** Parses `--name value`, `--name=value` and boolean `--flag` against spec's defaults. */
export function parseArgs(argv, spec) {
  const out = { ...spec };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument ${arg}`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const inline = eq < 0 ? undefined : arg.slice(eq + 1);
    if (!Object.hasOwn(spec, name)) throw new UsageError(`unknown option --${name}`);
    if (typeof spec[name] === 'boolean') {
      if (inline !== undefined && inline !== 'true' && inline !== 'false') throw new UsageError(`--${name} is true or false`);
      out[name] = inline === undefined ? true : inline === 'true';
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined || (inline === undefined && value.startsWith('--'))) throw new UsageError(`--${name} needs a value`);
    if (typeof spec[name] === 'number') {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new UsageError(`--${name} needs a number ≥ 0, not "${value}"`);
      out[name] = n;
    } else out[name] = value;
  }
  return out;
}

/** Prints `npm run <script>: message` and exits with 2 (a usage error) or 1 (a failure). */
export function fail(script, message, code = 2) {
  console.error(`npm run ${script}: ${message}`);
  process.exit(code);
}

/**
 * The command line of a script for people: `options` maps each option to [default, help].
 * `--help` prints the usage, what it does and every option with its default; a mistake (unknown
 * option, missing value, a number that is not one) is one line on stderr and exit code 2. `check`
 * validates the parsed values (throw UsageError). `rest: true` returns the arguments it does not
 * know as `_` instead of refusing them (dev passes them to wrangler).
 */
export function cli({ script, usage, about, options, check, rest = false, argv = process.argv.slice(2) }) {
  if (argv.includes('--help') || argv.includes('-h')) {
    const width = Math.max('help'.length, ...Object.keys(options).map((k) => k.length)) + 4;
    const lines = Object.entries(options).map(([name, [fallback, help]]) => {
      const shown = typeof fallback === 'boolean' || fallback === '' ? '' : ` (default: ${fallback})`;
      return `  --${name.padEnd(width)}${help}${shown}`;
    });
    console.log(`Usage: ${usage}\n\n${about}\n\nOptions:\n${lines.join('\n')}\n  --${'help'.padEnd(width)}this text`);
    process.exit(0);
  }
  const defaults = Object.fromEntries(Object.entries(options).map(([name, [fallback]]) => [name, fallback]));
  try {
    const mine = [];
    const others = [];
    for (let i = 0; i < argv.length; i++) {
      const name = argv[i].startsWith('--') ? argv[i].slice(2).split('=')[0] : null;
      const known = name !== null && Object.hasOwn(options, name);
      const target = known || !rest ? mine : others;
      target.push(argv[i]);
      // The value of `--name value` goes with its option.
      if (name !== null && !argv[i].includes('=') && argv[i + 1] !== undefined && !argv[i + 1].startsWith('--')) {
        if (!known || typeof defaults[name] !== 'boolean') target.push(argv[++i]);
      }
    }
    const opts = parseArgs(mine, defaults);
    if (rest) opts._ = others;
    check?.(opts);
    return opts;
  } catch (err) {
    if (err instanceof UsageError) fail(script, `${err.message} (see npm run ${script} -- --help)`);
    throw err;
  }
}

// What marks a server as local development (src/env.ts LOCAL_DEVELOPMENT): only .dev.vars carries it,
// which `wrangler dev` reads and `wrangler deploy` never uploads. With it, the console SMS provider
// answers codes as dev_code, so the phone flow works without a real provider.
const LOCAL_ONLY = [
  '# This is a developer machine: the console SMS provider (codes answered as dev_code) may run.',
  'LOCAL_DEVELOPMENT=true',
  'SMS_PROVIDER=console',
];

/** The key that seals stored signing secrets (AES-256: 32 random bytes, base64). */
const SECRETS_KEY_LINES = () => [
  '# Seals stored signing secrets (controller and webhook secrets); losing it loses them.',
  `SECRETS_KEY=${randomBytes(32).toString('base64')}`,
];

/**
 * Writes .dev.vars (gitignored) with random local secrets when it does not exist yet; an older one
 * without LOCAL_DEVELOPMENT gets the local-only lines appended (its own SMS_PROVIDER is kept).
 */
export function ensureDevVars() {
  const devVars = join(ROOT, '.dev.vars');
  if (existsSync(devVars)) {
    let text = readFileSync(devVars, 'utf8');
    if (!/^\s*SECRETS_KEY\s*=/m.test(text)) {
      appendFileSync(devVars, `${text.endsWith('\n') ? '' : '\n'}${SECRETS_KEY_LINES().join('\n')}\n`);
      text = readFileSync(devVars, 'utf8');
      console.log('Added a random SECRETS_KEY to .dev.vars (it seals stored signing secrets).');
    }
    if (/^\s*LOCAL_DEVELOPMENT\s*=/m.test(text)) return;
    const missing = LOCAL_ONLY.filter((line) => !(line.startsWith('SMS_PROVIDER=') && /^\s*SMS_PROVIDER\s*=/m.test(text)));
    appendFileSync(devVars, `${text.endsWith('\n') ? '' : '\n'}${missing.join('\n')}\n`);
    console.log('Added LOCAL_DEVELOPMENT=true to .dev.vars (the console SMS provider runs only with it).');
    return;
  }
  writeFileSync(
    devVars,
    [
      '# Local secrets and overrides for `wrangler dev` (generated by npm run dev; never commit).',
      `JWT_SECRET=${randomBytes(48).toString('base64url')}`,
      `PHONE_CODE_SECRET=${randomBytes(32).toString('base64url')}`,
      ...SECRETS_KEY_LINES(),
      '# Local development may drive devices on http:// and loopback controller URLs.',
      'ALLOW_INSECURE_CONTROLLER_URLS=true',
      ...LOCAL_ONLY,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  console.log('Created .dev.vars with random JWT_SECRET, PHONE_CODE_SECRET and SECRETS_KEY.');
}

const DEV_BACKEND_FILE = join(ROOT, '.wrangler', 'dev-backend.json');

/** Remembers which database `npm run dev` serves, so the scripts run beside it use the same one. */
export function rememberDevBackend(backend, pgUrl) {
  mkdirSync(dirname(DEV_BACKEND_FILE), { recursive: true });
  writeFileSync(DEV_BACKEND_FILE, `${JSON.stringify(backend === 'postgres' ? { backend, pgUrl } : { backend })}\n`);
}

/** The database `npm run dev` last served: `{ backend: 'd1' }` or `{ backend: 'postgres', pgUrl }`. */
export function devBackend() {
  try {
    return JSON.parse(readFileSync(DEV_BACKEND_FILE, 'utf8'));
  } catch {
    return { backend: 'd1' };
  }
}
