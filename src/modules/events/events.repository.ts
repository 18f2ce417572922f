// Queries of the events module. The hot path is one prepared statement, `select events_ingest_batch(…)`,
// sent straight through the driver (Database.query); everything else goes through Drizzle. Rows name
// their user by the users table's internal key: the service asks the users service for external ids.
import { and, asc, count, eq, gte, lte, sql, type SQL } from 'drizzle-orm';
import { countRows, offsetOf, type CountKind } from '../../platform/pagination.ts';
import { rowsOf, type Database, type Tx } from '../../platform/db.ts';
import { mapDbError } from '../../platform/errors.ts';
import { alertEvents, alertRules, alerts } from './events.tables.ts';
import type { Alert, StoredEvent } from './events.schemas.ts';
import type { RuleDefinition } from './rules.ts';

/** What events_ingest returns (and what it sends with NOTIFY): the stored event and its alerts. */
export interface IngestResult {
  seq: number;
  user_id: string;
  type: 'deposit' | 'withdraw';
  amount: string;
  time: number;
  created_at: string;
  alerts: { id: number; rule_id: number; code: number; rule_version: number }[];
}

/** One event as events_ingest takes it: the external user id and the amount as exact decimal text. */
export interface IngestInput {
  userId: string;
  type: string;
  amount: string;
  time: number;
}

export interface IngestOptions {
  /** Create an unknown user instead of answering null for its event. */
  autoCreate: boolean;
  /** NOTIFY each alerting event on the arbiter_alerts channel (the PostgreSQL alert bus). */
  notify: boolean;
}

export interface RuleRow extends RuleDefinition {
  id: number;
  version: number;
  created_at: Date;
  updated_at: Date;
}

const ruleColumns = {
  id: alertRules.id,
  code: alertRules.code,
  name: alertRules.name,
  kind: alertRules.kind,
  event_type: alertRules.event_type,
  enabled: alertRules.enabled,
  priority: alertRules.priority,
  params: alertRules.params,
  version: alertRules.version,
  created_at: alertRules.created_at,
  updated_at: alertRules.updated_at,
};

// One prepared statement with the four arrays as parameters. The amounts go as text[]: Drizzle
// replaces postgres.js's numeric[] serializer with a pass-through, which cannot send an array.
const INGEST_BATCH = 'select events_ingest_batch($1::text[], $2::text[], $3::text[]::numeric[], $4::bigint[], $5, $6) as r';

const paramsOf = (events: IngestInput[], options: IngestOptions): [string[], string[], string[], number[], boolean, boolean] => [
  events.map((e) => e.userId),
  events.map((e) => e.type),
  events.map((e) => e.amount),
  events.map((e) => e.time),
  options.autoCreate,
  options.notify,
];

// seq is null only if an auto-created user was deleted by someone else before its event was stored.
const stored = (results: (IngestResult | null)[]) => results.map((r) => (r === null || r.seq === null ? null : r));

export function createEventsRepository(database: Database) {
  const { db } = database;
  const send = async (params: [string[], string[], string[], number[], boolean, boolean]): Promise<(IngestResult | null)[]> =>
    (await database.query<{ r: (IngestResult | null)[] }>(INGEST_BATCH, params))[0].r;

  const guard = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (err) {
      throw mapDbError(err, 'rule') ?? err;
    }
  };

  return {
    /**
     * Stores the events and evaluates the rules in one statement and one transaction; one result per
     * event, in order, null for an unknown user. The events of one user are taken in the given order.
     */
    ingestBatch: async (events: IngestInput[], options: IngestOptions): Promise<(IngestResult | null)[]> =>
      stored(await send(paramsOf(events, options))),

    /**
     * The same, in a transaction that also runs `within` (given the results) before it commits: what
     * `within` writes exists exactly when the events do. Costs a BEGIN and a COMMIT more.
     */
    ingestBatchWithin: (events: IngestInput[], options: IngestOptions, within: (results: (IngestResult | null)[], tx: Tx) => Promise<void>): Promise<(IngestResult | null)[]> =>
      db.transaction(async (tx) => {
        const [u, t, a, time, autoCreate, notify] = paramsOf(events, options);
        const res = await tx.execute(
          sql`select events_ingest_batch(${sql.param(u)}::text[], ${sql.param(t)}::text[], ${sql.param(a)}::text[]::numeric[], ${sql.param(time)}::bigint[], ${autoCreate}, ${notify}) as r`,
        );
        const results = stored(rowsOf(res)[0].r as (IngestResult | null)[]);
        await within(results, tx);
        return results;
      }),

    async listEvents(q: { userPk?: number; type?: string; from?: number; to?: number; page: number; size: number }) {
      const conds: (SQL | undefined)[] = [];
      if (q.userPk !== undefined) conds.push(eq(alertEvents.user_id, q.userPk));
      if (q.type !== undefined) conds.push(eq(alertEvents.type, q.type));
      if (q.from !== undefined) conds.push(gte(alertEvents.time, q.from));
      if (q.to !== undefined) conds.push(lte(alertEvents.time, q.to));
      const where = and(...conds);
      const [rows, totals] = await Promise.all([
        db
          .select({
            id: alertEvents.seq,
            user_pk: alertEvents.user_id,
            type: alertEvents.type,
            amount: alertEvents.amount,
            time: alertEvents.time,
            created_at: alertEvents.created_at,
            alert_codes: sql<number[]>`coalesce((select array_agg(a.code order by a.id) from ${alerts} a where a.event_seq = ${alertEvents.seq}), '{}')`,
          })
          .from(alertEvents)
          .where(where)
          .orderBy(asc(alertEvents.time), asc(alertEvents.seq))
          .limit(q.size)
          .offset(offsetOf(q)),
        db.select({ total: count() }).from(alertEvents).where(where),
      ]);
      return { rows: rows as unknown as (Omit<StoredEvent, 'created_at' | 'user_id'> & { user_pk: number; created_at: Date })[], total: totals[0].total };
    },

    /** A page of alerts in their events' time order, from the alerts' own index; the count of the kind asked, from the alerts alone. */
    async listAlerts(q: { userPk?: number; code?: number; from?: number; to?: number; page: number; size: number }, kind: CountKind) {
      const where = and(
        q.userPk === undefined ? undefined : eq(alerts.user_id, q.userPk),
        q.code === undefined ? undefined : eq(alerts.code, q.code),
        q.from === undefined ? undefined : gte(alerts.event_time, q.from),
        q.to === undefined ? undefined : lte(alerts.event_time, q.to),
      );
      const [rows, counted] = await Promise.all([
        db
          .select({
            id: alerts.id,
            code: alerts.code,
            rule_id: alerts.rule_id,
            rule_version: alerts.rule_version,
            user_pk: alerts.user_id,
            created_at: alerts.created_at,
            event_id: alertEvents.seq,
            type: alertEvents.type,
            amount: alertEvents.amount,
            time: alertEvents.time,
          })
          .from(alerts)
          .innerJoin(alertEvents, eq(alertEvents.seq, alerts.event_seq))
          .where(where)
          .orderBy(asc(alerts.event_time), asc(alerts.event_seq), asc(alerts.id))
          .limit(q.size)
          .offset(offsetOf(q)),
        countRows(db, db.select({ one: sql`1`.as('one') }).from(alerts).where(where), kind),
      ]);
      const out: (Omit<Alert, 'created_at' | 'user_id'> & { user_pk: number; created_at: Date })[] = rows.map((r) => ({
        id: r.id,
        code: r.code,
        rule_id: r.rule_id,
        rule_version: r.rule_version,
        user_pk: r.user_pk,
        created_at: r.created_at,
        event: { id: r.event_id, type: r.type as 'deposit' | 'withdraw', amount: r.amount, time: r.time },
      }));
      return { rows: out, ...counted };
    },

    async listRules(q: { code?: number; event_type?: string; kind?: string; enabled?: boolean; page: number; size: number }) {
      const conds: (SQL | undefined)[] = [];
      if (q.code !== undefined) conds.push(eq(alertRules.code, q.code));
      if (q.event_type !== undefined) conds.push(eq(alertRules.event_type, q.event_type));
      if (q.kind !== undefined) conds.push(eq(alertRules.kind, q.kind));
      if (q.enabled !== undefined) conds.push(eq(alertRules.enabled, q.enabled));
      const where = and(...conds);
      const [rows, totals] = await Promise.all([
        db
          .select(ruleColumns)
          .from(alertRules)
          .where(where)
          .orderBy(asc(alertRules.event_type), asc(alertRules.priority), asc(alertRules.code))
          .limit(q.size)
          .offset(offsetOf(q)),
        db.select({ total: count() }).from(alertRules).where(where),
      ]);
      return { rows: rows as RuleRow[], total: totals[0].total };
    },

    async findRule(id: number): Promise<RuleRow | null> {
      const rows = await db.select(ruleColumns).from(alertRules).where(eq(alertRules.id, id)).limit(1);
      return (rows[0] as RuleRow | undefined) ?? null;
    },

    createRule: (rule: RuleDefinition): Promise<RuleRow> =>
      guard(async () => {
        const rows = await db.insert(alertRules).values(rule).returning(ruleColumns);
        return rows[0] as RuleRow;
      }),

    /** Replaces every field and increments the version; null when the rule does not exist. */
    updateRule: (id: number, rule: RuleDefinition): Promise<RuleRow | null> =>
      guard(async () => {
        const rows = await db
          .update(alertRules)
          .set({ ...rule, version: sql`${alertRules.version} + 1`, updated_at: sql`now()` })
          .where(eq(alertRules.id, id))
          .returning(ruleColumns);
        return (rows[0] as RuleRow | undefined) ?? null;
      }),

    deleteRule: async (id: number): Promise<boolean> => {
      const rows = await db.delete(alertRules).where(eq(alertRules.id, id)).returning({ id: alertRules.id });
      return rows.length > 0;
    },

    /** Runs `work` with the rule row locked, so a read-modify-write (PATCH) cannot lose a concurrent change. */
    async withRuleLocked<T>(id: number, work: (current: RuleRow | null, tx: ReturnType<typeof createEventsRepositoryTx>) => Promise<T>): Promise<T> {
      return guard(() =>
        db.transaction(async (tx) => {
          const rows = await tx.select(ruleColumns).from(alertRules).where(eq(alertRules.id, id)).for('update');
          return work((rows[0] as RuleRow | undefined) ?? null, createEventsRepositoryTx(tx as unknown as Database['db']));
        }),
      );
    },
  };
}

/** The rule writes that run inside withRuleLocked's transaction. */
function createEventsRepositoryTx(tx: Database['db']) {
  return {
    async updateRule(id: number, rule: RuleDefinition): Promise<RuleRow | null> {
      const rows = await tx
        .update(alertRules)
        .set({ ...rule, version: sql`${alertRules.version} + 1`, updated_at: sql`now()` })
        .where(eq(alertRules.id, id))
        .returning(ruleColumns);
      return (rows[0] as RuleRow | undefined) ?? null;
    },
  };
}

export type EventsRepository = ReturnType<typeof createEventsRepository>;
