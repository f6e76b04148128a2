// The Postgres schema (Hyperdrive backend), one file per domain like src/db/schema.ts;
// drizzle-kit reads this file (drizzle.pg.config.ts) to generate migrations-pg/.
export * from './schema/accounts';
export * from './schema/phone';
export * from './schema/machines';
export * from './schema/sales';
export * from './schema/catalog';
export * from './schema/webhooks';
