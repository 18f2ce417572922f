// Outages of PostgreSQL and Redis, made with a TCP proxy on loopback between Arbiter and the machine's
// own servers (which are never touched): cut as a server that is down (connections refused) and as a
// partition (connections accepted, nothing answered), then restored. The limits asserted:
// - a request that needs the database answers within 2 s, with 503 UNAVAILABLE and Retry-After, never
//   a 500 and never a hang; one that can go on without Redis (auth, sign-in) does, within 2 s;
// - /ready answers within 1 s whatever the state, 503 naming what is unreachable; /health stays 200;
// - within 2 s of the dependency being back, requests succeed.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { testAppOf, type TestApp, type TestResponse } from './helpers/app.ts';
import { createAccount, type TestAccount } from './helpers/auth.ts';
import { createTestDatabase, type TestDatabase } from './helpers/db.ts';
import { startTcpProxy, type ProxyMode, type TcpProxy } from './helpers/tcp-proxy.ts';

const PG = process.env.DATABASE_URL;
const REDIS = process.env.REDIS_URL;

describe('faults: PostgreSQL and Redis cut under a running server', { skip: !PG || !REDIS ? 'needs DATABASE_URL and REDIS_URL' : false }, () => {
  let testDb: TestDatabase;
  let pg: TcpProxy;
  let redis: TcpProxy;
  let app: FastifyInstance;
  let ctx: TestApp;
  let user: TestAccount;

  before(async () => {
    testDb = await createTestDatabase();
    const dbUrl = new URL(testDb.config.databaseUrl!);
    pg = await startTcpProxy({ host: dbUrl.hostname, port: Number(dbUrl.port || 5432) });
    const redisUrl = new URL(REDIS!);
    redis = await startTcpProxy({ host: redisUrl.hostname, port: Number(redisUrl.port || 6379) });
    const config = loadConfig(
      { LOG_LEVEL: 'silent' },
      {
        databaseUrl: pg.url(testDb.config.databaseUrl!),
        memoryDb: false,
        redisUrl: redis.url(REDIS!),
        redisPrefix: `arbiter:test:${randomBytes(4).toString('hex')}:`,
        auth: { rateLimitPerIp: 100_000, rateLimitPerAccount: 100_000 },
      },
    );
    app = await buildApp(config);
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    ctx = testAppOf({ app, url, config, close: async () => {} });
    user = await createAccount(ctx);
  });
  after(async () => {
    await app?.close();
    await pg?.close();
    await redis?.close();
    await testDb?.drop();
  });

  const timed = async (send: () => Promise<TestResponse>): Promise<TestResponse & { ms: number }> => {
    const t = performance.now();
    const res = await send();
    return { ...res, ms: performance.now() - t };
  };
  const readEvents = () => ctx.request('GET', `/api/events?user_id=${user.id}`, { headers: user.headers });
  const postEvent = () => ctx.request('POST', '/api/events', { body: { type: 'deposit', amount: '1.00', user_id: user.id, time: 1 }, headers: user.headers });
  const login = () => ctx.request('POST', '/api/v1/auth/login/', { body: { email: user.email, password: user.password } });

  /** Polls until `send` answers 200; the time from `since` to that answer. */
  async function recovery(send: () => Promise<TestResponse>, since: number): Promise<number> {
    for (;;) {
      const r = await send();
      if (r.status === 200) return performance.now() - since;
      assert.ok(r.status === 503, `while recovering: ${r.status} ${r.text}`);
      assert.ok(performance.now() - since < 10_000, 'not recovered after 10 s');
      await new Promise((res) => setTimeout(res, 50));
    }
  }

  for (const mode of ['down', 'partition'] as ProxyMode[]) {
    test(`PostgreSQL ${mode}: 503 within 2 s, /ready within 1 s, back within 2 s`, async () => {
      assert.equal((await readEvents()).status, 200);
      await pg.set(mode);
      try {
        // Requests started right after the cut, and later ones (after the outage is known).
        for (let i = 0; i < 4; i++) {
          for (const r of await Promise.all([timed(readEvents), timed(postEvent)])) {
            assert.equal(r.status, 503, r.text);
            assert.equal(r.body.code, 'UNAVAILABLE');
            assert.match(r.body.detail, /database is unavailable/);
            assert.equal(r.headers.get('retry-after'), '1');
            assert.ok(r.ms < 2000, `answered in ${r.ms.toFixed(0)} ms`);
          }
        }
        const ready = await timed(() => ctx.request('GET', '/ready'));
        assert.equal(ready.status, 503, ready.text);
        assert.deepEqual(ready.body.dependencies, { database: 'down', redis: 'up' });
        assert.ok(ready.ms < 1000, `/ready answered in ${ready.ms.toFixed(0)} ms`);
        assert.equal((await ctx.request('GET', '/health')).status, 200);
      } finally {
        await pg.set('up');
      }
      const back = performance.now();
      const [took, tookWrite] = await Promise.all([recovery(readEvents, back), recovery(postEvent, back)]);
      assert.ok(took < 2000, `first 200 ${took.toFixed(0)} ms after the database was back`);
      assert.ok(tookWrite < 2000, `first write ${tookWrite.toFixed(0)} ms after the database was back`);
      const ready = await timed(() => ctx.request('GET', '/ready'));
      assert.equal(ready.status, 200, ready.text);
      assert.ok(ready.ms < 1000);
    });
  }

  for (const mode of ['down', 'partition'] as ProxyMode[]) {
    test(`Redis ${mode}: authenticated requests and sign-in go on within 2 s; /ready says redis within 1 s`, async () => {
      await redis.set(mode);
      try {
        for (let i = 0; i < 4; i++) {
          for (const r of await Promise.all([timed(readEvents), timed(postEvent), timed(login)])) {
            assert.equal(r.status, 200, r.text);
            assert.ok(r.ms < 2000, `answered in ${r.ms.toFixed(0)} ms`);
          }
        }
        const ready = await timed(() => ctx.request('GET', '/ready'));
        assert.equal(ready.status, 503, ready.text);
        assert.deepEqual(ready.body.dependencies, { database: 'up', redis: 'down' });
        assert.match(ready.body.detail, /redis is unreachable/);
        assert.ok(ready.ms < 1000, `/ready answered in ${ready.ms.toFixed(0)} ms`);
        assert.equal((await ctx.request('GET', '/health')).status, 200);
      } finally {
        await redis.set('up');
      }
      const back = performance.now();
      const took = await recovery(() => ctx.request('GET', '/ready'), back);
      assert.ok(took < 2000, `/ready 200 ${took.toFixed(0)} ms after Redis was back`);
    });
  }
});

describe('faults: a saturated pool', { skip: !PG ? 'needs DATABASE_URL' : false }, () => {
  test('a transaction that waits DB_POOL_WAIT_MS for a connection is abandoned: 503, nothing stored, then all is well', async () => {
    const { startJobsApp } = await import('./helpers/jobs.ts');
    const ctx = await startJobsApp([], { dbPoolSize: 1, dbPoolWaitMs: 300 });
    try {
      const who = await createAccount(ctx);
      const products = () => ctx.request('GET', '/api/v1/store/products/', { headers: who.headers });
      assert.equal((await products()).body.length, 0);
      // The one connection is busy for 2 s.
      const holder = ctx.database.query('select pg_sleep(2)');
      await new Promise((r) => setTimeout(r, 50));
      const t = performance.now();
      // A create is one transaction (the product and its fact): it needs the connection for itself.
      const create = await ctx.request('POST', '/api/v1/store/products/', { headers: who.headers, body: { name: 'Late', price: '1.00' } });
      const ms = performance.now() - t;
      assert.equal(create.status, 503, create.text);
      assert.equal(create.body.code, 'UNAVAILABLE');
      assert.match(create.body.detail, /database is busy/);
      assert.equal(create.headers.get('retry-after'), '1');
      assert.ok(ms < 1500, `answered in ${ms.toFixed(0)} ms`);
      await holder;
      await new Promise((r) => setTimeout(r, 200));
      assert.equal((await products()).body.length, 0, 'the abandoned transaction stored nothing when its connection came');
      const later = await ctx.request('POST', '/api/v1/store/products/', { headers: who.headers, body: { name: 'Later', price: '1.00' } });
      assert.equal(later.status, 201, later.text);
    } finally {
      await ctx.close();
    }
  });
});
