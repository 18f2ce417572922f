// Seed 000 across processes: policy versions and decisions survive a restart (embedded PGlite on disk,
// or PostgreSQL), replaying bit for bit on the new process; and on PostgreSQL, identical requests for
// one (user_id, decision_idx) split across two server processes give one decision.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { httpRequest } from './helpers/app.ts';
import { authHeaders } from './helpers/auth.ts';
import { createTestDatabase, usingPostgres, type TestDatabase } from './helpers/db.ts';
import { exited, killAllServers, spawnServer, viaServer } from './helpers/server.ts';

let testDb: TestDatabase;
let dataDir: string;
let env: NodeJS.ProcessEnv;

before(async () => {
  testDb = await createTestDatabase();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbiter-decisions-'));
  env = { ...process.env, LOG_LEVEL: 'warn', DATA_DIR: dataDir, SECRET_KEY: randomBytes(32).toString('hex'), ...(testDb.config.databaseUrl ? { DATABASE_URL: testDb.config.databaseUrl } : {}) };
});

after(async () => {
  await killAllServers();
  await testDb?.drop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

const T = (h: number) => new Date(Date.UTC(2026, 1, 1, h)).toISOString();

describe('decisions across processes', () => {
  test('versions and decisions survive a restart and replay on the new process', async () => {
    const first = await spawnServer(env);
    const svc = await authHeaders(viaServer(first.url), 'service');
    const admin = await authHeaders(viaServer(first.url), 'admin');
    const call = (url: string, method: string, p: string, body?: unknown, h = svc) => httpRequest(url, method, p, { body, headers: h });
    assert.equal((await call(first.url, 'POST', '/api/v1/problems', { name: 'durable', config: { actions: ['a', 'b', 'c'], policy: { kind: 'thompson' }, context: { mode: 'schema', numeric: ['x'] } } }, admin)).status, 201);
    assert.equal((await call(first.url, 'POST', '/api/v1/add_user', { user_id: 'restart-1' })).status, 201);
    const ids: number[] = [];
    for (let i = 0; i < 8; i++) {
      const a = await call(first.url, 'POST', '/api/v1/action', { user_id: 'restart-1', timestamp: T(i), decision_idx: i, problem: 'durable', context: { x: i / 4 } });
      assert.equal(a.status, 201, a.text);
      ids.push(a.body.decision_id);
      await call(first.url, 'POST', '/api/v1/upload_data', { user_id: 'restart-1', timestamp: T(i), decision_idx: i, problem: 'durable', data: { outcome: { clicks: i % 3 === 0 ? 1 : 0 } } });
    }
    const upd = await call(first.url, 'POST', '/api/v1/update', { timestamp: T(12), problem: 'durable' });
    assert.equal(upd.status, 200, upd.text);
    const after1 = await call(first.url, 'POST', '/api/v1/action', { user_id: 'restart-1', timestamp: T(13), decision_idx: 100, problem: 'durable', context: { x: 1 } });
    ids.push(after1.body.decision_id);
    first.proc.kill('SIGTERM');
    await exited(first.proc);

    const second = await spawnServer(env);
    const versions = await call(second.url, 'GET', '/api/v1/problems/durable/versions', undefined, admin);
    assert.equal(versions.status, 200, versions.text);
    assert.deepEqual(versions.body.map((v: { version: number; live: boolean }) => [v.version, v.live]), [[2, true], [1, false]]);
    for (const id of ids) {
      const r = await call(second.url, 'GET', `/api/v1/decisions/${id}/replay`);
      assert.equal(r.body.matches, true, r.text);
    }
    const again = await call(second.url, 'POST', '/api/v1/action', { user_id: 'restart-1', timestamp: T(13), decision_idx: 100, problem: 'durable', context: { x: 1 } });
    assert.equal(again.body.decision_id, after1.body.decision_id, 'the stored decision after the restart');
    const next = await call(second.url, 'POST', '/api/v1/action', { user_id: 'restart-1', timestamp: T(14), decision_idx: 101, problem: 'durable', context: { x: 1 } });
    assert.equal(next.body.policy_version, 2);
    second.proc.kill('SIGTERM');
    await exited(second.proc);
  });

  test('identical requests split across two processes give one decision', { skip: !usingPostgres && 'needs DATABASE_URL (PGlite serves one process)' }, async () => {
    const [a, b] = await Promise.all([spawnServer(env), spawnServer(env)]);
    const svc = await authHeaders(viaServer(a.url), 'service');
    const urls = [a.url, b.url];
    assert.equal((await httpRequest(a.url, 'POST', '/api/v1/add_user', { body: { user_id: 'two-proc' }, headers: svc })).status, 201);
    for (let idx = 0; idx < 5; idx++) {
      const body = { user_id: 'two-proc', timestamp: T(idx), decision_idx: idx, context: { temperature: idx } };
      const answers = await Promise.all(Array.from({ length: 16 }, (_, i) => httpRequest(urls[i % 2], 'POST', '/api/v1/action', { body, headers: svc })));
      for (const r of answers) assert.equal(r.status, 201, r.text);
      assert.equal(new Set(answers.map((r) => r.body.decision_id)).size, 1, `decision_idx ${idx}: one decision`);
      assert.equal(new Set(answers.map((r) => `${r.body.action.action_type}/${r.body.action_prob}`)).size, 1);
    }
  });

  test('a daily budget holds across two processes', { skip: !usingPostgres && 'needs DATABASE_URL (PGlite serves one process)' }, async () => {
    const [a, b] = await Promise.all([spawnServer(env), spawnServer(env)]);
    const admin = await authHeaders(viaServer(a.url), 'admin');
    const config = { actions: ['rest', 'nudge'], policy: { kind: 'fixed', probabilities: [0, 1] }, clip: { p_min: 0, p_max: 1 }, budget_per_day: 1 };
    assert.equal((await httpRequest(a.url, 'POST', '/api/v1/problems', { body: { name: 'budget-two-proc', config }, headers: admin })).status, 201);
    // Each process makes one user's budgeted decisions one at a time; without the lock the two processes
    // each counted none of the other's uncommitted decision, and both spent the budget of one.
    const users = Array.from({ length: 6 }, (_, i) => `budget-user-${i}`);
    for (const u of users) assert.equal((await httpRequest(a.url, 'POST', '/api/v1/add_user', { body: { user_id: u }, headers: admin })).status, 201);
    const answers = await Promise.all(
      users.flatMap((u) => Array.from({ length: 10 }, (_, i) => httpRequest([a.url, b.url][i % 2], 'POST', '/api/v1/action', { body: { user_id: u, timestamp: T(9), problem: 'budget-two-proc', context: {} }, headers: admin }))),
    );
    for (const r of answers) assert.equal(r.status, 201, r.text);
    for (const u of users) {
      const spent = answers.filter((r) => r.body.user_id === u && r.body.decided_by !== 'budget').length;
      assert.equal(spent, 1, `${u}: one non-default decision, whatever process made it`);
    }
  });
});
