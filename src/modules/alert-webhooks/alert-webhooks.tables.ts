import { sql } from 'drizzle-orm';
import { bigint, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** A URL subscribed to seed 001's alerts (all codes, or some), with the secret its deliveries are signed with. */
export const alertWebhooks = pgTable('alert_webhooks', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  url: text('url').notNull(),
  /** Alert codes delivered; null = every code. */
  codes: integer('codes').array(),
  secret: text('secret').notNull(),
  created_at: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().default(sql`now()`),
});
