import { integer, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Idempotency-Key records: the first request with a key (per caller) and, once answered, its answer,
 * replayed to every retry with that key for 24 hours.
 */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    /** Who sent it (a user, an API key, the service secret): a key is only ever matched within its caller. */
    caller: text('caller').notNull(),
    key: text('key').notNull(),
    /** The request that took the key (random): lets that request remove a row it cannot be sure it wrote. */
    owner: text('owner').notNull(),
    /** sha256 of the method, the path with its query, and the JSON body. */
    request_hash: text('request_hash').notNull(),
    /** Null while the first request runs. */
    status: integer('status'),
    headers: jsonb('headers').$type<Record<string, string>>(),
    body: text('body'),
    created_at: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.caller, t.key] })],
);
