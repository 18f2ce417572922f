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

describe('access: a signed-in user acts only for their own user_id; problems, evaluation and export are admin only', () => {
  const scenarios = (): Scenario[] => {
    const mine = String(user.id);
    const theirs = String(other.id);
    const h = user.headers;
    return [
      { name: "add_user for another user_id is refused", method: 'POST', url: '/api/v1/add_user', headers: h, body: { user_id: 'someone-else' }, status: 403, detail: 'only for yourself' },
      { name: "action for another user's user_id is refused", method: 'POST', url: '/api/v1/action', headers: h, body: { user_id: theirs, timestamp: T, decision_idx: 1, context: {} }, status: 403 },
      { name: "upload_data for another user's user_id is refused", method: 'POST', url: '/api/v1/upload_data', headers: h, body: { user_id: theirs, timestamp: T, decision_idx: 1 }, status: 403 },
      { name: 'a user may not update the model', method: 'POST', url: '/api/v1/update', headers: h, body: { timestamp: T }, status: 403 },
      { name: 'a user may not read updates', method: 'GET', url: '/api/v1/updates/00000000-0000-4000-8000-000000000000', headers: h, status: 403 },
      { name: 'a user may not list problems', method: 'GET', url: '/api/v1/problems', headers: h, status: 403 },
      { name: 'a user may not create problems', method: 'POST', url: '/api/v1/problems', headers: h, body: { name: 'mine', config: { actions: ['a', 'b'] } }, status: 403 },
      { name: 'a user may not read a problem', method: 'GET', url: '/api/v1/problems/default', headers: h, status: 403 },
      { name: 'a user may not change a problem', method: 'PUT', url: '/api/v1/problems/default/config', headers: h, body: { config: { actions: ['no_action', 'action'] } }, status: 403 },
      { name: 'a user may not list versions', method: 'GET', url: '/api/v1/problems/default/versions', headers: h, status: 403 },
      { name: 'a user may not roll back', method: 'POST', url: '/api/v1/problems/default/rollback', headers: h, body: { version: 1 }, status: 403 },
      { name: 'a user may not evaluate', method: 'POST', url: '/api/v1/problems/default/evaluate', headers: h, body: {}, status: 403 },
      { name: 'a user may not export', method: 'GET', url: '/api/v1/decisions/export', headers: h, status: 403 },
      { name: 'a service key may not create problems', method: 'POST', url: '/api/v1/problems', headers: svc, body: { name: 'svc', config: { actions: ['a', 'b'] } }, status: 403 },
      { name: 'no credentials: 401', method: 'POST', url: '/api/v1/action', body: { user_id: mine, timestamp: T, context: {} }, status: 401 },
      { name: 'their own user_id works', method: 'POST', url: '/api/v1/action', headers: h, body: { user_id: mine, timestamp: T, decision_idx: 1, context: { mood: 3 } }, status: 201, contains: { status: 'success', user_id: mine } },
      { name: 'their own upload works', method: 'POST', url: '/api/v1/upload_data', headers: h, body: { user_id: mine, timestamp: T, decision_idx: 1, data: { outcome: { clicks: 0 } } }, status: 201, contains: { message: 'Data uploaded successfully.' } },
    ];
  };
  test('scenarios', async (t) => runScenarios(t, () => ctx, scenarios()));

  test("another user's decision and replay are not found for a user, visible to a service", async () => {
    const userId = await newUser();
    const act = await post('/api/v1/action', { user_id: userId, timestamp: T, decision_idx: 5, context: {} });
    const id = act.body.decision_id;
    assert.equal((await get(`/api/v1/decisions/${id}`, user.headers)).status, 404);
    assert.equal((await get(`/api/v1/decisions/${id}/replay`, user.headers)).status, 404);
    assert.equal((await get(`/api/v1/decisions/${id}`)).status, 200);
    const mine = await post('/api/v1/action', { user_id: String(user.id), timestamp: T, decision_idx: 6, context: {} }, user.headers);
    assert.equal((await get(`/api/v1/decisions/${mine.body.decision_id}/replay`, user.headers)).body.matches, true);
  });
});

describe('bad input gets a 4xx naming the field', () => {
  let uid: string;
  before(async () => {
    uid = await newUser();
  });
  const deep = (n: number): unknown => (n === 0 ? 1 : { a: deep(n - 1) });
  const scenarios = (): Scenario[] => [
    { name: 'add_user without user_id: the original message', method: 'POST', url: '/api/v1/add_user', headers: svc, body: {}, status: 400, detail: 'user_id is required.' },
    { name: 'action without user_id', method: 'POST', url: '/api/v1/action', headers: svc, body: { timestamp: T, context: {} }, status: 400, detail: 'user_id is required.' },
    { name: 'upload without user_id', method: 'POST', url: '/api/v1/upload_data', headers: svc, body: { timestamp: T }, status: 400, detail: 'user_id is required.' },
    { name: 'action for an unknown user: the original message', method: 'POST', url: '/api/v1/action', headers: svc, body: { user_id: 'nobody-here', timestamp: T, context: {} }, status: 404, detail: 'User not found.' },
    { name: 'upload for an unknown user', method: 'POST', url: '/api/v1/upload_data', headers: svc, body: { user_id: 'nobody-here', timestamp: T }, status: 404, detail: 'User not found.' },
    { name: 'missing timestamp', method: 'POST', url: '/api/v1/action', headers: svc, body: { user_id: uid, context: {} }, status: 400, detail: 'timestamp is required' },
    { name: 'non-ISO timestamp', method: 'POST', url: '/api/v1/action', headers: svc, body: { user_id: uid, timestamp: 'yesterday', context: {} }, status: 400, detail: 'timestamp must be an ISO 8601' },
    { name: 'out-of-range date', method: 'POST', url: '/api/v1/action', headers: svc, body: { user_id: uid, timestamp: '0000-01-01T00:00:00Z', context: {} }, status: 400, detail: 'timestamp' },
    { name: 'a number as timestamp', method: 'POST', url: '/api/v1/action', headers: svc, body: { user_id: uid, timestamp: 12345, context: {} }, status: 400, detail: 'timestamp' },
    { name: 'negative decision_idx', method: 'POST', url: '/api/v1/action', headers: svc, body: { user_id: uid, timestamp: T, decision_idx: -1 }, status: 400, detail: 'decision_idx' },
    { name: 'non-integer decision_idx', method: 'POST', url: '/api/v1/action', headers: svc, body: { user_id: uid, timestamp: T, decision_idx: 1.5 }, status: 400, detail: 'decision_idx' },
    { name: 'huge decision_idx', method: 'POST', url: '/api/v1/action', headers: svc, body: { user_id: uid, timestamp: T, decision_idx: 1e20 }, status: 400, detail: 'decision_idx' },
    { name: 'string decision_idx', method: 'POST', url: '/api/v1/action', headers: svc, body: { user_id: uid, timestamp: T, decision_idx: 'one' }, status: 400, detail: 'decision_idx' },
    { name: 'context that is not an object', method: 'POST', url: '/api/v1/action', headers: svc, body: { user_id: uid, timestamp: T, context: [1, 2] }, status: 400, detail: 'context' },
    { name: 'deeply nested context', method: 'POST', url: '/api/v1/action', headers: svc, body: { user_id: uid, timestamp: T, context: deep(500) }, status: 400 },
    { name: 'unknown field', method: 'POST', url: '/api/v1/action', headers: svc, body: { user_id: uid, timestamp: T, colour: 'red' }, status: 400, detail: 'colour' },
    { name: 'a user_id that is an object', method: 'POST', url: '/api/v1/action', headers: svc, body: { user_id: { a: 1 }, timestamp: T }, status: 400, detail: 'user_id' },
    { name: 'unknown problem', method: 'POST', url: '/api/v1/action', headers: svc, body: { user_id: uid, timestamp: T, problem: 'nope' }, status: 404, detail: "problem 'nope' not found" },
    { name: 'outcome for an unknown decision_idx', method: 'POST', url: '/api/v1/upload_data', headers: svc, body: { user_id: uid, timestamp: T, decision_idx: 999, data: { outcome: { clicks: 1 } } }, status: 404, detail: 'decision_idx 999' },
    { name: 'outcome for an unknown decision_id', method: 'POST', url: '/api/v1/upload_data', headers: svc, body: { user_id: uid, timestamp: T, decision_id: 987654, data: { outcome: { clicks: 1 } } }, status: 404, detail: 'decision 987654' },
    { name: 'outcome that is not an object', method: 'POST', url: '/api/v1/upload_data', headers: svc, body: { user_id: uid, timestamp: T, data: { outcome: 5 } }, status: 400, detail: 'outcome' },
    { name: 'update without timestamp', method: 'POST', url: '/api/v1/update', headers: svc, body: {}, status: 400, detail: 'timestamp is required' },
    { name: 'update with a callback host not allowed', method: 'POST', url: '/api/v1/update', headers: svc, body: { timestamp: T, callback_url: 'http://169.254.169.254/latest' }, status: 422, detail: 'WEBHOOK_ALLOWED_HOSTS' },
    { name: 'update with a callback that is not a URL', method: 'POST', url: '/api/v1/update', headers: svc, body: { timestamp: T, callback_url: 'not a url' }, status: 422, detail: 'url' },
    { name: 'decision id out of range', method: 'GET', url: '/api/v1/decisions/99999999999999999999', headers: svc, status: 400 },
    { name: 'unknown decision', method: 'GET', url: '/api/v1/decisions/424242', headers: svc, status: 404 },
    { name: 'update id that is not a uuid', method: 'GET', url: '/api/v1/updates/abc', headers: svc, status: 400 },
    { name: 'infeasible clip bounds: p_min × actions > 1', method: 'POST', url: '/api/v1/problems', headers: admin, body: { name: 'bad-clip', config: { actions: ['a', 'b', 'c'], clip: { p_min: 0.4, p_max: 0.9 } } }, status: 422, detail: 'p_min × actions' },
    { name: 'infeasible clip bounds: p_max × actions < 1', method: 'POST', url: '/api/v1/problems', headers: admin, body: { name: 'bad-clip2', config: { actions: ['a', 'b', 'c'], clip: { p_min: 0, p_max: 0.3 } } }, status: 422, detail: 'p_max × actions' },
    { name: 'unknown policy kind', method: 'POST', url: '/api/v1/problems', headers: admin, body: { name: 'bad-policy', config: { actions: ['a', 'b'], policy: { kind: 'magic' } } }, status: 422, detail: 'policy.kind' },
    { name: 'epsilon out of range', method: 'POST', url: '/api/v1/problems', headers: admin, body: { name: 'bad-eps', config: { actions: ['a', 'b'], policy: { kind: 'epsilon_greedy', epsilon: 2 } } }, status: 422, detail: 'policy.epsilon' },
    { name: 'fixed probabilities not summing to 1', method: 'POST', url: '/api/v1/problems', headers: admin, body: { name: 'bad-fixed', config: { actions: ['a', 'b'], policy: { kind: 'fixed', probabilities: [0.5, 0.6] } } }, status: 422, detail: 'sum to 1' },
    { name: 'one action only', method: 'POST', url: '/api/v1/problems', headers: admin, body: { name: 'bad-one', config: { actions: ['a'] } }, status: 422, detail: 'actions' },
    { name: 'repeated action names', method: 'POST', url: '/api/v1/problems', headers: admin, body: { name: 'bad-rep', config: { actions: ['a', 'a'] } }, status: 422, detail: 'repeats' },
    { name: 'unknown config field', method: 'POST', url: '/api/v1/problems', headers: admin, body: { name: 'bad-field', config: { actions: ['a', 'b'], colour: 1 } }, status: 422, detail: 'colour' },
    { name: 'default_reward without a window', method: 'POST', url: '/api/v1/problems', headers: admin, body: { name: 'bad-rw', config: { actions: ['a', 'b'], reward: { default_reward: 0 } } }, status: 422, detail: 'window_minutes' },
    { name: 'a bad cron', method: 'POST', url: '/api/v1/problems', headers: admin, body: { name: 'bad-cron', config: { actions: ['a', 'b'], update_cron: 'every day' } }, status: 422, detail: 'update_cron' },
    { name: 'a bad problem name', method: 'POST', url: '/api/v1/problems', headers: admin, body: { name: '../x', config: { actions: ['a', 'b'] } }, status: 400, detail: 'name' },
    { name: 'a duplicate problem name', method: 'POST', url: '/api/v1/problems', headers: admin, body: { name: 'default', config: { actions: ['a', 'b'] } }, status: 409, detail: 'already exists' },
    { name: 'rollback to a version that does not exist', method: 'POST', url: '/api/v1/problems/default/rollback', headers: admin, body: { version: 999 }, status: 404, detail: 'version 999' },
    { name: 'evaluate an unknown problem', method: 'POST', url: '/api/v1/problems/nope/evaluate', headers: admin, body: {}, status: 404 },
    { name: 'evaluate a bad candidate', method: 'POST', url: '/api/v1/problems/default/evaluate', headers: admin, body: { candidates: [{ kind: 'linucb', alpha: -1 }] }, status: 422, detail: 'candidates[0]' },
    { name: 'export with a bad date', method: 'GET', url: '/api/v1/decisions/export?from=monday', headers: admin, status: 400, detail: 'from' },
    { name: 'export with a bad format', method: 'GET', url: '/api/v1/decisions/export?format=xml', headers: admin, status: 400, detail: 'format' },
  ];
  test('scenarios', async (t) => runScenarios(t, () => ctx, scenarios()));
});

describe('idempotency', () => {
  test('a repeated (user_id, decision_idx) returns the stored decision, also when 12 identical requests arrive at once', async () => {
    const userId = await newUser();
    const body = { user_id: userId, timestamp: T, decision_idx: 7, context: { temperature: 21 } };
    const answers = await Promise.all(Array.from({ length: 12 }, () => post('/api/v1/action', body)));
    for (const a of answers) assert.equal(a.status, 201, a.text);
    const ids = new Set(answers.map((a) => a.body.decision_id));
    assert.equal(ids.size, 1, 'one decision');
    const probs = new Set(answers.map((a) => `${a.body.action.action_type}:${a.body.action_prob}`));
    assert.equal(probs.size, 1, 'the same action and probability');
    const later = await post('/api/v1/action', { ...body, context: { temperature: 5 } });
    assert.equal(later.body.decision_id, answers[0].body.decision_id);
    assert.deepEqual(later.body.action.context, { temperature: 21 }, 'the stored decision, not a new draw');
  });
});
