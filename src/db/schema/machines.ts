import { index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { sessions, users } from './accounts';

import { MACHINE_COMMANDS, MACHINE_STATUSES, OPERATION_RESULTS } from '../../contract';

// The enums live in src/contract.ts, which the web console shares.
export { MACHINE_COMMANDS, MACHINE_STATUSES, OPERATION_RESULTS };
export type { MachineCommand, MachineStatus, OperationResult } from '../../contract';

/**
 * A counter every change to the machines' searchable text moves (a machine created or deleted, a
 * name or location changed): triggers keep it (migrations/0013_orders_list_machines_text_version.sql), so a
 * write cannot forget it. The exact `count` of a search over all machines is memoised per isolate
 * under it (src/modules/machines/service.ts); status changes, the frequent writes, do not move it.
 */
export const machinesTextVersion = sqliteTable('machines_text_version', {
  id: integer('id').primaryKey(),
  version: integer('version').notNull().default(0),
});

/**
 * Machines. `status` mirrors the machine's Durable Object (its single writer); it is written only
 * through MachineDO, so a list can be served from D1 without waking 100k objects.
 */
export const machines = sqliteTable(
  'machines',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    name: text('name').notNull(),
    location: text('location').notNull(),
    status: text('status', { enum: MACHINE_STATUSES }).notNull().default('POWEROFF'),
    ownerId: integer('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    controllerUrl: text('controller_url'),
    // The controller secret (contract section 6) that signs every command, sealed with SECRETS_KEY
    // (src/lib/secret-box.ts); after a rotation the previous one signs too until `…_previous_until`
    // (epoch ms). Never selected into a view; a machine made before secrets gets one on its first
    // command (docs/machines.md, "Controller secrets").
    controllerSecret: text('controller_secret'),
    controllerSecretPrevious: text('controller_secret_previous'),
    controllerSecretPreviousUntil: integer('controller_secret_previous_until'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    // "my machines" newest first, and the status filter, both walk an index in id order.
    index('machines_owner_id').on(t.ownerId, t.id),
    index('machines_status_id').on(t.status, t.id),
  ],
);

/**
 * One row per command. `machine_owner_id` is the machine's current owner (rewritten on a transfer)
 * so "operations on my machines" is one index range at any table size; `worker_id` is the user
 * who issued the command.
 */
export const machineOperations = sqliteTable(
  'machine_operations',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    machineId: integer('machine_id')
      .notNull()
      .references(() => machines.id, { onDelete: 'cascade' }),
    machineOwnerId: integer('machine_owner_id').notNull(),
    workerId: integer('worker_id'),
    command: text('command', { enum: MACHINE_COMMANDS }).notNull(),
    result: text('result', { enum: OPERATION_RESULTS }).notNull().default('PENDING'),
    requestDatetime: integer('request_datetime').notNull(),
    completedAt: integer('completed_at'),
    detail: text('detail'),
  },
  (t) => [
    // Newest first per machine and per owner: SQLite walks these backwards for ORDER BY id DESC.
    index('machine_operations_machine_id').on(t.machineId, t.id),
    index('machine_operations_owner_id').on(t.machineOwnerId, t.id),
    // The result and command filters of "my history": covering counts and ordered pages.
    index('machine_operations_owner_result').on(t.machineOwnerId, t.result, t.id),
    index('machine_operations_owner_command').on(t.machineOwnerId, t.command, t.id),
    // Finished operations by age, for an opt-in retention (MACHINE_OPERATION_RETENTION_DAYS).
    index('machine_operations_completed').on(t.completedAt),
  ],
);

/**
 * Which sessions watch which machines over /live, so a revocation (logout, refresh-token reuse,
 * password change, deactivation) can ask exactly those machines' Durable Objects to close the
 * session's sockets at once. A row is written before its socket opens and lives until its token's
 * expiry (`expires_at`, epoch ms), which a socket never outlives: a row whose socket closed earlier
 * costs at most one needless re-check, and the scheduled purge deletes rows past their expiry.
 */
export const liveWatchers = sqliteTable(
  'live_watchers',
  {
    sessionId: text('session_id')
      .notNull()
      .references(() => sessions.id, { onDelete: 'cascade' }),
    machineId: integer('machine_id')
      .notNull()
      .references(() => machines.id, { onDelete: 'cascade' }),
    // Its session's user (a session's user never changes, and the session's row cascades).
    userId: integer('user_id').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [
    // A logout looks its session up by the key; a password change or a deactivation by its user.
    primaryKey({ columns: [t.sessionId, t.machineId] }),
    index('live_watchers_user').on(t.userId),
    index('live_watchers_expires').on(t.expiresAt),
  ],
);

export type MachineRow = typeof machines.$inferSelect;
export type OperationRow = typeof machineOperations.$inferSelect;
