// `npm test`, `npm run test:pg`: `node scripts/build-then.mjs CMD …` builds the static files the
// worker serves (scripts/build-web.mjs, what `npm run build` runs: the tests fetch the console and
// Swagger UI from dist/web), then runs CMD with the script's arguments appended, e.g. `npm test --
// tests/exams.test.ts` runs `vitest run tests/exams.test.ts`. With --help (or -h) among them it
// builds nothing: it says so in one line and lets CMD print its own help (`vitest run --help`).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './lib.mjs';

const [cmd, ...args] = process.argv.slice(2);
if (!cmd) {
  console.error('usage: node scripts/build-then.mjs CMD [args…]');
  process.exit(2);
}
const script = process.env.npm_lifecycle_event ?? 'build-then';

/** Runs a command with the terminal; a failure or a signal ends this script the same way. */
function run(file, argv) {
  const res = spawnSync(file, argv, { cwd: ROOT, stdio: 'inherit' });
  if (res.error) throw res.error;
  if (res.signal) process.kill(process.pid, res.signal);
  if (res.status !== 0) process.exit(res.status ?? 1);
}

if (args.includes('--help') || args.includes('-h')) {
  const shown = [cmd, ...args.filter((a) => a !== '--help' && a !== '-h')].join(' ');
  console.log(`npm run ${script}: npm run build (dist/web), then ${shown} [arguments]; ${cmd}'s options:\n`);
} else {
  run(process.execPath, [join(ROOT, 'scripts/build-web.mjs')]);
}
const local = join(ROOT, 'node_modules/.bin', cmd);
run(existsSync(local) ? local : cmd, args);
