import { sql } from 'drizzle-orm';
import { bigint, boolean, check, index, integer, jsonb, numeric, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { timestamps } from '../../platform/columns.ts';
import { users } from '../users/users.tables.ts';

// Seed 001's tables. (`event_log` and the /events routes belong to seed 002, hence `alert_events`.)

/**
 * One deposit or withdrawal. `seq` is assigned while the user's row is locked, so it is the arrival
 * order and breaks ties in `time`. Money is numeric(14,2), never a float.
 */
export const alertEvents = pgTable(
  'alert_events',
  {
    seq: bigint('seq', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    // Financial history is never deleted behind an admin's back: a user with events cannot be deleted.
    user_id: bigint('user_id', { mode: 'number' })
      .notNull()
      .references(() => users.id),
    type: text('type').notNull(),
    amount: numeric('amount', { precision: 14, scale: 2 }).notNull(),
    time: bigint('time', { mode: 'number' }).notNull(),
    created_at: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().default(sql`now()`),
  },
  (t) => [
    // Every rule reads "this user's events up to time t, newest first": one backward index scan.
    index('alert_events_user_time_seq_idx').on(t.user_id, t.time, t.seq),
    // The rules that look at one type only (consecutive with ignore_other_types, window_sum,
    // window_count): the same backward scan or range, without visiting the other type's events.
    index('alert_events_user_type_time_seq_idx').on(t.user_id, t.type, t.time, t.seq),
    check('alert_events_type_check', sql`${t.type} in ('deposit', 'withdraw')`),
    check('alert_events_amount_check', sql`${t.amount} > 0`),
    check('alert_events_time_check', sql`${t.time} >= 0`),
  ],
);

/** Alert rules as data: evaluated by the database function events_ingest for every event. */
export const alertRules = pgTable(
  'alert_rules',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    code: integer('code').notNull().unique(),
    name: text('name').notNull().default(''),
    kind: text('kind').notNull(),
    /** The event type that triggers the rule (and that it counts). */
    event_type: text('event_type').notNull(),
    enabled: boolean('enabled').notNull().default(true),
    /** Evaluation and answer order among the rules of one event type (lower first). */
    priority: integer('priority').notNull().default(100),
    params: jsonb('params').notNull(),
    version: integer('version').notNull().default(1),
    ...timestamps,
  },
  (t) => [
    index('alert_rules_event_type_idx').on(t.event_type, t.priority),
    check('alert_rules_kind_check', sql`${t.kind} in ('threshold', 'consecutive', 'window_sum', 'window_count')`),
    check('alert_rules_event_type_check', sql`${t.event_type} in ('deposit', 'withdraw')`),
  ],
);

/**
 * An alert raised by one rule for one event, with the rule's id and version at that moment. No
 * foreign key to alert_rules: deleting or changing a rule leaves the history as it was.
 *
 * No foreign keys to alert_events or users either: only events_ingest writes alerts, in the same
 * transaction as their event and for that event's user, so the checks (a KEY SHARE lock on the
 * event and on the user for every alert) bought nothing on the hot path. The cascade they gave is
 * kept by the trigger alert_events_delete_alerts (drizzle/0003): deleting events, directly or by
 * deleting their user, deletes their alerts.
 */
export const alerts = pgTable(
  'alerts',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    event_seq: bigint('event_seq', { mode: 'number' }).notNull(),
    // The event's time, copied (an event's time never changes): alerts list in event-time order from
    // their own index, without joining every event first.
    event_time: bigint('event_time', { mode: 'number' }).notNull(),
    user_id: bigint('user_id', { mode: 'number' }).notNull(),
    rule_id: bigint('rule_id', { mode: 'number' }).notNull(),
    code: integer('code').notNull(),
    rule_version: integer('rule_version').notNull(),
    created_at: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().default(sql`now()`),
  },
  (t) => [
    index('alerts_user_event_idx').on(t.user_id, t.event_seq),
    // GET /api/alerts's order, for everyone's alerts and for one user's.
    index('alerts_time_idx').on(t.event_time, t.event_seq, t.id),
    index('alerts_user_time_idx').on(t.user_id, t.event_time, t.event_seq, t.id),
    index('alerts_event_seq_idx').on(t.event_seq),
    index('alerts_code_idx').on(t.code),
  ],
);
