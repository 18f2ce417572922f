// Seed 000 through HTTP: the four seed endpoints as the working system's test suite uses them (action
// → upload_data with the values posted back → update, with a callback received by a real HTTP server
// on loopback), access (another user's user_id refused everywhere), bad input, idempotency under
// concurrency, problems as configuration, every policy kind replayed from its logged seed, clipping,
// budget and fallback, versions and rollback, export, and off-policy evaluation.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { authHeaders, createAccount, type TestAccount } from './helpers/auth.ts';
import { startJobsApp, waitFor } from './helpers/jobs.ts';
import type { TestApp } from './helpers/app.ts';
import { runScenarios, type Scenario } from './helpers/scenarios.ts';

interface Callback {
  body: any;
  raw: string;
  headers: http.IncomingHttpHeaders;
  at: number;
}
const callbacks: Callback[] = [];
const receiver = http.createServer((req, res) => {
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    callbacks.push({ body: JSON.parse(body), raw: body, headers: req.headers, at: Date.now() });
    res.writeHead(200).end('ok');
  });
});

let ctx: Awaited<ReturnType<typeof startJobsApp>>;
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
    // The receiver verifies the signature with the secret the 202 gave it: HMAC-SHA256 over "<t>.<raw body>".
    const sig = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(cb.headers['x-arbiter-signature']))!;
    assert.ok(sig, 'signed');
    assert.equal(createHmac('sha256', res.body.callback_secret).update(`${sig[1]}.${cb.raw}`).digest('hex'), sig[2]);
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
    { name: 'a bad model', method: 'POST', url: '/api/v1/problems', headers: admin, body: { name: 'bad-model', config: { actions: ['a', 'b'], model: { kind: 'per_user', prior_weight: 0 } } }, status: 422, detail: 'model.prior_weight' },
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

describe('decisions made at once', () => {
  test('each answer names its own stored decision, whether it was written alone or in a batch with others', async () => {
    const users = await Promise.all(Array.from({ length: 30 }, () => newUser()));
    // Thirty users at once, some with a decision_idx and some without (NULL never clashes), and one
    // user asking for the same decision_idx three times among them.
    const bodies = users.map((u, i) => ({ user_id: u, timestamp: T, ...(i % 2 ? { decision_idx: i } : {}), context: { temperature: i } }));
    const repeated = { user_id: users[0], timestamp: T, decision_idx: 999, context: { temperature: -1 } };
    const answers = await Promise.all([...bodies, repeated, repeated, repeated].map((b) => post('/api/v1/action', b)));
    for (const a of answers) assert.equal(a.status, 201, a.text);
    assert.equal(new Set(answers.slice(0, 30).map((a) => a.body.decision_id)).size, 30, 'thirty decisions');
    assert.equal(new Set(answers.slice(30).map((a) => a.body.decision_id)).size, 1, 'the repeated decision point is one decision');
    // A decision id answered to the wrong request would belong to another user (404) or carry another
    // probability (422): each outcome is accepted only against its own decision.
    const uploads = await Promise.all(
      answers.slice(0, 31).map((a, i) => {
        const user = i < 30 ? users[i] : users[0];
        return post('/api/v1/upload_data', { user_id: user, timestamp: T, decision_id: a.body.decision_id, data: { action: a.body.action, action_prob: a.body.action_prob, outcome: { clicks: 1 } } });
      }),
    );
    for (const u of uploads) assert.equal(u.status, 201, u.text);
  });
});

const createProblem = async (name: string, config: object) => {
  const res = await post('/api/v1/problems', { name, config }, admin);
  assert.equal(res.status, 201, res.text);
  return res.body;
};
const hour = (h: number) => new Date(Date.UTC(2026, 0, 10, h)).toISOString();

describe('problems are configuration; every policy kind is replayed from its logged seed', () => {
  for (const policy of [{ kind: 'thompson' }, { kind: 'linucb', alpha: 0.5 }, { kind: 'epsilon_greedy', epsilon: 0.2 }, { kind: 'fixed', probabilities: [0.1, 0.3, 0.6] }]) {
    test(`${policy.kind}: probabilities within the clip bounds, replay matches before and after an update`, async () => {
      const name = `p-${policy.kind}`;
      const created = await createProblem(name, { actions: [{ name: 'none' }, { name: 'walk' }, { name: 'breathe' }], policy, clip: { p_min: 0.15, p_max: 0.7 }, context: { mode: 'schema', numeric: [{ key: 'steps', standardize: true }], categorical: [{ key: 'place', values: ['home', 'work'] }] } });
      assert.equal(created.live_version, 1);
      assert.equal(created.config.policy.kind, policy.kind);
      const userId = await newUser();
      const ids: number[] = [];
      for (let i = 0; i < 12; i++) {
        const a = await post('/api/v1/action', { user_id: userId, timestamp: hour(i), decision_idx: i, problem: name, context: { steps: i * 100, place: i % 2 ? 'home' : 'work' } });
        assert.equal(a.status, 201, a.text);
        assert.equal(a.body.decided_by, 'policy');
        const probs = Object.values(a.body.probabilities) as number[];
        assert.ok(Math.abs(probs.reduce((x, y) => x + y, 0) - 1) < 1e-9);
        for (const p of probs) assert.ok(p >= 0.15 - 1e-12 && p <= 0.7 + 1e-12, `${p} within [0.15, 0.7]`);
        assert.equal(a.body.action_prob, a.body.probabilities[a.body.action.action_type]);
        ids.push(a.body.decision_id);
        const up = await post('/api/v1/upload_data', { user_id: userId, timestamp: hour(i), decision_id: a.body.decision_id, data: { action: a.body.action, action_prob: a.body.action_prob, outcome: { clicks: a.body.action.action_type === 'walk' ? 1 : 0 } } });
        assert.equal(up.status, 201, up.text);
      }
      const upd = await post('/api/v1/update', { timestamp: hour(20), problem: name });
      assert.equal(upd.status, 200, upd.text);
      assert.equal(upd.body.policy_version, 2);
      const after = await post('/api/v1/action', { user_id: userId, timestamp: hour(21), decision_idx: 100, problem: name, context: { steps: 50, place: 'home' } });
      assert.equal(after.body.policy_version, 2);
      ids.push(after.body.decision_id);
      for (const id of ids) {
        const r = await get(`/api/v1/decisions/${id}/replay`);
        assert.equal(r.status, 200, r.text);
        assert.equal(r.body.matches, true, `decision ${id} replays: ${r.text}`);
      }
      const d = await get(`/api/v1/decisions/${after.body.decision_id}`);
      assert.equal(d.body.rng_state.length, 4);
      assert.equal(d.body.encoded.length, 4, '[1, steps, place=home, place=work]');
      assert.equal(d.body.encoded[2], 1);
    });
  }

  test('the context schema: 422 naming a missing or mistyped key when asked, defaults otherwise', async () => {
    const name = 'strict-ctx';
    await createProblem(name, { actions: ['a', 'b'], context: { mode: 'schema', numeric: ['hr'], categorical: [{ key: 'day', values: ['we', 'wd'] }], on_missing: 'reject', on_unknown: 'reject' } });
    const userId = await newUser();
    const call = (context: object) => post('/api/v1/action', { user_id: userId, timestamp: T, problem: name, context });
    const miss = await call({ day: 'we' });
    assert.equal(miss.status, 422);
    assert.match(miss.body.detail, /context\.hr is required/);
    const typed = await call({ hr: 'fast', day: 'we' });
    assert.equal(typed.status, 422);
    assert.match(typed.body.detail, /context\.hr must be a number/);
    const cat = await call({ hr: 60, day: 'holiday' });
    assert.equal(cat.status, 422);
    assert.match(cat.body.detail, /context\.day must be one of we, wd/);
    const unknown = await call({ hr: 60, day: 'we', mood: 1 });
    assert.equal(unknown.status, 422);
    assert.match(unknown.body.detail, /context\.mood is not a key/);
    assert.equal((await call({ hr: 60, day: 'wd' })).status, 201);
    await createProblem('lenient-ctx', { actions: ['a', 'b'], context: { mode: 'schema', numeric: [{ key: 'hr', default: 70 }], categorical: [{ key: 'day', values: ['we', 'wd'], default: 'wd' }] } });
    const ok = await post('/api/v1/action', { user_id: userId, timestamp: T, problem: 'lenient-ctx', context: { mood: 'x' } });
    assert.equal(ok.status, 201, ok.text);
    assert.deepEqual((await get(`/api/v1/decisions/${ok.body.decision_id}`)).body.encoded, [1, 70, 0, 1]);
  });

  test('budget under concurrency: 20 requests at once spend a budget of 1 exactly once', async () => {
    const name = 'budgeted-at-once';
    await createProblem(name, { actions: ['rest', 'nudge'], policy: { kind: 'fixed', probabilities: [0, 1] }, clip: { p_min: 0, p_max: 1 }, budget_per_day: 1 });
    const userId = await newUser();
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => post('/api/v1/action', { user_id: userId, timestamp: T, decision_idx: 100 + i, problem: name, context: {} })));
    for (const a of answers) assert.equal(a.status, 201, a.text);
    assert.equal(answers.filter((a) => a.body.action.action_type === 'nudge').length, 1);
    assert.equal(answers.filter((a) => a.body.decided_by === 'budget').length, 19);
  });

  test('budget with a per-user model: the user\'s policy is read before the budget\'s transaction (no wait on the embedded database)', { timeout: 20_000 }, async () => {
    const name = 'budgeted-per-user';
    await createProblem(name, { actions: ['rest', 'nudge'], policy: { kind: 'fixed', probabilities: [0, 1] }, clip: { p_min: 0, p_max: 1 }, model: { kind: 'per_user', prior_weight: 1 }, budget_per_day: 1 });
    const userId = await newUser();
    const first = await post('/api/v1/action', { user_id: userId, timestamp: T, problem: name, context: {} });
    const second = await post('/api/v1/action', { user_id: userId, timestamp: T, problem: name, context: {} });
    assert.deepEqual([first.status, second.status], [201, 201], `${first.text} ${second.text}`);
    assert.deepEqual([first.body.decided_by, second.body.decided_by], ['policy', 'budget']);
  });

  test('budget: after N non-default actions in a day the default action is given, logged as the budget', async () => {
    const name = 'budgeted';
    await createProblem(name, { actions: ['rest', 'nudge'], policy: { kind: 'fixed', probabilities: [0, 1] }, clip: { p_min: 0, p_max: 1 }, budget_per_day: 2 });
    const userId = await newUser();
    const got: string[] = [];
    for (let i = 0; i < 4; i++) {
      const a = await post('/api/v1/action', { user_id: userId, timestamp: T, decision_idx: i, problem: name, context: {} });
      got.push(`${a.body.action.action_type}/${a.body.decided_by}`);
      if (a.body.decided_by === 'budget') assert.equal(a.body.action_prob, 1);
    }
    assert.deepEqual(got, ['nudge/policy', 'nudge/policy', 'rest/budget', 'rest/budget']);
    const last = await get(`/api/v1/decisions/${(await post('/api/v1/action', { user_id: userId, timestamp: T, decision_idx: 3, problem: name })).body.decision_id}`);
    assert.match(last.body.reason, /budget of 2/);
    assert.equal((await get(`/api/v1/decisions/${last.body.decision_id}/replay`)).body.matches, true);
  });

  test('a context number beyond ±1e9 is refused (it would break the fits of everyone sharing the problem); a large one within it is decided', async () => {
    const name = 'fragile';
    await createProblem(name, { actions: ['a', 'b'], context: { mode: 'schema', numeric: ['v'] }, fallback: { probabilities: [0.5, 0.5] } });
    const userId = await newUser();
    for (let i = 0; i < 4; i++) {
      const a = await post('/api/v1/action', { user_id: userId, timestamp: hour(i), decision_idx: i, problem: name, context: { v: i } });
      await post('/api/v1/upload_data', { user_id: userId, timestamp: hour(i), decision_idx: i, problem: name, data: { outcome: { clicks: i % 2 } } });
      assert.equal(a.body.decided_by, 'policy');
    }
    assert.equal((await post('/api/v1/update', { timestamp: hour(10), problem: name })).status, 200);
    for (const v of [1e308, -1e10, 1e155]) {
      const refused = await post('/api/v1/action', { user_id: userId, timestamp: hour(11), decision_idx: 50, problem: name, context: { v } });
      assert.equal(refused.status, 422, refused.text);
      assert.match(refused.body.detail, /context\.v must be a number within ±1e9/);
    }
    const big = await post('/api/v1/action', { user_id: userId, timestamp: hour(11), decision_idx: 50, problem: name, context: { v: 1e9 } });
    assert.equal(big.status, 201, big.text);
    assert.equal((await get(`/api/v1/decisions/${big.body.decision_id}/replay`)).body.matches, true);
    const bulky = await post('/api/v1/action', { user_id: userId, timestamp: hour(12), decision_idx: 51, problem: name, context: { v: 1, blob: 'x'.repeat(20_000) } });
    assert.equal(bulky.status, 422);
    assert.match(bulky.body.detail, /at most 16384 bytes/);
    // (A policy that throws on a decision gives the fallback: decisions.domain.test.ts, "a throwing policy gives the fallback".)
  });

  test('versions are listed, a rollback makes an earlier one live, and a config change builds a new one', async () => {
    const name = 'versioned';
    await createProblem(name, { actions: ['a', 'b'], policy: { kind: 'epsilon_greedy' } });
    assert.equal((await post('/api/v1/update', { timestamp: T, problem: name })).body.policy_version, 2);
    const list = await get(`/api/v1/problems/${name}/versions`, admin);
    assert.deepEqual(list.body.map((v: { version: number; live: boolean }) => [v.version, v.live]), [[2, true], [1, false]]);
    assert.equal(list.headers.get('x-total-count'), '2');
    const rb = await post(`/api/v1/problems/${name}/rollback`, { version: 1 }, admin);
    assert.equal(rb.status, 200, rb.text);
    assert.equal(rb.body.live_version, 1);
    const userId = await newUser();
    assert.equal((await post('/api/v1/action', { user_id: userId, timestamp: T, problem: name })).body.policy_version, 1);
    const put = await ctx.request('PUT', `/api/v1/problems/${name}/config`, { body: { config: { actions: ['a', 'b'], policy: { kind: 'linucb' }, clip: { p_min: 0.1, p_max: 0.9 } } }, headers: admin });
    assert.equal(put.status, 200, put.text);
    assert.equal(put.body.live_version, 3);
    assert.equal(put.body.config.policy.kind, 'linucb');
    const changed = await ctx.request('PUT', `/api/v1/problems/${name}/config`, { body: { config: { actions: ['a', 'c'] } }, headers: admin });
    assert.equal(changed.status, 422);
    assert.match(changed.body.detail, /actions cannot change/);
  });

  test('a failed update never replaces the live version; its callback says failed', async () => {
    const name = 'overflowing';
    await createProblem(name, { actions: ['a', 'b'], context: { mode: 'schema', numeric: ['v'] } });
    const userId = await newUser();
    for (let i = 0; i < 2; i++) {
      await post('/api/v1/action', { user_id: userId, timestamp: hour(i), decision_idx: i, problem: name, context: { v: 1 } });
      await post('/api/v1/upload_data', { user_id: userId, timestamp: hour(i), decision_idx: i, problem: name, data: { outcome: { clicks: 1 } } });
    }
    // Stored contexts whose squares overflow (the API refuses them now; rows from before that, or
    // written some other way): no posterior can be fitted on them.
    await ctx.database.query(`update decisions set context = '{"v": 1e200}'::jsonb where problem_id = (select id from decision_problems where name = $1)`, [name]);
    const sync = await post('/api/v1/update', { timestamp: hour(5), problem: name });
    assert.equal(sync.status, 422, sync.text);
    assert.match(sync.body.detail, /the model update failed \(the live version is unchanged\)/);
    const async_ = await post('/api/v1/update', { timestamp: hour(5), problem: name, callback_url: `${base}/failed` });
    assert.equal(async_.status, 202);
    const cb = await waitFor('the failed callback', async () => callbacks.find((c) => c.body.update_id === async_.body.update_id), 7000, 100);
    assert.equal(cb.body.status, 'failed');
    assert.equal(cb.body.policy_version, null);
    const versions = await get(`/api/v1/problems/${name}/versions`, admin);
    assert.deepEqual(versions.body.map((v: { version: number; live: boolean }) => [v.version, v.live]), [[1, true]]);
    const view = await get(`/api/v1/updates/${async_.body.update_id}`);
    assert.equal(view.body.status, 'failed');
    assert.match(view.body.error, /positive definite|non-finite/);
    // A reward too large to learn from is refused at upload, naming the key.
    await post('/api/v1/action', { user_id: userId, timestamp: hour(6), decision_idx: 9, problem: name, context: { v: 1 } });
    const huge = await post('/api/v1/upload_data', { user_id: userId, timestamp: hour(6), decision_idx: 9, problem: name, data: { outcome: { clicks: 1e300 } } });
    assert.equal(huge.status, 422);
    assert.match(huge.body.detail, /data\.outcome\.clicks must be within/);
  });

  test('the reward window: late outcomes are stored but not learned; closed windows get the default reward', async () => {
    const name = 'windowed';
    await createProblem(name, { actions: ['a', 'b'], reward: { key: 'steps', window_minutes: 60, default_reward: 0 } });
    const userId = await newUser();
    for (let i = 0; i < 3; i++) await post('/api/v1/action', { user_id: userId, timestamp: hour(i), decision_idx: i, problem: name, context: { x: i } });
    const inTime = await post('/api/v1/upload_data', { user_id: userId, timestamp: '2026-01-10T00:30:00Z', decision_idx: 0, problem: name, data: { outcome: { steps: 120 } } });
    assert.equal(inTime.body.learned, true);
    assert.equal(inTime.body.reward, 120);
    const late = await post('/api/v1/upload_data', { user_id: userId, timestamp: '2026-01-10T03:00:00Z', decision_idx: 1, problem: name, data: { outcome: { steps: 999 } } });
    assert.equal(late.status, 201);
    assert.equal(late.body.learned, false);
    // At 02:30 the windows of decisions 0 and 1 have closed, decision 2's (02:00 + 60 min) has not.
    assert.equal((await post('/api/v1/update', { timestamp: '2026-01-10T02:30:00Z', problem: name })).status, 200);
    const [v] = (await get(`/api/v1/problems/${name}/versions`, admin)).body;
    assert.equal(v.n_observations, 2, 'decision 0 (its outcome) and decision 1 (the default reward)');
    assert.equal(v.n_default_rewards, 1);
  });

  test("rewards counted from seed 002's event log: the user's events of a type within the window after each decision", async () => {
    const name = 'from-events';
    await createProblem(name, { actions: ['a', 'b'], reward: { source: 'event_log', event_type: 'app_open', window_minutes: 30 } });
    const userId = await newUser();
    for (let i = 0; i < 3; i++) await post('/api/v1/action', { user_id: userId, timestamp: hour(i), decision_idx: i, problem: name, context: {} });
    // Decision 0 (00:00): two app opens inside its window, one after it; decision 1 (01:00): one of another type; decision 2: window still open.
    for (const [ts, type] of [['2026-01-10T00:05:00Z', 'app_open'], ['2026-01-10T00:29:00Z', 'app_open'], ['2026-01-10T00:45:00Z', 'app_open'], ['2026-01-10T01:10:00Z', 'crash']]) {
      const e = await post('/events', { user_id: userId, event_type: type, ts }, admin);
      assert.equal(e.status, 201, e.text);
    }
    const updated = await post('/api/v1/update', { timestamp: '2026-01-10T02:10:00Z', problem: name });
    assert.equal(updated.status, 200, updated.text);
    const [v] = (await get(`/api/v1/problems/${name}/versions`, admin)).body;
    assert.equal(v.n_observations, 2, 'decisions 0 and 1; decision 2 is still in its window');
    // The counts the update learned from, through the same reader.
    const { createEventLogReader } = await import('../src/modules/resources/event-log.reader.ts');
    const reader = createEventLogReader((ctx as unknown as { database: import('../src/platform/db.ts').Database }).database);
    assert.deepEqual(await reader.countAfter('app_open', [{ userId, from: new Date('2026-01-10T00:00:00Z') }, { userId, from: new Date('2026-01-10T01:00:00Z') }], 30), [2, 0]);
  });

  test('per-user models with a shared (power) prior: each user learns their own best action; new users decide from the prior', async () => {
    const name = 'per-user';
    await createProblem(name, { actions: ['a', 'b'], policy: { kind: 'linucb', alpha: 0 }, model: { kind: 'per_user', prior_weight: 0.1 } });
    const [ua, ub, fresh] = [await newUser(), await newUser(), await newUser()];
    // ua is rewarded for b, ub for a; ub has more data, so the pooled data favours a.
    let k = 0;
    for (const [userId, best, n] of [[ua, 'b', 20], [ub, 'a', 60]] as const) {
      for (let i = 0; i < n; i++) {
        const a = await post('/api/v1/action', { user_id: userId, timestamp: hour(i % 20), decision_idx: i, problem: name, context: {} });
        await post('/api/v1/upload_data', { user_id: userId, timestamp: hour(i % 20), decision_id: a.body.decision_id, data: { outcome: { clicks: a.body.action.action_type === best ? 1 : 0 } } });
        k++;
      }
    }
    assert.equal((await post('/api/v1/update', { timestamp: hour(23), problem: name })).status, 200);
    const ask = async (userId: string) => (await post('/api/v1/action', { user_id: userId, timestamp: hour(23), decision_idx: 1000, problem: name, context: {} })).body;
    const [da, db, df] = [await ask(ua), await ask(ub), await ask(fresh)];
    assert.equal(da.probabilities.b, 0.8, JSON.stringify(da.probabilities));
    assert.equal(db.probabilities.a, 0.8, JSON.stringify(db.probabilities));
    assert.equal(df.probabilities.a, 0.8, 'the prior: the pooled data favours a');
    for (const d of [da, db, df]) assert.equal((await get(`/api/v1/decisions/${d.decision_id}/replay`)).body.matches, true);
    assert.ok(k > 0);
  });

  test('a shadow policy logs what it would have chosen on every decision', async () => {
    await createProblem('shadowed', { actions: ['a', 'b'], policy: { kind: 'thompson' }, shadow: { kind: 'linucb' } });
    const userId = await newUser();
    const a = await post('/api/v1/action', { user_id: userId, timestamp: T, problem: 'shadowed', context: {} });
    const d = await get(`/api/v1/decisions/${a.body.decision_id}`);
    assert.equal(d.body.shadow.kind, 'linucb');
    assert.ok(['a', 'b'].includes(d.body.shadow.action));
    assert.ok(d.body.shadow.probability >= 0.2 && d.body.shadow.probability <= 0.8);
  });

  test('a schedule is set for a problem with update_cron', async () => {
    const p = await createProblem('nightly', { actions: ['a', 'b'], update_cron: '0 3 * * *' });
    const schedules = await ctx.app.jobs.boss.getSchedules();
    assert.ok(schedules.some((s: { name: string; key: string; cron: string }) => s.name === 'decisions.update' && s.key === `problem-${p.id}` && s.cron === '0 3 * * *'));
    // What the schedule sends when it fires: the job builds version 2 from everything up to now.
    await ctx.app.jobs.enqueue('decisions.update', { problem_id: p.id });
    await waitFor('the scheduled update', async () => (await get('/api/v1/problems/nightly', admin)).body.live_version === 2, 10_000, 100);
    const off = await ctx.request('PUT', '/api/v1/problems/nightly/config', { body: { config: { actions: ['a', 'b'] } }, headers: admin });
    assert.equal(off.status, 200);
    assert.ok(!(await ctx.app.jobs.boss.getSchedules()).some((s: { key: string }) => s.key === `problem-${p.id}`), 'unscheduled when update_cron is removed');
  });
});

describe('export and off-policy evaluation', () => {
  const name = 'trial';
  before(async () => {
    await createProblem(name, { actions: ['none', 'nudge'], policy: { kind: 'fixed', probabilities: [0.5, 0.5] }, context: { mode: 'schema', numeric: ['x'] } });
    const users = [await newUser(), await newUser()];
    // A known world: nudging pays when x > 0.
    for (let i = 0; i < 60; i++) {
      const userId = users[i % 2];
      const x = ((i * 37) % 21) / 10 - 1;
      const a = await post('/api/v1/action', { user_id: userId, timestamp: hour(i % 24), decision_idx: i, problem: name, context: { x } });
      const nudged = a.body.action.action_type === 'nudge';
      await post('/api/v1/upload_data', { user_id: userId, timestamp: hour(i % 24), decision_id: a.body.decision_id, data: { outcome: { clicks: nudged ? (x > 0 ? 1 : 0) : 0.5 } } });
    }
  });

  test('export streams one row per decision with its outcome, as JSON lines and CSV', async () => {
    const jsonl = await get(`/api/v1/decisions/export?problem=${name}&format=jsonl`, admin);
    assert.equal(jsonl.status, 200);
    assert.match(jsonl.headers.get('content-type') ?? '', /ndjson/);
    const rows = jsonl.text.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(rows.length, 60);
    assert.equal(typeof rows[0].reward, 'number');
    assert.deepEqual(Object.keys(rows[0].outcome), ['outcome']);
    const csv = await get(`/api/v1/decisions/export?problem=${name}&format=csv&from=2026-01-10T00:00:00Z&to=2026-01-10T04:00:00Z`, admin);
    assert.equal(csv.status, 200);
    const lines = csv.text.trim().split('\r\n');
    assert.match(lines[0], /^decision_id,problem_id,user_id/);
    assert.ok(lines.length > 1 && lines.length < 61);
  });

  test('evaluate scores candidates with IPS, SNIPS and DR beside the live policy and uniform random (a job)', async () => {
    const res = await post(`/api/v1/problems/${name}/evaluate`, { candidates: [{ kind: 'linucb', alpha: 0.1 }, { kind: 'fixed', probabilities: [1, 0] }], seed: 3 }, admin);
    assert.equal(res.status, 202, res.text);
    const job = await waitFor('the evaluation job', async () => {
      const j = await get(res.body.status_url, admin);
      return j.body.state === 'completed' || j.body.state === 'failed' ? j.body : null;
    });
    assert.equal(job.state, 'completed', JSON.stringify(job));
    const r = job.result;
    assert.equal(r.n_test, 30);
    assert.deepEqual(r.estimates.map((e: { name: string }) => e.name), ['live', 'uniform', 'candidate_0', 'candidate_1']);
    for (const e of r.estimates) for (const k of ['ips', 'snips', 'dr']) assert.ok(e[k].ci[0] <= e[k].value && e[k].value <= e[k].ci[1]);
    // The fixed logging policy evaluated on its own logs: SNIPS is exactly the observed mean.
    const live = r.estimates[0];
    assert.ok(Math.abs(live.snips.value - r.logging_policy_mean_reward) < 1e-9);
    // Uniform random is the logging policy here: every weight is 1.
    assert.ok(Math.abs(r.estimates[1].ips.value - r.logging_policy_mean_reward) < 1e-9);
    assert.equal(r.estimates[1].ips.ess, 30);
  });
});

describe('hostile bodies never get a 500', () => {
  test('every field of every write route, with values of every wrong kind', async () => {
    const uid = await newUser();
    const routes: [string, string, Record<string, unknown>, Record<string, string>][] = [
      ['POST', '/api/v1/add_user', { user_id: 'h-1' }, svc],
      ['POST', '/api/v1/action', { user_id: uid, timestamp: T, decision_idx: 1, context: { a: 1 }, problem: 'default' }, svc],
      ['POST', '/api/v1/upload_data', { user_id: uid, timestamp: T, decision_idx: 1, decision_id: 1, data: { outcome: { clicks: 1 }, action: 'action', action_prob: 0.5 }, context: {}, outcome: {} }, svc],
      ['POST', '/api/v1/update', { timestamp: T, callback_url: `${base}/x`, problem: 'default' }, svc],
      ['POST', '/api/v1/problems', { name: 'hostile', config: { actions: ['a', 'b'], policy: { kind: 'linucb' }, context: { mode: 'schema', numeric: ['x'] }, reward: { key: 'k' }, clip: { p_min: 0.1, p_max: 0.9 } } }, admin],
      ['PUT', '/api/v1/problems/default/config', { config: { actions: ['no_action', 'action'] } }, admin],
      ['POST', '/api/v1/problems/default/rollback', { version: 1 }, admin],
      ['POST', '/api/v1/problems/default/evaluate', { candidates: [{ kind: 'thompson' }], from: T, to: T, level: 0.9, seed: 1 }, admin],
    ];
    const values: unknown[] = [null, true, -1, 0, 1.5, 1e308, -1e308, 2 ** 53, '', 'x'.repeat(5000), '\u202e\ud83d\ude00', '2026-13-45T99:99:99Z', [], [1, 'a'], {}, { __proto__: { polluted: 1 } }, { kind: 'fixed', probabilities: [1e308, -1e308] }];
    const nested = (v: unknown) => [{ actions: v }, { actions: ['a', 'b'], clip: v }, { actions: ['a', 'b'], context: v }, { actions: ['a', 'b'], reward: v }, { actions: ['a', 'b'], policy: v }, { actions: ['a', 'b'], model: v }, { actions: ['a', 'b'], fallback: v }, { actions: ['a', 'b'], context: { mode: 'schema', numeric: [v] } }, { actions: ['a', 'b'], context: { mode: 'schema', categorical: [{ key: 'c', values: v }] } }];
    let n = 0;
    for (const [method, path, good, headers] of routes) {
      const fields = Object.keys(good);
      for (const f of fields) {
        for (const v of values) {
          const res = await ctx.request(method, path, { body: { ...good, [f]: v }, headers });
          n++;
          assert.ok(res.status < 500, `${method} ${path} with ${f}=${JSON.stringify(v)?.slice(0, 60)}: ${res.status} ${res.text.slice(0, 200)}`);
          if (res.status >= 400) assert.equal(typeof res.body.detail, 'string');
        }
      }
      if (path === '/api/v1/problems') {
        for (const v of values) {
          for (const config of nested(v)) {
            const res = await ctx.request(method, path, { body: { name: `h${n}`, config }, headers });
            n++;
            assert.ok(res.status < 500, `config ${JSON.stringify(config).slice(0, 100)}: ${res.status} ${res.text.slice(0, 200)}`);
          }
        }
      }
    }
    assert.ok(n > 300);
  });
});
