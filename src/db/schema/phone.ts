import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/**
 * One row per code sent. The code itself (HMAC-hashed) lives in KV with a TTL; attempts and single
 * use live here because they must hold under concurrent guesses, which KV (eventually consistent,
 * no compare-and-set) cannot promise. The token is stored as its SHA-256, never in clear.
 */
export const phoneVerifications = sqliteTable(
  'phone_verifications',
  {
    tokenHash: text('token_hash').primaryKey(),
    phone: text('phone').notNull(),
    attempts: integer('attempts').notNull().default(0),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
    usedAt: integer('used_at'),
  },
  (t) => [index('phone_verifications_expires').on(t.expiresAt)],
);
