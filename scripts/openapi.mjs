// `npm run openapi`: rewrites docs/openapi.json from the worker's /openapi.json (through the test that
// compares them, in update mode) and client/schema.d.ts from it with openapi-typescript.
// `npm run openapi -- --check`: changes nothing; fails when client/schema.d.ts is not what
// docs/openapi.json generates (CI; the test suite already fails when docs/openapi.json is stale).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, ROOT } from './lib.mjs';

const opts = cli({
  script: 'openapi',
  usage: 'npm run openapi [-- --check]',
  about: 'Rewrites docs/openapi.json (from the worker) and client/schema.d.ts (openapi-typescript), or checks the latter.',
  options: { check: [false, 'change nothing; fail when client/schema.d.ts does not match docs/openapi.json'] },
});

function run(args) {
  const res = spawnSync('npx', args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (res.status !== 0) {
    process.stdout.write(res.stdout ?? '');
    console.error(`npx ${args.join(' ')} failed`);
    process.exit(1);
  }
}

const TYPES = 'client/schema.d.ts';
if (opts.check) {
  const dir = mkdtempSync(join(tmpdir(), 'openapi-'));
  run(['openapi-typescript', 'docs/openapi.json', '-o', join(dir, 'schema.d.ts')]);
  const fresh = readFileSync(join(dir, 'schema.d.ts'), 'utf8');
  rmSync(dir, { recursive: true });
  if (fresh !== readFileSync(join(ROOT, TYPES), 'utf8')) {
    console.error(`${TYPES} is stale: run npm run openapi and commit it.`);
    process.exit(1);
  }
  console.log(`${TYPES} matches docs/openapi.json.`);
} else {
  run(['vitest', 'run', 'tests/openapi.test.ts', '--update']);
  run(['openapi-typescript', 'docs/openapi.json', '-o', TYPES]);
  console.log(`Wrote docs/openapi.json and ${TYPES}.`);
}
