// Jobs across processes: a job enqueued before a kill -9 runs after the restart, a delivery cut off
// mid-job by kill -9 runs again after its heartbeat lapses, SIGTERM lets a running job finish; on
// PostgreSQL, two `arbiter worker` processes run 500 jobs, each exactly once.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../src/config.ts';
import { alertWebhooks } from '../src/modules/alert-webhooks/alert-webhooks.tables.ts';
import { openDatabase } from '../src/platform/db.ts';
import { createJobSystem } from '../src/platform/jobs/jobs.ts';
import { createWebhooks } from '../src/platform/webhooks/webhooks.ts';
import { httpRequest } from './helpers/app.ts';
import { createTestDatabase, usingPostgres, type TestDatabase } from './helpers/db.ts';
import { waitFor } from './helpers/jobs.ts';
import { CLI, exited, killAllServers, spawnServer } from './helpers/server.ts';

const ADMIN = { email: 'jobs-ops@example.com', password: 'ops-password-123' };
let testDb: TestDatabase;
let dataDir: string;
let receiverUrl: string;
const hits = new Map<string, number>();
let hold: 'none' | 'forever' | 'two-seconds' = 'none';
const receiver = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const key = String(req.headers['idempotency-key']);
    hits.set(key, (hits.get(key) ?? 0) + 1);
    if (hold === 'forever' && hits.get(key) === 1) return; // never answers the first attempt
    setTimeout(() => res.writeHead(200).end('ok'), hold === 'two-seconds' ? 2000 : 0);
  });
});

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = {
    ...process.env,
    LOG_LEVEL: 'warn',
    DATA_DIR: dataDir,
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
    WEBHOOK_TIMEOUT_MS: '3000',
    WEBHOOK_RETRY_DELAY_S: '1',
    JOBS_POLL_MS: '500',
    JOBS_SUPERVISE_S: '1',
    ...extra,
  };
  if (testDb.config.databaseUrl) e.DATABASE_URL = testDb.config.databaseUrl;
  else delete e.DATABASE_URL;
  return e;
}

async function start(extra: Record<string, string> = {}) {
  const server = await spawnServer(env(extra));
  const login = await httpRequest(server.url, 'POST', '/api/v1/auth/login', { body: ADMIN });
  assert.equal(login.status, 200, login.text);
  const headers = { authorization: `Bearer ${login.body.access}` };
  return { ...server, call: (method: string, p: string, body?: unknown) => httpRequest(server.url, method, p, { body, headers }) };
}

/** Subscribes the receiver and raises one alert; resolves with the delivery's idempotency key prefix. */
async function raiseAlert(s: Awaited<ReturnType<typeof start>>, time: number) {
  const me = await s.call('GET', '/api/v1/users/me/');
  const r = await s.call('POST', '/api/events', { type: 'withdraw', amount: '500.00', user_id: me.body.id, time });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body.alert_codes.includes(1100), true);
}

before(async () => {
  testDb = await createTestDatabase();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbiter-jobs-'));
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});
after(async () => {
  await killAllServers();
  receiver.close();
  await testDb.drop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('jobs across processes', () => {
  test('a job enqueued by an HTTP-only process (WORKERS=0) survives kill -9 and runs after the restart', async () => {
    const s = await start({ WORKERS: '0' });
    const sub = await s.call('POST', '/api/alert-webhooks', { url: `${receiverUrl}/a` });
    assert.equal(sub.status, 201, sub.text);
    await raiseAlert(s, 1);
    await new Promise((r) => setTimeout(r, 1500)); // the fact is enqueued after the answer
    assert.equal(hits.size, 0, 'WORKERS=0 runs no job');
    s.proc.kill('SIGKILL');
    await exited(s.proc);
    const again = await start();
    await waitFor('the delivery after the restart', async () => hits.size === 1, 30_000);
    again.proc.kill('SIGKILL');
    await exited(again.proc);
  });

  test('a job cut off by kill -9 mid-run runs again after its heartbeat lapses', { timeout: 90_000 }, async () => {
    hits.clear();
    hold = 'forever';
    const s = await start();
    await raiseAlert(s, 2);
    await waitFor('the first attempt to reach the receiver', async () => hits.size === 1, 30_000);
    s.proc.kill('SIGKILL');
    await exited(s.proc);
    const again = await start();
    const [key] = hits.keys();
    await waitFor('the second attempt', async () => (hits.get(key) ?? 0) >= 2, 60_000, 500);
    hold = 'none';
    // Completed before the kill: a job still active at the kill would be retried by the next test's
    // process and arrive among that test's deliveries.
    await waitFor('the second attempt to be recorded as completed', async () => {
      const jobs = await again.call('GET', '/api/v1/jobs?queue=webhooks.deliver&size=100');
      return jobs.body.some((j: { state: string; data: { idempotencyKey: string } }) => j.data.idempotencyKey === key && j.state === 'completed');
    }, 30_000, 200);
    again.proc.kill('SIGKILL');
    await exited(again.proc);
  });

  test('SIGTERM lets a running job finish before the process exits', { timeout: 90_000 }, async () => {
    hits.clear();
    hold = 'two-seconds';
    const s = await start({ SHUTDOWN_TIMEOUT_MS: '8000' });
    await raiseAlert(s, 3);
    // This third withdrawal raises two alerts (over 100, and three in a row): two deliveries.
    await waitFor('the deliveries to start', async () => hits.size >= 2, 30_000, 50);
    s.proc.kill('SIGTERM');
    const { code } = await exited(s.proc);
    assert.equal(code, 0);
    hold = 'none';
    const again = await start();
    const jobs = await again.call('GET', '/api/v1/jobs?queue=webhooks.deliver&size=100');
    for (const key of hits.keys()) {
      const job = jobs.body.find((j: { data: { idempotencyKey: string } }) => j.data.idempotencyKey === key);
      assert.equal(job?.state, 'completed', JSON.stringify(job));
      assert.equal(hits.get(key), 1, 'finished once, not released and retried');
    }
    again.proc.kill('SIGKILL');
    await exited(again.proc);
  });

  test('PostgreSQL: two `arbiter worker` processes run 500 jobs, each exactly once', { skip: !usingPostgres, timeout: 180_000 }, async () => {
    hits.clear();
    hold = 'none';
    // The test is the producer: a job system without handlers, with the webhooks queue defined.
    const config = loadConfig({ LOG_LEVEL: 'silent' }, { databaseUrl: testDb.config.databaseUrl, memoryDb: false, jobs: { workers: 0 }, webhooks: { allowedHosts: ['127.0.0.1'] } });
    const database = await openDatabase(config);
    await database.migrate();
    const log = { info() {}, warn() {}, error() {} };
    const jobs = createJobSystem({ database, databaseUrl: config.databaseUrl, config: config.jobs, log });
    const webhooks = createWebhooks({ jobs, db: database.db, config: config.webhooks });
    // A target whose secret the worker processes can find: an alert webhook subscription row.
    const [{ id }] = await database.db.insert(alertWebhooks).values({ url: `${receiverUrl}/bulk`, secret: 'bulk-secret' }).returning();
    await jobs.start({ work: false });
    const requests = Array.from({ length: 500 }, (_, i) => ({ url: `${receiverUrl}/bulk`, event: 'test', body: { i }, idempotencyKey: `bulk-${i}`, target: `alert-webhook:${id}` }));
    await webhooks.sendMany(requests);
    const workers = [0, 1].map(() => spawn(process.execPath, [CLI, 'worker'], { env: env(), stdio: ['ignore', 'ignore', 'pipe'] }));
    try {
      await waitFor('500 deliveries', async () => hits.size === 500, 150_000, 500);
      await new Promise((r) => setTimeout(r, 2000));
      assert.equal(hits.size, 500);
      assert.ok([...hits.values()].every((n) => n === 1), `some jobs ran twice: ${[...hits].filter(([, n]) => n > 1).slice(0, 5)}`);
    } finally {
      for (const w of workers) w.kill('SIGTERM');
      await Promise.all(workers.map(exited));
      await jobs.stop(1000);
      await database.close();
    }
  });
});
