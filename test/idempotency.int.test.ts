// Idempotency-Key on creating routes: a retry with the same key and request answers the first answer
// without storing anything again (also for concurrent duplicates, and after a restart: the record is in
// the database); the same key with another request is 422; keys belong to their caller.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { buildApp } from '../src/app.ts';
import { openDatabase, type Database } from '../src/platform/db.ts';
import { httpRequest, startTestApp, type TestApp } from './helpers/app.ts';
import { createAccount, type TestAccount } from './helpers/auth.ts';

let ctx: TestApp;
let alice: TestAccount;
let bob: TestAccount;

before(async () => {
  ctx = await startTestApp();
  alice = await createAccount(ctx);
  bob = await createAccount(ctx);
});
after(async () => ctx?.close());

const newKey = () => `k-${randomBytes(8).toString('hex')}`;
const deposit = (who: TestAccount, key: string | undefined, amount = '10.00', time = 1) =>
  ctx.request('POST', '/api/events', { body: { type: 'deposit', amount, user_id: who.id, time }, headers: { ...who.headers, ...(key ? { 'idempotency-key': key } : {}) } });
const storedEvents = async (who: TestAccount) => (await ctx.request('GET', `/api/events?user_id=${who.id}&size=100`, { headers: who.headers })).body.length as number;

describe('Idempotency-Key', () => {
  test('a retry answers the first answer and stores nothing again', async () => {
    const before = await storedEvents(alice);
    const key = newKey();
    const first = await deposit(alice, key);
    assert.equal(first.status, 200, first.text);
    assert.equal(first.headers.get('idempotent-replayed'), null);
    const again = await deposit(alice, key);
    assert.equal(again.status, 200);
    assert.equal(again.text, first.text);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.equal(await storedEvents(alice), before + 1);
    // Without a key, the same request is a new event, as before.
    assert.equal((await deposit(alice, undefined)).status, 200);
    assert.equal(await storedEvents(alice), before + 2);
  });

  test('10 concurrent requests with one key: one stored row, 10 identical answers', async () => {
    const before = await storedEvents(alice);
    const key = newKey();
    const answers = await Promise.all(Array.from({ length: 10 }, () => deposit(alice, key, '7.00', 2)));
    for (const a of answers) {
      assert.equal(a.status, 200, a.text);
      assert.equal(a.text, answers[0].text);
    }
    assert.equal(answers.filter((a) => a.headers.get('idempotent-replayed') === 'true').length, 9);
    assert.equal(await storedEvents(alice), before + 1);
  });

  test('the same key with a different body, path or method is a 422, and stores nothing', async () => {
    const key = newKey();
    assert.equal((await deposit(alice, key, '1.00')).status, 200);
    const before = await storedEvents(alice);
    const other = await deposit(alice, key, '2.00');
    assert.equal(other.status, 422, other.text);
    assert.match(other.body.detail, /Idempotency-Key was used with a different request/);
    const elsewhere = await ctx.request('POST', '/users', { body: { user_id: `idem-${key}` }, headers: { ...alice.headers, 'idempotency-key': key } });
    assert.equal(elsewhere.status, 422, elsewhere.text);
    assert.equal(await storedEvents(alice), before);
  });

  test("a key is its caller's: another user's same key runs as their own request", async () => {
    const key = newKey();
    const a = await deposit(alice, key, '3.00');
    const b = await deposit(bob, key, '3.00');
    assert.equal(a.status, 200);
    assert.equal(b.status, 200, b.text);
    assert.equal(b.headers.get('idempotent-replayed'), null, 'not the other caller’s answer');
    assert.equal(b.body.user_id, bob.id);
  });

  test('client errors are replayed too; a malformed key is a 400', async () => {
    const key = newKey();
    const bad = await ctx.request('POST', '/api/events', { body: { type: 'deposit', amount: '-1', user_id: alice.id, time: 1 }, headers: { ...alice.headers, 'idempotency-key': key } });
    assert.equal(bad.status, 400);
    const again = await ctx.request('POST', '/api/events', { body: { type: 'deposit', amount: '-1', user_id: alice.id, time: 1 }, headers: { ...alice.headers, 'idempotency-key': key } });
    assert.equal(again.status, 400);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    for (const k of ['x'.repeat(256), 'with space', 'caf\u00e9']) {
      const r = await deposit(alice, k);
      assert.equal(r.status, 400, `${k}: ${r.text}`);
      assert.match(r.body.detail, /idempotency-key/i);
    }
  });

  test('seed 002 creates replay their 201 and Location', async () => {
    const key = newKey();
    const body = { user_id: `idem-user-${key}` };
    const first = await ctx.request('POST', '/users', { body, headers: { ...alice.headers, 'idempotency-key': key } });
    // A user creates only their own profile: whatever the first answer was, the retry gets it again.
    const again = await ctx.request('POST', '/users', { body, headers: { ...alice.headers, 'idempotency-key': key } });
    assert.equal(again.status, first.status);
    assert.equal(again.text, first.text);
    assert.equal(again.headers.get('location'), first.headers.get('location'));
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
  });

  test('after a restart (a new server over the same database) the key still answers the first answer', async () => {
    const database: Database = await openDatabase({ ...ctx.config });
    const key = newKey();
    const first = buildApp(ctx.config, { database });
    const app1 = await first;
    const url1 = await app1.listen({ port: 0, host: '127.0.0.1' });
    const carol = await createAccount({ ...ctx, url: url1, request: (m, p, o = {}) => httpRequest(url1, m, p, o) });
    const send = (url: string) => httpRequest(url, 'POST', '/api/events', { body: { type: 'deposit', amount: '5.00', user_id: carol.id, time: 1 }, headers: { ...carol.headers, 'idempotency-key': key } });
    const a = await send(url1);
    assert.equal(a.status, 200, a.text);
    await app1.close();
    const app2 = await buildApp(ctx.config, { database, migrate: false });
    try {
      const url2 = await app2.listen({ port: 0, host: '127.0.0.1' });
      const b = await send(url2);
      assert.equal(b.status, 200, b.text);
      assert.equal(b.text, a.text);
      assert.equal(b.headers.get('idempotent-replayed'), 'true');
      const list = await httpRequest(url2, 'GET', `/api/events?user_id=${carol.id}`, { headers: carol.headers });
      assert.equal(list.body.length, 1);
    } finally {
      await app2.close();
      await database.close();
    }
  });

  test('the header is documented on the creating routes', async () => {
    const doc = (await ctx.request('GET', '/openapi.json')).body;
    for (const [path, method] of [['/api/events', 'post'], ['/users', 'post'], ['/api/v1/action', 'post'], ['/api/v1/store/products', 'post']] as const) {
      const params = (doc.paths[path]?.[method]?.parameters ?? []) as { name: string; in: string }[];
      assert.ok(params.some((p) => p.in === 'header' && p.name === 'idempotency-key'), `${method} ${path}`);
    }
  });
});
