// Seed 004's recommendation service over HTTP: its endpoints with and without /ai, their access (the
// Client-Header-Secret messages), bad input, builds as jobs and versions, the answers against the
// scikit-learn reference, exclusion and the strategy bandit, and the evaluation.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { authHeaders, createAccount } from './helpers/auth.ts';
import { waitFor } from './helpers/jobs.ts';
import { checkScenario, runScenarios, type Scenario } from './helpers/scenarios.ts';

const SECRET = 'rec-shared-secret';
const S = { 'client-header-secret': SECRET };
const ref = JSON.parse(readFileSync(new URL('../src/modules/recommendations/fixtures/reference.json', import.meta.url), 'utf8'));

let ctx: TestApp;
let admin: Record<string, string>;
let user: Record<string, string>;
let service: Record<string, string>;

async function train(): Promise<any> {
  const res = await ctx.request('POST', '/api/v1/recommendations/train', { headers: admin });
  assert.equal(res.status, 202, res.text);
  const id = res.body.job_id;
  return waitFor('the build job', async () => {
    const j = await ctx.request('GET', `/api/v1/jobs/${id}`, { headers: admin });
    if (j.body.state === 'failed') throw new Error(`build failed: ${j.text}`);
    return j.body.state === 'completed' ? j.body : null;
  }, 60_000);
}

before(async () => {
  ctx = await startTestApp({ auth: { clientHeaderSecret: SECRET }, recommendationsRefreshMs: 0, jobs: { pollMs: 500, cronCheckSeconds: 45 } });
  admin = await authHeaders(ctx, 'admin');
  user = await authHeaders(ctx, 'user');
  service = await authHeaders(ctx, 'service');
});
after(async () => ctx?.close());

describe('access: the two recommendation endpoints are public, the rest need the secret (or admin/service)', () => {
  const routes: [string, string, unknown?][] = [
    ['POST', '/products', { product_name: 'Phone', product_id: 'acc-1', category: 'Electronics' }],
    ['POST', '/interactions', { user_id: 'user123', product_id: 'acc-1', category: 'Electronics' }],
    ['GET', '/products'],
    ['GET', '/interactions'],
  ];
  const scenarios: Scenario[] = [];
  for (const prefix of ['', '/ai']) {
    for (const [method, path, body] of routes) {
      const url = prefix + path;
      const ok = method === 'POST' ? 201 : 200;
      scenarios.push(
        { name: `${method} ${url} without the header: 401 Token is missing!`, method, url, body, status: 401, detail: 'Token is missing!' },
        { name: `${method} ${url} with an empty header: 401 Token is missing!`, method, url, body, headers: { 'client-header-secret': '' }, status: 401, detail: 'Token is missing!' },
        { name: `${method} ${url} with a wrong secret: 401 Invalid token!`, method, url, body, headers: { 'client-header-secret': 'nope' }, status: 401, detail: 'Invalid token!' },
        { name: `${method} ${url} as a plain user: 403`, method, url, body, headers: () => user, status: 403 } as never,
        { name: `${method} ${url} with the secret: ${ok}`, method, url, body, headers: S, status: ok },
        { name: `${method} ${url} as an admin: ${ok}`, method, url, body, headers: () => admin, status: ok } as never,
        { name: `${method} ${url} with a service API key: ${ok}`, method, url, body, headers: () => service, status: ok } as never,
      );
    }
    scenarios.push(
      { name: `GET ${prefix}/interaction-recommendations needs no credential`, method: 'GET', url: `${prefix}/interaction-recommendations?product_id=acc-1&category=Electronics`, status: 200 },
      { name: `GET ${prefix}/category-recommendations needs no credential`, method: 'GET', url: `${prefix}/category-recommendations?category=Electronics`, status: 200 },
    );
  }
  for (const [method, url] of [['POST', '/api/v1/recommendations/train'], ['GET', '/api/v1/recommendations/versions'], ['GET', '/api/v1/recommendations/evaluation']]) {
    scenarios.push(
      { name: `${method} ${url} as a plain user: 403`, method, url, headers: () => user, status: 403 } as never,
      { name: `${method} ${url} with the service secret: 401 (admin only)`, method, url, headers: S, status: 401 },
      { name: `${method} ${url} anonymous: 401`, method, url, status: 401 },
    );
  }
  test('scenarios', async (t) => {
    for (const s of scenarios) {
      const headers = typeof s.headers === 'function' ? (s.headers as () => Record<string, string>)() : s.headers;
      await t.test(s.name, async () => void (await checkScenario(ctx, { ...s, headers })));
    }
  });
});

describe('bad input gets a 400 naming the problem', () => {
  const scenarios: Scenario[] = [
    { name: 'interaction recommendations without parameters', method: 'GET', url: '/interaction-recommendations', status: 400, detail: 'Missing product_id or category' },
    { name: 'interaction recommendations without category', method: 'GET', url: '/interaction-recommendations?product_id=1', status: 400, detail: 'Missing product_id or category' },
    { name: 'interaction recommendations without product_id', method: 'GET', url: '/ai/interaction-recommendations?category=Books', status: 400, detail: 'Missing product_id or category' },
    { name: 'interaction recommendations with a blank category', method: 'GET', url: '/interaction-recommendations?product_id=1&category=%20', status: 400, detail: 'Missing product_id or category' },
    { name: 'category recommendations without category', method: 'GET', url: '/category-recommendations', status: 400, detail: 'Missing category' },
    { name: 'category recommendations with an empty category', method: 'GET', url: '/ai/category-recommendations?category=', status: 400, detail: 'Missing category' },
    { name: 'a huge category', method: 'GET', url: `/category-recommendations?category=${'x'.repeat(300)}`, status: 400, detail: 'category' },
    { name: 'limit 0', method: 'GET', url: '/category-recommendations?category=Books&limit=0', status: 400, detail: 'limit' },
    { name: 'limit not a number', method: 'GET', url: '/category-recommendations?category=Books&limit=ten', status: 400, detail: 'limit' },
    { name: 'limit out of range', method: 'GET', url: '/category-recommendations?category=Books&limit=99999999999', status: 400, detail: 'limit' },
    { name: 'an unknown query parameter', method: 'GET', url: '/category-recommendations?category=Books&evil=1', status: 400, detail: 'evil' },
    { name: 'a product without product_name', method: 'POST', url: '/products', headers: S, body: { product_id: 'x', category: 'Books' }, status: 400, detail: 'product_name' },
    { name: 'a product whose id is an object', method: 'POST', url: '/products', headers: S, body: { product_name: 'X', product_id: { $gt: '' }, category: 'Books' }, status: 400, detail: 'product_id' },
    { name: 'a product id too long', method: 'POST', url: '/products', headers: S, body: { product_name: 'X', product_id: 'p'.repeat(256), category: 'Books' }, status: 400, detail: 'product_id' },
    { name: 'a negative integer product id', method: 'POST', url: '/products', headers: S, body: { product_name: 'X', product_id: -1, category: 'Books' }, status: 400, detail: 'product_id' },
    { name: 'a product with an unknown field', method: 'POST', url: '/products', headers: S, body: { product_name: 'X', product_id: 'x', category: 'Books', price: 1 }, status: 400, detail: 'price' },
    { name: 'an interaction without user_id', method: 'POST', url: '/ai/interactions', headers: S, body: { product_id: 'x', category: 'Books' }, status: 400, detail: 'user_id' },
    { name: 'an interaction with a float user id', method: 'POST', url: '/interactions', headers: S, body: { user_id: 1.5, product_id: 'x', category: 'Books' }, status: 400, detail: 'user_id' },
    { name: 'a body nested too deep', method: 'POST', url: '/interactions', headers: { ...S, 'content-type': 'application/json' }, rawBody: '{"user_id":' + '['.repeat(5000) + ']'.repeat(5000) + '}', status: 400 },
    { name: 'not JSON', method: 'POST', url: '/products', headers: { ...S, 'content-type': 'application/json' }, rawBody: '{"product_name":', status: 400 },
    { name: 'a page size too large', method: 'GET', url: '/products?size=100000', headers: S, status: 400, detail: 'size' },
    { name: 'page 0', method: 'GET', url: '/interactions?page=0', headers: S, status: 400, detail: 'page' },
    { name: 'an unknown version kind', method: 'GET', url: '/api/v1/recommendations/versions?kind=evil', status: 400 },
  ];
  test('scenarios', async (t) => {
    for (const s of scenarios) {
      const headers = s.url.startsWith('/api/v1/recommendations') ? admin : s.headers;
      await t.test(s.name, async () => void (await checkScenario(ctx, { ...s, headers })));
    }
  });
});

describe('the catalogue, interactions, builds and answers', () => {
  test('the lists answer {"products": [...]} and {"interactions": [...]}, paginated; saving again updates', async () => {
    let r = await ctx.request('POST', '/products', { headers: S, body: { product_name: 'Smartphone', product_id: 'product789', category: 'Electronics' } });
    assert.equal(r.status, 201);
    assert.equal(r.body.product.product_id, 'product789');
    r = await ctx.request('POST', '/ai/products', { headers: S, body: { product_name: 'Smartphone 2', product_id: 'product789', category: 'Electronics' } });
    assert.equal(r.body.product.product_name, 'Smartphone 2');
    r = await ctx.request('POST', '/interactions', { headers: S, body: { user_id: 'user123', product_id: 'product789', category: 'Electronics' } });
    r = await ctx.request('POST', '/interactions', { headers: S, body: { user_id: 'user123', product_id: 'product789', category: 'Electronics' } });
    assert.equal(r.status, 201);
    assert.equal(r.body.interaction.count, 2);
    r = await ctx.request('GET', '/products?size=1', { headers: S });
    assert.equal(r.body.products.length, 1);
    assert.ok(Number(r.headers.get('x-total-count')) >= 2);
    r = await ctx.request('GET', '/interactions?user_id=user123&product_id=product789', { headers: S });
    assert.deepEqual(r.body.interactions.map((i: any) => [i.user_id, i.product_id, i.count]), [['user123', 'product789', 2]]);
  });

  test("after a build, answers equal the scikit-learn reference: the category's cluster and item neighbours", async () => {
    for (const p of ref.products) assert.equal((await ctx.request('POST', '/products', { headers: S, body: p })).status, 201);
    for (const i of ref.interactions) {
      for (let c = 0; c < i.count; c++) await ctx.request('POST', '/ai/interactions', { headers: S, body: { user_id: i.user_id, product_id: i.product_id, category: 'x' } });
    }
    // Remove the earlier products so the catalogue is the fixture's.
    const job = await train();
    assert.ok(job.result.versions.category > 0 && job.result.versions.interaction > 0);

    const electronics = ref.queries.find((q: any) => q.category === 'Electronics');
    const res = await ctx.request('GET', '/category-recommendations?category=Electronics');
    assert.equal(res.status, 200);
    const ids = res.body.map((r: any) => r.product_id);
    // The fixture's cluster plus the earlier test's products of that category.
    for (const id of electronics.cluster) assert.ok(ids.includes(id), `${id} in ${ids}`);
    for (const r of res.body) assert.deepEqual(Object.keys(r).sort(), ['category', 'product_id', 'product_name', 'score']);
    assert.equal(res.headers.get('x-recommendation-strategy'), 'category');

    const n = ref.neighbours.find((x: any) => !x.ties && x.neighbours[0] === x.product_id);
    const cat = ref.products.find((p: any) => p.product_id === n.product_id).category;
    const knn = await ctx.request('GET', `/ai/interaction-recommendations?product_id=${n.product_id}&category=${encodeURIComponent(cat)}`);
    assert.equal(knn.status, 200);
    assert.deepEqual(knn.body.map((r: any) => r.product_id), n.neighbours.slice(1));
    assert.equal(knn.body[0].product_name, ref.products.find((p: any) => p.product_id === n.neighbours[1]).product_name);
    assert.ok(knn.body[0].score >= knn.body.at(-1).score);
  });

  test('an unknown product gets its category\'s popular products, never []; an unknown category gets popular ones', async () => {
    const r = await ctx.request('GET', '/interaction-recommendations?product_id=never-seen&category=Kitchen');
    assert.equal(r.status, 200);
    assert.ok(r.body.length > 0);
    for (const x of r.body) assert.equal(x.category, 'Kitchen');
    const u = await ctx.request('GET', '/category-recommendations?category=garden%20hose&limit=3');
    assert.equal(u.body.length, 3);
    assert.ok(u.body[0].score >= u.body[2].score);
  });

  test('versions carry their training time and data counts; an unchanged build is skipped by the cron job', async () => {
    const v = await ctx.request('GET', '/api/v1/recommendations/versions?kind=interaction', { headers: admin });
    assert.equal(v.status, 200);
    const ready = v.body.find((x: any) => x.status === 'ready');
    assert.ok(ready.train_ms >= 0 && ready.stats.products >= ref.products.length && ready.stats.users >= 40 && ready.stats.items > 0, JSON.stringify(ready));
    const id = await ctx.app.jobs.enqueue('recommendations.train', { force: false });
    const job = await waitFor('the cron build', async () => {
      const j = await ctx.app.jobs.get(id!);
      return j?.state === 'completed' ? j : null;
    });
    assert.equal((job.result as any).skipped, true);
  });

  test('user_id: needs a credential acting for that user, excludes their products, and the bandit logs its choice', async () => {
    const n = ref.neighbours.find((x: any) => !x.ties && x.neighbours[0] === x.product_id);
    const cat = encodeURIComponent(ref.products.find((p: any) => p.product_id === n.product_id).category);
    const url = `/interaction-recommendations?product_id=${n.product_id}&category=${cat}&user_id=shopper-1`;
    assert.equal((await ctx.request('GET', url)).status, 401);
    const r403 = await ctx.request('GET', url, { headers: user });
    assert.equal(r403.status, 403);
    assert.match(r403.body.detail, /only for yourself/);
    await ctx.request('POST', '/interactions', { headers: S, body: { user_id: 'shopper-1', product_id: n.neighbours[1], category: 'x' } });
    const strategies = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const r = await ctx.request('GET', url, { headers: S });
      assert.equal(r.status, 200);
      assert.ok(!r.body.some((x: any) => x.product_id === n.neighbours[1] || x.product_id === n.product_id), 'excluded');
      strategies.add(r.headers.get('x-recommendation-strategy')!);
      assert.ok(Number(r.headers.get('x-recommendation-decision')) > 0);
    }
    assert.ok(strategies.size >= 2, `the bandit explores: ${[...strategies]}`);
    // The user then interacts with a product the last answer showed: that decision is rewarded.
    const last = await ctx.request('GET', url, { headers: S });
    await ctx.request('POST', '/interactions', { headers: S, body: { user_id: 'shopper-1', product_id: last.body[0].product_id, category: 'x' } });
    const ev = await ctx.request('GET', '/api/v1/recommendations/evaluation', { headers: admin });
    assert.ok(ev.body.bandit.rewarded >= 1 && ev.body.bandit.decisions >= 1, JSON.stringify(ev.body.bandit));
    // A signed-in user may personalise for themselves.
    const me = await createAccount(ctx);
    const mine = await ctx.request('GET', `/category-recommendations?category=Kitchen&user_id=${me.id}`, { headers: me.headers });
    assert.equal(mine.status, 200);
  });

  test('the evaluation: leave-last-out metrics per strategy and the bandit\'s off-policy values', async () => {
    const r = await ctx.request('GET', '/api/v1/recommendations/evaluation', { headers: admin });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.rows.map((x: any) => x.strategy), ['interaction', 'category', 'popular']);
    assert.ok(r.body.users_evaluated >= 30);
    assert.equal(r.body.bandit.policy, 'egreedy');
    assert.ok(r.body.bandit.decisions >= 0);
  });
});
