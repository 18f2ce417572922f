// The job system: pg-boss 12 over the one database (its PGlite adapter on the embedded database, its
// own small pool on PostgreSQL). Modules define queues with a handler and its limits; jobs can be
// enqueued inside the module's own Drizzle transaction, so a job exists exactly when the row that
// caused it committed. Every process that starts the system runs the handlers of every queue
// (`WORKERS` times each queue's concurrency), unless WORKERS=0.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { sql } from 'drizzle-orm';
import type { PGlite } from '@electric-sql/pglite';
import { PgBoss, fromDrizzle, fromPglite, type ConstructorOptions, type Db as IDatabase, type Job, type JobResult } from 'pg-boss';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { JobsConfig } from '../../config.ts';
import { rowsOf, type Database, type Tx } from '../db.ts';
import { jobMeta } from './jobs.tables.ts';
import { runOnThread } from './threads.ts';

export type { Tx };

export interface JobContext<D> {
  id: string;
  queue: string;
  data: D;
  /** 0 on the first run, then 1, 2, … on retries. */
  attempt: number;
  /** Aborted when the job is cancelled, times out, or its claim is lost (for example at shutdown). */
  signal: AbortSignal;
  /** Records progress (0–100) and an optional note, shown by GET /api/v1/jobs/{id}. */
  progress(percent: number, note?: string): Promise<void>;
  /**
   * Records progress without waiting (for callbacks that cannot await, such as a thread's messages):
   * one write at a time, in order, a newer report replacing one still waiting; the job settles only
   * once the last report is stored. A write that fails is logged.
   */
  report(percent: number, note?: string): void;
}

/**
 * Progress reports written one after another (a late 50 % must not land after 100 %), at most one
 * waiting: a newer report replaces it. `settled` resolves once the last report is written.
 */
export function progressReporter(write: (percent: number, note?: string) => Promise<void>, onError: (err: unknown) => void) {
  let writing: Promise<void> = Promise.resolve();
  let waiting: { percent: number; note?: string } | null = null;
  return {
    report(percent: number, note?: string): void {
      const queued = waiting !== null;
      waiting = { percent, note };
      if (queued) return;
      writing = writing.then(async () => {
        const w = waiting!;
        waiting = null;
        await write(w.percent, w.note).catch(onError);
      });
    },
    settled: (): Promise<void> => writing,
  };
}

/** Thrown by a handler when retrying cannot help: the job fails at once (into its dead-letter queue). */
export class PermanentJobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentJobError';
  }
}

export interface QueueSpec<D = any, R = unknown> {
  name: string;
  /** Runs on the event loop: for I/O-bound work. */
  handler?: (job: JobContext<D>) => Promise<R>;
  /**
   * CPU-bound work: a module whose default export `(data, { progress, signal }) => result` runs on a
   * worker thread of its own (data and result are structured-cloned).
   */
  thread?: URL;
  /** Jobs of this queue run at once per process, times WORKERS (default 1). */
  concurrency?: number;
  /** Retries after the first attempt (default 2). */
  retryLimit?: number;
  /** Delay before the first retry (default 1 s); with backoff it doubles, with jitter, each time. */
  retryDelaySeconds?: number;
  /** Exponential backoff between retries (default true). */
  backoff?: boolean;
  retryDelayMaxSeconds?: number;
  /** A run that lasts longer fails (and is retried); its signal is aborted (default 900 s). */
  timeoutSeconds?: number;
  /** Jobs that fail for good are copied to the queue `<name>.dead` (default true). */
  deadLetter?: boolean;
  /** How long finished jobs stay readable (default 7 days). */
  keepSeconds?: number;
}

export interface EnqueueOptions {
  /** Enqueue inside this transaction: the job exists only if it commits. */
  tx?: Tx;
  /** External user_id of the principal the job is for; they (and admins) see it in /api/v1/jobs. */
  owner?: string | null;
  id?: string;
  startAfter?: Date | number;
  /** At most one queued job per key (pg-boss singletonKey). */
  singletonKey?: string;
}

export interface Logger {
  info(o: object, m?: string): void;
  warn(o: object, m?: string): void;
  error(o: object, m?: string): void;
  debug?(o: object, m?: string): void;
}

export interface JobView {
  id: string;
  queue: string;
  state: 'created' | 'retry' | 'active' | 'completed' | 'cancelled' | 'failed';
  owner_user_id: string | null;
  data: unknown;
  progress: number | null;
  progress_note: string | null;
  result: unknown;
  error: string | null;
  attempts: number;
  retry_limit: number;
  created_at: string;
  start_after: string;
  started_at: string | null;
  completed_at: string | null;
}

export const DEAD_SUFFIX = '.dead';
const SCHEMA = 'pgboss';
const CONFIG_SCHEDULE_KEY = 'config';
const PRUNE_QUEUE = 'jobs.prune';
/** pg-boss fails a running job whose heartbeat stops this long (a worker killed with -9). */
const HEARTBEAT_SECONDS = 10;

const iso = (ms: unknown) => (ms === null || ms === undefined ? null : new Date(Number(ms)).toISOString());
const parse = (text: unknown) => (typeof text === 'string' ? JSON.parse(text) : (text ?? null));

/** The error text of a failed job's output, whichever path failed it; never a stack. */
function errorText(output: any): string | null {
  if (!output || typeof output !== 'object') return null;
  if (typeof output.error === 'string') return output.error;
  if (typeof output.message === 'string') return output.message;
  if (output.value && typeof output.value.message === 'string') return output.value.message;
  return 'failed';
}

export type JobSystem = ReturnType<typeof createJobSystem>;

export function createJobSystem(deps: {
  database: Database;
  databaseUrl: string | null;
  config: JobsConfig;
  log: Logger;
  registry?: Registry;
  /** PostgreSQL: pg-boss's own pool gets the app's connection limits (DB_CONNECT_TIMEOUT_MS, DB_STATEMENT_TIMEOUT_MS). */
  connectTimeoutMs?: number;
  statementTimeoutMs?: number;
}) {
  const { database, config, log } = deps;
  const db = database.db;
  const specs = new Map<string, QueueSpec>();
  let boss: PgBoss | null = null;
  // job_meta rows outlive their jobs (pg-boss deletes finished jobs after keepSeconds): an hourly job
  // removes them.
  specs.set(PRUNE_QUEUE, {
    name: PRUNE_QUEUE,
    retryLimit: 1,
    deadLetter: false,
    handler: async () => {
      await db.execute(sql.raw(`delete from job_meta m where m.created_at < now() - interval '1 hour' and not exists (select 1 from ${SCHEMA}.job j where j.id = m.job_id)`));
      return null;
    },
  });
  let working = false;

  const common: ConstructorOptions = {
    schema: SCHEMA,
    superviseIntervalSeconds: config.superviseSeconds,
    monitorIntervalSeconds: config.superviseSeconds,
    cronMonitorIntervalSeconds: config.cronCheckSeconds,
    cronWorkerIntervalSeconds: Math.min(5, config.cronCheckSeconds),
    useListenNotify: true,
    persistWarnings: false,
  };

  const metrics = deps.registry ? createJobMetrics(deps.registry, () => queueDepths()) : null;

  async function queueDepths(): Promise<{ queue: string; state: string; count: number }[]> {
    if (!boss) return [];
    const res = await db.execute(sql.raw(`select name as queue, state::text as state, count(*)::int as count from ${SCHEMA}.job where state in ('created', 'retry', 'active') group by 1, 2`));
    const out = rowsOf(res).map((r) => ({ queue: String(r.queue), state: String(r.state), count: Number(r.count) }));
    for (const name of specs.keys()) for (const state of ['created', 'retry', 'active']) if (!out.some((o) => o.queue === name && o.state === state)) out.push({ queue: name, state, count: 0 });
    return out;
  }

  async function setProgress(id: string, queue: string, percent: number, note?: string) {
    const p = Math.max(0, Math.min(100, Math.round(percent)));
    await db
      .insert(jobMeta)
      .values({ job_id: id, queue, progress: p, progress_note: note ?? null })
      .onConflictDoUpdate({ target: jobMeta.job_id, set: { progress: p, progress_note: note ?? null, updated_at: sql`now()` } });
  }

  function queueOptions(spec: QueueSpec) {
    return {
      retryLimit: spec.retryLimit ?? 2,
      retryDelay: spec.retryDelaySeconds ?? 1,
      retryBackoff: spec.backoff ?? true,
      ...(spec.retryDelayMaxSeconds !== undefined ? { retryDelayMax: spec.retryDelayMaxSeconds } : {}),
      expireInSeconds: spec.timeoutSeconds ?? 900,
      deleteAfterSeconds: spec.keepSeconds ?? 7 * 86_400,
      heartbeatSeconds: HEARTBEAT_SECONDS,
      notify: true,
    };
  }

  /** Runs one fetched job; a failure is the job's result, never thrown. */
  async function runJob(spec: QueueSpec, job: Job<unknown> & { signal: AbortSignal }): Promise<JobResult> {
    const started = performance.now();
    const progress = (percent: number, note?: string) => setProgress(job.id, spec.name, percent, note);
    const reporter = progressReporter(progress, (err) => log.warn({ err, queue: spec.name }, 'could not record job progress'));
    const ctx: JobContext<unknown> = { id: job.id, queue: spec.name, data: job.data, attempt: job.retryCount, signal: job.signal, progress, report: reporter.report };
    try {
      const result = spec.thread ? await runOnThread(spec.thread, job.data, { signal: job.signal, progress: reporter.report }) : await spec.handler!(ctx);
      // The job completes with its last report stored (a reader of a completed job sees its 100 %).
      await reporter.settled();
      metrics?.observe(spec.name, 'completed', started);
      return { id: job.id, status: 'completed', output: { result: result ?? null } };
    } catch (err) {
      await reporter.settled();
      const permanent = err instanceof PermanentJobError;
      metrics?.observe(spec.name, job.signal.aborted ? 'aborted' : 'failed', started);
      const message = err instanceof Error ? err.message : String(err);
      log.warn({ queue: spec.name, jobId: job.id, attempt: job.retryCount, error: message }, 'job failed');
      return { id: job.id, status: permanent ? 'deadletter' : 'failed', output: { error: message } };
    }
  }

  // Each of a process's WORKERS loops fetches up to `concurrency` jobs at once and runs them together,
  // and fetches again at once while fetches come back full: a backlog drains as fast as the handlers
  // go. (One job per fetch waits a poll interval after each job: about 2 jobs/s per loop.)
  async function work(spec: QueueSpec) {
    const b = boss!;
    const batchSize = Math.max(1, spec.concurrency ?? 1);
    await b.work(
      spec.name,
      {
        localConcurrency: Math.max(1, config.workers),
        batchSize,
        burstWhenBatchFull: batchSize > 1,
        pollingIntervalSeconds: config.pollMs / 1000,
        // NOTIFY wakes workers for new jobs only; retries and delayed jobs are found by polling.
        notifyPollingIntervalSeconds: config.pollMs / 1000,
        perJobResults: true,
        // The heartbeat is how a cancel made anywhere reaches the running handler's signal.
        heartbeatRefreshSeconds: 1,
      },
      (jobs): Promise<JobResult[]> => Promise.all(jobs.map((job) => runJob(spec, job))),
    );
  }

  const system = {
    /** Declares a queue; call before start(). */
    define<D, R>(spec: QueueSpec<D, R>): void {
      if (boss) throw new Error(`jobs: queue ${spec.name} defined after start`);
      if (!/^[\w.-]{1,100}$/.test(spec.name)) throw new Error(`jobs: bad queue name ${spec.name}`);
      if (!spec.handler === !spec.thread) throw new Error(`jobs: queue ${spec.name} needs exactly one of handler and thread`);
      specs.set(spec.name, spec as QueueSpec);
    },

    has: (name: string) => specs.has(name),

    /** Creates pg-boss's schema and the queues, syncs the schedules, and (with workers) starts the handlers. */
    async start(opts: { work: boolean }): Promise<void> {
      const pgOptions: ConstructorOptions =
        database.kind === 'embedded'
          ? { ...common, db: fromPglite(database.pglite!), backend: 'pglite' }
          : {
              ...common,
              connectionString: deps.databaseUrl!,
              max: 4,
              application_name: 'arbiter-jobs',
              // The same limits as the app's own connections (node-postgres waits forever by default), so
              // workers fail fast in an outage and pick up again as soon as the database is back.
              connectionTimeoutMillis: deps.connectTimeoutMs ?? 1000,
              ...({ query_timeout: deps.statementTimeoutMs ?? 30_000, keepAlive: true } as object),
            };
      const b = new PgBoss(pgOptions);
      // While the database is out its watch has said so once; pg-boss would repeat it on every poll.
      b.on('error', (err: unknown) => (database.dependency.up ? log.error({ err }, 'job system error') : log.debug?.({ err }, 'job system error while the database is unavailable')));
      b.on('warning', (w: { message: string }) => log.warn({ warning: w.message }, 'job system warning'));
      await b.start();
      boss = b;
      for (const spec of specs.values()) {
        const options = queueOptions(spec);
        if (spec.deadLetter !== false) {
          const dead = spec.name + DEAD_SUFFIX;
          await b.createQueue(dead, { retentionSeconds: 30 * 86_400, deleteAfterSeconds: 30 * 86_400 });
          await b.createQueue(spec.name, { ...options, deadLetter: dead });
          await b.updateQueue(spec.name, { ...options, deadLetter: dead });
        } else {
          await b.createQueue(spec.name, options);
          await b.updateQueue(spec.name, options);
        }
      }
      await syncSchedules(b);
      if (opts.work && config.workers > 0) {
        working = true;
        for (const spec of specs.values()) await work(spec);
      }
    },

    get working() {
      return working;
    },

    /** Enqueues a job; resolves with its id, or null when a singletonKey kept it out. */
    async enqueue<D extends object>(queue: string, data: D, opts: EnqueueOptions = {}): Promise<string | null> {
      const b = started();
      if (!specs.has(queue)) throw new Error(`jobs: unknown queue ${queue}`);
      const id = opts.id ?? randomUUID();
      const send = (conn?: IDatabase) =>
        b.send(queue, data, { id, ...(opts.startAfter !== undefined ? { startAfter: opts.startAfter } : {}), ...(opts.singletonKey ? { singletonKey: opts.singletonKey } : {}), ...(conn ? { db: conn } : {}) });
      const inTx = async (tx: Tx) => {
        const sent = await send(fromDrizzle(tx as never, sql as never));
        if (sent && opts.owner) await tx.insert(jobMeta).values({ job_id: sent, queue, owner: opts.owner });
        return sent;
      };
      if (opts.tx) return inTx(opts.tx);
      if (opts.owner) return db.transaction(inTx);
      return send();
    },

    /** Enqueues many jobs of one queue in one statement (optionally inside a transaction). */
    async enqueueMany<D extends object>(queue: string, items: { data: D; id?: string }[], opts: { tx?: Tx } = {}): Promise<void> {
      const b = started();
      if (!items.length) return;
      await b.insert(queue, items.map((i) => ({ data: i.data, ...(i.id ? { id: i.id } : {}) })), opts.tx ? { db: fromDrizzle(opts.tx as never, sql as never) } : {});
    },

    async get(id: string): Promise<JobView | null> {
      const res = await db.execute(sql`${sql.raw(SELECT)} where j.id = ${id}::uuid`);
      const row = rowsOf(res)[0];
      return row ? toView(row) : null;
    },

    /** Newest first; `owner` limits to one user's jobs (null = everyone's). */
    async list(q: { owner: string | null; queue?: string; state?: string; page: number; size: number }): Promise<{ rows: JobView[]; total: number }> {
      const conds = [sql`true`];
      if (q.owner !== null) conds.push(sql`m.owner = ${q.owner}`);
      if (q.queue !== undefined) conds.push(sql`j.name = ${q.queue}`);
      if (q.state !== undefined) conds.push(sql`j.state::text = ${q.state}`);
      const where = sql.join(conds, sql` and `);
      // A user's jobs are found through job_meta's owner index; everyone's straight from pg-boss's table.
      const from = q.owner !== null ? sql.raw(`from job_meta m join ${SCHEMA}.job j on j.id = m.job_id`) : sql.raw(`from ${SCHEMA}.job j left join job_meta m on m.job_id = j.id`);
      const [res, count] = await Promise.all([
        db.execute(sql`${sql.raw(COLUMNS)} ${from} where ${where} order by j.created_on desc, j.id limit ${q.size} offset ${(q.page - 1) * q.size}`),
        db.execute(sql`select count(*)::int as n ${from} where ${where}`),
      ]);
      return { rows: rowsOf(res).map(toView), total: Number(rowsOf(count)[0].n) };
    },

    /** Cancels a job that has not finished; a running handler sees its signal aborted within ~1 s. */
    async cancel(id: string, queue: string): Promise<void> {
      await started().cancel(queue, id);
    },

    /** Lets running jobs finish within `timeoutMs`, then fails (releases) the rest for a retry. */
    async stop(timeoutMs: number): Promise<void> {
      const b = boss;
      if (!b) return;
      boss = null;
      await b.stop({ graceful: true, timeout: timeoutMs, close: true });
    },

    /** pg-boss itself, for benchmarks and tests. */
    get boss(): PgBoss {
      return started();
    },
  };

  function started(): PgBoss {
    if (!boss) throw new Error('jobs: the job system is not started');
    return boss;
  }

  async function syncSchedules(b: PgBoss) {
    const wanted = new Map([[PRUNE_QUEUE, '17 * * * *'], ...config.schedules.map((s) => [s.queue, s.cron] as [string, string])]);
    for (const [queue, cron] of wanted) {
      if (!specs.has(queue)) {
        log.warn({ queue }, 'JOB_SCHEDULES names a queue no module defines; ignored');
        continue;
      }
      await b.schedule(queue, cron, {}, { key: CONFIG_SCHEDULE_KEY, tz: 'UTC' });
    }
    for (const s of await b.getSchedules()) {
      if (s.key === CONFIG_SCHEDULE_KEY && !wanted.has(s.name)) await b.unschedule(s.name, CONFIG_SCHEDULE_KEY);
    }
  }

  return system;
}

const COLUMNS = `select j.id::text as id, j.name as queue, j.state::text as state, j.data::text as data, j.output::text as output,
  j.retry_count as retry_count, j.retry_limit as retry_limit,
  (extract(epoch from j.created_on) * 1000)::float8 as created_ms, (extract(epoch from j.start_after) * 1000)::float8 as start_after_ms,
  (extract(epoch from j.started_on) * 1000)::float8 as started_ms, (extract(epoch from j.completed_on) * 1000)::float8 as completed_ms,
  m.owner as owner, m.progress as progress, m.progress_note as progress_note`;
const SELECT = `${COLUMNS} from ${SCHEMA}.job j left join job_meta m on m.job_id = j.id`;

function toView(r: Record<string, any>): JobView {
  const output = parse(r.output);
  const state = r.state as JobView['state'];
  return {
    id: r.id,
    queue: r.queue,
    state,
    owner_user_id: r.owner ?? null,
    data: parse(r.data),
    progress: r.progress === null || r.progress === undefined ? null : Number(r.progress),
    progress_note: r.progress_note ?? null,
    result: state === 'completed' && output && typeof output === 'object' && 'result' in output ? output.result : null,
    error: state === 'failed' || state === 'retry' ? errorText(output) : null,
    attempts: Number(r.retry_count) + (r.started_ms === null || r.started_ms === undefined ? 0 : 1),
    retry_limit: Number(r.retry_limit),
    created_at: iso(r.created_ms)!,
    start_after: iso(r.start_after_ms)!,
    started_at: iso(r.started_ms),
    completed_at: iso(r.completed_ms),
  };
}

function createJobMetrics(registry: Registry, depths: () => Promise<{ queue: string; state: string; count: number }[]>) {
  const duration = new Histogram({
    name: 'jobs_duration_seconds',
    help: 'Job run time by queue and outcome (completed, failed, aborted), in the process that ran it',
    labelNames: ['queue', 'outcome'],
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900],
    registers: [registry],
  });
  const failures = new Counter({ name: 'jobs_failures_total', help: 'Job runs that failed (each failed attempt), by queue', labelNames: ['queue'], registers: [registry] });
  new Gauge({
    name: 'jobs_queue_depth',
    help: 'Jobs waiting (created, retry) or running (active), by queue, across all processes',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const d of await depths().catch(() => [])) this.set({ queue: d.queue, state: d.state }, d.count);
    },
  });
  return {
    observe(queue: string, outcome: string, started: number) {
      duration.observe({ queue, outcome }, (performance.now() - started) / 1000);
      if (outcome !== 'completed') failures.inc({ queue });
    },
  };
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The job system (src/platform/jobs): app-wide, like the database. */
    jobs: JobSystem;
  }
}
