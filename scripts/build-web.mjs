// `npm run build`: the static files the worker serves (Workers static assets, `[assets]` in
// wrangler.toml) into dist/web: the web console (web/src, bundled by esbuild with hono/jsx/dom and
// Chart.js), its page, styles and headers (web/public), and Swagger UI for /swagger and /api/docs
// (the pinned swagger-ui-dist package plus web/docs). Nothing is fetched from a CDN at run time.
// wrangler runs this before `wrangler dev` and `wrangler deploy` (`[build]` in wrangler.toml).
import { build } from 'esbuild';
import { copyFileSync, cpSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { cli, ROOT } from './lib.mjs';

const OUT = join(ROOT, 'dist/web');
const SWAGGER_FILES = ['swagger-ui-bundle.js', 'swagger-ui.css', 'LICENSE', 'NOTICE'];

cli({
  script: 'build',
  usage: 'npm run build',
  about: 'Builds the web console (web/) and copies Swagger UI into dist/web, the static assets the worker serves.',
  options: {},
});

const started = Date.now();
mkdirSync(join(OUT, 'swagger-ui'), { recursive: true });
// Chunk names carry a content hash: drop the previous build's.
rmSync(join(OUT, 'chunks'), { recursive: true, force: true });
await build({
  // checkout/app: the page that pays through a real provider's browser SDK (GET /api/payments/checkout).
  entryPoints: {
    app: join(ROOT, 'web/src/main.tsx'),
    'checkout/app': join(ROOT, 'web/src/checkout/main.ts'),
    'swagger-ui/init': join(ROOT, 'web/docs/init.ts'),
  },
  outdir: OUT,
  bundle: true,
  format: 'esm',
  // Code used by one page only (Chart.js, for the staff dashboard) loads when that page opens.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  target: 'es2022',
  minify: true,
  sourcemap: 'linked',
  jsx: 'automatic',
  jsxImportSource: 'hono/jsx/dom',
  legalComments: 'eof',
  logLevel: 'warning',
});
cpSync(join(ROOT, 'web/public'), OUT, { recursive: true });
const swaggerDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
for (const file of SWAGGER_FILES) copyFileSync(join(swaggerDir, file), join(OUT, 'swagger-ui', file));
copyFileSync(join(ROOT, 'web/docs/docs.css'), join(OUT, 'swagger-ui/docs.css'));

const files = (dir) => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : [join(dir, f)]));
const total = files(OUT).reduce((sum, f) => sum + statSync(f).size, 0);
console.log(`web: ${files(OUT).length} files, ${(total / 1024).toFixed(0)} KiB in ${relative(ROOT, OUT)} (${Date.now() - started} ms)`);
