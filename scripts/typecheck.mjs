// `npm run typecheck`: strict TypeScript, no emit, over each of the project's three programs in turn
// (stopping at the first that fails): tsconfig.json (the worker, the tests, the typed-client examples,
// the configs), web/tsconfig.json (the console, in the browser's DOM) and tests/browser/tsconfig.json
// (the browser tests, in Node).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { cli, ROOT } from './lib.mjs';

const PROJECTS = ['tsconfig.json', 'web/tsconfig.json', 'tests/browser/tsconfig.json'];

cli({
  script: 'typecheck',
  usage: 'npm run typecheck',
  about: `Strict TypeScript, no emit (tsc --noEmit -p …), over ${PROJECTS.join(', ')} in turn;
fails at the first program with an error.`,
  options: {},
});

for (const project of PROJECTS) {
  const res = spawnSync(join(ROOT, 'node_modules/.bin/tsc'), ['--noEmit', '-p', project], { cwd: ROOT, stdio: 'inherit' });
  if (res.error) throw res.error;
  if (res.status !== 0) process.exit(res.status ?? 1);
}
