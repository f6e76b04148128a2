// `npm run smoke`: runs the README's first-session walkthrough, as written, against a dev server it
// starts. The commands are read from README.md (the ```sh block after the `<!-- smoke` marker), so the
// README cannot drift from what works; only the address changes (`localhost:8787` → this server).
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, fail, ROOT, UsageError } from './lib.mjs';

const opts = cli({
  script: 'smoke',
  usage: 'npm run smoke [-- --backend d1|postgres] [--port 8820]',
  about: `Starts npm run dev on a free port, runs the README walkthrough against it and checks its answers.
With --backend postgres the dev server (and so the walkthrough's createsuperuser) uses the Postgres
dev database through the local PgBouncer (PostgreSQL running: scripts/pg-local.sh).`,
  options: {
    backend: ['d1', 'the database of the dev server: d1 or postgres'],
    port: [8820, 'port of the dev server it starts'],
    timeout: [300, 'seconds the whole run may take'],
  },
  check: (o) => {
    if (!['d1', 'postgres'].includes(o.backend)) throw new UsageError('--backend is d1 or postgres');
  },
});

/** What the walkthrough must print: one mark per step that matters. */
const EXPECTED = [
  ['health', '"status":"ok"'],
  ['signup', '"email":"ada.'],
  ['the exam in the list', '"title":"Python basics"'],
  ['the payment', '"status":"paid"'],
  ['the localised 409', '"code":"ALREADY_REGISTERED"'],
  ['logout', '\n204\n'],
  ['the revoked token', '"code":"INVALID_TOKEN"'],
];

function walkthrough() {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const block = /<!-- smoke[^>]*-->\s*```sh\n([\s\S]*?)```/.exec(readme)?.[1];
  if (!block) fail('smoke', 'README.md has no ```sh block after a <!-- smoke --> marker', 1);
  return block.replaceAll('http://localhost:8787', `http://127.0.0.1:${opts.port}`);
}

async function up() {
  try {
    return (await fetch(`http://127.0.0.1:${opts.port}/health`)).ok;
  } catch {
    return false;
  }
}

const script = walkthrough();
if (await up()) fail('smoke', `something already answers on port ${opts.port}; pick another with --port`);
const deadline = Date.now() + opts.timeout * 1000;
const server = spawn(
  'node',
  ['scripts/dev.mjs', '--backend', opts.backend, '--port', String(opts.port), '--ip', '127.0.0.1', '--log-level', 'warn'],
  {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
    detached: true,
  },
);
const stop = () => {
  try {
    process.kill(-server.pid, 'SIGTERM');
  } catch {
    // already gone
  }
};
process.on('exit', stop);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

while (!(await up())) {
  if (server.exitCode !== null) fail('smoke', 'npm run dev exited before answering', 1);
  if (Date.now() > deadline) fail('smoke', `npm run dev did not answer on port ${opts.port} in time`, 1);
  await new Promise((r) => setTimeout(r, 500));
}

console.log(`smoke: running the README walkthrough against http://127.0.0.1:${opts.port} (${opts.backend})`);
const run = spawnSync('bash', ['-eo', 'pipefail', '-c', script], {
  cwd: ROOT,
  encoding: 'utf8',
  timeout: Math.max(1000, deadline - Date.now()),
  stdio: ['ignore', 'pipe', 'inherit'],
});
process.stdout.write(run.stdout ?? '');
if (run.status !== 0) fail('smoke', `the walkthrough failed (exit ${run.status ?? run.signal}); its output is above`, 1);
const missing = EXPECTED.filter(([, mark]) => !run.stdout.includes(mark));
if (missing.length > 0) fail('smoke', `the walkthrough ran but did not show: ${missing.map(([what]) => what).join(', ')}`, 1);
console.log(`smoke: the README walkthrough works on ${opts.backend} (${EXPECTED.length} checks).`);
process.exit(0);
