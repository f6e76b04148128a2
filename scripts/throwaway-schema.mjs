// The schema of a throwaway local server (the browser tests, npm run fault-run): every D1 migration
// in one file, so one `wrangler d1 execute` applies it (`d1 migrations apply` starts the local
// runtime once per file, which costs half a minute), plus a test-only trigger: whoever signs up as
// staff…@example.com becomes staff, so staff users are made through the API like everyone else.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = new URL('..', import.meta.url).pathname;

export function throwawaySchemaSql() {
  const dir = join(ROOT, 'migrations');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort();
  const trigger = `CREATE TRIGGER test_staff AFTER INSERT ON users WHEN NEW.email LIKE 'staff%@example.com'
BEGIN UPDATE users SET is_staff = 1 WHERE id = NEW.id; END;`;
  return [...files.map((f) => readFileSync(join(dir, f), 'utf8')), trigger].join('\n');
}
