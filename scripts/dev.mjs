// `npm run dev [-- wrangler dev args]` (`-- --help` lists the options): prepares .dev.vars (a random JWT secret) when missing,
// applies the D1 migrations locally, then starts `wrangler dev` with the extra arguments.
// `npm run dev -- --backend postgres [--pg-url URL] [--pooler=false] [wrangler dev args]`: the worker
// uses Postgres through the HYPERDRIVE binding instead (the dev database, edge_dev by default, is
// created if missing and migrated; fill it with `npm run seed -- --backend postgres …`). The binding
// leads to the local PgBouncer that stands in for Hyperdrive (scripts/pgbouncer.sh);
// --pooler=false connects straight to PostgreSQL.
import { spawn, spawnSync } from 'node:child_process';
import { applyMigrations, cli, ensureDevVars, fail, rememberDevBackend, ROOT, UsageError } from './lib.mjs';
import { DEV_PG_URL, pgWranglerSetup, preparePg, redact, viaPooler } from './pg-dev.mjs';

const opts = cli({
  script: 'dev',
  usage: 'npm run dev [-- --backend d1|postgres] [--pg-url URL] [wrangler dev options, e.g. --port 8790 --ip 127.0.0.1]',
  about: `Creates .dev.vars with random local secrets when it is missing, applies the migrations and starts
wrangler dev (the API on http://localhost:8787). Other options go to wrangler dev (npx wrangler dev --help).`,
  options: {
    backend: ['d1', 'd1, or postgres through the HYPERDRIVE binding (creates and migrates the dev database)'],
    'pg-url': [process.env.PG_URL ?? DEV_PG_URL, 'the Postgres dev database of --backend postgres'],
    pooler: [true, 'with --backend postgres: reach it through the local PgBouncer (Hyperdrive stand-in); false: directly'],
  },
  check: (o) => {
    if (!['d1', 'postgres'].includes(o.backend)) throw new UsageError('--backend is d1 or postgres');
    if (!['true', 'false'].includes(String(o.pooler))) throw new UsageError('--pooler is true or false');
  },
  rest: true,
});
const backend = opts.backend;
const pgUrl = opts['pg-url'];
const pooler = String(opts.pooler);
const args = opts._;
refuseUnknownWranglerOptions(args);

/** wrangler would print its whole help for an unknown option; one line says it better. */
function refuseUnknownWranglerOptions(list) {
  const names = list.filter((a) => a.startsWith('--')).map((a) => a.slice(2).split('=')[0].replace(/^no-/, ''));
  if (names.length === 0) return;
  const help = spawnSync('npx', ['wrangler', 'dev', '--help'], { cwd: ROOT, encoding: 'utf8' }).stdout ?? '';
  const unknown = names.find((n) => !help.includes(`--${n} `) && !help.includes(`--${n}\n`) && !help.includes(`--${n},`));
  if (unknown) fail('dev', `unknown option --${unknown} (see npm run dev -- --help, and npx wrangler dev --help)`);
}

ensureDevVars();
let env = process.env;
if (backend === 'postgres') {
  await preparePg(pgUrl).catch((err) => fail('dev', err.message, 1));
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

// createsuperuser (and the README's first session) then write where this server reads.
rememberDevBackend(backend, pgUrl);
const child = spawn('npx', ['wrangler', 'dev', ...args], { cwd: ROOT, stdio: 'inherit', env });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code) => process.exit(code ?? 0));
