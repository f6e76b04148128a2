// Postgres mirror of src/db/schema/phone.ts: same tables, columns and index names (tests/schema-parity.test.ts
// fails when they drift). Integers are bigint (SQLite integers are 64-bit; times are epoch ms), booleans
// stay 0/1 integers so raw SQL is the same on both backends.
import { index, bigint, pgTable, text } from 'drizzle-orm/pg-core';

export const phoneVerifications = pgTable(
  'phone_verifications',
  {
    tokenHash: text('token_hash').primaryKey(),
    phone: text('phone').notNull(),
    attempts: bigint('attempts', { mode: 'number' }).notNull().default(0),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    expiresAt: bigint('expires_at', { mode: 'number' }).notNull(),
    usedAt: bigint('used_at', { mode: 'number' }),
  },
  (t) => [index('phone_verifications_expires').on(t.expiresAt)],
);
