// Commerce → recommendations end to end: products and first views published by commerce reach the
// recommendation catalogue through the job system (at least once, so upserts), a build follows, and
// the viewed product is recommended beside its neighbour. Also: MODULES=recommendations serves the
// recommendation routes alone.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { authHeaders, createAccount } from './helpers/auth.ts';
import { waitFor } from './helpers/jobs.ts';

const SECRET = 'rec-commerce-secret';
const S = { 'client-header-secret': SECRET };
let ctx: TestApp;
let admin: Record<string, string>;

before(async () => {
  ctx = await startTestApp({ auth: { clientHeaderSecret: SECRET }, recommendationsRefreshMs: 0, jobs: { pollMs: 500, cronCheckSeconds: 45 } });
  admin = await authHeaders(ctx, 'admin');
});
after(async () => ctx?.close());

async function build() {
  const id = await ctx.app.jobs.enqueue('recommendations.train', { force: true });
  return waitFor('a build', async () => {
    const j = await ctx.app.jobs.get(id!);
    if (j?.state === 'failed') return j;
    return j?.state === 'completed' ? j : null;
  }, 60_000);
}

const catalogue = async () => (await ctx.request('GET', '/products?size=1000', { headers: S })).body.products as { product_id: string; product_name: string; category: string }[];
const interactionsOf = async (productId: string) => (await ctx.request('GET', `/interactions?product_id=${productId}`, { headers: S })).body.interactions as { user_id: string; count: number }[];

test('a product created and viewed by two users in commerce is recommended beside its neighbour after the job', async () => {
  const vendor = await createAccount(ctx);
  const mk = async (name: string, category: string) => {
    const r = await ctx.request('POST', '/api/v1/store/products/', { headers: vendor.headers, body: { name, price: '10.00', category, quantity: 5 } });
    assert.equal(r.status, 201, r.text);
    return r.body.id as number;
  };
  const lamp = await mk('Desk lamp', 'Home Lighting');
  const bulb = await mk('LED bulb', 'Home Lighting');
  const tent = await mk('Tent', 'Outdoor Camping');
  const [a, b, c] = [await createAccount(ctx), await createAccount(ctx), await createAccount(ctx)];
  for (const u of [a, b]) for (const p of [lamp, bulb]) assert.equal((await ctx.request('GET', `/api/v1/store/products/${p}/`, { headers: u.headers })).status, 200);
  // A second view by the same user is no new interaction.
  await ctx.request('GET', `/api/v1/store/products/${lamp}/`, { headers: a.headers });
  await ctx.request('GET', `/api/v1/store/products/${tent}/`, { headers: c.headers });

  await waitFor('the facts to arrive', async () => (await interactionsOf(String(lamp))).length === 2 && (await interactionsOf(String(tent))).length === 1 && (await catalogue()).length === 3);
  assert.deepEqual((await interactionsOf(String(lamp))).map((i) => i.count), [1, 1]);

  const job = await build();
  assert.equal(job.state, 'completed', JSON.stringify(job));
  const r = await ctx.request('GET', `/interaction-recommendations?product_id=${lamp}&category=Home%20Lighting`);
  assert.equal(r.status, 200);
  assert.equal(r.body[0].product_id, String(bulb));
  assert.equal(r.body[0].product_name, 'LED bulb');
  assert.equal(r.body[0].score, 1);
  assert.ok(!r.body.some((x: { product_id: string }) => x.product_id === String(lamp)));
  const cat = await ctx.request('GET', '/category-recommendations?category=lighting');
  assert.deepEqual(cat.body.map((x: { product_id: string }) => x.product_id).sort(), [String(bulb), String(lamp)].sort());

  // Updates and deletions flow in too.
  assert.equal((await ctx.request('PATCH', `/api/v1/store/products/${bulb}/`, { headers: vendor.headers, body: { name: 'LED bulb 2' } })).status, 200);
  assert.equal((await ctx.request('DELETE', `/api/v1/store/products/${tent}/`, { headers: vendor.headers })).status, 200);
  await waitFor('the update and deletion', async () => {
    const list = await catalogue();
    return list.length === 2 && list.some((p) => p.product_name === 'LED bulb 2');
  });
  assert.deepEqual(await interactionsOf(String(tent)), []);
});

test('a view fact delivered twice counts once (at-least-once delivery)', async () => {
  const fact = { product_id: 999, user_id: 4242, name: 'Replayed', category: 'Replays', viewed_at: new Date().toISOString() };
  for (let i = 0; i < 2; i++) await ctx.app.jobs.enqueue('fact.product.viewed.recommendations', fact);
  await waitFor('the replayed facts', async () => {
    const list = await interactionsOf('999');
    return list.length === 1 && list[0].count === 1 && (await ctx.app.jobs.list({ owner: null, queue: 'fact.product.viewed.recommendations', state: 'created', page: 1, size: 10 })).total === 0;
  });
  await new Promise((r) => setTimeout(r, 1500));
  assert.deepEqual((await interactionsOf('999')).map((i) => [i.user_id, i.count]), [['4242', 1]]);
});

test('facts handled out of order converge: an older product fact never overwrites a newer one, a deletion stays', async () => {
  const q = (e: string) => `fact.product.${e}.recommendations`;
  const base = { product_id: 7001, description: '', price: '1.00', store_id: 1, owner_id: 1 };
  // updated (newer) is handled before created (older): the name stays the updated one.
  await ctx.app.jobs.enqueue(q('updated'), { ...base, name: 'New name', category: 'Late', occurred_at: '2026-01-02T00:00:00Z' });
  await waitFor('the update', async () => (await catalogue()).some((p) => p.product_id === '7001'));
  await ctx.app.jobs.enqueue(q('created'), { ...base, name: 'Old name', category: 'Late', occurred_at: '2026-01-01T00:00:00Z' });
  // deleted, then a late view and a late created: the product stays deleted and no interaction is kept.
  await ctx.app.jobs.enqueue(q('deleted'), { ...base, product_id: 7002, name: 'Gone', category: 'Late', occurred_at: '2026-01-03T00:00:00Z' });
  await waitFor('the deletion', async () => (await ctx.app.jobs.list({ owner: null, queue: q('deleted'), state: 'completed', page: 1, size: 10 })).total >= 1);
  await ctx.app.jobs.enqueue(q('viewed'), { product_id: 7002, user_id: 77, name: 'Gone', category: 'Late', viewed_at: '2026-01-02T12:00:00Z' });
  await ctx.app.jobs.enqueue(q('created'), { ...base, product_id: 7002, name: 'Gone', category: 'Late', occurred_at: '2026-01-01T00:00:00Z' });
  await waitFor('the late facts', async () => {
    const pending = await Promise.all(['created', 'viewed'].map(async (e) => (await ctx.app.jobs.list({ owner: null, queue: q(e), state: 'created', page: 1, size: 1 })).total + (await ctx.app.jobs.list({ owner: null, queue: q(e), state: 'active', page: 1, size: 1 })).total));
    return pending.every((n) => n === 0);
  });
  await new Promise((r) => setTimeout(r, 1000));
  const list = await catalogue();
  assert.equal(list.find((p) => p.product_id === '7001')?.product_name, 'New name');
  assert.ok(!list.some((p) => p.product_id === '7002'));
  assert.deepEqual(await interactionsOf('7002'), []);
  // A caller's POST of that id brings it back (the seed's endpoint always saves).
  assert.equal((await ctx.request('POST', '/products', { headers: S, body: { product_name: 'Back', product_id: 7002, category: 'Late' } })).status, 201);
  assert.ok((await catalogue()).some((p) => p.product_id === '7002' && p.product_name === 'Back'));
});

test('MODULES=recommendations serves the recommendation routes alone over the same kind of database', async () => {
  const only = await startTestApp({ modules: ['recommendations'], auth: { clientHeaderSecret: SECRET }, recommendationsRefreshMs: 0 });
  try {
    assert.equal((await only.request('GET', '/category-recommendations?category=Books')).status, 200);
    assert.equal((await only.request('POST', '/ai/products', { headers: S, body: { product_name: 'B', product_id: 'b1', category: 'Books' } })).status, 201);
    assert.equal((await only.request('GET', '/api/v1/store/products/')).status, 404);
  } finally {
    await only.close();
  }
});
