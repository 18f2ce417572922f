// The CLI and the server process: migrate, reset-db, create-admin, graceful SIGTERM, and what an
// embedded database keeps after kill -9.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { httpRequest } from './helpers/app.ts';
import { createTestDatabase, usingPostgres, type TestDatabase } from './helpers/db.ts';
import { CLI, exited, killAllServers, spawnServer } from './helpers/server.ts';

let testDb: TestDatabase;
let dataDir: string;

const ADMIN = { email: 'ops@example.com', password: 'ops-password-123' };

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  // Every server here bootstraps the same admin; tests act as it.
  const e: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn', DATA_DIR: dataDir, ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, ...extra };
  if (testDb.config.databaseUrl) e.DATABASE_URL = testDb.config.databaseUrl;
  else delete e.DATABASE_URL;
  return e;
}

function cli(args: string[], extra: Record<string, string> = {}) {
  return spawnSync(process.execPath, [CLI, ...args], { env: env(extra), encoding: 'utf8', timeout: 60_000 });
}

/** Starts `arbiter serve` and signs in as the bootstrap admin; `call` sends authenticated requests. */
async function startServer(extra: Record<string, string> = {}) {
  const { proc, url } = await spawnServer(env(extra));
  const login = await httpRequest(url, 'POST', '/api/v1/auth/login', { body: ADMIN });
  assert.equal(login.status, 200, login.text);
  const headers = { authorization: `Bearer ${login.body.access}` };
  const call = (method: string, path: string, body?: unknown) => httpRequest(url, method, path, { body, headers });
  return { proc, url, call };
}

before(async () => {
  testDb = await createTestDatabase();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbiter-cli-'));
});
after(async () => {
  await killAllServers();
  await testDb.drop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('CLI', () => {
  test('without a command it prints usage and fails', () => {
    const r = cli([]);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /usage: arbiter/);
  });
  test('an unknown command fails with usage', () => {
    const r = cli(['frobnicate']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown command 'frobnicate'/);
  });
  test('a bad setting is refused with a clear message', () => {
    const r = cli(['migrate'], { PORT: 'eighty' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /PORT must be an integer/);
  });
  test('migrate applies migrations and is idempotent', () => {
    for (let i = 0; i < 2; i++) {
      const r = cli(['migrate']);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /migrations applied/);
    }
  });
  test('create-admin creates an admin who can log in, then updates rather than duplicates', async () => {
    const r = cli(['create-admin', '--email', 'root@example.com', '--password', 'first-password']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /admin root@example.com ready \(id (\d+), user_id \1\)/);
    const again = cli(['create-admin', '--email', 'ROOT@example.com', '--password', 'second-password']);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(/id (\d+)/.exec(again.stdout)?.[1], /id (\d+)/.exec(r.stdout)?.[1]);
    assert.equal(cli(['create-admin', '--email', 'x@example.com']).status, 2, 'a password is required');
    assert.equal(cli(['create-admin', '--email', 'x@example.com', '--password', 'short']).status, 2);

    const key = cli(['create-api-key', '--email', 'root@example.com', '--name', 'ci', '--scopes', 'user,admin']);
    assert.equal(key.status, 0, key.stderr);
    assert.match(key.stdout.trim(), /^arb_[\w-]{32}$/);
    assert.equal(cli(['create-api-key', '--email', 'root@example.com', '--name', 'x', '--scopes', 'god']).status, 2);

    const { proc, url } = await spawnServer(env());
    const old = await httpRequest(url, 'POST', '/api/v1/auth/login', { body: { email: 'root@example.com', password: 'first-password' } });
    assert.equal(old.status, 401, 'the old password no longer works');
    const login = await httpRequest(url, 'POST', '/api/v1/auth/login', { body: { email: 'root@example.com', password: 'second-password' } });
    assert.equal(login.status, 200);
    const me = await httpRequest(url, 'GET', '/api/v1/users/me', { headers: { authorization: `Bearer ${login.body.access}` } });
    assert.equal(me.body.role, 'admin');
    const viaKey = await httpRequest(url, 'GET', '/api/v1/api-keys', { headers: { 'x-api-key': key.stdout.trim() } });
    assert.equal(viaKey.status, 200, 'the CLI key works as an admin key');
    proc.kill('SIGTERM');
    await exited(proc);
  });
  test('reset-db refuses without --yes, and with it leaves an empty migrated database', async () => {
    const { proc, call } = await startServer();
    assert.equal((await call('POST', '/users', { user_id: 'keep-me' })).status, 201);
    proc.kill('SIGTERM');
    await exited(proc);

    const refused = cli(['reset-db']);
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /--yes/);
    const s1 = await startServer();
    assert.equal((await s1.call('GET', '/users/keep-me')).status, 200, 'a refused reset keeps the data');
    s1.proc.kill('SIGTERM');
    await exited(s1.proc);

    const r = cli(['reset-db', '--yes']);
    assert.equal(r.status, 0, r.stderr);
    const s2 = await startServer();
    assert.equal((await s2.call('GET', '/users/keep-me')).status, 404);
    assert.equal((await s2.call('POST', '/users', { user_id: 'after-reset' })).status, 201);
    s2.proc.kill('SIGTERM');
    await exited(s2.proc);
  });
});

describe('server process', () => {
  test('SIGTERM lets in-flight requests finish, then exits 0', async () => {
    const { proc, call } = await startServer();
    // Many writes in flight when the signal lands: every one that was accepted must complete.
    const writes = Array.from({ length: 40 }, (_, i) => call('POST', '/users', { user_id: `inflight-${i}` }).catch((e: Error) => e));
    await new Promise((r) => setTimeout(r, 5));
    proc.kill('SIGTERM');
    const results = await Promise.all(writes);
    const { code } = await exited(proc);
    assert.equal(code, 0);
    const ok = results.filter((r) => !(r instanceof Error) && r.status === 201).length;
    // A request that arrived while the server was closing is answered in Arbiter's shape, never Fastify's.
    for (const r of results) {
      if (r instanceof Error || r.status === 201) continue;
      assert.equal(r.status, 503, JSON.stringify(r.body));
      assert.equal(r.body.code, 'UNAVAILABLE');
    }
    const s = await startServer();
    const listed = await s.call('GET', '/users?size=100');
    const stored = listed.body.filter((u: { user_id: string }) => u.user_id.startsWith('inflight-')).length;
    assert.ok(ok > 0, 'some writes were in flight');
    assert.equal(stored, ok, 'every acknowledged write is stored, and nothing else');
    s.proc.kill('SIGTERM');
    assert.equal((await exited(s.proc)).code, 0);
  });

  test('a second server on the same DATA_DIR is refused (embedded)', { skip: usingPostgres && 'embedded only' }, async () => {
    const { proc } = await startServer();
    const r = cli(['migrate']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /is in use by process/);
    proc.kill('SIGTERM');
    await exited(proc);
  });

  test('kill -9 keeps every acknowledged write (embedded)', { skip: usingPostgres && 'embedded only' }, async () => {
    const { proc, call } = await startServer();
    const acked: string[] = [];
    for (let i = 0; i < 60; i++) {
      const res = await call('POST', '/events', { event_type: 'durable', event_data: { i } });
      assert.equal(res.status, 201);
      acked.push(String(res.body.event_id));
    }
    proc.kill('SIGKILL');
    await exited(proc);
    const s = await startServer(); // also proves the stale lock of the killed process is taken over
    const res = await s.call('GET', '/events?event_type=durable&size=100');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.map((e: { event_id: number }) => String(e.event_id)).sort(), acked.sort());
    s.proc.kill('SIGTERM');
    assert.equal((await exited(s.proc)).code, 0);
  });
});
