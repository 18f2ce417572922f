// Auth through HTTP: seed 004's account and token endpoints, seed 003's token flow, forged and revoked
// tokens, roles, API keys, the service secret and brute-force throttling.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SignJWT, decodeProtectedHeader } from 'jose';
import { buildApp } from '../src/app.ts';
import { ConfigError, loadConfig } from '../src/config.ts';
import { startTestApp, httpRequest, type TestApp } from './helpers/app.ts';
import { createAccount } from './helpers/auth.ts';
import { createTestDatabase, usingPostgres } from './helpers/db.ts';
import { exited, killAllServers, spawnServer, viaServer } from './helpers/server.ts';
import { runScenarios, type Scenario } from './helpers/scenarios.ts';

const SECRET = 'test-secret-with-enough-entropy-0123456789abcdef';
let ctx: TestApp;
before(async () => {
  ctx = await startTestApp({ auth: { secretKey: SECRET, clientHeaderSecret: 'shared-service-secret' } });
});
after(() => ctx?.close());
const app = () => ctx;
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

describe('seed 004: register, admin signup, login', () => {
  const scenarios: Scenario[] = [
    { name: 'register', method: 'POST', url: '/api/v1/auth/register/', body: { first_name: 'Ada', last_name: 'Lovelace', email: 'ada@example.com', password: 'analytical-engine' }, status: 201, contains: { email: 'ada@example.com', first_name: 'Ada', last_name: 'Lovelace', role: 'user' }, check: (r) => assert.ok(!('password' in r.body) && !('password_hash' in r.body)) },
    { name: 'signup alias', method: 'POST', url: '/api/v1/auth/signup', body: { first_name: 'Bob', last_name: 'B', email: 'bob@example.com', password: 'bob-password' }, status: 201, contains: { role: 'user' } },
    { name: 'duplicate email (any case) is 409', method: 'POST', url: '/api/v1/auth/register/', body: { first_name: 'A', last_name: 'L', email: 'ADA@example.com', password: 'another-password' }, status: 409, detail: 'email already exists' },
    { name: 'missing password is 400', method: 'POST', url: '/api/v1/auth/register/', body: { first_name: 'C', last_name: 'C', email: 'c@example.com' }, status: 400, detail: "missing required field 'password'" },
    { name: 'short password is 400', method: 'POST', url: '/api/v1/auth/register/', body: { email: 'c@example.com', password: 'short' }, status: 400, detail: 'password' },
    { name: 'invalid email is 400', method: 'POST', url: '/api/v1/auth/register/', body: { email: 'not-an-email', password: 'long-enough-pw' }, status: 400, detail: 'email' },
    { name: 'register cannot choose a role', method: 'POST', url: '/api/v1/auth/register/', body: { email: 'd@example.com', password: 'long-enough-pw', role: 'admin' }, status: 400, detail: "unknown field 'role'" },
    { name: 'admin signup with the domain', method: 'POST', url: '/api/v1/auth/admin-signup/', body: { first_name: 'Root', last_name: 'R', email: 'root@pearmonie.com', password: 'root-password' }, status: 201, contains: { role: 'admin' } },
    { name: 'admin signup outside the domain is 403', method: 'POST', url: '/api/v1/auth/admin-signup/', body: { first_name: 'E', last_name: 'E', email: 'eve@example.com', password: 'eve-password' }, status: 403, detail: '@pearmonie.com' },
    { name: 'admin signup with a look-alike domain is 403', method: 'POST', url: '/api/v1/auth/admin-signup/', body: { email: 'eve@pearmonie.com.evil.io', password: 'eve-password' }, status: 403 },
    { name: 'login', method: 'POST', url: '/api/v1/auth/login/', body: { email: 'ada@example.com', password: 'analytical-engine' }, status: 200, check: (r) => {
      assert.equal(typeof r.body.access, 'string');
      assert.equal(typeof r.body.refresh, 'string');
    } },
    { name: 'login with the wrong password is 401', method: 'POST', url: '/api/v1/auth/login/', body: { email: 'ada@example.com', password: 'wrong-password' }, status: 401, detail: 'No active account found' },
    { name: 'login of an unknown account is 401 with the same detail', method: 'POST', url: '/api/v1/auth/login/', body: { email: 'nobody@example.com', password: 'whatever-pw' }, status: 401, detail: 'No active account found' },
    { name: 'login without password is 400', method: 'POST', url: '/api/v1/auth/login/', body: { email: 'ada@example.com' }, status: 400, detail: 'password' },
  ];
  test('scenarios', (t) => runScenarios(t, app, scenarios));

  test('the token carries exp, iat, jti, sub, iss and aud and works as Bearer or Token', async () => {
    const { access } = (await ctx.request('POST', '/api/v1/auth/login', { body: { email: 'ada@example.com', password: 'analytical-engine' } })).body;
    const payload = JSON.parse(Buffer.from(access.split('.')[1], 'base64url').toString());
    for (const claim of ['exp', 'iat', 'jti', 'sub', 'iss', 'aud']) assert.ok(claim in payload, claim);
    assert.equal(payload.exp - payload.iat, 30 * 60, 'TOKEN_EXPIRE_IN_MINUTES defaults to 30');
    assert.equal((await ctx.request('GET', '/api/v1/users/me/', { headers: bearer(access) })).body.email, 'ada@example.com');
    assert.equal((await ctx.request('GET', '/api/v1/users/me/', { headers: { authorization: `Token ${access}` } })).status, 200);
    assert.equal((await ctx.request('GET', '/api/v1/users/me/', { headers: { authorization: `Basic ${access}` } })).status, 401);
  });
});

describe('tokens: refresh rotation, logout, revocation', () => {
  test('refresh gives a new pair; the used refresh token cannot be used again, and reusing it ends the sign-in', async () => {
    const acct = await createAccount(ctx);
    const r1 = await ctx.request('POST', '/api/v1/auth/refresh/', { body: { refresh: acct.refresh } });
    assert.equal(r1.status, 200);
    assert.notEqual(r1.body.access, acct.access);
    assert.equal((await ctx.request('GET', '/api/v1/users/me', { headers: bearer(r1.body.access) })).status, 200);
    const r2 = await ctx.request('POST', '/api/v1/auth/refresh/', { body: { refresh: r1.body.refresh } });
    assert.equal(r2.status, 200, 'the rotated refresh token works once');
    assert.equal((await ctx.request('POST', '/api/v1/auth/refresh/', { body: { refresh: acct.access } })).status, 401, 'an access token is not a refresh token');
    const reuse = await ctx.request('POST', '/api/v1/auth/refresh/', { body: { refresh: acct.refresh } });
    assert.equal(reuse.status, 401);
    assert.equal((await ctx.request('GET', '/api/v1/users/me', { headers: bearer(r2.body.access) })).status, 401, 'reuse ended the newest pair too');
    assert.equal((await ctx.request('POST', '/api/v1/auth/refresh/', { body: { refresh: r2.body.refresh } })).status, 401);
  });

  test('concurrent use of one refresh token: exactly one wins', async () => {
    const acct = await createAccount(ctx);
    const results = await Promise.all(Array.from({ length: 8 }, () => ctx.request('POST', '/api/v1/auth/refresh', { body: { refresh: acct.refresh } })));
    assert.equal(results.filter((r) => r.status === 200).length, 1);
    assert.ok(results.every((r) => r.status === 200 || r.status === 401));
  });

  test('logout revokes the access token (and the refresh token given)', async () => {
    const acct = await createAccount(ctx);
    const out = await ctx.request('POST', '/api/v1/auth/logout/', { headers: acct.headers, body: { refresh: acct.refresh } });
    assert.equal(out.status, 200);
    const reuse = await ctx.request('GET', '/api/v1/users/me/', { headers: acct.headers });
    assert.equal(reuse.status, 401);
    assert.equal(reuse.body.detail, 'Failed to validate');
    assert.equal((await ctx.request('POST', '/api/v1/auth/refresh', { body: { refresh: acct.refresh } })).status, 401);
    assert.equal((await ctx.request('POST', '/api/v1/auth/logout/', { headers: acct.headers })).status, 401, 'a revoked token cannot log out again');
  });

  test('refresh-blacklist revokes a refresh token and ends its sign-in; other sign-ins go on', async () => {
    const acct = await createAccount(ctx);
    const other = await ctx.request('POST', '/api/v1/auth/login/', { body: { email: acct.email, password: acct.password } });
    const res = await ctx.request('POST', '/api/v1/auth/refresh-blacklist/', { body: { refresh: acct.refresh } });
    assert.equal(res.status, 200);
    assert.equal((await ctx.request('POST', '/api/v1/auth/refresh', { body: { refresh: acct.refresh } })).status, 401);
    assert.equal((await ctx.request('GET', '/api/v1/users/me', { headers: acct.headers })).status, 401, "the sign-in's access token ends too");
    assert.equal((await ctx.request('GET', '/api/v1/users/me', { headers: bearer(other.body.access) })).status, 200, 'another sign-in is untouched');
  });

  test('forged tokens are refused: alg none, tampered payload, wrong key, expired, wrong audience', async () => {
    const acct = await createAccount(ctx);
    const admin = await createAccount(ctx, 'admin');
    const [h, p, sig] = acct.access.split('.');
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const sign = (claims: object, key = SECRET) =>
      new SignJWT({ token_type: 'access', ...claims }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(key));
    const forged = {
      'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${p}.`,
      'alg none with signature': `${b64({ alg: 'none', typ: 'JWT' })}.${p}.${sig}`,
      'tampered payload (sub of the admin)': `${h}.${b64({ ...payload, sub: String(admin.id) })}.${sig}`,
      'wrong key': await sign({ ...payload }, 'some-other-secret-of-decent-length-000000'),
      expired: await sign({ ...payload, iat: now - 7200, exp: now - 3600 }),
      'wrong audience': await sign({ ...payload, aud: 'someone-else' }),
      'no jti': await sign({ sub: payload.sub, iat: now, exp: now + 600, iss: payload.iss, aud: payload.aud }),
      'refresh used as access': acct.refresh,
      garbage: 'abc.def.ghi',
    };
    for (const [name, token] of Object.entries(forged)) {
      const res = await ctx.request('GET', '/api/v1/users/me', { headers: bearer(token) });
      assert.equal(res.status, 401, name);
      assert.equal(res.body.detail, 'Failed to validate', name);
    }
    const good = await sign({ ...payload, jti: 'fresh-jti', iat: now, exp: now + 600 });
    assert.equal((await ctx.request('GET', '/api/v1/users/me', { headers: bearer(good) })).status, 200, 'the same construction with the right key is accepted (the test can fail)');
  });

  test('tokens of deleted users stop working at once', async () => {
    const victim = await createAccount(ctx);
    const admin = await createAccount(ctx, 'admin');
    assert.equal((await ctx.request('DELETE', `/api/v1/users/${victim.id}/`, { headers: admin.headers })).status, 204);
    assert.equal((await ctx.request('GET', '/api/v1/users/me', { headers: victim.headers })).status, 401);
  });
});

describe('seed 003: /request_token', () => {
  test('username or email and password give a bearer token that opens private routes', async () => {
    const acct = await createAccount(ctx, 'user', { username: 'grace' });
    for (const username of ['grace', acct.email]) {
      const res = await ctx.request('POST', '/request_token', { body: { username, password: acct.password } });
      assert.equal(res.status, 200);
      assert.equal(res.body.token_type, 'bearer');
      assert.equal(res.body.token, res.body.access_token);
      assert.equal((await ctx.request('GET', '/users', { headers: bearer(res.body.token) })).status, 200);
    }
  });
  test('the seed 003 error details', async () => {
    const wrong = await ctx.request('POST', '/request_token', { body: { username: 'grace', password: 'nope-nope' } });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.detail, 'Unauthorized access');
    const missing = await ctx.request('GET', '/algos');
    assert.equal(missing.status, 401);
    assert.equal(missing.body.detail, 'Not authenticated');
    const invalid = await ctx.request('GET', '/algos', { headers: bearer('invalid') });
    assert.equal(invalid.body.detail, 'Failed to validate');
    assert.equal((await ctx.request('POST', '/request_token', { body: { username: 'grace' } })).status, 400);
  });
});

describe('users: me, update-me, admin operations', () => {
  let user: Awaited<ReturnType<typeof createAccount>>;
  let other: Awaited<ReturnType<typeof createAccount>>;
  let admin: Awaited<ReturnType<typeof createAccount>>;
  before(async () => {
    user = await createAccount(ctx);
    other = await createAccount(ctx);
    admin = await createAccount(ctx, 'admin');
  });
  test('me and update-me', async () => {
    const me = await ctx.request('GET', '/api/v1/users/me/', { headers: user.headers });
    assert.equal(me.body.email, user.email);
    const upd = await ctx.request('PATCH', '/api/v1/users/update-me/', { headers: user.headers, body: { first_name: 'Renamed', username: 'renamed_user' } });
    assert.equal(upd.status, 200);
    assert.equal(upd.body.first_name, 'Renamed');
    assert.equal(upd.body.role, 'user');
  });
  test('update-me cannot escalate privileges', async () => {
    for (const body of [{ role: 'admin' }, { is_active: true, first_name: 'x' }, { password_hash: 'x' }, { id: 1 }, { user_id: '1' }]) {
      const res = await ctx.request('PATCH', '/api/v1/users/update-me/', { headers: user.headers, body });
      assert.equal(res.status, 400, JSON.stringify(body));
    }
    assert.equal((await ctx.request('GET', '/api/v1/users/me', { headers: user.headers })).body.role, 'user');
    assert.equal((await ctx.request('GET', '/api/v1/api-keys', { headers: user.headers })).status, 403);
  });
  test('update-me to a taken email is 409', async () => {
    const res = await ctx.request('PATCH', '/api/v1/users/update-me', { headers: user.headers, body: { email: other.email.toUpperCase() } });
    assert.equal(res.status, 409);
  });
  test('a user sees public fields of others; an admin sees all', async () => {
    const asUser = await ctx.request('GET', `/api/v1/users/${other.id}/`, { headers: user.headers });
    assert.equal(asUser.status, 200);
    assert.deepEqual(Object.keys(asUser.body).sort(), ['first_name', 'id', 'last_name', 'username']);
    const asAdmin = await ctx.request('GET', `/api/v1/users/${other.id}/`, { headers: admin.headers });
    assert.equal(asAdmin.body.email, other.email);
    const list = await ctx.request('GET', '/api/v1/users/?size=100', { headers: user.headers });
    assert.equal(list.status, 200);
    assert.ok(list.body.every((u: object) => !('email' in u) && !('password_hash' in u)));
    const adminList = await ctx.request('GET', '/api/v1/users/?size=100', { headers: admin.headers });
    assert.ok(adminList.body.some((u: { email?: string }) => u.email === other.email));
    assert.ok(!adminList.text.includes('argon2'), 'no hash anywhere');
    assert.equal((await ctx.request('GET', '/api/v1/users/999999/', { headers: user.headers })).status, 404);
  });
  test('only admins change or delete other users', async () => {
    assert.equal((await ctx.request('PATCH', `/api/v1/users/${other.id}/`, { headers: user.headers, body: { first_name: 'x' } })).status, 403);
    assert.equal((await ctx.request('DELETE', `/api/v1/users/${other.id}/`, { headers: user.headers })).status, 403);
    const promote = await ctx.request('PATCH', `/api/v1/users/${other.id}/`, { headers: admin.headers, body: { role: 'admin', first_name: 'Promoted' } });
    assert.equal(promote.status, 200);
    assert.equal(promote.body.role, 'admin');
    assert.equal((await ctx.request('GET', '/api/v1/api-keys', { headers: other.headers })).status, 401, 'a role change ends the sessions from before it');
    const relogin = await ctx.request('POST', '/api/v1/auth/login', { body: { email: other.email, password: other.password } });
    assert.equal((await ctx.request('GET', '/api/v1/api-keys', { headers: bearer(relogin.body.access) })).status, 200, 'a new sign-in has the new role');
    assert.equal((await ctx.request('PATCH', `/api/v1/users/${other.id}/`, { headers: admin.headers, body: { role: 'root' } })).status, 400);
    assert.equal((await ctx.request('PATCH', '/api/v1/users/999999/', { headers: admin.headers, body: { first_name: 'x' } })).status, 404);
    assert.equal((await ctx.request('DELETE', `/api/v1/users/${admin.id}/`, { headers: admin.headers })).status, 409, 'an admin cannot delete themselves');
    const deactivate = await ctx.request('PATCH', `/api/v1/users/${user.id}/`, { headers: admin.headers, body: { is_active: false } });
    assert.equal(deactivate.status, 200);
    assert.equal((await ctx.request('GET', '/api/v1/users/me', { headers: user.headers })).status, 401, 'a deactivated account is locked out');
    assert.equal((await ctx.request('POST', '/api/v1/auth/login', { body: { email: user.email, password: user.password } })).status, 401);
  });
});

describe('API keys and the service secret', () => {
  test('an admin creates a key shown once; it works as Bearer and X-API-Key until revoked', async () => {
    const admin = await createAccount(ctx, 'admin');
    const user = await createAccount(ctx);
    const created = await ctx.request('POST', '/api/v1/api-keys/', { headers: admin.headers, body: { name: 'ingest', user_id: user.id } });
    assert.equal(created.status, 201);
    const key: string = created.body.key;
    assert.match(key, /^arb_/);
    assert.deepEqual(created.body.scopes, ['user']);
    const list = await ctx.request('GET', '/api/v1/api-keys/', { headers: admin.headers });
    assert.ok(!list.text.includes(key), 'the key is never listed');
    assert.ok(list.body.some((k: { prefix: string }) => key.startsWith(k.prefix)));

    assert.equal((await ctx.request('GET', '/algos', { headers: bearer(key) })).status, 200);
    assert.equal((await ctx.request('GET', '/algos', { headers: { 'x-api-key': key } })).status, 200);
    assert.equal((await ctx.request('GET', '/api/v1/users/me', { headers: { 'x-api-key': key } })).body.id, user.id, 'the key acts as its user');
    assert.equal((await ctx.request('GET', '/api/v1/api-keys', { headers: { 'x-api-key': key } })).status, 403, 'a user-scoped key is no admin');
    assert.equal((await ctx.request('GET', '/algos', { headers: { 'x-api-key': `${key}x` } })).status, 401);

    assert.equal((await ctx.request('POST', '/api/v1/api-keys/', { headers: user.headers, body: { name: 'mine' } })).status, 403);
    assert.equal((await ctx.request('POST', '/api/v1/api-keys/', { headers: admin.headers, body: { name: 'x', user_id: user.id, scopes: ['admin'] } })).status, 422);
    assert.equal((await ctx.request('POST', '/api/v1/api-keys/', { headers: admin.headers, body: { name: 'x', scopes: ['root'] } })).status, 400);

    assert.equal((await ctx.request('DELETE', `/api/v1/api-keys/${created.body.id}/`, { headers: admin.headers })).status, 204);
    assert.equal((await ctx.request('GET', '/algos', { headers: { 'x-api-key': key } })).status, 401);
    assert.equal((await ctx.request('DELETE', `/api/v1/api-keys/${created.body.id}/`, { headers: admin.headers })).status, 404);
  });

  test('Client-Header-Secret opens service routes only', async () => {
    const ok = await ctx.request('GET', '/metrics', { headers: { 'client-header-secret': 'shared-service-secret' } });
    assert.equal(ok.status, 200);
    const missing = await ctx.request('GET', '/metrics');
    assert.equal(missing.status, 401);
    assert.equal(missing.body.detail, 'Token is missing!');
    const wrong = await ctx.request('GET', '/metrics', { headers: { 'client-header-secret': 'guess' } });
    assert.equal(wrong.body.detail, 'Invalid token!');
    assert.equal((await ctx.request('GET', '/algos', { headers: { 'client-header-secret': 'shared-service-secret' } })).status, 401, 'the secret is not a user credential');
  });

  test('the OpenAPI document declares the security of every route', async () => {
    const doc = (await ctx.request('GET', '/openapi.json')).body;
    assert.ok(doc.components.securitySchemes.bearerAuth && doc.components.securitySchemes.apiKey && doc.components.securitySchemes.clientHeaderSecret);
    for (const [p, ops] of Object.entries(doc.paths as Record<string, Record<string, { security?: unknown[] }>>)) {
      for (const [m, op] of Object.entries(ops)) assert.ok(Array.isArray(op.security), `${m} ${p} declares security`);
    }
    assert.deepEqual(doc.paths['/api/v1/auth/login'].post.security, []);
    assert.ok(doc.paths['/users'].get.security.length > 0);
  });
});

describe('brute force throttling', () => {
  test('login is limited per account and per IP with Retry-After', async () => {
    const limited = await startTestApp({ auth: { rateLimitPerAccount: 3, rateLimitPerIp: 8, rateLimitWindowSec: 60 } });
    try {
      const acct = await createAccount(limited);
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await limited.request('POST', '/api/v1/auth/login', { body: { email: acct.email, password: 'wrong-guess' } })).status);
      assert.deepEqual(statuses, [401, 401, 401, 429]);
      const blocked = await limited.request('POST', '/api/v1/auth/login', { body: { email: acct.email, password: acct.password } });
      assert.equal(blocked.status, 429, 'even the right password waits out the window');
      assert.ok(Number(blocked.headers.get('retry-after')) > 0);
      // The per-IP limit (8 in the window, sign-up and login counted) trips on other accounts too.
      let last = 0;
      for (let i = 0; i < 6; i++) last = (await limited.request('POST', '/request_token', { body: { username: `x${i}@example.com`, password: 'nope-nope' } })).status;
      assert.equal(last, 429);
    } finally {
      await limited.close();
    }
  });
});

describe('keys and secrets', () => {
  test('PRODUCTION refuses a missing or weak SECRET_KEY', () => {
    assert.throws(() => loadConfig({ PRODUCTION: 'true' }), ConfigError);
    assert.throws(() => loadConfig({ PRODUCTION: 'true', SECRET_KEY: 'changeme' }), /weak/);
    assert.throws(() => loadConfig({ PRODUCTION: 'true', SECRET_KEY: 'a'.repeat(40) }), /weak/);
    assert.doesNotThrow(() => loadConfig({ PRODUCTION: 'true', SECRET_KEY: 'Zq8vK2mP9xR4tW7yB1nC5dF3gH6jL0sA' }));
  });

  test('EdDSA keys sign tokens when configured', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const ed = await startTestApp({ auth: { jwtPrivateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, jwtPublicKey: publicKey.export({ type: 'spki', format: 'pem' }) as string } });
    try {
      const acct = await createAccount(ed);
      assert.equal(decodeProtectedHeader(acct.access).alg, 'EdDSA');
      assert.equal((await ed.request('GET', '/api/v1/users/me', { headers: acct.headers })).status, 200);
    } finally {
      await ed.close();
    }
  });

  test('without SECRET_KEY a generated key in DATA_DIR survives a restart, and so do revocations', { skip: usingPostgres && 'embedded restart' }, async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbiter-auth-'));
    const config = loadConfig({ LOG_LEVEL: 'silent' }, { dataDir, databaseUrl: null, memoryDb: false });
    try {
      let a = await buildApp(config);
      let url = await a.listen({ port: 0, host: '127.0.0.1' });
      const view = { request: (m: string, p: string, o = {}) => httpRequest(url, m, p, o), config } as unknown as TestApp;
      const kept = await createAccount(view);
      const revoked = await createAccount(view);
      assert.equal((await httpRequest(url, 'POST', '/api/v1/auth/logout', { headers: revoked.headers })).status, 200);
      await a.close();
      assert.ok(fs.statSync(path.join(dataDir, 'secret.key')).mode & 0o600);
      a = await buildApp(config);
      url = await a.listen({ port: 0, host: '127.0.0.1' });
      assert.equal((await httpRequest(url, 'GET', '/api/v1/users/me', { headers: kept.headers })).status, 200, 'sessions survive a restart');
      assert.equal((await httpRequest(url, 'GET', '/api/v1/users/me', { headers: revoked.headers })).status, 401, 'revocations survive a restart');
      await a.close();
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('revocation across processes sharing one database', { skip: !usingPostgres && 'needs PostgreSQL' }, () => {
  after(killAllServers);
  test('a logout on one server process is refused by another within the sync interval', async () => {
    const db = await createTestDatabase();
    const env = { ...process.env, LOG_LEVEL: 'warn', DATABASE_URL: db.config.databaseUrl!, SECRET_KEY: SECRET, REVOCATION_SYNC_MS: '100', REDIS_PREFIX: `arbiter:test:${Date.now()}:` };
    try {
      const [a, b] = await Promise.all([spawnServer(env), spawnServer(env)]);
      const acct = await createAccount(viaServer(a.url));
      const onB = (m: string, p: string, o: object = {}) => httpRequest(b.url, m, p, o);
      assert.equal((await onB('GET', '/api/v1/users/me', { headers: acct.headers })).status, 200, "B accepts A's token");
      assert.equal((await httpRequest(a.url, 'POST', '/api/v1/auth/logout', { headers: acct.headers })).status, 200);
      await new Promise((r) => setTimeout(r, 400));
      const res = await onB('GET', '/api/v1/users/me', { headers: acct.headers });
      assert.equal(res.status, 401, 'B sees the revocation made on A');
      const second = await createAccount(viaServer(b.url));
      assert.equal((await onB('POST', '/api/v1/auth/refresh', { body: { refresh: second.refresh } })).status, 200);
      assert.equal((await httpRequest(a.url, 'POST', '/api/v1/auth/refresh', { body: { refresh: second.refresh } })).status, 401, 'a refresh token used on B is spent on A');
      for (const p of [a.proc, b.proc]) p.kill('SIGTERM');
      await Promise.all([exited(a.proc), exited(b.proc)]);
    } finally {
      await killAllServers();
      await db.drop();
    }
  });
});
