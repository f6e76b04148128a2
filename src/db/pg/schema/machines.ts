// Postgres mirror of src/db/schema/machines.ts: same tables, columns and index names (tests/schema-parity.test.ts
// fails when they drift). Integers are bigint (SQLite integers are 64-bit; times are epoch ms), booleans
// stay 0/1 integers so raw SQL is the same on both backends.
import { sql } from 'drizzle-orm';
import { index, bigint, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { sessions, users } from './accounts';
import { MACHINE_STATUSES, MACHINE_COMMANDS, OPERATION_RESULTS } from '../../schema/machines';

export const machinesTextVersion = pgTable('machines_text_version', {
  id: bigint('id', { mode: 'number' }).primaryKey(),
  version: bigint('version', { mode: 'number' }).notNull().default(0),
});

export const machines = pgTable(
  'machines',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    name: text('name').notNull(),
    location: text('location').notNull(),
    status: text('status', { enum: MACHINE_STATUSES }).notNull().default('POWEROFF'),
    ownerId: bigint('owner_id', { mode: 'number' })
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    controllerUrl: text('controller_url'),
    controllerSecret: text('controller_secret'),
    controllerSecretPrevious: text('controller_secret_previous'),
    controllerSecretPreviousUntil: bigint('controller_secret_previous_until', { mode: 'number' }),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
  },
  (t) => [
    index('machines_owner_id').on(t.ownerId, t.id),
    index('machines_status_id').on(t.status, t.id),
    // `search` (a substring of name or location, case-insensitive): pg_trgm GIN indexes over the
    // lower-cased text, which serve `lower(col) LIKE '%…%'` (src/db/dialect/sql.ts substringIndexMatch).
    // D1's counterpart is the FTS5 trigram table `machines_fts` (migration search_indexes).
    index('machines_name_trgm').using('gin', sql`lower(${t.name}) gin_trgm_ops`),
    index('machines_location_trgm').using('gin', sql`lower(${t.location}) gin_trgm_ops`),
  ],
);

export const machineOperations = pgTable(
  'machine_operations',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    machineId: bigint('machine_id', { mode: 'number' })
      .notNull()
      .references(() => machines.id, { onDelete: 'cascade' }),
    machineOwnerId: bigint('machine_owner_id', { mode: 'number' }).notNull(),
    workerId: bigint('worker_id', { mode: 'number' }),
    command: text('command', { enum: MACHINE_COMMANDS }).notNull(),
    result: text('result', { enum: OPERATION_RESULTS }).notNull().default('PENDING'),
    requestDatetime: bigint('request_datetime', { mode: 'number' }).notNull(),
    completedAt: bigint('completed_at', { mode: 'number' }),
    detail: text('detail'),
  },
  (t) => [
    index('machine_operations_machine_id').on(t.machineId, t.id),
    index('machine_operations_owner_id').on(t.machineOwnerId, t.id),
    index('machine_operations_owner_result').on(t.machineOwnerId, t.result, t.id),
    index('machine_operations_owner_command').on(t.machineOwnerId, t.command, t.id),
    index('machine_operations_completed').on(t.completedAt),
  ],
);

export const liveWatchers = pgTable(
  'live_watchers',
  {
    sessionId: text('session_id')
      .notNull()
      .references(() => sessions.id, { onDelete: 'cascade' }),
    machineId: bigint('machine_id', { mode: 'number' })
      .notNull()
      .references(() => machines.id, { onDelete: 'cascade' }),
    userId: bigint('user_id', { mode: 'number' }).notNull(),
    expiresAt: bigint('expires_at', { mode: 'number' }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.sessionId, t.machineId] }),
    index('live_watchers_user').on(t.userId),
    index('live_watchers_expires').on(t.expiresAt),
  ],
);
