import { sql } from 'drizzle-orm';
import { bigint, boolean, index, integer, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/** One row per delivery attempt of an outbound webhook: what was sent where, and what came back. */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    job_id: uuid('job_id').notNull(),
    /** Who the delivery is for, e.g. `alert-webhook:3` (the module's subscriber). */
    target: text('target').notNull(),
    url: text('url').notNull(),
    event: text('event').notNull(),
    idempotency_key: text('idempotency_key').notNull(),
    attempt: integer('attempt').notNull(),
    ok: boolean('ok').notNull(),
    status: integer('status'),
    error: text('error'),
    duration_ms: integer('duration_ms').notNull(),
    created_at: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().default(sql`now()`),
  },
  (t) => [index('webhook_deliveries_target_idx').on(t.target, t.id), index('webhook_deliveries_job_idx').on(t.job_id)],
);
