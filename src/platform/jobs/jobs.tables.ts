import { sql } from 'drizzle-orm';
import { index, integer, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * What Arbiter keeps about a job beside pg-boss's own row (pgboss.job): who asked for it, so
 * GET /api/v1/jobs lists a user's own jobs from an index rather than by scanning job payloads, and
 * its progress, which pg-boss has no column for. Written in the same transaction as the job, so the
 * owner exists exactly when the job does. No foreign key to pgboss.job (pg-boss owns that schema and
 * deletes old jobs on its own) and none to users (a job's history must not block deleting a user).
 */
export const jobMeta = pgTable(
  'job_meta',
  {
    job_id: uuid('job_id').primaryKey(),
    queue: text('queue').notNull(),
    /** The external user_id of the principal that enqueued the job; null for system jobs. */
    owner: text('owner'),
    progress: integer('progress'),
    progress_note: text('progress_note'),
    created_at: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().default(sql`now()`),
    updated_at: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().default(sql`now()`),
  },
  (t) => [index('job_meta_owner_created_idx').on(t.owner, t.created_at)],
);
