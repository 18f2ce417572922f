import { sql } from 'drizzle-orm';
import { index, integer, json, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { timestamps } from '../../platform/columns.ts';
import { users } from '../users/users.tables.ts';

// Seed 002's tables. Foreign keys restrict deletes: removing a referenced row is a 409, never a silent cascade.

export const sessions = pgTable(
  'sessions',
  {
    session_id: text('session_id').primaryKey(),
    ts_start: timestamp('ts_start', { withTimezone: true, mode: 'date' }),
    user_id: text('user_id').references(() => users.user_id, { onUpdate: 'cascade' }),
    exercises_data: json('exercises_data'),
    device_type: text('device_type'),
    device_os: text('device_os'),
    region: text('region'),
    ip: text('ip'),
    app_version: text('app_version'),
    ...timestamps,
  },
  // Each README filter with the list order (ts_start, session_id) behind it: a filtered page is an index
  // range read in order, never a scan and sort (test/resources-indexes.int.test.ts checks the plans).
  (t) => [
    index('sessions_ts_start_key_idx').on(t.ts_start, t.session_id),
    index('sessions_user_id_ts_idx').on(t.user_id, t.ts_start, t.session_id),
    index('sessions_device_type_ts_idx').on(t.device_type, t.ts_start, t.session_id),
    index('sessions_device_os_ts_idx').on(t.device_os, t.ts_start, t.session_id),
    index('sessions_region_ts_idx').on(t.region, t.ts_start, t.session_id),
    index('sessions_app_version_ts_idx').on(t.app_version, t.ts_start, t.session_id),
  ],
);

export const recordings = pgTable(
  'recordings',
  {
    recording_id: text('recording_id').primaryKey(),
    recording_link: text('recording_link'),
    recording_type: text('recording_type'),
    user_id: text('user_id').references(() => users.user_id, { onUpdate: 'cascade' }),
    created_session_id: text('created_session_id').references(() => sessions.session_id, { onUpdate: 'cascade' }),
    ...timestamps,
  },
  (t) => [
    index('recordings_created_key_idx').on(t.created_at, t.recording_id),
    index('recordings_user_id_created_idx').on(t.user_id, t.created_at, t.recording_id),
    index('recordings_type_created_idx').on(t.recording_type, t.created_at, t.recording_id),
    index('recordings_created_session_id_idx').on(t.created_session_id),
  ],
);

export const algos = pgTable(
  'algos',
  {
    algo_id: text('algo_id').primaryKey(),
    recording_type: text('recording_type'),
    location: text('location'),
    version: text('version'),
    ...timestamps,
  },
  (t) => [
    index('algos_created_key_idx').on(t.created_at, t.algo_id),
    index('algos_recording_type_created_idx').on(t.recording_type, t.created_at, t.algo_id),
    index('algos_version_created_idx').on(t.version, t.created_at, t.algo_id),
  ],
);

export const eventLog = pgTable(
  'event_log',
  {
    event_id: integer('event_id').primaryKey().generatedByDefaultAsIdentity(),
    ts: timestamp('ts', { withTimezone: true, mode: 'date' }).notNull().default(sql`now()`),
    user_id: text('user_id').references(() => users.user_id, { onUpdate: 'cascade' }),
    session_id: text('session_id').references(() => sessions.session_id, { onUpdate: 'cascade' }),
    event_type: text('event_type'),
    event_data: json('event_data'),
    event_source: text('event_source'),
    log_level: text('log_level'),
    app_version: text('app_version'),
    ...timestamps,
  },
  (t) => [
    index('event_log_ts_key_idx').on(t.ts, t.event_id),
    index('event_log_user_id_ts_key_idx').on(t.user_id, t.ts, t.event_id),
    index('event_log_session_id_ts_key_idx').on(t.session_id, t.ts, t.event_id),
    index('event_log_event_type_ts_key_idx').on(t.event_type, t.ts, t.event_id),
    index('event_log_event_source_ts_key_idx').on(t.event_source, t.ts, t.event_id),
  ],
);
