// Queries of seed 000's tables. Versions are immutable, so a process may keep what it read of one.
import { and, asc, desc, eq, gt, gte, lte, max, ne, sql } from 'drizzle-orm';
import { createBatcher } from '../../platform/batcher.ts';
import type { Database, Db } from '../../platform/db.ts';
import { statementFailed } from '../../platform/errors.ts';
import type { Tx } from '../../platform/jobs/jobs.ts';
import { decisionOutcomes, decisionPolicyVersions, decisionProblems, decisions, decisionUpdates, decisionUserPolicies } from './decisions.tables.ts';

export type ProblemRow = typeof decisionProblems.$inferSelect;
export type VersionRow = typeof decisionPolicyVersions.$inferSelect;
export type DecisionRow = typeof decisions.$inferSelect;
export type NewDecision = typeof decisions.$inferInsert;
export type OutcomeRow = typeof decisionOutcomes.$inferSelect;
export type UpdateRow = typeof decisionUpdates.$inferSelect;
type Conn = Db | Tx;

// The hot insert: the decisions made while the previous batch was being written go out together as
// one statement and one commit (platform/batcher.ts), prepared on the driver (Drizzle's query building
// cost a large share of a request at this rate). Each row takes its id from the sequence in `input`,
// so a result is matched to its request by the id: RETURNING promises no order, and a row ON CONFLICT
// skipped (a repeated decision_idx, also within one batch) returns nothing. JSON columns go as text.
const INSERT_DECISIONS = `with input as (
    select nextval('decisions_id_seq') as id, t.*
    from unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::int[], $8::text[], $9::text[], $10::float8[],
      $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[])
      with ordinality as t(problem_id, user_id, decision_idx, policy_version_id, context, encoded, action, action_name, probabilities, probability,
        rng_state, method, decided_by, reason, shadow, client_timestamp, ord)
  ), ins as (
    insert into decisions (id, problem_id, user_id, decision_idx, policy_version_id, context, encoded, action, action_name,
      probabilities, probability, rng_state, method, decided_by, reason, shadow, client_timestamp)
    select id, problem_id, user_id, decision_idx, policy_version_id, context::jsonb, encoded::jsonb, action, action_name,
      probabilities::jsonb, probability, rng_state::jsonb, method, decided_by, reason, shadow::jsonb, client_timestamp::timestamptz
    from input order by ord
    on conflict (problem_id, user_id, decision_idx) do nothing
    returning id, created_at
  )
  select input.ord::int as ord, ins.id::float8 as id, (extract(epoch from ins.created_at) * 1000)::float8 as created_ms
  from ins join input using (id)`;

/** The most decisions written by one statement. */
const DECISION_BATCH = 128;

export function createDecisionsRepository(database: Database) {
  const db: Db = database.db;
  const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v));
  const insertDecision = createBatcher<NewDecision, DecisionRow | null>({
    maxBatch: DECISION_BATCH,
    run: async (ds) => {
      const column = <T>(f: (d: NewDecision) => T) => ds.map(f);
      const rows = await database.query<{ ord: number; id: number; created_ms: number }>(INSERT_DECISIONS, [
        column((d) => d.problem_id),
        column((d) => d.user_id),
        column((d) => d.decision_idx ?? null),
        column((d) => d.policy_version_id),
        column((d) => json(d.context)),
        column((d) => json(d.encoded)),
        column((d) => d.action),
        column((d) => d.action_name),
        column((d) => json(d.probabilities)),
        column((d) => d.probability),
        column((d) => json(d.rng_state)),
        column((d) => d.method),
        column((d) => d.decided_by),
        column((d) => d.reason ?? null),
        column((d) => json(d.shadow)),
        column((d) => (d.client_timestamp as Date).toISOString()),
      ]);
      const out: (DecisionRow | null)[] = ds.map(() => null);
      for (const r of rows) {
        const d = ds[r.ord - 1];
        out[r.ord - 1] = {
          ...(d as DecisionRow),
          id: Number(r.id),
          decision_idx: d.decision_idx ?? null,
          reason: d.reason ?? null,
          shadow: d.shadow ?? null,
          created_at: new Date(Number(r.created_ms)),
        };
      }
      return out;
    },
    // PostgreSQL reported the statement failed, so nothing of the batch was stored: each decision again
    // alone. A lost connection may have committed: every decision of the batch fails, none is stored twice.
    retryAlone: statementFailed,
  });
  return {
    db,
    transaction: <T>(work: (tx: Tx) => Promise<T>) => db.transaction(work),

    async findProblemByName(name: string, conn: Conn = db): Promise<ProblemRow | null> {
      const rows = await conn.select().from(decisionProblems).where(eq(decisionProblems.name, name)).limit(1);
      return rows[0] ?? null;
    },
    async findProblemById(id: number, conn: Conn = db, lock = false): Promise<ProblemRow | null> {
      const q = conn.select().from(decisionProblems).where(eq(decisionProblems.id, id)).limit(1);
      const rows = lock ? await q.for('update') : await q;
      return rows[0] ?? null;
    },
    async listProblems(page: number, size: number) {
      const [rows, total] = await Promise.all([
        db.select().from(decisionProblems).orderBy(asc(decisionProblems.id)).limit(size).offset((page - 1) * size),
        db.select({ n: sql<number>`count(*)::int`.mapWith(Number) }).from(decisionProblems),
      ]);
      return { rows, total: total[0].n };
    },
    /** Inserts a problem; null when one with this name exists. */
    async createProblem(name: string, config: object, conn: Conn = db): Promise<ProblemRow | null> {
      const rows = await conn.insert(decisionProblems).values({ name, config }).onConflictDoNothing({ target: decisionProblems.name }).returning();
      return rows[0] ?? null;
    },
    async updateProblem(id: number, set: { config?: object; live_version_id?: number }, conn: Conn = db): Promise<ProblemRow | null> {
      const rows = await conn.update(decisionProblems).set({ ...set, updated_at: sql`now()` }).where(eq(decisionProblems.id, id)).returning();
      return rows[0] ?? null;
    },

    async findVersion(id: number): Promise<VersionRow | null> {
      const rows = await db.select().from(decisionPolicyVersions).where(eq(decisionPolicyVersions.id, id)).limit(1);
      return rows[0] ?? null;
    },
    async findVersionByNumber(problemId: number, version: number): Promise<VersionRow | null> {
      const rows = await db.select().from(decisionPolicyVersions).where(and(eq(decisionPolicyVersions.problem_id, problemId), eq(decisionPolicyVersions.version, version))).limit(1);
      return rows[0] ?? null;
    },
    async listVersions(problemId: number, page: number, size: number) {
      const where = eq(decisionPolicyVersions.problem_id, problemId);
      const cols = {
        id: decisionPolicyVersions.id,
        version: decisionPolicyVersions.version,
        data_until: decisionPolicyVersions.data_until,
        n_observations: decisionPolicyVersions.n_observations,
        n_default_rewards: decisionPolicyVersions.n_default_rewards,
        config: decisionPolicyVersions.config,
        encoder: decisionPolicyVersions.encoder,
        created_at: decisionPolicyVersions.created_at,
      };
      const [rows, total] = await Promise.all([
        db.select(cols).from(decisionPolicyVersions).where(where).orderBy(desc(decisionPolicyVersions.version)).limit(size).offset((page - 1) * size),
        db.select({ n: sql<number>`count(*)::int`.mapWith(Number) }).from(decisionPolicyVersions).where(where),
      ]);
      return { rows, total: total[0].n };
    },
    async insertVersion(v: typeof decisionPolicyVersions.$inferInsert, conn: Conn): Promise<VersionRow> {
      const rows = await conn.insert(decisionPolicyVersions).values(v).returning();
      return rows[0];
    },
    async insertUserPolicies(versionId: number, states: Map<string, object>, conn: Conn): Promise<void> {
      const all = [...states.entries()].map(([user_id, state]) => ({ version_id: versionId, user_id, state }));
      for (let i = 0; i < all.length; i += 200) await conn.insert(decisionUserPolicies).values(all.slice(i, i + 200));
    },
    async findUserPolicy(versionId: number, userId: string): Promise<object | null> {
      const rows = await db.select({ state: decisionUserPolicies.state }).from(decisionUserPolicies).where(and(eq(decisionUserPolicies.version_id, versionId), eq(decisionUserPolicies.user_id, userId))).limit(1);
      return (rows[0]?.state as object | undefined) ?? null;
    },
    async nextVersionNumber(problemId: number, conn: Conn): Promise<number> {
      const rows = await conn.select({ v: max(decisionPolicyVersions.version) }).from(decisionPolicyVersions).where(eq(decisionPolicyVersions.problem_id, problemId));
      return (rows[0]?.v ?? 0) + 1;
    },

    /** Stores a decision (batched with concurrent ones); null when its (problem, user, decision_idx) exists. */
    insertDecision,
    async findDecision(problemId: number, userId: string, decisionIdx: number): Promise<DecisionRow | null> {
      const rows = await db
        .select()
        .from(decisions)
        .where(and(eq(decisions.problem_id, problemId), eq(decisions.user_id, userId), eq(decisions.decision_idx, decisionIdx)))
        .limit(1);
      return rows[0] ?? null;
    },
    async findDecisionById(id: number): Promise<DecisionRow | null> {
      const rows = await db.select().from(decisions).where(eq(decisions.id, id)).limit(1);
      return rows[0] ?? null;
    },
    /**
     * A decision on a problem with a daily budget: the user's non-default decisions of the day (UTC, by
     * server time) are counted and the new decision stored in one transaction that holds a lock on
     * (problem, user), so requests at several processes are counted one after another and never
     * overspend the budget.
     * `decide` gets the count and returns the decision to store; it must not query the database (on the
     * embedded one, a query outside this transaction would wait for it). Null when the decision_idx exists.
     */
    async decideWithinBudget(problemId: number, userId: string, defaultAction: number, now: Date, decide: (nonDefaultToday: number) => NewDecision): Promise<DecisionRow | null> {
      const day = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
      return db.transaction(async (tx) => {
        await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`decisions.budget:${problemId}:${userId}`}, 0))`);
        const [{ n }] = await tx
          .select({ n: sql<number>`count(*)::int`.mapWith(Number) })
          .from(decisions)
          .where(and(eq(decisions.problem_id, problemId), eq(decisions.user_id, userId), gte(decisions.created_at, day), ne(decisions.action, defaultAction)));
        const d = decide(n);
        const [row] = await tx.insert(decisions).values(d).onConflictDoNothing({ target: [decisions.problem_id, decisions.user_id, decisions.decision_idx] }).returning();
        return row ?? null;
      });
    },

    /** Inserts an outcome; null when its decision already has one. */
    async insertOutcome(o: typeof decisionOutcomes.$inferInsert): Promise<OutcomeRow | null> {
      if (o.decision_id === null || o.decision_id === undefined) return (await db.insert(decisionOutcomes).values(o).returning())[0];
      const rows = await db.insert(decisionOutcomes).values(o).onConflictDoNothing({ target: decisionOutcomes.decision_id }).returning();
      return rows[0] ?? null;
    },

    /** Every decision of a problem up to `until` (client time) with its in-window reward, oldest first. */
    async loggedUntil(problemId: number, until: Date | null, from: Date | null = null, conn: Conn = db) {
      return conn
        .select({
          id: decisions.id,
          user_id: decisions.user_id,
          context: decisions.context,
          action: decisions.action,
          probability: decisions.probability,
          decided_by: decisions.decided_by,
          client_timestamp: decisions.client_timestamp,
          reward: sql<number | null>`case when ${decisionOutcomes.in_window} then ${decisionOutcomes.reward} end`,
        })
        .from(decisions)
        .leftJoin(decisionOutcomes, eq(decisionOutcomes.decision_id, decisions.id))
        .where(and(eq(decisions.problem_id, problemId), until ? lte(decisions.client_timestamp, until) : undefined, from ? gte(decisions.client_timestamp, from) : undefined))
        .orderBy(asc(decisions.client_timestamp), asc(decisions.id));
    },

    /** One page of the export, after the decision id `after`. */
    async exportPage(filter: { problemId: number | null; from: Date | null; to: Date | null }, after: number, size: number) {
      return db
        .select({
          decision_id: decisions.id,
          problem_id: decisions.problem_id,
          user_id: decisions.user_id,
          decision_idx: decisions.decision_idx,
          policy_version_id: decisions.policy_version_id,
          client_timestamp: decisions.client_timestamp,
          created_at: decisions.created_at,
          context: decisions.context,
          encoded: decisions.encoded,
          action: decisions.action_name,
          action_index: decisions.action,
          probability: decisions.probability,
          probabilities: decisions.probabilities,
          rng_state: decisions.rng_state,
          decided_by: decisions.decided_by,
          reason: decisions.reason,
          shadow: decisions.shadow,
          outcome: decisionOutcomes.data,
          reward: decisionOutcomes.reward,
          reward_in_window: decisionOutcomes.in_window,
          outcome_timestamp: decisionOutcomes.client_timestamp,
        })
        .from(decisions)
        .leftJoin(decisionOutcomes, eq(decisionOutcomes.decision_id, decisions.id))
        .where(
          and(
            gt(decisions.id, after),
            filter.problemId !== null ? eq(decisions.problem_id, filter.problemId) : undefined,
            filter.from ? gte(decisions.client_timestamp, filter.from) : undefined,
            filter.to ? lte(decisions.client_timestamp, filter.to) : undefined,
          ),
        )
        .orderBy(asc(decisions.id))
        .limit(size);
    },

    async insertUpdate(u: typeof decisionUpdates.$inferInsert, conn: Conn = db): Promise<UpdateRow> {
      return (await conn.insert(decisionUpdates).values(u).returning())[0];
    },
    async findUpdate(id: string, conn: Conn = db): Promise<UpdateRow | null> {
      const rows = await conn.select().from(decisionUpdates).where(eq(decisionUpdates.id, id)).limit(1);
      return rows[0] ?? null;
    },
    /** Finishes an update that is still processing; null when it was already finished. */
    async finishUpdate(id: string, set: { status: 'completed' | 'failed'; policy_version_id?: number | null; error?: string | null }, conn: Conn = db): Promise<UpdateRow | null> {
      const rows = await conn
        .update(decisionUpdates)
        .set({ ...set, updated_at: sql`now()` })
        .where(and(eq(decisionUpdates.id, id), eq(decisionUpdates.status, 'processing')))
        .returning();
      return rows[0] ?? null;
    },
    async callbackSecret(id: string): Promise<string | null> {
      const rows = await db.select({ s: decisionUpdates.callback_secret }).from(decisionUpdates).where(and(eq(decisionUpdates.id, id), sql`${decisionUpdates.callback_url} is not null`)).limit(1);
      return rows[0]?.s ?? null;
    },
  };
}

export type DecisionsRepository = ReturnType<typeof createDecisionsRepository>;
