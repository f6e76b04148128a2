// `npm run lint:openapi`: lints docs/openapi.json with Redocly (recommended rules, redocly.yaml) and
// Spectral (spectral:oas, .spectral.yaml). Any finding, warnings included, fails the run.
import { spawnSync } from 'node:child_process';
import { cli, ROOT } from './lib.mjs';

cli({
  script: 'lint:openapi',
  usage: 'npm run lint:openapi',
  about: `Lints docs/openapi.json with Redocly (recommended rules, redocly.yaml, .redocly.lint-ignore.yaml)
and Spectral (spectral:oas, .spectral.yaml); any finding, warnings included, fails the run.`,
  options: {},
});

const DOC = 'docs/openapi.json';

function run(args) {
  const res = spawnSync('npx', args, {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
  });
  return { status: res.status, stdout: res.stdout, out: `${res.stdout}${res.stderr}` };
}

const redocly = run(['redocly', 'lint', DOC, '--format=json']);
let totals;
try {
  totals = JSON.parse(redocly.stdout).totals;
} catch {
  console.error(redocly.out);
  process.exit(1);
}
console.log(`redocly (recommended): ${totals.errors} errors, ${totals.warnings} warnings, ${totals.ignored} ignored by .redocly.lint-ignore.yaml`);
if (totals.errors + totals.warnings > 0) console.log(run(['redocly', 'lint', DOC]).out);

const spectral = run(['spectral', 'lint', DOC, '--fail-severity=hint']);
console.log(`spectral (spectral:oas): ${spectral.out.trim()}`);

process.exit(totals.errors + totals.warnings > 0 || spectral.status !== 0 ? 1 : 0);
