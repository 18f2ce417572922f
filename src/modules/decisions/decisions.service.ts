// Seed 000's use cases: users, decisions (idempotent per (user, decision_idx), drawn from the live
// policy version with a logged generator state), outcomes, updates (jobs that build immutable policy
// versions, with callbacks through the webhooks job type), problems, replay, evaluation and export.
import { randomBytes, randomUUID } from 'node:crypto';
import { actsForAnyone, assertActsFor, ownScope, type Principal } from '../../platform/access.ts';
import { withMlErrors, AppError, withDbErrors } from '../../platform/errors.ts';
import type { JobSystem, Logger } from '../../platform/jobs/jobs.ts';
import { parseTimestamp, type Clock } from '../../platform/time.ts';
import type { Webhooks } from '../../platform/webhooks/webhooks.ts';
import type { Rng } from '../../ml/rng.ts';
import type { EventLogReader } from '../resources/event-log.reader.ts';
import type { UsersService } from '../users/users.service.ts';
import {
  buildEncoder,
  checkContext,
  decide,
  decisionRng,
  defaultProblemConfig,
  DEFAULT_PROBLEM,
  encode,
  inWindow,
  loadPolicy,
  normalizeConfig,
  replay,
  rewardOf,
  trainingSet,
  trainPolicy,
  trainPerUser,
  drawFrom,
  windowClosed,
  type DecidedBy,
  type Encoder,
  type LoadedPolicy,
  type LoggedRow,
  type PolicyJSON,
  type ProblemConfig,
} from './decisions.domain.ts';
import { evaluateCandidates, type EvaluateRequest } from './decisions.evaluate.ts';
import type { DecisionRow, DecisionsRepository, NewDecision, ProblemRow, VersionRow } from './decisions.repository.ts';
import type { ActionBody, AddUserBody, CreateProblemBody, UpdateBody, UploadBody } from './decisions.schemas.ts';

export const UPDATE_QUEUE = 'decisions.update';
export const EVALUATE_QUEUE = 'decisions.evaluate';
export const CALLBACK_TARGET = 'decision-update';

export interface DecisionsDeps {
  repo: DecisionsRepository;
  users: Pick<UsersService, 'findByExternalId' | 'addExternalUser'>;
  jobs: JobSystem;
  webhooks: Webhooks;
  clock: Clock;
  /** Seed 002's event log, for rewards counted from it (reward.source 'event_log'). */
  eventLog?: EventLogReader;
  /** Draws the per-decision nonce that, with the problem's seed, seeds the decision's generator. */
  rng: Rng;
  log: Logger;
  /** How long a synchronous update (no callback_url) waits for its job before answering 202. */
  syncUpdateWaitMs: number;
}

interface LiveVersion {
  row: VersionRow;
  config: ProblemConfig;
  encoder: Encoder;
  policy: LoadedPolicy;
  shadow: LoadedPolicy | null;
}

const MAX_CACHED_VERSIONS = 256;
const EXPORT_PAGE = 500;
const PROBLEM_CACHE_MS = 1000;
const USER_CACHE_MS = 2000;
const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The user_id as text: the seed's clients send strings, seed 001's integers. */
function userIdOf(v: unknown): string {
  if (v === undefined || v === null || v === '') throw new AppError('BAD_REQUEST', 'user_id is required.');
  const s = String(v);
  if (s.length > 200) throw new AppError('VALIDATION_ERROR', 'user_id must be at most 200 characters');
  return s;
}

function timestampOf(v: string | undefined, field = 'timestamp'): Date {
  if (v === undefined || v === null) throw new AppError('VALIDATION_ERROR', `${field} is required (an ISO 8601 date-time such as 2024-05-01T12:00:00Z)`);
  return parseTimestamp(v, field);
}

export function createDecisionsService(deps: DecisionsDeps) {
  // Keyed queue: work under one key runs after the previous work under that key has finished.
  const queues = new Map<string, Promise<unknown>>();
  const serially = <T>(key: string, work: () => Promise<T>): Promise<T> => {
    const run = (queues.get(key) ?? Promise.resolve()).then(work, work);
    const tail = run.catch(() => {});
    queues.set(key, tail);
    void tail.then(() => {
      if (queues.get(key) === tail) queues.delete(key);
    });
    return run;
  };

  const { repo, users, jobs, webhooks, clock, log } = deps;
  const versions = new Map<number, LiveVersion>();

  function loadVersion(row: VersionRow): LiveVersion {
    const cached = versions.get(row.id);
    if (cached) return cached;
    const v: LiveVersion = {
      row,
      config: row.config as ProblemConfig,
      encoder: row.encoder as Encoder,
      policy: loadPolicy(row.state as PolicyJSON),
      shadow: row.shadow_state ? loadPolicy(row.shadow_state as PolicyJSON) : null,
    };
    if (versions.size >= MAX_CACHED_VERSIONS) versions.delete(versions.keys().next().value!);
    versions.set(row.id, v);
    return v;
  }

  const userPolicies = new Map<string, LoadedPolicy>();

  /** The policy a user's decisions are drawn from: theirs in a per-user version (when they had data), else the version's. */
  async function policyFor(v: LiveVersion, userId: string): Promise<LoadedPolicy> {
    if (v.config.model?.kind !== 'per_user') return v.policy;
    const key = `${v.row.id}:${userId}`;
    const hit = userPolicies.get(key);
    if (hit) return hit;
    const state = await repo.findUserPolicy(v.row.id, userId);
    const loaded = state ? loadPolicy(state as PolicyJSON) : v.policy;
    if (userPolicies.size >= 10_000) userPolicies.delete(userPolicies.keys().next().value!);
    userPolicies.set(key, loaded);
    return loaded;
  }

  async function versionById(id: number): Promise<LiveVersion> {
    const cached = versions.get(id);
    if (cached) return cached;
    const row = await repo.findVersion(id);
    if (!row) throw new AppError('NOT_FOUND', `policy version ${id} not found`);
    return loadVersion(row);
  }

  // The hot path reads a problem row and a user's existence on every decision: both are kept for a
  // moment (this process drops its copy at once when it changes the problem; another process's
  // change, such as an update run by a worker elsewhere, is seen within PROBLEM_CACHE_MS).
  const problems = new Map<string, { row: ProblemRow; until: number }>();
  const knownUsers = new Map<string, number>();
  const forgetProblems = () => problems.clear();

  async function problemNamed(name: string | undefined): Promise<ProblemRow> {
    const n = name ?? DEFAULT_PROBLEM;
    const hit = problems.get(n);
    if (hit && hit.until > Date.now()) return hit.row;
    const p = await repo.findProblemByName(n);
    if (p && p.live_version_id !== null) {
      if (problems.size > 1000) problems.clear();
      problems.set(n, { row: p, until: Date.now() + PROBLEM_CACHE_MS });
    }
    if (!p) throw new AppError('NOT_FOUND', `problem '${n}' not found`);
    if (p.live_version_id === null) throw new AppError('UNAVAILABLE', `problem '${n}' has no policy version yet`);
    return p;
  }

  /** A problem by its id or its name (the path parameter takes either). */
  async function problemByRef(ref: string): Promise<ProblemRow> {
    const p = /^\d{1,15}$/.test(ref) ? await repo.findProblemById(Number(ref)) : await repo.findProblemByName(ref);
    if (!p) throw new AppError('NOT_FOUND', `problem '${ref}' not found`);
    return p;
  }

  async function requireUser(userId: string): Promise<void> {
    if ((knownUsers.get(userId) ?? 0) > Date.now()) return;
    if (!(await users.findByExternalId(userId))) throw new AppError('NOT_FOUND', 'User not found.');
    if (knownUsers.size > 100_000) knownUsers.clear();
    knownUsers.set(userId, Date.now() + USER_CACHE_MS);
  }

  /**
   * Builds a new immutable version from every decision up to `until` (client time) and makes it
   * live, in one transaction with the problem row locked (concurrent updates queue up); a failure
   * leaves the live version as it was.
   */
  /** Logged decisions up to `until`, each with its reward under the problem's reward source. */
  async function loggedRows(problemId: number, config: ProblemConfig, until: Date | null, from: Date | null = null): Promise<LoggedRow[]> {
    const logged = await repo.loggedUntil(problemId, until, from);
    const rows: LoggedRow[] = logged.map((r) => ({
      userId: r.user_id,
      context: r.context as Record<string, unknown>,
      action: r.action,
      probability: r.probability,
      decidedBy: r.decided_by as DecidedBy,
      decidedAt: r.client_timestamp,
      reward: config.reward.source === 'outcome' && r.reward !== null ? Number(r.reward) : null,
    }));
    if (config.reward.source === 'event_log') {
      if (!deps.eventLog) throw new AppError('UNPROCESSABLE', "reward.source 'event_log' needs the resources module (seed 002's event log) in this process");
      const end = until ?? clock.now();
      const closed = rows.filter((r) => windowClosed(config.reward, r.decidedAt, end));
      const counts = await deps.eventLog.countAfter(config.reward.event_type!, closed.map((r) => ({ userId: r.userId, from: r.decidedAt })), config.reward.window_minutes!);
      closed.forEach((r, i) => (r.reward = counts[i]));
    }
    return rows;
  }

  /**
   * Builds a new immutable version from every decision up to `until` (client time) and makes it
   * live. The data is read and the policy fitted first; then, with the problem row locked
   * (concurrent builds queue up), the version is numbered and made live. A failure leaves the live
   * version as it was.
   */
  async function buildVersion(problemId: number, until: Date | null, configOverride?: ProblemConfig, onlyFirst = false): Promise<VersionRow | null> {
    const current = await repo.findProblemById(problemId);
    if (!current) throw new AppError('NOT_FOUND', `problem ${problemId} not found`);
    if (onlyFirst && current.live_version_id !== null) return null;
    const config = configOverride ?? (current.config as ProblemConfig);
    const rows = until === null && !configOverride ? [] : await loggedRows(problemId, config, until);
    const encoder = buildEncoder(config.context, rows.map((r) => r.context));
    const data = trainingSet(rows, config, encoder, until ?? clock.now());
    const perUser = config.model.kind === 'per_user' ? config.model.prior_weight : null;
    // Per user: the version's own state is the prior (all data at the prior weight), for users without data.
    const state = trainPolicy(config.policy, config, data, { weight: perUser ?? 1 });
    const userStates = perUser !== null ? trainPerUser(config.policy, config, data, state, perUser) : null;
    const shadow = config.shadow ? trainPolicy(config.shadow, config, data) : null;
    return repo.transaction(async (tx) => {
      const problem = await repo.findProblemById(problemId, tx, true);
      if (!problem) throw new AppError('NOT_FOUND', `problem ${problemId} not found`);
      // Processes starting together: the first one makes version 1.
      if (onlyFirst && problem.live_version_id !== null) return null;
      const version = await repo.insertVersion(
        {
          problem_id: problemId,
          version: await repo.nextVersionNumber(problemId, tx),
          config,
          encoder,
          state,
          shadow_state: shadow,
          data_until: until,
          n_observations: data.contexts.rows,
          n_default_rewards: data.nDefault,
        },
        tx,
      );
      if (userStates) await repo.insertUserPolicies(version.id, userStates, tx);
      await repo.updateProblem(problemId, { live_version_id: version.id, ...(configOverride ? { config: configOverride } : {}) }, tx);
      return version;
    }).finally(forgetProblems);
  }

  function decisionAnswer(d: DecisionRow, version: number, problem: string) {
    const context = d.context as Record<string, unknown>;
    const probs = d.probabilities as number[];
    const names = (versions.get(d.policy_version_id)?.config.actions ?? []).map((a) => a.name);
    return {
      status: 'success' as const,
      user_id: d.user_id,
      action: { action_type: d.action_name, context },
      action_prob: d.probability,
      state: context,
      decision_idx: d.decision_idx,
      decision_id: d.id,
      policy_version: version,
      problem,
      probabilities: names.length === probs.length ? Object.fromEntries(names.map((n, i) => [n, probs[i]])) : Object.fromEntries(probs.map((p, i) => [String(i), p])),
      decided_by: d.decided_by as DecidedBy,
      timestamp: d.created_at.toISOString(),
    };
  }

  async function runUpdate(updateId: string): Promise<{ policy_version: number | null; status: string }> {
    const u = await repo.findUpdate(updateId);
    if (!u) throw new Error(`update ${updateId} not found`);
    if (u.status !== 'processing') return { policy_version: null, status: u.status };
    let version: VersionRow | null = null;
    let error: string | null = null;
    try {
      version = await buildVersion(u.problem_id, u.data_until);
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
      log.warn({ updateId, error }, 'decision policy update failed; the live version is unchanged');
    }
    const status = version ? ('completed' as const) : ('failed' as const);
    await repo.transaction(async (tx) => {
      const done = await repo.finishUpdate(updateId, { status, policy_version_id: version?.id ?? null, error: error?.slice(0, 1000) ?? null }, tx);
      if (done?.callback_url) {
        await webhooks.sendMany(
          [
            {
              url: done.callback_url,
              event: 'decision.update',
              body: { status, update_id: updateId, timestamp: done.data_until.toISOString(), policy_version: version?.version ?? null, ...(error ? { error: error.slice(0, 500) } : {}) },
              idempotencyKey: `decision-update-${updateId}`,
              target: `${CALLBACK_TARGET}:${updateId}`,
            },
          ],
          { tx },
        );
      }
    });
    return { policy_version: version?.version ?? null, status };
  }

  return {
    /** Makes sure the default problem (two actions, Thompson sampling clipped to [0.2, 0.8]) exists with a version. */
    async ensureDefaultProblem(): Promise<void> {
      await repo.createProblem(DEFAULT_PROBLEM, defaultProblemConfig());
      const p = await repo.findProblemByName(DEFAULT_PROBLEM);
      if (p && p.live_version_id === null) await buildVersion(p.id, null, undefined, true);
    },

    async addUser(body: AddUserBody, caller: Principal) {
      const userId = userIdOf(body.user_id);
      assertActsFor(caller, userId, 'add a user');
      const added = await users.addExternalUser(userId, 'decisions');
      if (!added) throw new AppError('BAD_REQUEST', 'User already exists.');
      return { user_id: userId, message: 'User added successfully.' };
    },

    /** POST /api/v1/action: the stored decision for a repeated (user_id, decision_idx), else a new draw. */
    async action(body: ActionBody, caller: Principal) {
      const userId = userIdOf(body.user_id);
      assertActsFor(caller, userId, 'request actions');
      const at = timestampOf(body.timestamp);
      const context = body.context ?? {};
      if (!isObj(context)) throw new AppError('VALIDATION_ERROR', 'context must be a JSON object');
      const problem = await problemNamed(body.problem);
      const idx = body.decision_idx ?? null;
      const live = await versionById(problem.live_version_id!);
      const config = live.config;
      await requireUser(userId);
      try {
        checkContext(context, (problem.config as ProblemConfig).context);
      } catch (err) {
        // A repeated decision point answers its stored decision, whatever context comes with it.
        const existing = idx === null ? null : await repo.findDecision(problem.id, userId, idx);
        if (existing) return decisionAnswer(existing, (await versionById(existing.policy_version_id)).row.version, problem.name);
        throw err;
      }
      const x = encode(live.encoder, context, config.context);
      const defaultIdx = config.actions.findIndex((a) => a.name === config.default_action);
      // Read before any transaction: on the embedded database a query outside a transaction waits for it.
      const userPolicy = await policyFor(live, userId);
      // The decision to store, given the user's non-default decisions today (0 without a budget).
      const decision = (nonDefaultToday: number): NewDecision => {
        const rng = decisionRng(config.seed, deps.rng.nextUint32());
        const d = decide({ config, policy: () => userPolicy, x, rng, nonDefaultToday });
        let shadow: object | null = null;
        if (live.shadow) {
          try {
            const s = drawFrom(live.shadow, x, decisionRng(config.seed ^ 0x5bd1e995, d.rngState[0]));
            shadow = { action: config.actions[s.action].name, probability: s.probability, probabilities: s.probabilities, rng_state: s.rngState, kind: config.shadow!.kind };
          } catch (err) {
            shadow = { error: err instanceof Error ? err.message : String(err) };
          }
        }
        return {
          problem_id: problem.id,
          user_id: userId,
          decision_idx: idx,
          policy_version_id: live.row.id,
          context,
          encoded: Array.from(x),
          action: d.action,
          action_name: config.actions[d.action].name,
          probabilities: d.probabilities,
          probability: d.probability,
          rng_state: [...d.rngState],
          method: d.method,
          decided_by: d.decidedBy,
          reason: d.reason,
          shadow,
          client_timestamp: at,
        };
      };
      // Without a budget, decisions are batched with concurrent ones. With one, the count and the insert
      // share a transaction that locks (problem, user) across processes (decideWithinBudget); in this
      // process one user's budgeted decisions also go one at a time, so concurrent requests do not each
      // hold a connection waiting on that lock.
      const row = await withDbErrors('decision', async () =>
        config.budget_per_day === null
          ? repo.insertDecision(decision(0))
          : serially(`${problem.id}:${userId}`, () => repo.decideWithinBudget(problem.id, userId, defaultIdx, clock.now(), decision)),
      );
      // Another request with the same (user_id, decision_idx) committed first: answer its decision.
      const stored = row ?? (await repo.findDecision(problem.id, userId, idx!));
      if (!stored) throw new AppError('CONFLICT', 'the decision was replaced while it was being made; retry');
      return decisionAnswer(stored, (await versionById(stored.policy_version_id)).row.version, problem.name);
    },

    /** POST /api/v1/upload_data: an outcome joined to its decision, or (the README's form) free data. */
    async uploadData(body: UploadBody, caller: Principal) {
      const userId = userIdOf(body.user_id);
      assertActsFor(caller, userId, 'upload data');
      const at = timestampOf(body.timestamp);
      await requireUser(userId);
      const data = body.data ?? {};
      let decision: DecisionRow | null = null;
      let problem: ProblemRow;
      if (body.decision_id !== undefined) {
        decision = await repo.findDecisionById(body.decision_id);
        if (!decision || decision.user_id !== userId) throw new AppError('NOT_FOUND', `decision ${body.decision_id} not found for user_id ${JSON.stringify(userId)}`);
        problem = (await repo.findProblemById(decision.problem_id))!;
        if (body.decision_idx !== undefined && decision.decision_idx !== body.decision_idx) throw new AppError('UNPROCESSABLE', `decision_idx ${body.decision_idx} is not the decision_idx of decision ${decision.id}`);
      } else {
        problem = await problemNamed(body.problem);
        if (body.decision_idx !== undefined) {
          decision = await repo.findDecision(problem.id, userId, body.decision_idx);
          if (!decision) throw new AppError('NOT_FOUND', `no decision with decision_idx ${body.decision_idx} for user_id ${JSON.stringify(userId)}: request it with /api/v1/action first`);
        }
      }
      if (decision) {
        // What the client posts back must be what it was given.
        const a = data.action;
        const name = isObj(a) ? a.action_type : a;
        if (name !== undefined && name !== decision.action_name && name !== decision.action) {
          throw new AppError('UNPROCESSABLE', `data.action ${JSON.stringify(name)?.slice(0, 100)} is not the action of this decision ('${decision.action_name}')`);
        }
        if (data.action_prob !== undefined && (typeof data.action_prob !== 'number' || Math.abs(data.action_prob - decision.probability) > 1e-9)) {
          throw new AppError('UNPROCESSABLE', `data.action_prob ${JSON.stringify(data.action_prob)} is not the probability of this decision (${decision.probability})`);
        }
      }
      const config = problem.config as ProblemConfig;
      const outcome = data.outcome ?? body.outcome ?? null;
      if (outcome !== null && !isObj(outcome)) throw new AppError('VALIDATION_ERROR', 'data.outcome must be a JSON object');
      const reward = config.reward.source === 'outcome' ? rewardOf(outcome, config.reward.key) : null;
      const stored = await repo.insertOutcome({
        decision_id: decision?.id ?? null,
        problem_id: problem.id,
        user_id: userId,
        decision_idx: decision?.decision_idx ?? body.decision_idx ?? null,
        data: { ...data, ...(body.context !== undefined ? { context: body.context } : {}), ...(body.outcome !== undefined ? { outcome: body.outcome } : {}) },
        reward,
        in_window: decision ? inWindow(config.reward, decision.client_timestamp, at) : false,
        client_timestamp: at,
      });
      if (!stored) throw new AppError('BAD_REQUEST', 'Decision index already exists.');
      return {
        message: 'Data uploaded successfully.',
        decision_id: decision?.id ?? null,
        reward,
        learned: Boolean(decision && stored.in_window && reward !== null),
      };
    },

    /**
     * POST /api/v1/update: a job builds a new policy version from the data up to `timestamp`. With
     * callback_url it answers at once (202) and the result is POSTed there; without, it waits.
     */
    async update(body: UpdateBody, caller: Principal): Promise<{ accepted: boolean; body: { status: string; update_id: string; message?: string; timestamp?: string; policy_version?: number; callback_secret?: string } }> {
      if (!actsForAnyone(caller)) throw new AppError('FORBIDDEN', 'only services and admins may update the model');
      const until = timestampOf(body.timestamp);
      const problem = await problemNamed(body.problem);
      if (body.callback_url !== undefined) webhooks.checkUrl(body.callback_url);
      const id = randomUUID();
      const secret = body.callback_url ? `whsec_${randomBytes(24).toString('base64url')}` : null;
      await repo.transaction(async (tx) => {
        await repo.insertUpdate(
          {
            id,
            problem_id: problem.id,
            status: 'processing',
            data_until: until,
            callback_url: body.callback_url ?? null,
            callback_secret: secret,
            requested_by: caller.kind === 'service' ? 'service' : caller.externalId,
          },
          tx,
        );
        await jobs.enqueue(UPDATE_QUEUE, { update_id: id }, { tx, owner: caller.kind === 'service' ? null : caller.externalId });
      });
      if (body.callback_url !== undefined) return { accepted: true, body: { status: 'processing', update_id: id, message: 'Model update started.', callback_secret: secret! } };
      const deadline = Date.now() + deps.syncUpdateWaitMs;
      for (let wait = 20; Date.now() < deadline; wait = Math.min(250, wait * 2)) {
        await new Promise((r) => setTimeout(r, wait));
        const u = await repo.findUpdate(id);
        if (u && u.status === 'completed') {
          const v = await versionById(u.policy_version_id!);
          return { accepted: false, body: { message: 'Model updated successfully.', status: 'completed', update_id: id, timestamp: until.toISOString(), policy_version: v.row.version } };
        }
        if (u && u.status === 'failed') throw new AppError('UNPROCESSABLE', `the model update failed (the live version is unchanged): ${u.error ?? 'unknown error'}`);
      }
      return { accepted: true, body: { status: 'processing', update_id: id, message: `Model update still running after ${deps.syncUpdateWaitMs} ms; see GET /api/v1/updates/${id}` } };
    },

    async getUpdate(id: string, caller: Principal) {
      const u = await repo.findUpdate(id);
      if (!u || (!actsForAnyone(caller) && u.requested_by !== ownScope(caller))) throw new AppError('NOT_FOUND', `update ${id} not found`);
      const v = u.policy_version_id ? await versionById(u.policy_version_id) : null;
      return { update_id: u.id, status: u.status, timestamp: u.data_until.toISOString(), policy_version: v?.row.version ?? null, error: u.error, created_at: u.created_at.toISOString(), updated_at: u.updated_at.toISOString() };
    },

    runUpdate,

    /** The job of a scheduled update (cron): everything up to now. */
    async runScheduledUpdate(problemId: number) {
      const id = randomUUID();
      await repo.insertUpdate({ id, problem_id: problemId, status: 'processing', data_until: clock.now(), requested_by: 'schedule' });
      return runUpdate(id);
    },

    callbackSecret: (updateId: string) => repo.callbackSecret(updateId),

    // --- problems (admin) ---

    async createProblem(body: CreateProblemBody) {
      const config = normalizeConfig(body.config);
      const created = await repo.createProblem(body.name, config);
      if (!created) throw new AppError('CONFLICT', `a problem named '${body.name}' already exists`);
      await buildVersion(created.id, null);
      await syncSchedule(created.id, config);
      return this.getProblem(String(created.id));
    },

    async getProblem(ref: string) {
      const p = await problemByRef(ref);
      const live = p.live_version_id ? await versionById(p.live_version_id) : null;
      return { id: p.id, name: p.name, config: p.config as ProblemConfig, live_version: live?.row.version ?? null, created_at: p.created_at.toISOString(), updated_at: p.updated_at.toISOString() };
    },

    async listProblems(page: number, size: number) {
      const { rows, total } = await repo.listProblems(page, size);
      const out = [];
      for (const p of rows) {
        const live = p.live_version_id ? await versionById(p.live_version_id) : null;
        out.push({ id: p.id, name: p.name, config: p.config as ProblemConfig, live_version: live?.row.version ?? null, created_at: p.created_at.toISOString(), updated_at: p.updated_at.toISOString() });
      }
      return { rows: out, total };
    },

    /** Replaces the configuration: a new version is built at once from all data so far, under the new configuration. */
    async replaceConfig(ref: string, rawConfig: unknown) {
      const p = await problemByRef(ref);
      const config = normalizeConfig(rawConfig);
      const old = p.config as ProblemConfig;
      if (config.actions.length !== old.actions.length || config.actions.some((a, i) => a.name !== old.actions[i].name)) {
        throw new AppError('UNPROCESSABLE', 'actions cannot change once a problem exists (logged decisions refer to them by index): create a new problem');
      }
      // A fit that src/ml refuses (data it cannot fit with this config) is the client's 422, not a 500.
      await withMlErrors(() => buildVersion(p.id, clock.now(), config));
      await syncSchedule(p.id, config);
      return this.getProblem(String(p.id));
    },

    async listVersions(ref: string, page: number, size: number) {
      const p = await problemByRef(ref);
      const { rows, total } = await repo.listVersions(p.id, page, size);
      return {
        rows: rows.map((v) => ({
          version: v.version,
          live: v.id === p.live_version_id,
          data_until: v.data_until?.toISOString() ?? null,
          n_observations: v.n_observations,
          n_default_rewards: v.n_default_rewards,
          policy: (v.config as ProblemConfig).policy,
          features: (v.encoder as Encoder).features.map((f) => (f.kind === 'numeric' ? f.key : `${f.key}=${f.value}`)),
          created_at: v.created_at.toISOString(),
        })),
        total,
      };
    },

    async rollback(ref: string, version: number) {
      const p = await problemByRef(ref);
      const v = await repo.findVersionByNumber(p.id, version);
      if (!v) throw new AppError('NOT_FOUND', `problem '${p.name}' has no version ${version}`);
      await repo.updateProblem(p.id, { live_version_id: v.id, config: v.config as object });
      forgetProblems();
      return this.getProblem(String(p.id));
    },

    async evaluate(ref: string, body: Omit<EvaluateRequest, 'candidates'> & { candidates?: { kind: string }[] }, caller: Principal) {
      const p = await problemByRef(ref);
      const config = p.config as ProblemConfig;
      // Checked now, so a bad candidate is a 422 here rather than a failed job.
      const candidates = (body.candidates ?? []).map((c, i) => {
        try {
          return normalizeConfig({ ...config, policy: c, shadow: null }).policy;
        } catch (err) {
          throw new AppError('UNPROCESSABLE', `candidates[${i}]: ${(err as Error).message.replace(/^policy\./, '')}`);
        }
      });
      const from = body.from ? parseTimestamp(body.from, 'from') : null;
      const to = body.to ? parseTimestamp(body.to, 'to') : null;
      const jobId = await jobs.enqueue(
        EVALUATE_QUEUE,
        { problem_id: p.id, candidates, from: from?.toISOString() ?? null, to: to?.toISOString() ?? null, level: body.level ?? 0.95, seed: body.seed ?? 0 },
        { owner: caller.kind === 'service' ? null : caller.externalId },
      );
      return { job_id: jobId!, status: 'queued', status_url: `/api/v1/jobs/${jobId}` };
    },

    async runEvaluation(data: { problem_id: number; candidates: ProblemConfig['policy'][]; from: string | null; to: string | null; level: number; seed: number }) {
      const p = await repo.findProblemById(data.problem_id);
      if (!p || p.live_version_id === null) throw new Error(`problem ${data.problem_id} not found`);
      const live = await versionById(p.live_version_id);
      const config = p.config as ProblemConfig;
      const to = data.to ? new Date(data.to) : clock.now();
      return evaluateCandidates({
        config,
        live: { encoder: live.encoder, policy: live.policy, version: live.row.version },
        rows: await loggedRows(p.id, config, to, data.from ? new Date(data.from) : null),
        candidates: data.candidates,
        level: data.level,
        seed: data.seed,
        until: to,
      });
    },

    // --- decisions ---

    async getDecision(id: number, caller: Principal) {
      const d = await repo.findDecisionById(id);
      if (!d || (ownScope(caller) !== null && ownScope(caller) !== d.user_id)) throw new AppError('NOT_FOUND', `decision ${id} not found`);
      const v = await versionById(d.policy_version_id);
      const problem = (await repo.findProblemById(d.problem_id))!;
      return {
        ...decisionAnswer(d, v.row.version, problem.name),
        encoded: d.encoded as number[],
        rng_state: d.rng_state as number[],
        method: d.method,
        reason: d.reason,
        shadow: d.shadow,
        client_timestamp: d.client_timestamp.toISOString(),
      };
    },

    /** Recomputes a decision from its stored policy version and generator state, and says whether it matches. */
    async replay(id: number, caller: Principal) {
      const d = await repo.findDecisionById(id);
      if (!d || (ownScope(caller) !== null && ownScope(caller) !== d.user_id)) throw new AppError('NOT_FOUND', `decision ${id} not found`);
      const v = await versionById(d.policy_version_id);
      const x = encode(v.encoder, d.context as Record<string, unknown>, v.config.context);
      const r = replay({ config: v.config, json: (await policyFor(v, d.user_id)).json, x, rngState: d.rng_state as [number, number, number, number], decidedBy: d.decided_by as DecidedBy });
      const logged = d.probabilities as number[];
      const same = r.action === d.action && r.probabilities.length === logged.length && r.probabilities.every((p, i) => p === logged[i]) && r.probability === d.probability;
      return {
        decision_id: d.id,
        policy_version: v.row.version,
        decided_by: d.decided_by as DecidedBy,
        logged: { action: d.action_name, action_prob: d.probability, probabilities: logged },
        replayed: { action: v.config.actions[r.action].name, action_prob: r.probability, probabilities: r.probabilities },
        matches: same,
      };
    },

    /** The export's rows, page by page (checked first, so a bad filter is a 4xx before anything is streamed). */
    async openExport(q: { problem?: string; from?: string; to?: string }) {
      const problemId = q.problem !== undefined ? (await problemByRef(q.problem)).id : null;
      const filter = { problemId, from: q.from ? parseTimestamp(q.from, 'from') : null, to: q.to ? parseTimestamp(q.to, 'to') : null };
      return (async function* () {
        let after = 0;
        for (;;) {
          const page = await repo.exportPage(filter, after, EXPORT_PAGE);
          for (const row of page) yield row;
          if (page.length < EXPORT_PAGE) return;
          after = page[page.length - 1].decision_id;
        }
      })();
    },
  };

  async function syncSchedule(problemId: number, config: ProblemConfig) {
    const key = `problem-${problemId}`;
    try {
      if (config.update_cron) await jobs.boss.schedule(UPDATE_QUEUE, config.update_cron, { problem_id: problemId }, { key, tz: 'UTC' });
      else await jobs.boss.unschedule(UPDATE_QUEUE, key);
    } catch (err) {
      throw new AppError('UNPROCESSABLE', `update_cron could not be scheduled: ${(err as Error).message}`);
    }
  }
}

export type DecisionsService = ReturnType<typeof createDecisionsService>;
