// An app with extra job queues on a fresh database, for the job-system tests.
import { randomBytes } from 'node:crypto';
import { buildApp } from '../../src/app.ts';
import { loadConfig, type ConfigOverrides } from '../../src/config.ts';
import { openDatabase, type Database } from '../../src/platform/db.ts';
import type { QueueSpec } from '../../src/platform/jobs/jobs.ts';
import { testAppOf, type TestApp } from './app.ts';
import { createTestDatabase } from './db.ts';

export async function startJobsApp(queues: QueueSpec[], overrides: ConfigOverrides = {}): Promise<TestApp & { database: Database }> {
  const testDb = await createTestDatabase();
  const config = loadConfig(
    { LOG_LEVEL: 'silent', ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}) },
    { ...testDb.config, redisPrefix: `arbiter:test:${randomBytes(4).toString('hex')}:`, ...overrides, jobs: { pollMs: 500, superviseSeconds: 1, cronCheckSeconds: 1, ...overrides.jobs }, auth: { rateLimitPerIp: 100_000, rateLimitPerAccount: 100_000 } },
  );
  const database = await openDatabase(config);
  const app = await buildApp(config, { database, jobQueues: queues });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return testAppOf({
    app,
    url,
    config,
    database,
    close: async () => {
      await app.close();
      await database.close();
      await testDb.drop();
    },
  });
}

export async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 20_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
