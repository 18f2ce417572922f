// Views under concurrency and the facts commerce publishes for the recommendations module: 100
// concurrent views add exactly 100, each viewer is recorded once, and product.viewed goes out once
// per user and product (through the job system, in the view's transaction) even when a user's views
// race; product.created / updated / deleted carry id, name, category and price.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { openDatabase, type Database } from '../src/platform/db.ts';
import { testAppOf, type TestApp } from './helpers/app.ts';
import { createAccount, type TestAccount } from './helpers/auth.ts';
import { createTestDatabase, type TestDatabase } from './helpers/db.ts';
import { waitFor } from './helpers/jobs.ts';

const P = '/api/v1/store/products/';
const seen: Record<string, object[]> = {};
let ctx: TestApp;
let database: Database;
let testDb: TestDatabase;
let owner: TestAccount;

before(async () => {
  testDb = await createTestDatabase();
  const config = loadConfig(
    { LOG_LEVEL: 'silent', ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}) },
    { ...testDb.config, redisPrefix: `arbiter:test:${randomBytes(4).toString('hex')}:`, jobs: { pollMs: 500 }, auth: { rateLimitPerIp: 100_000, rateLimitPerAccount: 100_000 } },
  );
  database = await openDatabase(config);
  const app = await buildApp(config, {
    database,
    // A stand-in for the recommendations module: records every fact it is handed.
    factConsumers: (facts) => {
      for (const event of ['product.created', 'product.updated', 'product.deleted', 'product.viewed']) {
        facts.consume(event, 'test-recommendations', async (payload: object) => void (seen[event] ??= []).push(payload));
      }
    },
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  ctx = testAppOf({
    app,
    url,
    config,
    close: async () => {
      await app.close();
      await database.close();
      await testDb.drop();
    },
  });
  owner = await createAccount(ctx);
});
after(() => ctx?.close());

const views = async (id: number) => (await database.query<{ n: number }>('select views_count::int as n from products where id = $1', [id]))[0].n;

describe('views', () => {
  test('100 concurrent views of one product: exactly +100; product.viewed once per user', async () => {
    const viewers = await Promise.all(Array.from({ length: 5 }, () => createAccount(ctx)));
    const made = await ctx.request('POST', P, { headers: owner.headers, body: { name: 'Hot', price: '1.00', category: 'Trend' } });
    const id = made.body.id;
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => ctx.request('GET', `${P}${id}/`, { headers: viewers[i % 5].headers })));
    assert.ok(answers.every((r) => r.status === 200), answers.find((r) => r.status !== 200)?.text);
    assert.equal(await views(id), 100);
    // Every answer carries the count its own increment produced: 1..100, each once.
    assert.deepEqual(answers.map((r) => r.body.views_count).sort((a, b) => a - b), Array.from({ length: 100 }, (_, i) => i + 1));
    const recorded = await database.query<{ user_id: number }>('select user_id::int as user_id from product_views where product_id = $1 order by user_id', [id]);
    assert.deepEqual(recorded.map((r) => r.user_id), viewers.map((v) => v.id).sort((a, b) => a - b), 'each viewer recorded once');
    const mine = () => (seen['product.viewed'] ?? []).filter((f) => (f as { product_id: number }).product_id === id);
    await waitFor('five product.viewed facts', async () => mine().length >= 5);
    const jobs = await ctx.app.jobs.list({ owner: null, queue: 'fact.product.viewed.test-recommendations', page: 1, size: 100 });
    assert.equal(jobs.rows.filter((j: { data: unknown }) => (j.data as { product_id: number }).product_id === id).length, 5, 'five fact jobs, not one per view');
    assert.deepEqual(mine().map((f) => (f as { user_id: number }).user_id).sort((a, b) => a - b), viewers.map((v) => v.id).sort((a, b) => a - b));
    assert.deepEqual(Object.keys(mine()[0]).sort(), ['category', 'name', 'product_id', 'user_id', 'viewed_at']);
    assert.equal((mine()[0] as { category: string }).category, 'Trend');
    // Viewing again later publishes nothing more.
    await ctx.request('GET', `${P}${id}/`, { headers: viewers[0].headers });
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(mine().length, 5);
  });
});

describe('product facts', () => {
  test('created, updated and deleted (also through the store) carry id, name, category and price', async () => {
    const made = await ctx.request('POST', P, { headers: owner.headers, body: { name: 'Lamp', price: '20', category: 'Home' } });
    const id = made.body.id;
    await ctx.request('PATCH', `${P}${id}/`, { headers: owner.headers, body: { price: '25.50', category: 'Lighting' } });
    await ctx.request('DELETE', `${P}${id}/`, { headers: owner.headers });
    const store = await ctx.request('POST', '/api/v1/store/', { headers: owner.headers, body: { name: 'Short-lived' } });
    const inStore = await ctx.request('POST', P, { headers: owner.headers, body: { name: 'Vase', price: '3.00', category: 'Home', store_id: store.body.id } });
    await ctx.request('DELETE', `/api/v1/store/${store.body.id}/`, { headers: owner.headers });
    const of = (event: string, pid: number) => (seen[event] ?? []).filter((f) => (f as { product_id: number }).product_id === pid) as Record<string, unknown>[];
    await waitFor('the facts', async () => of('product.deleted', id).length && of('product.deleted', inStore.body.id).length);
    assert.deepEqual(of('product.created', id).map(({ occurred_at: _, ...f }) => f), [{ product_id: id, name: 'Lamp', category: 'Home', price: '20.00', description: '', store_id: made.body.store, owner_id: owner.id }]);
    assert.deepEqual(of('product.updated', id).map((f) => [f.category, f.price]), [['Lighting', '25.50']]);
    assert.deepEqual(of('product.deleted', id).map((f) => [f.name, f.category, f.price]), [['Lamp', 'Lighting', '25.50']]);
    assert.deepEqual(of('product.deleted', inStore.body.id).map((f) => [f.name, f.store_id]), [['Vase', store.body.id]]);
  });

  test('a refused change publishes nothing', async () => {
    const other = await createAccount(ctx);
    const made = await ctx.request('POST', P, { headers: owner.headers, body: { name: 'Mine', price: '1.00' } });
    const denied = await ctx.request('PATCH', `${P}${made.body.id}/`, { headers: other.headers, body: { price: '0.00' } });
    assert.equal(denied.status, 404);
    const badStore = await ctx.request('POST', P, { headers: other.headers, body: { name: 'Sneaky', price: '1.00', store_id: made.body.store } });
    assert.equal(badStore.status, 403);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal((seen['product.updated'] ?? []).filter((f) => (f as { product_id: number }).product_id === made.body.id).length, 0);
    assert.equal((seen['product.created'] ?? []).filter((f) => (f as { name: string }).name === 'Sneaky').length, 0);
  });
});
