import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/**
 * One row per person, whatever the sign-in kind (email, username, phone). Timestamps are epoch
 * milliseconds. `email` is stored lower-cased; `username_key` is the case-folded username that the
 * unique index enforces (JS case folding, so it also covers non-ASCII letters).
 */
export const users = sqliteTable(
  'users',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    email: text('email'),
    username: text('username'),
    usernameKey: text('username_key'),
    phone: text('phone'),
    passwordHash: text('password_hash'),
    name: text('name'),
    nickname: text('nickname'),
    firstName: text('first_name'),
    lastName: text('last_name'),
    isActive: integer('is_active', { mode: 'boolean' }).notNull().default(true),
    isStaff: integer('is_staff', { mode: 'boolean' }).notNull().default(false),
    isSuperuser: integer('is_superuser', { mode: 'boolean' }).notNull().default(false),
    inviteReferralCode: text('invite_referral_code').notNull(),
    usedReferralCode: text('used_referral_code'),
    referredById: integer('referred_by_id'),
    referredAt: integer('referred_at'),
    createdAt: integer('created_at').notNull(),
    lastLogin: integer('last_login'),
  },
  (t) => [
    uniqueIndex('users_email_unique').on(t.email),
    uniqueIndex('users_username_key_unique').on(t.usernameKey),
    uniqueIndex('users_phone_unique').on(t.phone),
    uniqueIndex('users_invite_code_unique').on(t.inviteReferralCode),
    // "who used my code", newest first: referred-users list and the profile's last 100.
    index('users_referred_by').on(t.referredById, t.referredAt),
  ],
);

export type UserRow = typeof users.$inferSelect;

/**
 * A login session = a refresh-token family. `refresh_jti` is the one refresh token of the family
 * that may still be used; presenting any other token of the family is reuse (theft) and revokes it.
 * Access tokens carry the session id, so a revoked session refuses them at once.
 */
export const sessions = sqliteTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    refreshJti: text('refresh_jti').notNull(),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
    revokedAt: integer('revoked_at'),
    revokeReason: text('revoke_reason'),
  },
  (t) => [
    index('sessions_user').on(t.userId),
    // The scheduled purge finds ended sessions by these (src/modules/system/purge.ts).
    index('sessions_expires').on(t.expiresAt),
    index('sessions_revoked').on(t.revokedAt),
  ],
);

/**
 * Fixed-window counters behind every rate limit (strongly consistent, unlike KV). `expires_at` is
 * the end of the row's current window (its start + the window length of the limit that wrote it):
 * past it the row counts as absent, so the scheduled purge may delete it. NULL only on a row that a
 * worker version older than the column wrote (never purged; its next write stamps it).
 */
export const rateLimits = sqliteTable(
  'rate_limits',
  {
    key: text('key').primaryKey(),
    windowStart: integer('window_start').notNull(),
    count: integer('count').notNull(),
    expiresAt: integer('expires_at'),
  },
  (t) => [index('rate_limits_expires').on(t.expiresAt)],
);
