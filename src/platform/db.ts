// The database: embedded PGlite in DATA_DIR by default, a PostgreSQL server when DATABASE_URL is set.
// One Drizzle schema and one drizzle-kit migration folder serve both.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import type { Config } from '../config.ts';
import * as schema from '../schema.ts';

export type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

export interface Database {
  db: Db;
  kind: 'embedded' | 'postgres';
  /** Throws when the database does not answer. */
  ping(): Promise<void>;
  migrate(): Promise<void>;
  /** Drops every table (and the migration journal) and migrates again from scratch. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

const MIGRATIONS_DIR = fileURLToPath(new URL('../../drizzle', import.meta.url));
// Any constant works; it keeps concurrently starting servers from migrating at the same time.
const MIGRATION_LOCK_ID = 7_305_019_241;

const DROP_ALL = 'DROP SCHEMA IF EXISTS drizzle CASCADE; DROP SCHEMA public CASCADE; CREATE SCHEMA public;';

export async function openDatabase(config: Pick<Config, 'databaseUrl' | 'dataDir' | 'memoryDb' | 'dbPoolSize'>): Promise<Database> {
  return config.databaseUrl ? openPostgres(config.databaseUrl, config.dbPoolSize) : openEmbedded(config.dataDir, config.memoryDb);
}

async function openPostgres(url: string, max: number): Promise<Database> {
  // TimeZone: timestamps come back with a +00 offset whatever the server's own zone, as in PGlite.
  const client = postgres(url, { max, onnotice: () => {}, connection: { application_name: 'arbiter', TimeZone: 'UTC' } });
  const db = drizzlePostgres({ client, schema }) as unknown as Db;
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
    ping: async () => {
      await client`select 1`;
    },
    migrate,
    reset: async () => {
      await client.unsafe(DROP_ALL);
      await migrate();
    },
    close: () => client.end({ timeout: 5 }),
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
    client = memory ? new PGlite() : new PGlite(path.join(dataDir, 'pgdata'));
    await client.waitReady;
  } catch (err) {
    releaseLock();
    throw err;
  }
  const db = drizzlePglite({ client, schema }) as unknown as Db;
  const migrate = () => migratePglite(drizzlePglite({ client }), { migrationsFolder: MIGRATIONS_DIR });
  return {
    db,
    kind: 'embedded',
    ping: async () => {
      await client.query('select 1');
    },
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
