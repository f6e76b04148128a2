// Seeded users: user<N>@seed.example (username seed<N>), all with the password SEED_PASSWORD, plus
// staff@seed.example (staff + superuser). One shared hash keeps seeding fast (PBKDF2 is slow on
// purpose); real accounts each get their own salt.
import { pbkdf2Sync } from 'node:crypto';

export const name = 'accounts';
export const order = 0;
export const options = { users: [0, 'users user<N>@seed.example (password seed-password-123), plus staff@seed.example'] };
export const SEED_PASSWORD = 'seed-password-123';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A unique 6-character invite code per index (bijective base-62 with a fixed offset). */
export function inviteCode(i) {
  let n = i + 62 ** 5; // always 6 digits
  let s = '';
  for (let k = 0; k < 6; k++) {
    s = ALPHABET[n % 62] + s;
    n = Math.floor(n / 62);
  }
  return s;
}

export async function seed(db, opts, ctx) {
  ctx.staffEmail = 'staff@seed.example';
  ctx.userEmail = (i) => `user${i}@seed.example`;
  ctx.password = SEED_PASSWORD;
  const have = db.prepare("SELECT count(*) AS n FROM users WHERE email LIKE 'user%@seed.example'").get().n;
  const salt = Buffer.from('seed-salt-000000');
  const hash = `pbkdf2_sha256$100000$${salt.toString('base64')}$${pbkdf2Sync(SEED_PASSWORD, salt, 100_000, 32, 'sha256').toString('base64')}`;
  const now = Date.now();
  const insert = db.prepare(
    `INSERT OR IGNORE INTO users (email, username, username_key, password_hash, is_active, is_staff, is_superuser, invite_referral_code, created_at)
     VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?)`,
  );
  ctx.tx(() => {
    insert.run('staff@seed.example', 'seedstaff', 'seedstaff', hash, 1, 1, 'zzzzzz', now);
    for (let i = have; i < opts.users; i++) {
      insert.run(`user${i}@seed.example`, `seed${i}`, `seed${i}`, hash, 0, 0, inviteCode(i), now - Math.floor(ctx.random() * 90 * 86_400_000));
    }
  });
  const ids = db.prepare("SELECT id FROM users WHERE email LIKE 'user%@seed.example' ORDER BY id").all().map((r) => r.id);
  ctx.userIds = ids;
  ctx.staffId = db.prepare("SELECT id FROM users WHERE email = 'staff@seed.example'").get().id;
  return opts.users > have ? `${opts.users - have} users (${ids.length} in all)` : null;
}
