// Postgres mirror of src/db/schema/machines.ts: same tables, columns and index names (tests/schema-parity.test.ts
// fails when they drift). Integers are bigint (SQLite integers are 64-bit; times are epoch ms), booleans
// stay 0/1 integers so raw SQL is the same on both backends.
import { index, bigint, pgTable, text } from 'drizzle-orm/pg-core';
import { users } from './accounts';
import { MACHINE_STATUSES, MACHINE_COMMANDS, OPERATION_RESULTS } from '../../schema/machines';

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
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
  },
  (t) => [index('machines_owner_id').on(t.ownerId, t.id), index('machines_status_id').on(t.status, t.id)],
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
