// The drizzle schema, one file per domain; drizzle-kit reads this file to generate migrations.
export * from './schema/accounts';
export * from './schema/phone';
export * from './schema/machines';
export * from './schema/sales';
export * from './schema/catalog';
export * from './schema/webhooks';
