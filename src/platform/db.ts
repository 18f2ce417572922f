// The database: embedded PGlite in DATA_DIR by default (on a thread of its own: embedded-db.ts), a
// PostgreSQL server when DATABASE_URL is set.
// One drizzle-kit migration folder serves both. Drizzle runs without a schema object (queries name
// their tables, and the relational `db.query` API is not used), so the platform imports no module.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PGlite } from '@electric-sql/pglite';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import type { Config } from '../config.ts';
import { inProcess, watchDependency, type Dependency, type DependencyLog } from './dependencies.ts';
import { openEmbeddedClient, type EmbeddedClient } from './embedded-db.ts';

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
  /** Embedded only: the client for a library that drives PGlite itself (pg-boss's adapter), parsing as PGlite does. */
  pglite?: EmbeddedClient['usual'];
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
  return config.databaseUrl ? openPostgres(config.databaseUrl, config, log) : openEmbedded(config.dataDir, config.memoryDb, log);
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

async function openEmbedded(dataDir: string, memory: boolean, log: DependencyLog): Promise<Database> {
  let releaseLock = () => {};
  if (!memory) {
    fs.mkdirSync(dataDir, { recursive: true });
    releaseLock = acquireDirLock(dataDir);
  }
  let client: EmbeddedClient;
  try {
    client = await openEmbeddedClient({
      dataDir: memory ? null : path.join(dataDir, 'pgdata'),
      // Requests then answer 503 and /ready says the database is down, until the server is restarted.
      onStopped: (err) => log.warn({ err }, 'the embedded database stopped; restart the server'),
    });
  } catch (err) {
    releaseLock();
    throw err;
  }
  // Drizzle's PGlite driver calls only its client's `query` and `transaction`, which this one has.
  const db: Db = drizzlePglite({ client: client.drizzle as unknown as PGlite });
  const migrate = () => migratePglite(drizzlePglite({ client: client.drizzle as unknown as PGlite }), { migrationsFolder: MIGRATIONS_DIR });
  return {
    db,
    kind: 'embedded',
    pglite: client.usual,
    query: async <T extends object>(text: string, params: readonly SqlParam[] = []) => (await client.usual.query<T>(text, params)).rows,
    listen: async (channel, onPayload) => client.usual.listen(channel, onPayload),
    ping: async () => {
      await client.usual.query('select 1');
    },
    dependency: inProcess('database', () => client.usual.query('select 1'), () => !client.closed),
    migrate,
    reset: async () => {
      await client.usual.exec(DROP_ALL);
      await migrate();
    },
    close: async () => {
      try {
        await client.close();
      } finally {
        releaseLock();
      }
    },
  };
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
