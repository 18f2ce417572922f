// Seed 004's stores and products through HTTP: sign-up stores, the ownership rule both ways (admins
// all, users their own, someone else's store or product 404), the original's messages, views, order,
// filters and bad input. Currency conversion is in commerce-currency.int.test.ts, concurrency and
// facts in commerce-views.int.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { createAccount, type TestAccount } from './helpers/auth.ts';
import { checkScenario, runScenarios, type Scenario } from './helpers/scenarios.ts';

let ctx: TestApp;
let alice: TestAccount;
let bob: TestAccount;
let admin: TestAccount;
let aliceStore: number;
let bobStore: number;

const local = (email: string) => email.split('@')[0];
const S = '/api/v1/store/';
const P = '/api/v1/store/products/';

before(async () => {
  ctx = await startTestApp();
  [alice, bob, admin] = await Promise.all([createAccount(ctx), createAccount(ctx), createAccount(ctx, 'admin')]);
});
after(() => ctx?.close());

describe('sign-up stores', () => {
  test('every non-admin account has "<email local part> Store" when register answers', async () => {
    for (const u of [alice, bob]) {
      const res = await ctx.request('GET', S, { headers: u.headers });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.length, 1);
      assert.deepEqual({ name: res.body[0].name, owner: res.body[0].owner, owner_id: res.body[0].owner_id }, { name: `${local(u.email)} Store`, owner: u.email, owner_id: u.id });
      assert.equal(res.headers.get('x-total-count'), '1');
    }
    aliceStore = (await ctx.request('GET', S, { headers: alice.headers })).body[0].id;
    bobStore = (await ctx.request('GET', S, { headers: bob.headers })).body[0].id;
  });

  test('straight after register (before any login) the store is there', async () => {
    const email = `fresh-${Date.now()}@example.com`;
    const reg = await ctx.request('POST', '/api/v1/auth/register/', { body: { email, password: 'pw-fresh-secret-1', first_name: 'F', last_name: 'R' } });
    assert.equal(reg.status, 201, reg.text);
    const all = await ctx.request('GET', `${S}?size=100`, { headers: admin.headers });
    assert.ok(all.body.some((s: { owner_id: number; name: string }) => s.owner_id === reg.body.id && s.name === `fresh-${email.slice(6, email.indexOf('@'))} Store`));
  });

  test('admins get no store', async () => {
    const res = await ctx.request('GET', `${S}?size=100`, { headers: admin.headers });
    assert.equal(res.status, 200);
    assert.ok(!res.body.some((s: { owner_id: number }) => s.owner_id === admin.id));
  });
});

describe('stores: ownership both ways', () => {
  test('scenarios', async (t) => {
    const scenarios: Scenario[] = [
      { name: 'no credentials: 401', method: 'GET', url: S, status: 401 },
      { name: 'create: owner is the caller', method: 'POST', url: S, headers: alice.headers, body: { name: 'Second' }, status: 201, contains: { name: 'Second', owner: alice.email, owner_id: alice.id } },
      { name: 'a client may send the read-only owner back: ignored', method: 'POST', url: S, headers: alice.headers, body: { name: 'Third', owner: 'someone@else' }, status: 201, contains: { owner: alice.email } },
      {
        name: 'list: users see their own, newest first',
        method: 'GET',
        url: S,
        headers: alice.headers,
        status: 200,
        check: (r) => assert.deepEqual(r.body.map((s: { name: string }) => s.name), ['Third', 'Second', `${local(alice.email)} Store`]),
      },
      { name: 'list: admins see every store', method: 'GET', url: `${S}?size=100`, headers: admin.headers, status: 200, check: (r) => assert.ok(r.body.length >= 5) },
      { name: "retrieve another user's store: 404", method: 'GET', url: `${S}${bobStore}/`, headers: alice.headers, status: 404, detail: 'No Store matches the given query.' },
      { name: 'retrieve own (no trailing slash works too)', method: 'GET', url: `${S}${aliceStore}`, headers: alice.headers, status: 200, contains: { id: aliceStore } },
      { name: 'admin retrieves any store', method: 'GET', url: `${S}${bobStore}/`, headers: admin.headers, status: 200, contains: { id: bobStore, owner: bob.email } },
      { name: "PUT another user's store: 404", method: 'PUT', url: `${S}${bobStore}/`, headers: alice.headers, body: { name: 'mine now' }, status: 404 },
      { name: "PATCH another user's store: 404", method: 'PATCH', url: `${S}${bobStore}/`, headers: alice.headers, body: { name: 'mine now' }, status: 404 },
      { name: "DELETE another user's store: 404", method: 'DELETE', url: `${S}${bobStore}/`, headers: alice.headers, status: 404 },
      { name: 'PUT own store', method: 'PUT', url: `${S}${aliceStore}/`, headers: alice.headers, body: { name: 'Alice Renamed' }, status: 200, contains: { name: 'Alice Renamed', owner: alice.email } },
      { name: 'admin PATCHes any store and the owner stays', method: 'PATCH', url: `${S}${bobStore}/`, headers: admin.headers, body: { name: 'Bob by admin' }, status: 200, contains: { name: 'Bob by admin', owner: bob.email, owner_id: bob.id } },
      { name: 'bob still owns it', method: 'GET', url: `${S}${bobStore}/`, headers: bob.headers, status: 200, contains: { name: 'Bob by admin' } },
      // bad input
      { name: 'name missing: 400 naming it', method: 'POST', url: S, headers: alice.headers, body: {}, status: 400, detail: "'name'" },
      { name: 'name empty: 400', method: 'POST', url: S, headers: alice.headers, body: { name: '' }, status: 400, detail: 'name' },
      { name: 'name too long: 400', method: 'POST', url: S, headers: alice.headers, body: { name: 'x'.repeat(256) }, status: 400, detail: 'name' },
      { name: 'name a number: 400', method: 'POST', url: S, headers: alice.headers, body: { name: 5 }, status: 400, detail: 'name' },
      { name: 'unknown field: 400', method: 'POST', url: S, headers: alice.headers, body: { name: 'a', evil: true }, status: 400, detail: "'evil'" },
      { name: 'id not an integer: 400', method: 'GET', url: `${S}abc/`, headers: alice.headers, status: 400, detail: 'id' },
      { name: 'id beyond bigint: 400', method: 'GET', url: `${S}99999999999999999999/`, headers: alice.headers, status: 400 },
      { name: 'unknown id: 404', method: 'GET', url: `${S}987654321/`, headers: admin.headers, status: 404 },
      { name: 'page 0: 400', method: 'GET', url: `${S}?page=0`, headers: alice.headers, status: 400, detail: 'page' },
    ];
    await runScenarios(t, () => ctx, scenarios);
  });

  test('delete own store: the seed answer, and its products go with it', async () => {
    const store = await ctx.request('POST', S, { headers: bob.headers, body: { name: 'Doomed' } });
    const prod = await ctx.request('POST', P, { headers: bob.headers, body: { name: 'gone', price: '1.00', store_id: store.body.id } });
    assert.equal(prod.status, 201, prod.text);
    await checkScenario(ctx, { name: 'delete', method: 'DELETE', url: `${S}${store.body.id}/`, headers: bob.headers, status: 200, check: (r) => assert.deepEqual(r.body, { detail: 'Store deleted successfully.' }) });
    await checkScenario(ctx, { name: 'product gone', method: 'GET', url: `${P}${prod.body.id}/`, headers: bob.headers, status: 404 });
    await checkScenario(ctx, { name: 'store gone', method: 'GET', url: `${S}${store.body.id}/`, headers: admin.headers, status: 404 });
  });
});

describe('every commerce route needs credentials', () => {
  test('401 without a token, and for a token that is not one', async () => {
    const routes: [string, string][] = [
      ['GET', S], ['POST', S], ['GET', `${S}1/`], ['PUT', `${S}1/`], ['PATCH', `${S}1/`], ['DELETE', `${S}1/`],
      ['GET', P], ['POST', P], ['GET', `${P}most-popular/`], ['GET', `${P}1/`], ['PUT', `${P}1/`], ['PATCH', `${P}1/`], ['DELETE', `${P}1/`],
    ];
    for (const [method, url] of routes) {
      for (const headers of [{}, { authorization: 'Bearer not-a-token' }] as Record<string, string>[]) {
        const res = await ctx.request(method, url, { headers, body: method === 'GET' || method === 'DELETE' ? undefined : { name: 'x', price: '1' } });
        assert.equal(res.status, 401, `${method} ${url}: ${res.text}`);
      }
    }
  });
});

describe('products', () => {
  let aliceProduct: number;
  let bobProduct: number;

  test('create with own store_id: README form, price as two decimals', async () => {
    const res = await checkScenario(ctx, {
      name: 'create',
      method: 'POST',
      url: P,
      headers: alice.headers,
      body: { name: 'New Product', description: 'Product Description', price: '10.00', quantity: 100, category: 'Category Name', store_id: aliceStore },
      status: 201,
      contains: { name: 'New Product', description: 'Product Description', price: '10.00', quantity: 100, category: 'Category Name', store: aliceStore, views_count: 0, converted_price: '10.00', owner: alice.email },
    });
    assert.ok(res.body.created_at && res.body.updated_at);
    aliceProduct = res.body.id;
  });

  test('create: the original\'s rules and messages', async (t) => {
    const noStore = await createAccount(ctx);
    const own = await ctx.request('GET', S, { headers: noStore.headers });
    await ctx.request('DELETE', `${S}${own.body[0].id}/`, { headers: noStore.headers });
    const scenarios: Scenario[] = [
      { name: "another user's store_id: 403", method: 'POST', url: P, headers: alice.headers, body: { name: 'x', price: '1.00', store_id: bobStore }, status: 403, detail: 'Only store owners or Admins can add product to store.' },
      { name: 'no store_id: the newest own store', method: 'POST', url: P, headers: bob.headers, body: { name: 'Bob thing', price: 5, quantity: '3' }, status: 201, contains: { store: bobStore, price: '5.00', quantity: 3 } },
      { name: 'no store at all: 400', method: 'POST', url: P, headers: noStore.headers, body: { name: 'x', price: '1.00' }, status: 400, detail: 'No store available for this user. Admins must provide a store explicitly.' },
      { name: 'admin without store_id: 400', method: 'POST', url: P, headers: admin.headers, body: { name: 'x', price: '1.00' }, status: 400, detail: 'No store available for this user. Admins must provide a store explicitly.' },
      { name: 'admin adds to any store', method: 'POST', url: P, headers: admin.headers, body: { name: 'Admin added', price: '2.50', store_id: bobStore }, status: 201, contains: { store: bobStore, owner: bob.email } },
      { name: 'store_id as a string of digits', method: 'POST', url: P, headers: alice.headers, body: { name: 's', price: '0', store_id: String(aliceStore) }, status: 201, contains: { store: aliceStore, price: '0.00' } },
      { name: 'store_id null = newest store', method: 'POST', url: P, headers: alice.headers, body: { name: 'n', price: '0.5', store_id: null }, status: 201, contains: { price: '0.50' } },
      { name: 'unknown store_id: 400', method: 'POST', url: P, headers: admin.headers, body: { name: 'x', price: '1.00', store_id: 987654321 }, status: 400, detail: 'store_id' },
    ];
    await runScenarios(t, () => ctx, scenarios);
    const list = await ctx.request('GET', P, { headers: bob.headers });
    bobProduct = list.body.find((p: { name: string }) => p.name === 'Bob thing').id;
  });

  test('bad input: 400 naming the field', async (t) => {
    const bad = (name: string, body: unknown, detail: string): Scenario => ({ name, method: 'POST', url: P, headers: alice.headers, body, status: 400, detail });
    await runScenarios(t, () => ctx, [
      bad('price negative', { name: 'x', price: '-1.00' }, 'price'),
      bad('price three decimals', { name: 'x', price: '1.234' }, 'price'),
      bad('price text', { name: 'x', price: 'ten' }, 'price'),
      bad('price boolean', { name: 'x', price: true }, 'price'),
      bad('price huge', { name: 'x', price: '10000000000000.00' }, 'price'),
      bad('price float noise', { name: 'x', price: 0.1 + 0.2 }, 'price'),
      bad('price exponent', { name: 'x', price: '1e3' }, 'price'),
      bad('price missing', { name: 'x' }, "'price'"),
      bad('quantity negative', { name: 'x', price: '1', quantity: -1 }, 'quantity'),
      bad('quantity fractional', { name: 'x', price: '1', quantity: 1.5 }, 'quantity'),
      bad('quantity too big', { name: 'x', price: '1', quantity: 2_147_483_648 }, 'quantity'),
      bad('quantity text', { name: 'x', price: '1', quantity: 'lots' }, 'quantity'),
      bad('name missing', { price: '1' }, "'name'"),
      bad('name empty', { name: '', price: '1' }, 'name'),
      bad('description not a string', { name: 'x', price: '1', description: { a: 1 } }, 'description'),
      bad('store_id zero', { name: 'x', price: '1', store_id: 0 }, 'store_id'),
      bad('store_id text', { name: 'x', price: '1', store_id: 'abc' }, 'store_id'),
      bad('unknown field', { name: 'x', price: '1', colour: 'red' }, "'colour'"),
      { name: 'deep nesting', method: 'POST', url: P, headers: { ...alice.headers, 'content-type': 'application/json' }, rawBody: `{"name":"x","price":"1","description":${'['.repeat(5000)}${']'.repeat(5000)}}`, status: 400 },
      { name: 'not JSON', method: 'POST', url: P, headers: { ...alice.headers, 'content-type': 'application/json' }, rawBody: '{"name":', status: 400 },
      { name: 'bad min_price', method: 'GET', url: `${P}?min_price=abc`, headers: alice.headers, status: 400, detail: 'min_price' },
      { name: 'bad size', method: 'GET', url: `${P}?size=1000`, headers: alice.headers, status: 400, detail: 'size' },
      { name: 'unknown query parameter', method: 'GET', url: `${P}?colour=red`, headers: alice.headers, status: 400, detail: 'colour' },
      { name: 'NUL in q: 400', method: 'GET', url: `${P}?q=a%00b`, headers: alice.headers, status: 400 },
      { name: 'NUL in category: 400', method: 'GET', url: `${P}?category=a%00b`, headers: alice.headers, status: 400 },
      { name: 'NUL in a name: 400', method: 'POST', url: P, headers: alice.headers, body: { name: 'a\u0000b', price: '1' }, status: 400 },
      { name: 'empty currency: 400', method: 'GET', url: `${P}?currency=`, headers: alice.headers, status: 400, detail: 'currency' },
      { name: 'huge currency: 400', method: 'GET', url: `${P}?currency=${'E'.repeat(5000)}`, headers: alice.headers, status: 400, detail: 'currency' },
      { name: 'store filter zero: 400', method: 'GET', url: `${P}?store=0`, headers: alice.headers, status: 400, detail: 'store' },
      { name: 'far page: empty', method: 'GET', url: `${P}?page=1000000`, headers: alice.headers, status: 200, contains: [] },
      { name: 'huge description: 400', method: 'POST', url: P, headers: alice.headers, body: { name: 'x', price: '1', description: 'd'.repeat(10_001) }, status: 400, detail: 'description' },
    ]);
  });

  test('update and delete: ownership both ways', async (t) => {
    await runScenarios(t, () => ctx, [
      { name: "PUT another user's product: 404", method: 'PUT', url: `${P}${bobProduct}/`, headers: alice.headers, body: { name: 'stolen', price: '1.00' }, status: 404, detail: 'No Product matches the given query.' },
      { name: "PATCH another user's product: 404", method: 'PATCH', url: `${P}${bobProduct}/`, headers: alice.headers, body: { price: '0.01' }, status: 404 },
      { name: "DELETE another user's product: 404", method: 'DELETE', url: `${P}${bobProduct}/`, headers: alice.headers, status: 404 },
      {
        name: 'PUT own product (README body)',
        method: 'PUT',
        url: `${P}${aliceProduct}/`,
        headers: alice.headers,
        body: { name: 'Updated Product', description: 'Updated Description', price: '12.00', quantity: 150, category: 'Updated Category' },
        status: 200,
        contains: { name: 'Updated Product', description: 'Updated Description', price: '12.00', quantity: 150, category: 'Updated Category', store: aliceStore, converted_price: '12.00' },
      },
      { name: 'PUT without price: 400', method: 'PUT', url: `${P}${aliceProduct}/`, headers: alice.headers, body: { name: 'x' }, status: 400, detail: "'price'" },
      { name: 'PATCH one field', method: 'PATCH', url: `${P}${aliceProduct}/`, headers: alice.headers, body: { quantity: 7 }, status: 200, contains: { quantity: 7, price: '12.00' } },
      { name: 'PATCH bad price: 400', method: 'PATCH', url: `${P}${aliceProduct}/`, headers: alice.headers, body: { price: '-3' }, status: 400, detail: 'price' },
      { name: "PATCH moving to another user's store: 403", method: 'PATCH', url: `${P}${aliceProduct}/`, headers: alice.headers, body: { store_id: bobStore }, status: 403, detail: 'Only store owners' },
      { name: 'admin PATCHes any product; the owner stays', method: 'PATCH', url: `${P}${bobProduct}/`, headers: admin.headers, body: { price: '6.00' }, status: 200, contains: { price: '6.00', owner: bob.email, store: bobStore } },
      { name: 'a client may send back the whole product', method: 'PUT', url: `${P}${aliceProduct}/`, headers: alice.headers, body: { id: 1, name: 'Round trip', description: '', price: '12.00', quantity: 1, category: 'c', store: 99, views_count: 1000, converted_price: '1', owner: 'x', created_at: 'x', updated_at: 'x' }, status: 200, contains: { name: 'Round trip', views_count: 0, store: aliceStore } },
    ]);
  });

  test('list: users see their own stores\' products, admins all, newest first', async () => {
    const mine = await ctx.request('GET', P, { headers: alice.headers });
    assert.equal(mine.status, 200);
    assert.ok(mine.body.length >= 3);
    assert.ok(mine.body.every((p: { owner: string }) => p.owner === alice.email));
    const ids = mine.body.map((p: { id: number }) => p.id);
    assert.deepEqual(ids, [...ids].sort((a, b) => b - a), 'newest first');
    assert.equal(mine.headers.get('x-total-count'), String(mine.body.length));
    const all = await ctx.request('GET', P, { headers: admin.headers });
    assert.ok(all.body.some((p: { owner: string }) => p.owner === bob.email) && all.body.some((p: { owner: string }) => p.owner === alice.email));
  });

  test('views: retrieve increments, answers the new count, records the viewer; any signed-in user may view', async () => {
    const a = await ctx.request('GET', `${P}${bobProduct}/`, { headers: alice.headers });
    assert.equal(a.status, 200, a.text);
    assert.equal(a.body.views_count, 1);
    const b = await ctx.request('GET', `${P}${bobProduct}`, { headers: bob.headers });
    assert.equal(b.body.views_count, 2);
    await ctx.request('GET', `${P}${bobProduct}/`, { headers: alice.headers });
    const list = await ctx.request('GET', P, { headers: bob.headers });
    assert.equal(list.body.find((p: { id: number }) => p.id === bobProduct).views_count, 3, 'lists do not count as views');
    const missing = await ctx.request('GET', `${P}987654321/`, { headers: alice.headers });
    assert.equal(missing.status, 404);
  });

  test('most-popular: every product by views_count', async () => {
    for (let i = 0; i < 2; i++) await ctx.request('GET', `${P}${aliceProduct}/`, { headers: bob.headers });
    await ctx.request('GET', `${P}${bobProduct}/`, { headers: bob.headers });
    const res = await ctx.request('GET', `${P}most-popular/`, { headers: alice.headers });
    assert.equal(res.status, 200, res.text);
    const counts = res.body.map((p: { views_count: number }) => p.views_count);
    assert.deepEqual(counts, [...counts].sort((x, y) => y - x));
    assert.equal(res.body[0].id, bobProduct);
    assert.equal(res.body[0].views_count, 4);
    assert.equal(res.body[1].id, aliceProduct);
    assert.ok(res.body.some((p: { owner: string }) => p.owner === bob.email), "other users' products too");
  });

  test('filters and full-text search; X-Total-Count and page/size', async () => {
    const store = (await ctx.request('POST', S, { headers: alice.headers, body: { name: 'Search shop' } })).body.id;
    const items = [
      { name: 'Red running shoes', description: 'Light shoes for road running', price: '59.99', category: 'Shoes' },
      { name: 'Blue sandals', description: 'For the beach', price: '19.50', category: 'shoes' },
      { name: 'Coffee mug', description: 'Holds coffee', price: '8.00', category: 'Kitchen' },
    ];
    for (const it of items) assert.equal((await ctx.request('POST', P, { headers: alice.headers, body: { ...it, store_id: store } })).status, 201);
    const names = async (query: string, h = alice.headers) => {
      const r = await ctx.request('GET', `${P}?store=${store}&${query}`, { headers: h });
      assert.equal(r.status, 200, r.text);
      return { names: r.body.map((p: { name: string }) => p.name), total: r.headers.get('x-total-count') };
    };
    assert.deepEqual((await names('category=SHOES')).names, ['Blue sandals', 'Red running shoes']);
    assert.deepEqual((await names('min_price=10&max_price=59.99')).names, ['Blue sandals', 'Red running shoes']);
    assert.deepEqual((await names('max_price=8')).names, ['Coffee mug']);
    assert.deepEqual((await names('q=run')).names, ['Red running shoes'], 'stemmed: run matches running');
    assert.deepEqual((await names('q=coffee')).names, ['Coffee mug']);
    assert.deepEqual((await names('q=' + encodeURIComponent('"road running" -beach'))).names, ['Red running shoes']);
    assert.deepEqual((await names("q=%27%3B%20drop%20table%20products%3B--")).names, []);
    const page = await names('size=2&page=2');
    assert.deepEqual(page, { names: ['Red running shoes'], total: '3' });
    assert.deepEqual((await names('', bob.headers)).names, [], "another user filtering by alice's store sees nothing");
  });
});
