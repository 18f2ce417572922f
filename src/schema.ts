// Every table, for the Drizzle client and drizzle-kit (one schema, one migration set).
export * from './platform/rate-limit.tables.ts';
export * from './modules/users/users.tables.ts';
export * from './modules/resources/resources.tables.ts';
export * from './modules/auth/auth.tables.ts';
export * from './modules/events/events.tables.ts';
export * from './platform/jobs/jobs.tables.ts';
export * from './platform/webhooks/webhooks.tables.ts';
export * from './modules/alert-webhooks/alert-webhooks.tables.ts';
export * from './modules/commerce/commerce.tables.ts';
export * from './modules/models/models.tables.ts';
export * from './modules/decisions/decisions.tables.ts';
export * from './platform/idempotency.tables.ts';
export * from './modules/recommendations/recommendations.tables.ts';
