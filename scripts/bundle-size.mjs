// `npm run bundle-size`: bundles the worker exactly as `wrangler deploy` would (`--dry-run`, nothing
// is uploaded) and fails when its gzip size reaches the budget: 600 KiB (Workers' free plan allows
// 3 MiB compressed; a small bundle also starts faster). It was 500 KiB until the payment providers'
// official SDKs came in (issue 24: `stripe` alone is ~86 KiB gzip and cannot be tree-shaken, its
// resources hang off one class); `minify = true` in wrangler.toml would bring the whole bundle to
// ~345 KiB at the cost of readable stack traces in the logs.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { cli, ROOT } from './lib.mjs';

const opts = cli({
  script: 'bundle-size',
  usage: 'npm run bundle-size [-- --budget 600]',
  about: 'Bundles the worker with wrangler deploy --dry-run and checks its gzip size against the budget.',
  options: { budget: [600, 'the budget in KiB (gzip); the run fails at or above it'] },
});

const outdir = mkdtempSync(join(tmpdir(), 'edge-api-bundle-'));
try {
  const res = spawnSync('npx', ['wrangler', 'deploy', '--dry-run', '--outdir', outdir], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
  });
  if (res.status !== 0) {
    process.stderr.write(`${res.stdout}\n${res.stderr}`);
    process.exit(1);
  }
  const files = readdirSync(outdir).filter((f) => /\.(m?js|wasm)$/.test(f));
  let raw = 0;
  let gzip = 0;
  for (const f of files) {
    const bytes = readFileSync(join(outdir, f));
    raw += bytes.length;
    gzip += gzipSync(bytes).length;
  }
  const kib = (n) => (n / 1024).toFixed(1);
  console.log(`worker bundle: ${kib(raw)} KiB, gzip ${kib(gzip)} KiB (budget ${opts.budget} KiB) — ${files.join(', ')}`);
  if (gzip >= opts.budget * 1024) {
    console.error(
      `The gzip size is over the budget of ${opts.budget} KiB: look for a new dependency pulled into the worker, or set minify = true in wrangler.toml.`,
    );
    process.exit(1);
  }
} finally {
  rmSync(outdir, { recursive: true, force: true });
}
