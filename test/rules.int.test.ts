// Alert rules as data through HTTP: the default set, admin CRUD at /api/rules/:id, validation (422
// for a rule that cannot be evaluated), each kind firing on the next event, disabling, versions.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { authHeaders } from './helpers/auth.ts';
import { eventsClient } from './helpers/events.ts';
import { runScenarios, type Scenario } from './helpers/scenarios.ts';

let ctx: TestApp;
let user: Record<string, string>;
let admin: Record<string, string>;
const { newUser, send } = eventsClient(() => ctx, () => user, 800_000);

before(async () => {
  ctx = await startTestApp();
  user = await authHeaders(ctx, 'service');
  admin = await authHeaders(ctx, 'admin');
});
after(async () => ctx?.close());

async function createRule(body: Record<string, unknown>) {
  const res = await ctx.request('POST', '/api/rules', { body, headers: admin });
  assert.equal(res.status, 201, res.text);
  return res.body;
}

describe('default rules', () => {
  test('the four seed rules are listed in evaluation order', async () => {
    const res = await ctx.request('GET', '/api/rules', { headers: user });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get('x-total-count'), '4');
    assert.deepEqual(res.body.map((r: { code: number; event_type: string; kind: string }) => [r.event_type, r.code, r.kind]), [
      ['deposit', 300, 'consecutive'],
      ['deposit', 123, 'window_sum'],
      ['withdraw', 1100, 'threshold'],
      ['withdraw', 30, 'consecutive'],
    ]);
    const r1100 = res.body.find((r: { code: number }) => r.code === 1100);
    assert.deepEqual(r1100.params, { op: '>', amount: '100.00' });
    assert.equal(r1100.version, 1);
    const one = await ctx.request('GET', `/api/rules/${r1100.id}`, { headers: user });
    assert.equal(one.status, 200);
    assert.equal(one.body.code, 1100);
    const filtered = await ctx.request('GET', '/api/rules?event_type=deposit&kind=window_sum', { headers: user });
    assert.deepEqual(filtered.body.map((r: { code: number }) => r.code), [123]);
  });
});

describe('custom rules fire on the next event', () => {
  test('threshold: a deposit of at least 1000.00', async () => {
    await createRule({ code: 5001, name: 'large deposit', kind: 'threshold', event_type: 'deposit', priority: 5, params: { op: '>=', amount: '1000' } });
    const id = await newUser();
    // (123 fires too: one deposit over 200 within 30 s; priority 5 puts 5001 first)
    assert.deepEqual(await send(id, 'deposit', '999.99', 1), [123]);
    assert.deepEqual(await send(id, 'deposit', '1000.00', 1000), [5001, 123]);
  });
  test('threshold with < : a tiny withdrawal (priority orders the codes)', async () => {
    await createRule({ code: 5002, kind: 'threshold', event_type: 'withdraw', priority: 50, params: { op: '<', amount: '0.50' } });
    const id = await newUser();
    await send(id, 'withdraw', '1', 1);
    await send(id, 'withdraw', '1', 2);
    assert.deepEqual(await send(id, 'withdraw', '0.49', 3), [30, 5002]);
  });
  test('consecutive: 2 deposits in a row among all events', async () => {
    await createRule({ code: 5003, kind: 'consecutive', event_type: 'deposit', priority: 30, params: { count: 2 } });
    const id = await newUser();
    assert.deepEqual(await send(id, 'deposit', '5', 1), []);
    assert.deepEqual(await send(id, 'deposit', '4', 2), [5003]);
    await send(id, 'withdraw', '1', 3);
    assert.deepEqual(await send(id, 'deposit', '3', 4), []);
  });
  test('window_sum: withdrawals over 250.00 within 60 s', async () => {
    await createRule({ code: 5004, kind: 'window_sum', event_type: 'withdraw', priority: 40, params: { window_seconds: 60, op: '>', amount: '250.00' } });
    const id = await newUser();
    assert.deepEqual(await send(id, 'withdraw', '100.00', 0), []);
    assert.deepEqual(await send(id, 'withdraw', '100.00', 60), []);
    assert.deepEqual(await send(id, 'deposit', '1', 61), []);
    // arrives late at t=60: as of t=60 the three withdrawals are the last events (30) and sum to 250.01
    assert.deepEqual(await send(id, 'withdraw', '50.01', 60), [30, 5004]);
  });
  test('window_count: more than 2 withdrawals within 10 s', async () => {
    await createRule({ code: 5005, kind: 'window_count', event_type: 'withdraw', priority: 45, params: { window_seconds: 10, op: '>', count: 2 } });
    const id = await newUser();
    await send(id, 'withdraw', '1', 0);
    await send(id, 'deposit', '1', 1);
    await send(id, 'withdraw', '1', 5);
    assert.deepEqual(await send(id, 'withdraw', '1', 11), []);
    assert.deepEqual(await send(id, 'withdraw', '1', 12), [30, 5005]);
  });
});

describe('changing rules', () => {
  test('a disabled rule does not fire; enabling it again does; each change bumps the version', async () => {
    const list = await ctx.request('GET', '/api/rules?code=1100', { headers: user });
    const rule = list.body[0];
    const off = await ctx.request('PATCH', `/api/rules/${rule.id}`, { body: { enabled: false }, headers: admin });
    assert.equal(off.status, 200, off.text);
    assert.equal(off.body.enabled, false);
    assert.equal(off.body.version, rule.version + 1);
    const id = await newUser();
    // (the custom rules created above fire too; only 1100 matters here)
    const only1100 = async (amount: string, time: number) => (await send(id, 'withdraw', amount, time)).filter((c) => c === 1100);
    assert.deepEqual(await only1100('500', 1), []);
    const on = await ctx.request('PATCH', `/api/rules/${rule.id}`, { body: { enabled: true, params: { op: '>', amount: '400' } }, headers: admin });
    assert.equal(on.body.version, rule.version + 2);
    assert.deepEqual(on.body.params, { op: '>', amount: '400.00' });
    assert.deepEqual(await only1100('400.00', 100), []);
    assert.deepEqual(await only1100('400.01', 200), [1100]);
    const alerts = await ctx.request('GET', `/api/alerts?user_id=${id}&code=1100`, { headers: user });
    assert.deepEqual(alerts.body.map((a: { rule_version: number; rule_id: number }) => [a.rule_id, a.rule_version]), [[rule.id, rule.version + 2]]);
    const back = await ctx.request('PUT', `/api/rules/${rule.id}`, { body: { code: 1100, name: rule.name, kind: 'threshold', event_type: 'withdraw', priority: 10, params: { op: '>', amount: '100.00' } }, headers: admin });
    assert.equal(back.status, 200, back.text);
    assert.equal(back.body.version, rule.version + 3);
    assert.deepEqual(await only1100('100.01', 300), [1100]);
  });
  test('PATCH to another kind needs that kind\'s params; a deleted rule is gone and its alerts stay', async () => {
    const r = await createRule({ code: 5100, kind: 'threshold', event_type: 'deposit', params: { op: '>', amount: '1' } });
    const noParams = await ctx.request('PATCH', `/api/rules/${r.id}`, { body: { kind: 'window_count' }, headers: admin });
    assert.equal(noParams.status, 422, noParams.text);
    const id = await newUser();
    assert.ok((await send(id, 'deposit', '2', 1)).includes(5100));
    const del = await ctx.request('DELETE', `/api/rules/${r.id}`, { headers: admin });
    assert.equal(del.status, 204);
    assert.equal((await ctx.request('GET', `/api/rules/${r.id}`, { headers: user })).status, 404);
    assert.equal((await ctx.request('DELETE', `/api/rules/${r.id}`, { headers: admin })).status, 404);
    assert.ok(!(await send(id, 'deposit', '3', 2)).includes(5100));
    const kept = await ctx.request('GET', `/api/alerts?user_id=${id}&code=5100`, { headers: user });
    assert.equal(kept.body.length, 1);
  });
});

describe('invalid rules', () => {
  const scenarios = (): Scenario[] => {
    const ok = { code: 6000, kind: 'threshold', event_type: 'deposit', params: { op: '>', amount: '1.00' } };
    const bad = (name: string, body: unknown, detail: string, status = 422): Scenario => ({ name, method: 'POST', url: '/api/rules', headers: admin, body, status, detail });
    return [
      bad('unknown kind', { ...ok, kind: 'ratio' }, 'kind'),
      bad('unknown event type', { ...ok, event_type: 'transfer' }, 'event_type'),
      bad('missing params', { code: 6000, kind: 'threshold', event_type: 'deposit' }, 'params'),
      bad('params not an object', { ...ok, params: [1] }, 'params'),
      bad('threshold without amount', { ...ok, params: { op: '>' } }, 'params.amount'),
      bad('threshold with a non-decimal amount', { ...ok, params: { op: '>', amount: 'abc' } }, 'params.amount'),
      bad('threshold with 3 decimals', { ...ok, params: { op: '>', amount: '1.005' } }, 'params.amount'),
      bad('threshold with a bad op', { ...ok, params: { op: '==', amount: '1' } }, 'params.op'),
      bad('unknown parameter', { ...ok, params: { op: '>', amount: '1', window_seconds: 3 } }, 'params.window_seconds'),
      bad('consecutive with N < 1', { ...ok, kind: 'consecutive', params: { count: 0 } }, 'params.count'),
      bad('consecutive with N not an integer', { ...ok, kind: 'consecutive', params: { count: 2.5 } }, 'params.count'),
      bad('consecutive with a non-boolean flag', { ...ok, kind: 'consecutive', params: { count: 3, strictly_increasing: 'yes' } }, 'params.strictly_increasing'),
      bad('window_sum with W < 0', { ...ok, kind: 'window_sum', params: { window_seconds: -1, op: '>', amount: '1' } }, 'params.window_seconds'),
      bad('window_sum without amount', { ...ok, kind: 'window_sum', params: { window_seconds: 5, op: '>' } }, 'params.amount'),
      bad('window_count with a negative count', { ...ok, kind: 'window_count', params: { window_seconds: 5, op: '>', count: -1 } }, 'params.count'),
      bad('a missing code is a 400', { kind: 'threshold', event_type: 'deposit', params: { op: '>', amount: '1' } }, "'code'", 400),
      bad('an unknown field is a 400', { ...ok, colour: 'red' }, "'colour'", 400),
      bad('a duplicate code is a 409', { ...ok, code: 1100 }, '1100', 409),
      { name: 'PATCH with nothing is a 400', method: 'PATCH', url: '/api/rules/1', headers: admin, body: {}, status: 400 },
      { name: 'PATCH an unknown rule is a 404', method: 'PATCH', url: '/api/rules/999999', headers: admin, body: { enabled: false }, status: 404 },
      { name: 'PUT an invalid rule is a 422', method: 'PUT', url: '/api/rules/1', headers: admin, body: { ...ok, params: { op: '>' } }, status: 422 },
      { name: 'a bad id is a 400', method: 'GET', url: '/api/rules/abc', headers: user, status: 400 },
    ];
  };
  test('each is refused and nothing is stored', async (t) => {
    await runScenarios(t, () => ctx, scenarios());
    const res = await ctx.request('GET', '/api/rules?code=6000', { headers: user });
    assert.equal(res.body.length, 0);
  });
});
