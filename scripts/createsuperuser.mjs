// `npm run createsuperuser -- --email E --password P [--username U] [--remote | --pg-url URL]`
// Creates (or promotes) a staff superuser, like Django's createsuperuser. Works on the local D1 that
// `npm run dev` uses whether or not the dev server is running, on the deployed one with --remote, or
// on a Postgres database (DB_BACKEND=postgres) with --pg-url (the same SQL runs on both).
import { pbkdf2Sync, randomBytes, randomInt } from 'node:crypto';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyMigrations, cli, devBackend, UsageError, wrangler } from './lib.mjs';

const ITERATIONS = 100_000; // the Workers PBKDF2 cap; must match src/lib/password.ts

function hashPassword(password) {
  const salt = randomBytes(16);
  const hash = pbkdf2Sync(password, salt, ITERATIONS, 32, 'sha256');
  return `pbkdf2_sha256$${ITERATIONS}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

function inviteCode() {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from({ length: 6 }, () => alphabet[randomInt(alphabet.length)]).join('');
}

const sqlString = (s) => (s === null ? 'NULL' : `'${String(s).replace(/'/g, "''")}'`);

const args = cli({
  script: 'createsuperuser',
  usage: 'npm run createsuperuser -- --email E --password P [--username U] [--remote | --pg-url URL]',
  about: `Creates a staff superuser, or promotes the user with that email and resets its password.
Works on the local database of npm run dev, running or not (its D1, or the Postgres database of
npm run dev -- --backend postgres, whichever it last served), on the deployed D1 with --remote, or on
a Postgres database with --pg-url. Pending migrations are applied first.`,
  options: {
    email: ['', 'email of the superuser (required)'],
    password: ['', 'its password, 8–128 characters (required)'],
    username: ['', 'an optional username'],
    remote: [false, 'the deployed D1 (wrangler login first) instead of the local one'],
    'pg-url': ['', 'a Postgres connection string (default: the one npm run dev last served, if Postgres)'],
  },
  check: (o) => {
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(o.email.trim())) throw new UsageError('--email needs an email address');
    if (o.password.length < 8 || o.password.length > 128) throw new UsageError('--password must be 8–128 characters');
    if (o.remote && o['pg-url']) throw new UsageError('--remote and --pg-url exclude each other');
  },
});
const email = args.email.trim().toLowerCase();
// The database the dev server reads, so a superuser made beside `npm run dev` can log in there.
const dev = devBackend();
if (!args['pg-url'] && !args.remote && dev.backend === 'postgres') args['pg-url'] = dev.pgUrl;
const username = args.username.trim() || null;

if (!args['pg-url']) applyMigrations(args.remote);
const now = Date.now();
const sql = `INSERT INTO users (email, username, username_key, password_hash, is_active, is_staff, is_superuser, invite_referral_code, created_at)
VALUES (${sqlString(email)}, ${sqlString(username)}, ${sqlString(username?.normalize('NFKC').toLowerCase())}, ${sqlString(hashPassword(args.password))}, 1, 1, 1, ${sqlString(inviteCode())}, ${now})
ON CONFLICT(email) DO UPDATE SET password_hash = excluded.password_hash, is_active = 1, is_staff = 1, is_superuser = 1;`;
if (args['pg-url']) {
  const { migratePg } = await import('./pg-migrate.mjs');
  const { default: pg } = await import('pg');
  await migratePg(args['pg-url']);
  const client = new pg.Client({ connectionString: args['pg-url'] });
  await client.connect();
  await client.query(sql);
  await client.end();
  console.log(`Superuser ${email} is ready (Postgres).`);
  process.exit(0);
}
// A file, not --command, so the hash never shows in the process list.
const file = join(mkdtempSync(join(tmpdir(), 'createsuperuser-')), 'superuser.sql');
writeFileSync(file, sql, { mode: 0o600 });
wrangler(['d1', 'execute', 'DB', args.remote ? '--remote' : '--local', '--file', file], { capture: true });
console.log(`Superuser ${email} is ready${args.remote ? ' (remote)' : ' (local)'}.`);
