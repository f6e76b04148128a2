import { defineConfig } from 'drizzle-kit';

// The Postgres schema (DB_BACKEND=postgres through Hyperdrive). `npm run db:generate:pg` writes
// migrations-pg/; `npm run db:migrate:pg` applies them (scripts/pg-migrate.mjs).
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/pg/schema.ts',
  out: './migrations-pg',
});
