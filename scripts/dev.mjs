// `npm run dev [-- wrangler dev args]` (`-- --help` lists the options): prepares .dev.vars (a random JWT secret) when missing,
// applies the D1 migrations locally, then starts `wrangler dev` with the extra arguments.
// `npm run dev -- --backend postgres [--pg-url URL] [wrangler dev args]`: the worker uses Postgres
// through the HYPERDRIVE binding instead (the dev database, edge_dev by default, is created if missing
// and migrated; fill it with `npm run seed -- --backend postgres …`).
import { spawn, spawnSync } from 'node:child_process';
import { applyMigrations, cli, ensureDevVars, fail, ROOT, UsageError } from './lib.mjs';
import { DEV_PG_URL, pgWranglerSetup, preparePg, redact } from './pg-dev.mjs';

const opts = cli({
  script: 'dev',
  usage: 'npm run dev [-- --backend d1|postgres] [--pg-url URL] [wrangler dev options, e.g. --port 8790 --ip 127.0.0.1]',
  about: `Creates .dev.vars with random local secrets when it is missing, applies the migrations and starts
wrangler dev (the API on http://localhost:8787). Other options go to wrangler dev (npx wrangler dev --help).`,
  options: {
    backend: ['d1', 'd1, or postgres through the HYPERDRIVE binding (creates and migrates the dev database)'],
    'pg-url': [process.env.PG_URL ?? DEV_PG_URL, 'the Postgres dev database of --backend postgres'],
  },
  check: (o) => {
    if (!['d1', 'postgres'].includes(o.backend)) throw new UsageError('--backend is d1 or postgres');
  },
  rest: true,
});
const backend = opts.backend;
const pgUrl = opts['pg-url'];
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
  const setup = pgWranglerSetup(pgUrl, args);
  env = { ...process.env, ...setup.env };
  args.push(...setup.args);
} else {
  applyMigrations();
  console.log('Local D1 migrations applied.');
}

const child = spawn('npx', ['wrangler', 'dev', ...args], { cwd: ROOT, stdio: 'inherit', env });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code) => process.exit(code ?? 0));
