// `npm run deploy [-- --postgres URL]`: deploys to the Cloudflare account of `npx wrangler login`, and on
// a fresh account creates what the worker needs first. Each step checks before it acts, so running it
// again (after a failure, or for the next release) only deploys:
//   1. the D1 database and the KV namespace (their ids are written into wrangler.toml: commit them);
//   2. the queues machine-commands, machine-commands-dlq and payment-refunds (wrangler deploy refuses a
//      consumer of a missing queue);
//   3. with --postgres URL: a Hyperdrive config for that database, its [[hyperdrive]] binding and
//      DB_BACKEND = "postgres" in wrangler.toml, and migrations-pg/ applied to it;
//   4. the D1 migrations (remote);
//   5. random JWT_SECRET and PHONE_CODE_SECRET when the worker has none yet, uploaded with the deploy;
//   6. wrangler deploy.
// Before any of it, it stops when wrangler.toml would deploy the console SMS provider (deploy-checks.mjs).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deployProblems, hasSmsProvider } from './deploy-checks.mjs';
import { cli, fail, ROOT, wrangler } from './lib.mjs';

const opts = cli({
  script: 'deploy',
  usage: 'npm run deploy [-- --postgres postgresql://user:pass@host:5432/db]',
  about: `Deploys the worker (npx wrangler login first). On a fresh account it first creates the D1 database,
the KV namespace and the queues, writes their ids into wrangler.toml, applies the migrations and
generates the secrets; later runs only migrate and deploy. See docs/deploy.md.`,
  options: {
    postgres: ['', 'run on this Postgres database through Hyperdrive instead of D1 (created once)'],
    name: ['edge-api', 'name of the D1 database, the Hyperdrive config and the KV namespace prefix'],
  },
});

const CONFIG = join(ROOT, 'wrangler.toml');
const D1_PLACEHOLDER = 'database_id = "00000000-0000-0000-0000-000000000000"';
const KV_PLACEHOLDER = 'id = "00000000000000000000000000000000"';
const QUEUES = ['machine-commands', 'machine-commands-dlq', 'payment-refunds', 'webhook-deliveries', 'webhook-deliveries-dlq'];

const config = () => readFileSync(CONFIG, 'utf8');
const write = (text) => writeFileSync(CONFIG, text);
const step = (msg) => console.log(`\n▸ ${msg}`);
const json = (args) => JSON.parse(wrangler(args, { capture: true }));
const idIn = (output, re, what) => output.match(re)?.[0] ?? fail('deploy', `could not read the new ${what}'s id from:\n${output}`, 1);

function ensureD1() {
  if (!config().includes(D1_PLACEHOLDER)) return;
  step(`D1 database ${opts.name}`);
  const existing = json(['d1', 'list', '--json']).find((db) => db.name === opts.name);
  const id =
    existing?.uuid ??
    idIn(wrangler(['d1', 'create', opts.name], { capture: true }), /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/, 'D1 database');
  write(config().replace(D1_PLACEHOLDER, `database_id = "${id}"`));
  console.log(`${existing ? 'found' : 'created'} ${id}; written into wrangler.toml`);
}

function ensureKv() {
  if (!config().includes(KV_PLACEHOLDER)) return;
  const title = `${opts.name}-phone-codes`;
  step(`KV namespace ${title}`);
  const existing = json(['kv', 'namespace', 'list']).find((ns) => ns.title === title);
  const id = existing?.id ?? idIn(wrangler(['kv', 'namespace', 'create', title], { capture: true }), /\b[0-9a-f]{32}\b/, 'KV namespace');
  write(config().replace(KV_PLACEHOLDER, `id = "${id}"`));
  console.log(`${existing ? 'found' : 'created'} ${id}; written into wrangler.toml`);
}

function ensureQueues() {
  const listed = wrangler(['queues', 'list'], { capture: true });
  for (const queue of QUEUES) {
    if (new RegExp(`(^|[\\s│|])${queue}([\\s│|]|$)`, 'm').test(listed)) continue;
    step(`queue ${queue}`);
    wrangler(['queues', 'create', queue]);
  }
}

async function ensurePostgres(url) {
  step('Postgres: migrations-pg/');
  const { migratePg } = await import('./pg-migrate.mjs');
  await migratePg(url);
  if (/^\[\[hyperdrive\]\]/m.test(config())) return;
  step(`Hyperdrive config ${opts.name}`);
  // Query caching off: Hyperdrive would otherwise answer a repeated SELECT (a session check, a rate
  // limit, a balance) from a cache up to 60 s old, so a revoked session or a new payment could go unseen.
  const out = wrangler(['hyperdrive', 'create', opts.name, `--connection-string=${url}`, '--caching-disabled'], { capture: true });
  const id = idIn(out, /\b[0-9a-f]{32}\b/, 'Hyperdrive config');
  const block = `\n# Added by npm run deploy -- --postgres: the database behind DB_BACKEND = "postgres".\n[[hyperdrive]]\nbinding = "HYPERDRIVE"\nid = "${id}"\n`;
  write(config().replace('DB_BACKEND = "d1"', 'DB_BACKEND = "postgres"') + block);
  console.log(`created ${id}; [[hyperdrive]] and DB_BACKEND = "postgres" written into wrangler.toml`);
}

/** A secrets file with fresh random secrets when the worker has none yet (its first deploy). */
function newSecretsFile() {
  let names = [];
  try {
    names = json(['secret', 'list', '--format', 'json']).map((s) => s.name);
  } catch {
    // no worker yet: it gets its secrets with the first deploy
  }
  const missing = ['JWT_SECRET', 'PHONE_CODE_SECRET', 'SECRETS_KEY'].filter((n) => !names.includes(n));
  if (missing.length === 0) return null;
  step(`secrets ${missing.join(', ')} (random; kept only by Cloudflare)`);
  const file = join(mkdtempSync(join(tmpdir(), 'edge-api-secrets-')), 'secrets.json');
  // SECRETS_KEY is an AES-256 key: exactly 32 bytes (src/lib/secret-box.ts).
  const value = (n) => (n === 'SECRETS_KEY' ? randomBytes(32).toString('base64') : randomBytes(48).toString('base64url'));
  writeFileSync(file, JSON.stringify(Object.fromEntries(missing.map((n) => [n, value(n)]))), { mode: 0o600 });
  return file;
}

/** Stops before anything is created or uploaded when the configuration must not go live. */
function checkConfig() {
  const problems = deployProblems(config());
  if (problems.length > 0) fail('deploy', `not deploying:\n  - ${problems.join('\n  - ')}`, 1);
  if (!hasSmsProvider(config())) {
    console.log(
      'Note: no SMS provider in wrangler.toml: phone login answers 503 SMS_NOT_CONFIGURED until SMS_PROVIDER = "twilio" (with TWILIO_ACCOUNT_SID, TWILIO_FROM and the secret TWILIO_AUTH_TOKEN) or "webhook" (with SMS_WEBHOOK_URL and the secret SMS_WEBHOOK_SECRET) is set.',
    );
  }
}

checkConfig();
ensureD1();
ensureKv();
ensureQueues();
if (opts.postgres) await ensurePostgres(opts.postgres);
step('D1 migrations (remote)');
wrangler(['d1', 'migrations', 'apply', 'DB', '--remote']);
const secrets = newSecretsFile();
step('wrangler deploy');
try {
  wrangler(['deploy', ...(secrets ? ['--secrets-file', secrets] : [])]);
} finally {
  if (secrets) rmSync(secrets, { force: true });
}
console.log(
  '\nDeployed. Create the first superuser with (it asks for the password):\n  npm run createsuperuser -- --email admin@example.com --remote',
);
