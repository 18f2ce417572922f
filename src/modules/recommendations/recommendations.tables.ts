import { sql } from 'drizzle-orm';
import { bigint, boolean, check, doublePrecision, index, integer, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { timestamps } from '../../platform/columns.ts';

// Seed 004's recommendation service: its own catalogue and interactions (fed by commerce's facts and by
// POST /products and /interactions), the model versions it serves from, and the strategy bandit's log.
// Product and user ids are text: the seed's callers send "product456" / "user123", commerce sends numbers.

/** The catalogue the models are trained on (the original's Mongo `products` collection). */
export const recProducts = pgTable(
  'rec_products',
  {
    product_id: text('product_id').primaryKey(),
    product_name: text('product_name').notNull(),
    category: text('category').notNull(),
    /**
     * When the source changed it (a commerce fact's occurred_at / viewed_at; a POST's arrival): facts
     * come through separate queues in any order, so an older one never overwrites a newer one.
     */
    source_at: timestamp('source_at', { withTimezone: true, mode: 'date' }).notNull().default(sql`now()`),
    /** Deleted in commerce: kept as a tombstone so a late product.created or view cannot bring it back. */
    deleted: boolean('deleted').notNull().default(false),
    ...timestamps,
  },
  (t) => [index('rec_products_updated_idx').on(t.updated_at)],
);

/**
 * One row per (product, user): `api_count` interactions posted to /interactions, `viewed` when commerce
 * reported the user's first view. The matrix value is api_count + (viewed ? 1 : 0), so a fact
 * delivered twice counts once.
 */
export const recInteractions = pgTable(
  'rec_interactions',
  {
    product_id: text('product_id').notNull(),
    user_id: text('user_id').notNull(),
    category: text('category').notNull(),
    api_count: integer('api_count').notNull().default(0),
    viewed: boolean('viewed').notNull().default(false),
    ...timestamps,
  },
  (t) => [
    primaryKey({ columns: [t.product_id, t.user_id] }),
    // A user's interactions (exclusion, bandit rewards) and the change watermark.
    index('rec_interactions_user_idx').on(t.user_id, t.updated_at),
    index('rec_interactions_updated_idx').on(t.updated_at),
    check('rec_interactions_count_check', sql`${t.api_count} >= 0`),
  ],
);

/**
 * A built model: `kind` 'category' (TF-IDF + k-means) or 'interaction' (item-item cosine KNN), or
 * 'bandit' (the strategy policy refit from its log). Serving uses the newest ready row of each kind.
 */
export const recModelVersions = pgTable(
  'rec_model_versions',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    kind: text('kind').notNull(),
    status: text('status').notNull(),
    /** What the build saw: counts and the data fingerprint (products, users, interactions, …). */
    stats: jsonb('stats').notNull(),
    model: jsonb('model'),
    error: text('error'),
    train_ms: doublePrecision('train_ms'),
    job_id: text('job_id'),
    started_at: timestamp('started_at', { withTimezone: true, mode: 'date' }).notNull().default(sql`now()`),
    finished_at: timestamp('finished_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [index('rec_model_versions_kind_idx').on(t.kind, t.status, t.id)],
);

/** One strategy choice of the bandit, with its probability, and whether the user then interacted. */
export const recDecisions = pgTable(
  'rec_decisions',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    user_id: text('user_id').notNull(),
    strategy: text('strategy').notNull(),
    probability: doublePrecision('probability').notNull(),
    probabilities: jsonb('probabilities').notNull(),
    product_ids: jsonb('product_ids').notNull(),
    reward: doublePrecision('reward'),
    rewarded_at: timestamp('rewarded_at', { withTimezone: true, mode: 'date' }),
    created_at: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().default(sql`now()`),
  },
  (t) => [index('rec_decisions_user_idx').on(t.user_id, t.created_at)],
);
