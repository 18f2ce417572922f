// The database: embedded PGlite in DATA_DIR by default, a PostgreSQL server when DATABASE_URL is set.
// One drizzle-kit migration folder serves both. Drizzle runs without a schema object (queries name
// their tables, and the relational `db.query` API is not used), so the platform imports no module.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite, types } from '@electric-sql/pglite';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import type { Config } from '../config.ts';
import { inProcess, watchDependency, type Dependency, type DependencyLog } from './dependencies.ts';

export type Db = PgDatabase<PgQueryResultHKT>;

/** A Drizzle transaction, as `db.transaction(async (tx) => …)` hands it. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** The rows of `db.execute(…)`: postgres.js answers an array, PGlite `{ rows }`. */
export const rowsOf = (res: unknown): Record<string, any>[] => (Array.isArray(res) ? res : (res as { rows: Record<string, any>[] }).rows);

/**
 * A value a raw statement takes: text, numbers, booleans, null, or arrays of them (cast them in SQL:
 * `$1::text[]`). Dates go as ISO strings: Drizzle replaces postgres.js's date serializer.
 */
export type SqlParam = string | number | boolean | null | readonly (string | number | boolean | null)[];

export interface Database {
  db: Db;
  kind: 'embedded' | 'postgres';
  /**
   * One parameterized statement (`$1`, `$2`, …) straight through the driver, prepared, without Drizzle;
   * its rows. Column values come back as each driver parses them (bigint and numeric differ), so cast
   * in SQL to the type wanted, or return json.
   */
  query<T extends object>(text: string, params?: readonly SqlParam[]): Promise<T[]>;
  /** Embedded only: the PGlite client for a library that drives it itself (pg-boss's adapter), parsing as PGlite does. */
  pglite?: PGlite;
  /**
   * LISTEN on a channel: `onPayload` gets each notification's payload. Resolves once listening, with
   * a function that stops. Embedded, only this process's notifications arrive (one process anyway).
   */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  /** Throws when the database does not answer. */
  ping(): Promise<void>;
  /** Whether the database answers, from a probe on a short interval (see platform/dependencies.ts). */
  dependency: Dependency;
  migrate(): Promise<void>;
  /** Drops every table (and the migration journal) and migrates again from scratch. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

const MIGRATIONS_DIR = fileURLToPath(new URL('../../drizzle', import.meta.url));
// Any constant works; it keeps concurrently starting servers from migrating at the same time.
const MIGRATION_LOCK_ID = 7_305_019_241;

// pg-boss keeps its queues in a schema of its own: reset drops them with everything else.
const DROP_ALL = 'DROP SCHEMA IF EXISTS drizzle CASCADE; DROP SCHEMA IF EXISTS pgboss CASCADE; DROP SCHEMA public CASCADE; CREATE SCHEMA public;';

export type DatabaseConfig = Pick<Config, 'databaseUrl' | 'dataDir' | 'memoryDb' | 'dbPoolSize'> & Partial<Pick<Config, 'dbConnectTimeoutMs' | 'dbStatementTimeoutMs' | 'dbPoolWaitMs'>>;

export async function openDatabase(config: DatabaseConfig, log: DependencyLog = silent): Promise<Database> {
  return config.databaseUrl ? openPostgres(config.databaseUrl, config, log) : openEmbedded(config.dataDir, config.memoryDb);
}

const silent = { warn() {}, info() {} };

/** What the driver fails with while the database is known to be down (the error handler answers 503). */
export class DatabaseUnavailableError extends Error {
  readonly code = 'DB_UNAVAILABLE';
  constructor() {
    super('the database is unavailable');
    this.name = 'DatabaseUnavailableError';
  }
}

/** postgres.js's `socket` option (a factory of connected sockets), missing from its types. */
const withSocket = (factory: (o: { host: string[]; port: number[]; path?: string }) => net.Socket) => ({ socket: factory }) as object;

/**
 * postgres.js waits up to 20 s (growing with each failure) before it connects again after losing a
 * connection, which kept the first requests after a long outage failing for seconds. The watch already
 * keeps statements away while the database is down, so a short constant wait is enough.
 */
const RECONNECT_AFTER_S = () => 0.1;

const poolWaitError = () => Object.assign(new Error('no database connection was free in time (DB_POOL_WAIT_MS)'), { code: 'DB_POOL_WAIT' });

/** A query refused without a round trip: a rejected promise with the PendingQuery methods Drizzle calls. */
function refusedQuery(): Promise<never> & { values(): Promise<never>; execute(): Promise<never> } {
  const p = Promise.reject(new DatabaseUnavailableError());
  p.catch(() => {});
  return Object.assign(p, { values: refusedQuery, execute: refusedQuery });
}

/**
 * postgres.js with limits, so an outage fails requests in about a second instead of its defaults'
 * 30 s connect timeout and unbounded waits:
 * - a separate one-connection client probes; while the database is known to be down, statements are
 *   refused before they reach the driver (no connection attempt, no queueing);
 * - going down destroys every open socket (ours come from our own factory), which fails the queries
 *   stuck on a partitioned connection;
 * - a connection attempt gives up after DB_CONNECT_TIMEOUT_MS, a statement after DB_STATEMENT_TIMEOUT_MS,
 *   and a transaction still waiting for a connection of its own after DB_POOL_WAIT_MS is abandoned
 *   before any of its statements.
 */
async function openPostgres(url: string, config: DatabaseConfig, log: DependencyLog): Promise<Database> {
  const connectTimeoutS = (config.dbConnectTimeoutMs ?? 1000) / 1000;
  const sockets = new Set<net.Socket>();
  let refusing = false;
  let next = 0;
  const socket = (o: { host: string[]; port: number[]; path?: string }) => {
    const i = next++ % o.host.length;
    const s = o.path ? net.connect(o.path) : net.connect(o.port[i] ?? o.port[0], o.host[i]);
    s.setKeepAlive(true, 10_000);
    // For TLS: the name to verify (postgres.js reads it off the socket).
    Object.assign(s, { host: o.host[i] });
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    return s;
  };
  // TimeZone: timestamps come back with a +00 offset whatever the server's own zone, as in PGlite.
  const driver = postgres(url, {
    max: config.dbPoolSize,
    onnotice: () => {},
    connect_timeout: connectTimeoutS,
    backoff: RECONNECT_AFTER_S,
    ...withSocket(socket),
    connection: { application_name: 'arbiter', TimeZone: 'UTC', statement_timeout: config.dbStatementTimeoutMs ?? 30_000 },
  });
  // What Drizzle and `query` send through: the driver, unless the database is known to be down.
  // Plain statements are pipelined onto busy connections (postgres.js), so they wait behind the
  // statements ahead of them, each bounded by the statement timeout. A transaction needs a connection
  // of its own: one that has waited DB_POOL_WAIT_MS for it is abandoned (answered at once, and if the
  // connection comes later its work is not run: the transaction rolls back before any statement).
  const poolWaitMs = config.dbPoolWaitMs ?? 5000;
  // Drizzle sends a statement prepared only when the query was given a name, so PostgreSQL would parse
  // and plan every one of them anew; through these clients each of its statements is prepared once per
  // connection (postgres.js keeps them by text, retries one that a schema change made stale, and
  // replaces connections every 30 to 60 minutes). Measured on a filtered page of 10 rows (20 at once,
  // pool 10): 3,400–4,237/s unprepared, 4,616–4,820/s prepared this way; building the query once as well
  // (Drizzle's .prepare(), as platform/crud.ts does for lists) gave 7,712–9,691/s.
  const preparing = (sqlClient: postgres.Sql): postgres.Sql =>
    new Proxy(sqlClient, {
      get(target, prop, receiver) {
        if (prop !== 'unsafe') return Reflect.get(target, prop, receiver);
        const unsafe = Reflect.get(target, prop, receiver) as postgres.Sql['unsafe'];
        return (text: string, params?: postgres.ParameterOrJSON<never>[], options?: postgres.UnsafeQueryOptions) => unsafe.call(target, text, params, { ...options, prepare: true });
      },
    });
  const begin = (...args: unknown[]) => {
    const work = args[args.length - 1] as (tx: unknown) => unknown;
    let started = false;
    let abandoned = false;
    const pending = (driver.begin as (...a: unknown[]) => Promise<unknown>)(...args.slice(0, -1), async (tx: unknown) => {
      started = true;
      if (abandoned) throw poolWaitError();
      return work(preparing(tx as postgres.Sql));
    });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        if (started) return;
        abandoned = true;
        reject(poolWaitError());
      }, poolWaitMs);
      timer.unref();
      pending.then(
        (v) => (clearTimeout(timer), resolve(v)),
        (err: unknown) => (clearTimeout(timer), reject(err)),
      );
    });
  };
  const client = new Proxy(driver, {
    get(target, prop, receiver) {
      if (refusing && (prop === 'unsafe' || prop === 'begin')) return refusedQuery;
      if (prop === 'begin') return begin;
      return Reflect.get(target, prop, receiver);
    },
    apply(target, self, args) {
      return refusing ? refusedQuery() : Reflect.apply(target, self, args);
    },
  });
  const prober = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: connectTimeoutS, backoff: RECONNECT_AFTER_S, ...withSocket(socket), connection: { application_name: 'arbiter-probe' } });
  const dependency = watchDependency({
    name: 'database',
    probe: () => prober`select 1`,
    log,
    onDown() {
      refusing = true;
      for (const s of sockets) s.destroy();
    },
    onUp() {
      refusing = false;
    },
  });
  const db: Db = drizzlePostgres({ client: preparing(client) });
  const migrate = async () => {
    // A dedicated connection holds a session advisory lock for the whole migration.
    const lockClient = postgres(url, { max: 1, onnotice: () => {} });
    try {
      await lockClient`select pg_advisory_lock(${MIGRATION_LOCK_ID})`;
      await migratePostgres(drizzlePostgres({ client: lockClient }), { migrationsFolder: MIGRATIONS_DIR });
      await lockClient`select pg_advisory_unlock(${MIGRATION_LOCK_ID})`;
    } finally {
      await lockClient.end({ timeout: 5 });
    }
  };
  return {
    db,
    kind: 'postgres',
    query: async <T extends object>(text: string, params: readonly SqlParam[] = []) => (await client.unsafe(text, params as postgres.ParameterOrJSON<never>[], { prepare: true })) as unknown as T[],
    listen: async (channel, onPayload) => {
      const sub = await client.listen(channel, onPayload);
      return () => sub.unlisten();
    },
    ping: async () => {
      await client`select 1`;
    },
    dependency,
    migrate,
    reset: async () => {
      await client.unsafe(DROP_ALL);
      await migrate();
    },
    close: async () => {
      dependency.stop();
      await Promise.all([driver.end({ timeout: 5 }), prober.end({ timeout: 1 })]);
    },
  };
}

async function openEmbedded(dataDir: string, memory: boolean): Promise<Database> {
  let releaseLock = () => {};
  if (!memory) {
    fs.mkdirSync(dataDir, { recursive: true });
    releaseLock = acquireDirLock(dataDir);
  }
  let client: PGlite;
  try {
    // PostgreSQL zeroes its shared buffers at start, which the process then keeps resident: the
    // default 128 MB cost ~130 MB of RSS and ~0.3 s of every start-up. The embedded database's pages
    // also sit in the OS page cache (PGlite reads its files through Node), so a miss is a read(), not
    // a disk seek; 32 MB measured no slower under load (events, seed 002 create and list, alerts).
    //
    // PostgreSQL zero-fills each new 16 MB WAL segment before using it. PGlite writes its files
    // synchronously on this thread and, with no checkpointer process, recycles no segment until
    // max_wal_size forces a checkpoint, so every 16 MB of WAL stopped the event loop for 60–80 ms
    // (the p99 of event ingestion, the longest stall of a dataset upload). With wal_init_zero off a
    // new segment is created at its full size without writing it.
    const options = {
      startParams: [...PGlite.defaultStartParams, '-c', 'shared_buffers=32MB', '-c', 'wal_init_zero=off'],
      // bytea: read through Node's native hex codec (PGlite's own maps every byte through a JavaScript
      // string: a 7 MB dataset took seconds on this thread); written as the bytes themselves, which
      // PGlite binds as a binary parameter (a hex string would be scanned char by char for its UTF-8
      // length and copied into the message: 10–25 ms a 256 KB part on this thread).
      parsers: { [types.BYTEA]: (hex: string) => Buffer.from(hex.slice(2), 'hex') },
      // (its serializer type says string; its Bind takes any ArrayBuffer view as a binary parameter).
      serializers: { [types.BYTEA]: (b: Uint8Array) => b as unknown as string },
    };
    client = memory ? new PGlite(options) : new PGlite(path.join(dataDir, 'pgdata'), options);
    await client.waitReady;
  } catch (err) {
    releaseLock();
    throw err;
  }
  yieldToIo(client);
  const usual = parseDrizzleTypesAsText(client);
  const forDrizzle = withoutQueryParsers(client);
  const db: Db = drizzlePglite({ client: forDrizzle });
  const migrate = () => migratePglite(drizzlePglite({ client: forDrizzle }), { migrationsFolder: MIGRATIONS_DIR });
  return {
    db,
    kind: 'embedded',
    pglite: withUsualTypes(client, usual),
    query: async <T extends object>(text: string, params: readonly SqlParam[] = []) => reparse(await client.query<T>(text, params as unknown[]), usual).rows,
    listen: async (channel, onPayload) => client.listen(channel, onPayload),
    ping: async () => {
      await client.query('select 1');
    },
    dependency: inProcess('database', () => client.query('select 1')),
    migrate,
    reset: async () => {
      await client.exec(DROP_ALL);
      await migrate();
    },
    close: async () => {
      try {
        if (!client.closed) await client.close();
      } finally {
        releaseLock();
      }
    },
  };
}

/**
 * Makes every answer of the embedded database arrive in the event loop's check phase, after a poll
 * for I/O, instead of in the microtask that follows the query.
 *
 * PGlite runs the query synchronously in WebAssembly on this thread and resolves its promise at once:
 * no I/O happens in between. A caller that chains database calls (the events batcher starting its
 * next batch, a request that runs several statements, many requests doing so at once) then runs the
 * whole chain in one long run of microtasks, and the event loop never reaches its poll phase: no new
 * request is read, no answer is flushed, and the batcher's next batch holds only what had already
 * arrived (issue 11: 549–940 events/s with p99 up to 2 s, against 3,364–3,661 with p99 under 31 ms
 * once the batcher alone went through setImmediate; bench/events.ts measures it). Here every caller
 * gets it: `query`, `exec` and `transaction` (which covers every statement Drizzle and the migrator
 * send; statements inside a transaction run on its own handle and do not yield, so a transaction waits
 * on HTTP while it holds the one connection only where its own code turns the loop on purpose: storing
 * a dataset's parts and a trained version, models.repository.ts). PostgreSQL needs none of this: its
 * answers come back as socket I/O.
 */
function yieldToIo(client: PGlite): void {
  const afterPoll = <T>(work: Promise<T>): Promise<T> =>
    work.then(
      (value) => new Promise<T>((resolve) => setImmediate(resolve, value)),
      (err: unknown) => new Promise<T>((_, reject) => setImmediate(reject, err)),
    );
  const query = client.query.bind(client);
  const exec = client.exec.bind(client);
  const transaction = client.transaction.bind(client);
  client.query = (...args) => afterPoll(query(...args));
  client.exec = (...args) => afterPoll(exec(...args));
  client.transaction = (...args) => afterPoll(transaction(...args));
}

/**
 * The types Drizzle's PGlite driver reads as text (its PglitePreparedQuery passes identity parsers for
 * them with every query; db.test.ts checks this list against it).
 */
export const DRIZZLE_TEXT_TYPES: Record<number, number | null> = {
  [types.TIMESTAMP]: null,
  [types.TIMESTAMPTZ]: null,
  [types.INTERVAL]: null,
  [types.DATE]: null,
  // numeric[], timestamp[], timestamptz[], interval[], date[]: their element types
  1231: types.NUMERIC,
  1115: types.TIMESTAMP,
  1185: types.TIMESTAMPTZ,
  1187: types.INTERVAL,
  1182: types.DATE,
};

type Parsers = Record<number, (x: string, typeId?: number) => unknown>;
type Result = { rows: unknown[]; fields: { name: string; dataTypeID: number }[] };

/**
 * Makes the client parse Drizzle's text types as text itself, and answers the parsers that restore
 * PGlite's usual parsing of them, for the callers that are not Drizzle.
 *
 * A query given its own `parsers` makes PGlite copy its ~320 parsers (one per array type too) into a
 * new object merged with them, every query: ~120 KB of garbage and half the JavaScript time of a point
 * select (220 → 106 µs a query, measured), and what set off the full collections that held the event
 * loop for 20–40 ms during a dataset upload's 200 part inserts. Drizzle's queries (nearly all of them)
 * now go without parsers (withoutQueryParsers); the other callers' results are parsed with these
 * afterwards, only in the columns of these types (reparse).
 */
function parseDrizzleTypesAsText(client: PGlite): Parsers {
  const usual: Parsers = {};
  const entries = Object.entries(DRIZZLE_TEXT_TYPES).map(([type, element]) => [Number(type), element] as const);
  for (const [t, element] of entries) if (element === null) usual[t] = client.parsers[t];
  for (const [t, element] of entries) {
    if (element === null) continue;
    // An array type's own parser looks its element's up on the client, which is about to answer text.
    const parseElement = usual[element];
    usual[t] = parseElement ? (x) => types.arrayParser(x, parseElement, t) : client.parsers[t];
  }
  for (const [t] of entries) client.parsers[t] = (x: string) => x;
  return usual;
}

type QueryOptions = NonNullable<Parameters<PGlite['query']>[2]>;
type Queryable = Pick<PGlite, 'query'> & Partial<Pick<PGlite, 'transaction' | 'exec'>>;

/** `target` with the methods in `own` replaced; its other methods stay bound to it. */
function overriding<C extends object>(target: C, own: Record<string, unknown>): C {
  return new Proxy(target, {
    get(t, prop) {
      if (typeof prop === 'string' && own[prop] !== undefined) return own[prop];
      const value: unknown = Reflect.get(t, prop, t);
      return typeof value === 'function' ? value.bind(t) : value;
    },
  });
}

/** The client as Drizzle gets it: its queries (and its transactions' queries) without their own parsers. */
function withoutQueryParsers<C extends Queryable>(client: C): C {
  const byMode = new Map<unknown, QueryOptions>();
  const bare = (o: QueryOptions | undefined): QueryOptions | undefined => {
    if (!o?.parsers) return o;
    const keys = Object.keys(o);
    if (keys.some((k) => k !== 'parsers' && k !== 'rowMode')) return { ...o, parsers: undefined };
    let kept = byMode.get(o.rowMode);
    if (!kept) byMode.set(o.rowMode, (kept = { rowMode: o.rowMode }));
    return kept;
  };
  return overriding(client, {
    query: (text: string, params?: unknown[], o?: QueryOptions) => client.query(text, params, bare(o)),
    transaction: client.transaction && ((fn: (tx: Queryable) => Promise<unknown>) => client.transaction!((tx) => fn(withoutQueryParsers(tx)))),
  });
}

/**
 * A result's values of Drizzle's text types, parsed as PGlite usually parses them. Done on the result,
 * not by giving the query `parsers` (which would make PGlite copy its parser table for it): most
 * results have no such column and cost one look at their fields.
 */
function reparse<R extends Result>(result: R, usual: Parsers): R {
  const fix = result.fields.flatMap((f, i) => (usual[f.dataTypeID] ? [{ key: f.name, i, parse: usual[f.dataTypeID], type: f.dataTypeID }] : []));
  if (fix.length === 0) return result;
  for (const row of result.rows as (Record<string, unknown> | unknown[])[]) {
    for (const { key, i, parse, type } of fix) {
      if (Array.isArray(row)) {
        if (typeof row[i] === 'string') row[i] = parse(row[i] as string, type);
      } else if (typeof row[key] === 'string') row[key] = parse(row[key] as string, type);
    }
  }
  return result;
}

/** The client whose query and exec results read every type as PGlite usually does (pg-boss's adapter calls both). */
function withUsualTypes(client: PGlite, usual: Parsers): PGlite {
  return overriding(client, {
    query: async (text: string, params?: unknown[], o?: QueryOptions) => reparse(await client.query(text, params, o), usual),
    exec: async (text: string, o?: QueryOptions) => (await client.exec(text, o)).map((r) => reparse(r, usual)),
  });
}

/**
 * PGlite is a single-process database: two processes writing one data directory corrupt it.
 * A lock file with the owner's pid refuses the second opener; a stale lock (dead pid) is taken over.
 */
function acquireDirLock(dataDir: string): () => void {
  const lockPath = path.join(dataDir, 'arbiter.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lockPath, String(process.pid), { flag: 'wx' });
      return () => fs.rmSync(lockPath, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(fs.readFileSync(lockPath, 'utf8').trim());
      if (pid && pid !== process.pid && isAlive(pid)) {
        throw new Error(`DATA_DIR ${dataDir} is in use by process ${pid}; an embedded database serves one process (use DATABASE_URL to scale out)`);
      }
      fs.rmSync(lockPath, { force: true });
    }
  }
  throw new Error(`could not lock DATA_DIR ${dataDir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
