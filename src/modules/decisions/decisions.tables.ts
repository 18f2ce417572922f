import { sql } from 'drizzle-orm';
import { bigint, boolean, check, doublePrecision, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { timestamps } from '../../platform/columns.ts';

// Seed 000's tables. Users are referred to by their external user_id (text), never by a foreign key
// into the users module's table: modules do not read each other's tables.

/** A decision problem: its whole configuration (actions, context schema, reward, policy, clipping, budget) is data. */
export const decisionProblems = pgTable('decision_problems', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
  name: text('name').notNull().unique(),
  config: jsonb('config').notNull(),
  /** The policy version decisions are drawn from (null only while the first one is being made). */
  live_version_id: bigint('live_version_id', { mode: 'number' }),
  ...timestamps,
});

/** An immutable policy version: the fitted bandit state, the context encoder it was fitted with, and the config it used. */
export const decisionPolicyVersions = pgTable(
  'decision_policy_versions',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    problem_id: bigint('problem_id', { mode: 'number' })
      .notNull()
      .references(() => decisionProblems.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    config: jsonb('config').notNull(),
    encoder: jsonb('encoder').notNull(),
    state: jsonb('state').notNull(),
    shadow_state: jsonb('shadow_state'),
    /** The data it learned from: decisions with a client timestamp up to this instant. */
    data_until: timestamp('data_until', { withTimezone: true, mode: 'date' }),
    n_observations: integer('n_observations').notNull().default(0),
    n_default_rewards: integer('n_default_rewards').notNull().default(0),
    created_at: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().default(sql`now()`),
  },
  (t) => [uniqueIndex('decision_policy_versions_problem_version_key').on(t.problem_id, t.version)],
);

/** A per-user policy of a version (problems with model 'per_user'): immutable like its version. */
export const decisionUserPolicies = pgTable(
  'decision_user_policies',
  {
    version_id: bigint('version_id', { mode: 'number' })
      .notNull()
      .references(() => decisionPolicyVersions.id, { onDelete: 'cascade' }),
    user_id: text('user_id').notNull(),
    state: jsonb('state').notNull(),
  },
  (t) => [primaryKey({ columns: [t.version_id, t.user_id] })],
);

/** Every decision, with what a micro-randomized-trial analysis needs to reproduce and weigh it. */
export const decisions = pgTable(
  'decisions',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    problem_id: bigint('problem_id', { mode: 'number' })
      .notNull()
      .references(() => decisionProblems.id, { onDelete: 'cascade' }),
    user_id: text('user_id').notNull(),
    decision_idx: bigint('decision_idx', { mode: 'number' }),
    policy_version_id: bigint('policy_version_id', { mode: 'number' })
      .notNull()
      .references(() => decisionPolicyVersions.id),
    context: jsonb('context').notNull(),
    encoded: jsonb('encoded').notNull(),
    action: integer('action').notNull(),
    action_name: text('action_name').notNull(),
    probabilities: jsonb('probabilities').notNull(),
    probability: doublePrecision('probability').notNull(),
    /** The generator state (four uint32 words) captured before the draw. */
    rng_state: jsonb('rng_state').notNull(),
    method: text('method').notNull(),
    /** policy, fallback (the policy failed) or budget (the user's daily budget of non-default actions is spent). */
    decided_by: text('decided_by').notNull(),
    reason: text('reason'),
    shadow: jsonb('shadow'),
    client_timestamp: timestamp('client_timestamp', { withTimezone: true, mode: 'date' }).notNull(),
    created_at: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().default(sql`now()`),
  },
  (t) => [
    // Idempotency: one decision per (problem, user, decision_idx); NULL decision_idx never clash.
    uniqueIndex('decisions_problem_user_idx_key').on(t.problem_id, t.user_id, t.decision_idx),
    index('decisions_problem_client_ts_idx').on(t.problem_id, t.client_timestamp, t.id),
    index('decisions_user_created_idx').on(t.problem_id, t.user_id, t.created_at),
    check('decisions_decided_by_check', sql`${t.decided_by} in ('policy', 'fallback', 'budget')`),
  ],
);

/** Uploaded data: an outcome joined to its decision (at most one per decision), or free data (the README's form). */
export const decisionOutcomes = pgTable(
  'decision_outcomes',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    decision_id: bigint('decision_id', { mode: 'number' }).references(() => decisions.id, { onDelete: 'cascade' }),
    problem_id: bigint('problem_id', { mode: 'number' })
      .notNull()
      .references(() => decisionProblems.id, { onDelete: 'cascade' }),
    user_id: text('user_id').notNull(),
    decision_idx: bigint('decision_idx', { mode: 'number' }),
    data: jsonb('data').notNull(),
    reward: doublePrecision('reward'),
    /** Arrived within the problem's reward window (only those are learned from). */
    in_window: boolean('in_window').notNull(),
    client_timestamp: timestamp('client_timestamp', { withTimezone: true, mode: 'date' }).notNull(),
    created_at: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().default(sql`now()`),
  },
  (t) => [uniqueIndex('decision_outcomes_decision_key').on(t.decision_id), index('decision_outcomes_problem_idx').on(t.problem_id, t.id)],
);

/** A requested model update: its state, and where its result is called back. */
export const decisionUpdates = pgTable('decision_updates', {
  id: uuid('id').primaryKey(),
  problem_id: bigint('problem_id', { mode: 'number' })
    .notNull()
    .references(() => decisionProblems.id, { onDelete: 'cascade' }),
  status: text('status').notNull(),
  data_until: timestamp('data_until', { withTimezone: true, mode: 'date' }).notNull(),
  callback_url: text('callback_url'),
  /** Signs the callback (X-Arbiter-Signature); never leaves the server except inside that signature. */
  callback_secret: text('callback_secret'),
  policy_version_id: bigint('policy_version_id', { mode: 'number' }),
  error: text('error'),
  requested_by: text('requested_by'),
  ...timestamps,
});
