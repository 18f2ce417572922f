// Use cases of seed 001: take an event (store it and evaluate the rules, in the database, under the
// user's lock), read events and alerts back, and manage the rules.
import { assertActsFor, ownScope, type Principal } from '../../platform/access.ts';
import { createBatcher } from '../../platform/batcher.ts';
import type { Tx } from '../../platform/db.ts';
import { AppError, mapDbError, statementFailed } from '../../platform/errors.ts';
import type { CountKind } from '../../platform/pagination.ts';
import type { AlertBus } from './alert-stream.ts';
import type { EventsRepository, IngestInput, IngestResult, RuleRow } from './events.repository.ts';
import type { CreateEvent, CreateRule, ListAlertsQuery, ListEventsQuery, ListRulesQuery, PatchRule } from './events.schemas.ts';
import { formatCents, parseCents } from '../../platform/money.ts';
import { validateRule } from './rules.ts';

const MAX_EVENT_CENTS = 99_999_999_999_999n; // numeric(14,2)
const DIGITS = /^[1-9]\d{0,15}$/;
/** Internal → external user ids kept by a process (a few MB at most). */
const MAX_CACHED_IDS = 100_000;

export interface EventsServiceDeps {
  repo: EventsRepository;
  bus: AlertBus;
  /** Only what the service needs of the users service: internal keys and external ids, both ways. */
  users: {
    findByExternalId(userId: string): Promise<{ id: number } | null>;
    findById(id: number): Promise<{ user_id: string } | null>;
  };
  autoCreateUsers: boolean;
  /**
   * Batching of POST /api/events: each lane sends one batch at a time, and the events that arrive
   * meanwhile go together in its next batch (one statement, one commit). A user's events always take
   * the same lane, so concurrent batches of one process never wait on each other's user locks.
   */
  batching: { lanes: number; maxBatch: number };
  /** Told the size of every batch sent (the metric that shows whether batches form under load). */
  observeBatch?(size: number): void;
  /**
   * The alerts of each committed batch, as a fact for other modules. When `durable()` (someone may
   * want them), the batch runs in a transaction and `publish` gets it, so the fact is stored exactly
   * when the events are; otherwise `publish` is told after the commit, without one.
   */
  alertFacts?: {
    durable(): boolean;
    publish(results: (IngestResult | null)[], tx?: Tx): Promise<void>;
  };
}

/** The external user id as the users table keeps it (decimal string), or a 400 naming the field. */
function userKey(value: number | string, field = 'user_id'): string {
  const text = typeof value === 'number' ? String(value) : value;
  if (!DIGITS.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new AppError('VALIDATION_ERROR', `${field} must be a positive integer (or its decimal string), got ${JSON.stringify(value)}`);
  }
  return text;
}

function eventAmount(value: string | number): string {
  const cents = parseCents(value);
  if (cents === null || cents <= 0n || cents > MAX_EVENT_CENTS) {
    throw new AppError(
      'VALIDATION_ERROR',
      `amount must be a positive decimal string with at most 2 decimals and at most 12 integer digits (e.g. "42.00" or "100"), got ${JSON.stringify(value)}`,
    );
  }
  return formatCents(cents);
}

/**
 * The user_id a read is limited to: the one asked for, which must be the caller's own unless the
 * caller acts for anyone; a caller limited to themselves who names nobody gets their own.
 */
export function ownUserId(asked: number | undefined, principal: Principal, what: string): number | undefined {
  if (asked !== undefined) {
    assertActsFor(principal, asked, what);
    return asked;
  }
  const scope = ownScope(principal);
  return scope === null ? undefined : Number(scope);
}

export function createEventsService(deps: EventsServiceDeps) {
  const { repo, bus, users } = deps;
  const options = { autoCreate: deps.autoCreateUsers, notify: bus.publishedByDatabase };
  if (!(Number.isInteger(deps.batching.lanes) && deps.batching.lanes >= 1)) throw new RangeError(`events: lanes must be a positive integer, got ${deps.batching.lanes}`);
  const lanes = Array.from({ length: deps.batching.lanes }, () =>
    createBatcher<IngestInput, IngestResult | null>({
      maxBatch: deps.batching.maxBatch,
      run: async (events) => {
        deps.observeBatch?.(events.length);
        const facts = deps.alertFacts;
        if (facts?.durable()) return repo.ingestBatchWithin(events, options, facts.publish);
        const results = await repo.ingestBatch(events, options);
        await facts?.publish(results);
        return results;
      },
      // PostgreSQL reported the statement failed, so the batch's transaction rolled back: run each
      // event alone. A lost connection may have committed: fail them all rather than store twice.
      retryAlone: statementFailed,
    }),
  );
  // userId is a validated decimal string of a safe integer.
  const ingestOne = (event: IngestInput) => lanes[Number(event.userId) % lanes.length](event);

  const userPk = async (userId: number | undefined): Promise<number | undefined> => {
    if (userId === undefined) return undefined;
    const user = await users.findByExternalId(String(userId));
    if (!user) throw new AppError('NOT_FOUND', `user ${userId} not found`);
    return user.id;
  };

  /**
   * Rows carry the users table's internal key; clients see the external user_id (a JSON integer in
   * seed 001). A list limited to one user already knows it; otherwise the users service is asked, once
   * per user, and the answer kept: a user's external id is never rewritten (no write path sets
   * user_id; seed 002 addresses it by path) and internal keys are never reused, so an entry cannot go
   * stale. Without the cache an unfiltered page of alerts cost up to 10 more statements than the join
   * it replaces (measured: GET /api/alerts 71 → 49 req/s on PostgreSQL). A user deleted in between
   * took its rows with it (events and alerts cascade), so its rows are dropped.
   */
  const externalIds = new Map<number, number>();
  const withExternalIds = async <R extends { user_pk: number }>(rows: R[], known: number | undefined): Promise<(Omit<R, 'user_pk'> & { user_id: number })[]> => {
    const missing = new Set<number>();
    for (const r of rows) if (known === undefined && !externalIds.has(r.user_pk)) missing.add(r.user_pk);
    await Promise.all(
      [...missing].map(async (pk) => {
        const userId = Number((await users.findById(pk))?.user_id);
        if (!Number.isSafeInteger(userId)) return;
        if (externalIds.size >= MAX_CACHED_IDS) externalIds.clear();
        externalIds.set(pk, userId);
      }),
    );
    const out: (Omit<R, 'user_pk'> & { user_id: number })[] = [];
    for (const { user_pk, ...rest } of rows) {
      const userId = known ?? externalIds.get(user_pk);
      if (userId !== undefined) out.push({ ...rest, user_id: userId });
    }
    return out;
  };

  const ruleOut = (r: RuleRow) => ({ ...r, created_at: r.created_at.toISOString(), updated_at: r.updated_at.toISOString() });

  return {
    /** POST /api/events: the answer is sent only after the event's batch is committed. */
    async ingest(body: CreateEvent, principal: Principal) {
      const userId = userKey(body.user_id);
      assertActsFor(principal, userId, 'post events');
      const amount = eventAmount(body.amount);
      let result: IngestResult | null;
      try {
        result = await ingestOne({ userId, type: body.type, amount, time: body.time });
      } catch (err) {
        throw mapDbError(err, `user ${userId}`) ?? err;
      }
      if (!result) throw new AppError('NOT_FOUND', `user ${userId} not found`);
      if (result.alerts.length) bus.publish(result);
      const codes = result.alerts.map((a) => a.code);
      return { alert: codes.length > 0, alert_codes: codes, user_id: body.user_id };
    },

    async listEvents(q: ListEventsQuery, principal: Principal) {
      const userId = ownUserId(q.user_id, principal, 'read events');
      const { rows, total } = await repo.listEvents({ ...q, userPk: await userPk(userId) });
      return { rows: (await withExternalIds(rows, userId)).map((r) => ({ ...r, created_at: r.created_at.toISOString() })), total };
    },

    async listAlerts(q: ListAlertsQuery, principal: Principal, kind: CountKind = 'exact') {
      const userId = ownUserId(q.user_id, principal, 'read alerts');
      const { rows, ...counted } = await repo.listAlerts({ ...q, userPk: await userPk(userId) }, kind);
      return { rows: (await withExternalIds(rows, userId)).map((r) => ({ ...r, created_at: r.created_at.toISOString() })), ...counted };
    },

    async listRules(q: ListRulesQuery) {
      const { rows, total } = await repo.listRules(q);
      return { rows: rows.map(ruleOut), total };
    },

    async getRule(id: number) {
      const rule = await repo.findRule(id);
      if (!rule) throw new AppError('NOT_FOUND', `rule ${id} not found`);
      return ruleOut(rule);
    },

    async createRule(body: CreateRule) {
      return ruleOut(await repo.createRule(validateRule(body)));
    },

    /** PUT: the body is the whole rule (omitted optional fields take their defaults). */
    async replaceRule(id: number, body: CreateRule) {
      const rule = await repo.updateRule(id, validateRule(body));
      if (!rule) throw new AppError('NOT_FOUND', `rule ${id} not found`);
      return ruleOut(rule);
    },

    /** PATCH: the given fields over the current rule, validated as a whole; `{enabled:false}` disables. */
    async patchRule(id: number, body: PatchRule) {
      const rule = await repo.withRuleLocked(id, async (current, tx) => {
        if (!current) throw new AppError('NOT_FOUND', `rule ${id} not found`);
        const { id: _id, version: _v, created_at: _c, updated_at: _u, ...fields } = current;
        // A new kind needs its own params: the old ones are not carried over.
        const merged = { ...fields, ...(body.kind !== undefined && body.kind !== current.kind && body.params === undefined ? { params: undefined } : {}), ...body };
        return tx.updateRule(id, validateRule(merged as Record<string, unknown>));
      });
      if (!rule) throw new AppError('NOT_FOUND', `rule ${id} not found`);
      return ruleOut(rule);
    },

    async deleteRule(id: number) {
      if (!(await repo.deleteRule(id))) throw new AppError('NOT_FOUND', `rule ${id} not found`);
    },
  };
}

export type EventsService = ReturnType<typeof createEventsService>;
