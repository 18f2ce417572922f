// A fresh database per test file: in-memory PGlite by default, or a new database on the
// PostgreSQL server named by DATABASE_URL (dropped again at the end).
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { loadConfig } from '../../src/config.ts';
import { openDatabase, type Database } from '../../src/platform/db.ts';

export interface TestDatabase {
  /** Config overrides that point the app at this database. */
  config: { databaseUrl: string | null; memoryDb: boolean };
  drop(): Promise<void>;
}

export const usingPostgres = Boolean(process.env.DATABASE_URL);

export async function createTestDatabase(): Promise<TestDatabase> {
  const base = process.env.DATABASE_URL;
  if (!base) return { config: { databaseUrl: null, memoryDb: true }, drop: async () => {} };
  const name = `arbiter_t_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = postgres(base, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    config: { databaseUrl: url.toString(), memoryDb: false },
    drop: async () => {
      const a = postgres(base, { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}

/** A fresh test database, opened and migrated; `close` closes it and drops it. */
export async function openMigratedTestDatabase(): Promise<{ database: Database; close(): Promise<void> }> {
  const testDb = await createTestDatabase();
  const database = await openDatabase(loadConfig({}, testDb.config));
  await database.migrate();
  return {
    database,
    close: async () => {
      await database.close();
      await testDb.drop();
    },
  };
}
