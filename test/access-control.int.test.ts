// The access-control holes found by probing Arbiter as an attacker, each written as the attacker's
// request sequence: every one of these succeeded before the fix. Runs on PGlite, and on PostgreSQL
// (with Redis) when DATABASE_URL is set.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.ts';
import { loadConfig, type ConfigOverrides } from '../src/config.ts';
import { openDatabase, type Database } from '../src/platform/db.ts';
import { startTestApp, testAppOf, type TestApp } from './helpers/app.ts';
import { authHeaders, createAccount, type TestAccount } from './helpers/auth.ts';
import { createTestDatabase } from './helpers/db.ts';

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

let ctx: TestApp;
let admin: Record<string, string>;
before(async () => {
  ctx = await startTestApp({ streamsPerUser: 2 });
  admin = await authHeaders(ctx, 'admin');
});
after(() => ctx?.close());

/** An account with its external user_id. */
async function account(app: TestApp = ctx): Promise<TestAccount & { userId: string }> {
  const a = await createAccount(app);
  const me = await app.request('GET', '/api/v1/users/me', { headers: a.headers });
  return { ...a, userId: me.body.user_id };
}

describe('1. accounts and seed 002 rows belong to their user', () => {
  test('a user cannot delete, change or read another account through /users', async () => {
    const [mallory, alice] = [await account(), await account()];
    const adminMe = await ctx.request('GET', '/api/v1/users/me', { headers: admin });
    for (const victim of [alice.userId, adminMe.body.user_id]) {
      assert.equal((await ctx.request('DELETE', `/users/${victim}`, { headers: mallory.headers })).status, 403, 'delete');
      assert.equal((await ctx.request('PATCH', `/users/${victim}`, { headers: mallory.headers, body: { body_data: { x: 1 } } })).status, 404, 'patch');
      assert.equal((await ctx.request('PUT', `/users/${victim}`, { headers: mallory.headers, body: { body_data: { x: 1 } } })).status, 404, 'put');
      assert.equal((await ctx.request('GET', `/users/${victim}`, { headers: mallory.headers })).status, 404, 'get');
    }
    const list = await ctx.request('GET', '/users', { headers: mallory.headers });
    assert.deepEqual(list.body.map((u: { user_id: string }) => u.user_id), [mallory.userId], 'a user lists only their own profile');
    assert.equal(list.headers.get('x-total-count'), '1');
    assert.equal((await ctx.request('POST', '/users', { headers: mallory.headers, body: { user_id: 'someone-else' } })).status, 403);
    // Their own profile is theirs to change.
    const mine = await ctx.request('PATCH', `/users/${mallory.userId}`, { headers: mallory.headers, body: { body_data: { height: 170 } } });
    assert.equal(mine.status, 200);
    assert.equal((await ctx.request('GET', '/api/v1/users/me', { headers: alice.headers })).status, 200, 'alice is still there');
  });

  test("sessions, recordings and the event log: a user creates, reads, changes and deletes only their own rows", async () => {
    const [mallory, alice] = [await account(), await account()];
    const tag = randomBytes(4).toString('hex');
    const s = `s-${tag}`;
    assert.equal((await ctx.request('POST', '/sessions', { headers: alice.headers, body: { session_id: s, device_type: 'phone' } })).status, 201);
    const own = await ctx.request('GET', `/sessions/${s}`, { headers: alice.headers });
    assert.equal(own.body.user_id, alice.userId, "a row created without user_id is the creator's");
    assert.equal((await ctx.request('POST', '/sessions', { headers: mallory.headers, body: { session_id: `m-${tag}`, user_id: alice.userId } })).status, 403);
    assert.equal((await ctx.request('POST', '/recordings', { headers: mallory.headers, body: { recording_id: `r-${tag}`, user_id: alice.userId } })).status, 403);
    assert.equal((await ctx.request('POST', '/events', { headers: mallory.headers, body: { user_id: alice.userId, event_type: 'x' } })).status, 403);
    assert.equal((await ctx.request('GET', `/sessions/${s}`, { headers: mallory.headers })).status, 404);
    assert.equal((await ctx.request('PATCH', `/sessions/${s}`, { headers: mallory.headers, body: { region: 'evil' } })).status, 404);
    assert.equal((await ctx.request('PUT', `/sessions/${s}`, { headers: mallory.headers, body: { region: 'evil' } })).status, 404);
    assert.equal((await ctx.request('DELETE', `/sessions/${s}`, { headers: mallory.headers })).status, 404);
    assert.equal((await ctx.request('GET', `/sessions?user_id=${alice.userId}`, { headers: mallory.headers })).status, 403);
    const listed = await ctx.request('GET', '/sessions', { headers: mallory.headers });
    assert.equal(listed.body.length, 0, "alice's session is not in mallory's list");
    // Alice cannot give her row away either.
    assert.equal((await ctx.request('PATCH', `/sessions/${s}`, { headers: alice.headers, body: { user_id: mallory.userId } })).status, 403);
    const ev = await ctx.request('POST', '/events', { headers: alice.headers, body: { event_type: 'tap', session_id: s } });
    assert.equal(ev.status, 201);
    assert.equal((await ctx.request('DELETE', `/events/${ev.body.event_id}`, { headers: mallory.headers })).status, 404);
    // Nor refer to Alice's session from rows of his own: it is answered as missing, as a session that does not exist is.
    const attach = await ctx.request('POST', '/events', { headers: mallory.headers, body: { session_id: s, event_type: 'injected' } });
    assert.equal(attach.status, 422);
    const missing = await ctx.request('POST', '/events', { headers: mallory.headers, body: { session_id: `none-${tag}`, event_type: 'x' } });
    assert.equal(missing.status, 422);
    assert.equal(attach.body.detail.replace(s, 'X'), missing.body.detail.replace(`none-${tag}`, 'X'), 'no oracle for which sessions exist');
    assert.equal((await ctx.request('POST', '/recordings', { headers: mallory.headers, body: { recording_id: `rr-${tag}`, created_session_id: s } })).status, 422);
    assert.equal((await ctx.request('GET', `/sessions/${s}`, { headers: admin })).status, 200, 'admins see every row');
    assert.equal((await ctx.request('DELETE', `/events/${ev.body.event_id}`, { headers: alice.headers })).status, 204);
  });

  test('algos are read by every signed-in user and written by admins and services only', async () => {
    const user = await account();
    const id = `algo-${randomBytes(4).toString('hex')}`;
    assert.equal((await ctx.request('POST', '/algos', { headers: user.headers, body: { algo_id: id } })).status, 403);
    assert.equal((await ctx.request('POST', '/algos', { headers: admin, body: { algo_id: id, version: '1' } })).status, 201);
    assert.equal((await ctx.request('GET', `/algos/${id}`, { headers: user.headers })).status, 200);
    assert.equal((await ctx.request('PATCH', `/algos/${id}`, { headers: user.headers, body: { version: '2' } })).status, 403);
    assert.equal((await ctx.request('DELETE', `/algos/${id}`, { headers: user.headers })).status, 403);
    const service = await authHeaders(ctx, 'service');
    assert.equal((await ctx.request('PATCH', `/algos/${id}`, { headers: service, body: { version: '2' } })).status, 200);
  });

  test('deleting an account: admins only, never themselves, 409 while it has history, its tokens fail at once', async () => {
    const victim = await account();
    assert.equal((await ctx.request('DELETE', `/api/v1/users/${victim.id}/`, { headers: victim.headers })).status, 403);
    const me = await ctx.request('GET', '/api/v1/users/me', { headers: admin });
    assert.equal((await ctx.request('DELETE', `/users/${me.body.user_id}`, { headers: admin })).status, 409, 'not yourself');
    // Seed 001 events are financial history: the account is kept.
    const ev = await ctx.request('POST', '/api/events', { headers: victim.headers, body: { type: 'deposit', amount: '10.00', user_id: Number(victim.userId), time: 1 } });
    assert.equal(ev.status, 200, ev.text);
    const refused = await ctx.request('DELETE', `/users/${victim.userId}`, { headers: admin });
    assert.equal(refused.status, 409);
    assert.match(refused.body.detail, /history/);
    assert.equal((await ctx.request('GET', `/api/events?user_id=${victim.userId}`, { headers: admin })).body.length, 1, 'nothing was deleted');
    // Without history it goes, and its token stops working at once: 401, not 404.
    const other = await account();
    assert.equal((await ctx.request('GET', '/api/v1/users/me', { headers: other.headers })).status, 200);
    assert.equal((await ctx.request('DELETE', `/users/${other.userId}`, { headers: admin })).status, 204);
    const after = await ctx.request('GET', '/api/v1/users/me', { headers: other.headers });
    assert.equal(after.status, 401);
    assert.equal((await ctx.request('POST', '/api/v1/auth/refresh', { body: { refresh: other.refresh } })).status, 401);
  });
});

/** Two apps, one after the other, over one database: a restart. */
async function withRestarts(work: (start: (overrides?: ConfigOverrides, env?: Record<string, string>) => Promise<TestApp & { stop(): Promise<void> }>) => Promise<void>) {
  const testDb = await createTestDatabase();
  const limits = { rateLimitPerIp: 100_000, rateLimitPerAccount: 100_000 };
  const database: Database = await openDatabase(loadConfig({}, { ...testDb.config, dataDir: '' }));
  try {
    await work(async (overrides = {}, env = {}) => {
      const config = loadConfig({ LOG_LEVEL: 'silent', ...env }, { ...testDb.config, dataDir: '', ...overrides, auth: { ...limits, ...overrides.auth } });
      // One signing key across the restarts, as a deployment has.
      config.auth.secretKey = 'k'.repeat(16) + '0123456789abcdefghijklmnop';
      const app: FastifyInstance = await buildApp(config, { database });
      const url = await app.listen({ port: 0, host: '127.0.0.1' });
      return testAppOf({ app, url, config, close: () => app.close(), stop: () => app.close() });
    });
  } finally {
    await database.close();
    await testDb.drop();
  }
}

describe('2. no privilege escalation across a restart', () => {
  test('the bootstrap never promotes an existing non-admin account, and a password change ends its sessions', () =>
    withRestarts(async (start) => {
      const bootstrap = { ADMIN_EMAIL: 'boss@example.com', ADMIN_PASSWORD: 'the-boss-password' };
      // Mallory takes the admin's address before the first start that names it...
      let app = await start();
      const mallory = await createAccount(app);
      const squat = await app.request('PATCH', '/api/v1/users/update-me/', { headers: mallory.headers, body: { email: 'boss@example.com' } });
      assert.equal(squat.status, 200);
      await app.stop();
      // ...and after the restart her token is still a user's, and so is her account.
      app = await start({}, bootstrap);
      assert.equal((await app.request('GET', '/api/v1/api-keys/', { headers: mallory.headers })).status, 403);
      assert.equal((await app.request('GET', '/api/v1/users/me', { headers: mallory.headers })).body.role, 'user');
      const asBoss = await app.request('POST', '/api/v1/auth/login', { body: { email: 'boss@example.com', password: bootstrap.ADMIN_PASSWORD } });
      assert.equal(asBoss.status, 401, 'the bootstrap did not reset her password either');
      await app.stop();

      // A real bootstrap admin: created at the first start, and its sessions survive restarts that do not change the password.
      app = await start({}, { ADMIN_EMAIL: 'root@example.com', ADMIN_PASSWORD: 'first-password' });
      const first = await app.request('POST', '/api/v1/auth/login', { body: { email: 'root@example.com', password: 'first-password' } });
      assert.equal(first.status, 200);
      await app.stop();
      app = await start({}, { ADMIN_EMAIL: 'root@example.com', ADMIN_PASSWORD: 'first-password' });
      assert.equal((await app.request('GET', '/api/v1/api-keys/', { headers: bearer(first.body.access) })).status, 200, 'same password: sessions go on');
      await app.stop();
      app = await start({}, { ADMIN_EMAIL: 'root@example.com', ADMIN_PASSWORD: 'second-password' });
      assert.equal((await app.request('GET', '/api/v1/api-keys/', { headers: bearer(first.body.access) })).status, 401, 'a password reset ends old sessions');
      assert.equal((await app.request('POST', '/api/v1/auth/refresh', { body: { refresh: first.body.refresh } })).status, 401);
      assert.equal((await app.request('POST', '/api/v1/auth/login', { body: { email: 'root@example.com', password: 'second-password' } })).status, 200);
      await app.stop();
    }));
});

describe('3. admin signup', () => {
  test('with PRODUCTION=true it is closed unless ADMIN_SIGNUP=open', () =>
    withRestarts(async (start) => {
      const body = { email: `new-${randomBytes(3).toString('hex')}@pearmonie.com`, password: 'a-long-password' };
      let app = await start({}, { PRODUCTION: 'true', SECRET_KEY: 'x'.repeat(8) + 'abcdefghijklmnopqrstuvwxyz0123' });
      const closed = await app.request('POST', '/api/v1/auth/admin-signup/', { body });
      assert.equal(closed.status, 403);
      assert.match(closed.body.detail, /closed/);
      await app.stop();
      app = await start({}, { PRODUCTION: 'true', SECRET_KEY: 'x'.repeat(8) + 'abcdefghijklmnopqrstuvwxyz0123', ADMIN_SIGNUP: 'open' });
      assert.equal((await app.request('POST', '/api/v1/auth/admin-signup/', { body })).status, 201);
      await app.stop();
    }));

  test('admins list the self-made admins and demote one: its sessions end', async () => {
    const selfMade = await createAccount(ctx, 'admin');
    const list = await ctx.request('GET', '/api/v1/users/?role=admin&created_via=admin-signup&size=100', { headers: admin });
    assert.equal(list.status, 200);
    assert.ok(list.body.some((u: { id: number; created_via: string }) => u.id === selfMade.id && u.created_via === 'admin-signup'));
    const user = await account();
    assert.equal((await ctx.request('GET', '/api/v1/users/?role=admin', { headers: user.headers })).status, 403, 'only admins filter by role');
    assert.equal((await ctx.request('PATCH', `/api/v1/users/${selfMade.id}/`, { headers: admin, body: { role: 'user' } })).status, 200);
    assert.equal((await ctx.request('GET', '/api/v1/api-keys/', { headers: selfMade.headers })).status, 401);
    const again = await ctx.request('POST', '/api/v1/auth/login', { body: { email: selfMade.email, password: selfMade.password } });
    assert.equal((await ctx.request('GET', '/api/v1/api-keys/', { headers: bearer(again.body.access) })).status, 403, 'demoted');
  });
});

describe("4. seed 001: a user posts and reads only their own events and alerts", () => {
  test('events, alerts and the live stream are the caller\'s own; admins and services act for anyone', async () => {
    const [mallory, alice] = [await account(), await account()];
    const a = Number(alice.userId);
    const post = (headers: Record<string, string>, userId: number, amount: string, time: number) =>
      ctx.request('POST', '/api/events', { headers, body: { type: 'withdraw', amount, user_id: userId, time } });
    assert.equal((await post(mallory.headers, a, '200', 1)).status, 403, 'posting for someone else');
    assert.equal((await ctx.request('GET', `/api/events?user_id=${a}`, { headers: mallory.headers })).status, 403);
    assert.equal((await ctx.request('GET', `/api/alerts?user_id=${a}`, { headers: mallory.headers })).status, 403);
    // Asking for a cheaper count changes nothing: no total of someone else's alerts either.
    const counted = await ctx.request('GET', `/api/alerts?user_id=${a}`, { headers: { ...mallory.headers, prefer: 'count=planned' } });
    assert.equal(counted.status, 403);
    assert.equal(counted.headers.get('x-total-count'), null);
    assert.equal((await ctx.request('GET', `/api/alerts/stream?user_id=${a}`, { headers: mallory.headers })).status, 403);

    // Mallory's own stream, opened before Alice's alert: it must carry Mallory's alert only.
    const stream = await fetch(`${ctx.url}/api/alerts/stream`, { headers: mallory.headers });
    assert.equal(stream.status, 200);
    const reader = stream.body!.getReader();
    await reader.read(); // ": connected"
    assert.deepEqual((await post(alice.headers, a, '200', 1)).body.alert_codes, [1100]);
    assert.deepEqual((await post(await authHeaders(ctx, 'service'), a, '300', 2)).body.alert_codes, [1100], 'a service acts for anyone');
    assert.deepEqual((await post(mallory.headers, Number(mallory.userId), '150', 1)).body.alert_codes, [1100]);
    let text = '';
    while (!text.includes('event: alert')) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    const alerts = text.split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)));
    assert.deepEqual(alerts.map((x) => x.user_id), [Number(mallory.userId)], "only mallory's own alert reached her stream");

    const mine = await ctx.request('GET', '/api/events', { headers: mallory.headers });
    assert.deepEqual(mine.body.map((e: { user_id: number }) => e.user_id), [Number(mallory.userId)]);
    const hers = await ctx.request('GET', `/api/alerts?user_id=${a}`, { headers: admin });
    assert.equal(hers.body.length, 2, 'admins read anyone');
  });
});

describe('5. open streams', () => {
  test('a stream ends when its token is revoked; streams are capped per user', async () => {
    const user = await account();
    const open = async (headers: Record<string, string>) => {
      const res = await fetch(`${ctx.url}/api/alerts/stream`, { headers });
      return res;
    };
    const s1 = await open(user.headers);
    const s2 = await open(user.headers);
    assert.equal(s1.status, 200);
    assert.equal(s2.status, 200);
    const third = await open(user.headers);
    assert.equal(third.status, 429, 'at most STREAMS_PER_USER (2 here) per user');
    await third.text();
    await s2.body!.cancel();
    // Logging out ends the stream that the token opened, within the check interval.
    const reader = s1.body!.getReader();
    await reader.read();
    assert.equal((await ctx.request('POST', '/api/v1/auth/logout/', { headers: user.headers })).status, 200);
    const started = Date.now();
    for (;;) {
      const { done } = await reader.read();
      if (done) break;
    }
    assert.ok(Date.now() - started < 8000, 'the revoked stream was closed');

    // A password change by an admin ends the streams of the user's old tokens too.
    const other = await account();
    const s3 = await open(other.headers);
    const r3 = s3.body!.getReader();
    await r3.read();
    assert.equal((await ctx.request('PATCH', `/api/v1/users/${other.id}/`, { headers: admin, body: { password: 'changed-password-9' } })).status, 200);
    const t0 = Date.now();
    for (;;) {
      const { done } = await r3.read();
      if (done) break;
    }
    assert.ok(Date.now() - t0 < 8000, 'the stream of a token from before the password change was closed');
  });

  test('streams are capped per process too', async () => {
    const small = await startTestApp({ streamsTotal: 1 });
    try {
      const [a, b] = [await account(small), await account(small)];
      const first = await fetch(`${small.url}/api/alerts/stream`, { headers: a.headers });
      assert.equal(first.status, 200);
      const second = await fetch(`${small.url}/api/alerts/stream`, { headers: b.headers });
      assert.equal(second.status, 429);
      assert.ok(second.headers.get('retry-after'));
      await second.text();
      await first.body!.cancel();
    } finally {
      await small.close();
    }
  });

  test('a connection that never finishes its request head is closed', async () => {
    const slow = await startTestApp({ headersTimeoutMs: 1000 });
    try {
      const { port } = new URL(slow.url);
      const socket = net.connect(Number(port), '127.0.0.1');
      await new Promise((r) => socket.once('connect', r));
      socket.write('GET /health HTTP/1.1\r\nHost: x\r\n');
      const started = Date.now();
      let answer = '';
      socket.on('data', (d) => (answer += d));
      await new Promise((r) => socket.once('close', r));
      assert.match(answer, /^HTTP\/1\.1 408/);
      assert.ok(Date.now() - started < 5000, `closed after ${Date.now() - started} ms`);
    } finally {
      await slow.close();
    }
  });
});

describe('6. login throttling', () => {
  let limited: TestApp;
  before(async () => {
    limited = await startTestApp({ trustProxy: true, auth: { rateLimitPerAccount: 10, rateLimitPerIp: 1000 } });
  });
  after(() => limited?.close());
  const from = (ip: string) => ({ 'x-forwarded-for': ip });

  test('30 concurrent wrong passwords from 30 addresses: at most 10 reach the password check', async () => {
    const victim = await createAccount(limited);
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => limited.request('POST', '/api/v1/auth/login/', { headers: from(`10.0.0.${i + 1}`), body: { email: victim.email, password: `wrong-${i}` } })),
    );
    const counts = { 401: 0, 429: 0 } as Record<number, number>;
    for (const r of results) counts[r.status] = (counts[r.status] ?? 0) + 1;
    assert.deepEqual(counts, { 401: 10, 429: 20 });
    assert.ok(results.find((r) => r.status === 429)!.headers.get('retry-after'));
  });

  test('email, username, login and request_token share one bucket per account', async () => {
    const victim = await createAccount(limited);
    const name = `v${randomBytes(4).toString('hex')}`;
    assert.equal((await limited.request('PATCH', '/api/v1/users/update-me/', { headers: victim.headers, body: { username: name } })).status, 200);
    const tries = [];
    for (let i = 0; i < 10; i++) {
      tries.push(
        i % 2
          ? limited.request('POST', '/api/v1/auth/login/', { headers: from(`10.1.0.${i}`), body: { email: i % 4 === 1 ? victim.email : name, password: 'wrong-password' } })
          : limited.request('POST', '/request_token', { headers: from(`10.1.0.${i}`), body: { username: i % 4 === 0 ? name : victim.email, password: 'wrong-password' } }),
      );
    }
    assert.ok((await Promise.all(tries)).every((r) => r.status === 401));
    const eleventh = await limited.request('POST', '/request_token', { headers: from('10.1.1.1'), body: { username: name, password: 'wrong-password' } });
    assert.equal(eleventh.status, 429);
  });

  test('TRUST_PROXY=1 believes only the address the proxy appended, so a client cannot pose as a known address', async () => {
    const hop = await startTestApp({ trustProxy: 1, auth: { rateLimitPerAccount: 10, rateLimitPerIp: 1000 } });
    try {
      const victim = await createAccount(hop);
      const home = '192.0.2.44';
      assert.equal((await hop.request('POST', '/api/v1/auth/login/', { headers: from(home), body: { email: victim.email, password: victim.password } })).status, 200);
      for (let i = 0; i < 11; i++) {
        // The attacker names the victim's address first; the proxy appends the attacker's own.
        await hop.request('POST', '/api/v1/auth/login/', { headers: from(`${home}, 203.0.113.${i}`), body: { email: victim.email, password: 'guess' } });
      }
      const atHome = await hop.request('POST', '/api/v1/auth/login/', { headers: from(home), body: { email: victim.email, password: victim.password } });
      assert.equal(atHome.status, 200, 'the spoofed guesses did not count against the known address');
    } finally {
      await hop.close();
    }
    assert.deepEqual(loadConfig({ TRUST_PROXY: '10.0.0.1, 10.1.0.0/16' }).trustProxy, ['10.0.0.1', '10.1.0.0/16']);
    assert.equal(loadConfig({ TRUST_PROXY: '2' }).trustProxy, 2);
    assert.throws(() => loadConfig({ TRUST_PROXY: 'everyone' }), /TRUST_PROXY/);
  });

  test('during a lockout the real user still signs in from an address they used before; a new address waits', async () => {
    const victim = await createAccount(limited); // signed up and logged in from the test client's address
    const home = from('192.0.2.10');
    assert.equal((await limited.request('POST', '/api/v1/auth/login/', { headers: home, body: { email: victim.email, password: victim.password } })).status, 200);
    for (let i = 0; i < 12; i++) {
      await limited.request('POST', '/api/v1/auth/login/', { headers: from(`10.2.0.${i}`), body: { email: victim.email, password: 'guess' } });
    }
    const elsewhere = await limited.request('POST', '/api/v1/auth/login/', { headers: from('198.51.100.7'), body: { email: victim.email, password: victim.password } });
    assert.equal(elsewhere.status, 429, 'a new address is locked out with the attacker');
    const atHome = await limited.request('POST', '/api/v1/auth/login/', { headers: home, body: { email: victim.email, password: victim.password } });
    assert.equal(atHome.status, 200, 'the known address passes the lockout');
  });
});

describe('7. username squatting', () => {
  test("a username can never be an email, so it cannot shadow someone's login", async () => {
    const [mallory, alice] = [await account(), await account()];
    const squat = await ctx.request('PATCH', '/api/v1/users/update-me/', { headers: mallory.headers, body: { username: alice.email } });
    assert.equal(squat.status, 400);
    assert.match(squat.body.detail, /username/);
    assert.equal((await ctx.request('POST', '/api/v1/auth/register/', { body: { email: `x${randomBytes(3).toString('hex')}@example.com`, password: 'long-enough', username: alice.email } })).status, 400);
    assert.equal((await ctx.request('POST', '/api/v1/auth/login/', { body: { email: alice.email, password: alice.password } })).status, 200);
  });
});

describe('8. sessions end together', () => {
  test('logout without a body ends the refresh token of that sign-in; other sign-ins go on', async () => {
    const user = await account();
    const second = await ctx.request('POST', '/api/v1/auth/login/', { body: { email: user.email, password: user.password } });
    assert.equal((await ctx.request('POST', '/api/v1/auth/logout/', { headers: user.headers })).status, 200);
    assert.equal((await ctx.request('POST', '/api/v1/auth/refresh/', { body: { refresh: user.refresh } })).status, 401);
    assert.equal((await ctx.request('GET', '/api/v1/users/me', { headers: bearer(second.body.access) })).status, 200);
  });

  test("an admin's password change ends every old access and refresh token of that admin", async () => {
    const boss = await createAccount(ctx, 'admin');
    assert.equal((await ctx.request('PATCH', `/api/v1/users/${boss.id}/`, { headers: boss.headers, body: { password: 'a-brand-new-password' } })).status, 200);
    assert.equal((await ctx.request('GET', '/api/v1/users/me', { headers: boss.headers })).status, 401);
    assert.equal((await ctx.request('POST', '/api/v1/auth/refresh/', { body: { refresh: boss.refresh } })).status, 401);
    assert.equal((await ctx.request('POST', '/api/v1/auth/login/', { body: { email: boss.email, password: 'a-brand-new-password' } })).status, 200);
  });

  test('reusing a rotated refresh token ends the newer pair too', async () => {
    const user = await account();
    const rotated = await ctx.request('POST', '/api/v1/auth/refresh/', { body: { refresh: user.refresh } });
    assert.equal(rotated.status, 200);
    assert.equal((await ctx.request('POST', '/api/v1/auth/refresh/', { body: { refresh: user.refresh } })).status, 401);
    assert.equal((await ctx.request('GET', '/api/v1/users/me', { headers: bearer(rotated.body.access) })).status, 401);
    assert.equal((await ctx.request('POST', '/api/v1/auth/refresh/', { body: { refresh: rotated.body.refresh } })).status, 401);
  });
});

describe('9. id squatting', () => {
  test("seed 002 user_ids ahead of the account sequence are skipped, so registration keeps working", async () => {
    const before = await account();
    const next = Number(before.userId) + 1;
    for (let i = 0; i < 5; i++) {
      assert.equal((await ctx.request('POST', '/users', { headers: admin, body: { user_id: String(next + i) } })).status, 201);
    }
    for (let i = 0; i < 5; i++) {
      const a = await account();
      assert.ok(Number(a.userId) >= next + 5 || Number(a.userId) < next, `account ${a.userId} did not collide`);
    }
  });
});

describe('revocations are durable', () => {
  test("a logout holds after Redis loses Arbiter's keys, and after a restart", { skip: process.env.REDIS_URL ? false : 'needs REDIS_URL' }, () =>
    withRestarts(async (start) => {
      const { Redis } = await import('ioredis');
      const prefix = `arbiter:test:durable:${randomBytes(4).toString('hex')}:`;
      const env = { REDIS_URL: process.env.REDIS_URL!, REDIS_PREFIX: prefix };
      let app = await start({}, env);
      const user = await createAccount(app);
      assert.equal((await app.request('POST', '/api/v1/auth/logout/', { headers: user.headers })).status, 200);
      const redis = new Redis(process.env.REDIS_URL!);
      try {
        const keys = await redis.keys(`${prefix}*`);
        assert.ok(keys.some((k) => k.includes('revoked:')), 'the revocation reached Redis');
        await redis.del(...keys);
        assert.equal((await app.request('GET', '/api/v1/users/me', { headers: user.headers })).status, 401);
        await app.stop();
        app = await start({}, env);
        assert.equal((await app.request('GET', '/api/v1/users/me', { headers: user.headers })).status, 401, 'after a restart with an empty Redis');
        assert.equal((await app.request('POST', '/api/v1/auth/refresh/', { body: { refresh: user.refresh } })).status, 401);
        await app.stop();
      } finally {
        redis.disconnect();
      }
    }));
});
