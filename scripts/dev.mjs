// `npm run dev [-- wrangler dev args]`: prepares .dev.vars (a random JWT secret) when missing,
// applies the D1 migrations locally, then starts `wrangler dev` with the extra arguments.
// `npm run dev -- --backend postgres [--pg-url URL] [--pooler=false] [wrangler dev args]`: the worker
// uses Postgres through the HYPERDRIVE binding instead (the dev database, edge_dev by default, is
// created if missing and migrated; fill it with `npm run seed -- --backend postgres …`). The binding
// leads to the local PgBouncer that stands in for Hyperdrive (scripts/pgbouncer.sh);
// --pooler=false connects straight to PostgreSQL.
import { spawn } from 'node:child_process';
import { applyMigrations, ensureDevVars, ROOT } from './lib.mjs';
import { DEV_PG_URL, pgWranglerSetup, preparePg, redact, viaPooler } from './pg-dev.mjs';

/** Takes our own `--name value` / `--name=value` out of argv; everything else goes to wrangler. */
function takeOption(argv, name, fallback) {
  let value = fallback;
  const rest = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === `--${name}`) value = argv[++i];
    else if (argv[i].startsWith(`--${name}=`)) value = argv[i].slice(name.length + 3);
    else rest.push(argv[i]);
  }
  return [value, rest];
}

const [backend, afterBackend] = takeOption(process.argv.slice(2), 'backend', 'd1');
const [pgUrl, afterUrl] = takeOption(afterBackend, 'pg-url', process.env.PG_URL ?? DEV_PG_URL);
const [pooler, args] = takeOption(afterUrl, 'pooler', 'true');
if (!['d1', 'postgres'].includes(backend)) throw new Error('--backend is d1 or postgres');
if (!['true', 'false'].includes(pooler)) throw new Error('--pooler is true or false');

ensureDevVars();
let env = process.env;
if (backend === 'postgres') {
  await preparePg(pgUrl);
  console.log(`Postgres migrations applied: ${redact(pgUrl)}`);
  const workerUrl = pooler === 'false' ? pgUrl : viaPooler(pgUrl);
  if (workerUrl !== pgUrl) console.log(`Through the local pooler: ${redact(workerUrl)}`);
  const setup = pgWranglerSetup(workerUrl, args);
  env = { ...process.env, ...setup.env };
  args.push(...setup.args);
} else {
  applyMigrations();
  console.log('Local D1 migrations applied.');
}

const child = spawn('npx', ['wrangler', 'dev', ...args], { cwd: ROOT, stdio: 'inherit', env });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code) => process.exit(code ?? 0));
