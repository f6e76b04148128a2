// Postgres mirror of src/db/schema/accounts.ts: same tables, columns and index names (tests/schema-parity.test.ts
// fails when they drift). Integers are bigint (SQLite integers are 64-bit; times are epoch ms), booleans
// stay 0/1 integers so raw SQL is the same on both backends.
import { sql } from 'drizzle-orm';
import { index, bigint, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { intBool } from './types';

export const users = pgTable(
  'users',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    email: text('email'),
    username: text('username'),
    usernameKey: text('username_key'),
    phone: text('phone'),
    passwordHash: text('password_hash'),
    name: text('name'),
    nickname: text('nickname'),
    firstName: text('first_name'),
    lastName: text('last_name'),
    isActive: intBool('is_active').notNull().default(sql`1`),
    isStaff: intBool('is_staff').notNull().default(sql`0`),
    isSuperuser: intBool('is_superuser').notNull().default(sql`0`),
    inviteReferralCode: text('invite_referral_code').notNull(),
    usedReferralCode: text('used_referral_code'),
    referredById: bigint('referred_by_id', { mode: 'number' }),
    referredAt: bigint('referred_at', { mode: 'number' }),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    lastLogin: bigint('last_login', { mode: 'number' }),
  },
  (t) => [
    uniqueIndex('users_email_unique').on(t.email),
    uniqueIndex('users_username_key_unique').on(t.usernameKey),
    uniqueIndex('users_phone_unique').on(t.phone),
    uniqueIndex('users_invite_code_unique').on(t.inviteReferralCode),
    index('users_referred_by').on(t.referredById, t.referredAt),
  ],
);

export const sessions = pgTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    userId: bigint('user_id', { mode: 'number' })
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    refreshJti: text('refresh_jti').notNull(),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    expiresAt: bigint('expires_at', { mode: 'number' }).notNull(),
    revokedAt: bigint('revoked_at', { mode: 'number' }),
    revokeReason: text('revoke_reason'),
  },
  (t) => [index('sessions_user').on(t.userId), index('sessions_expires').on(t.expiresAt), index('sessions_revoked').on(t.revokedAt)],
);

export const rateLimits = pgTable(
  'rate_limits',
  {
    key: text('key').primaryKey(),
    windowStart: bigint('window_start', { mode: 'number' }).notNull(),
    count: bigint('count', { mode: 'number' }).notNull(),
    expiresAt: bigint('expires_at', { mode: 'number' }),
  },
  (t) => [index('rate_limits_expires').on(t.expiresAt)],
);
