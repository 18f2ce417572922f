// Seed 002's README as scenario tables, through HTTP against a real database.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { authHeaders } from './helpers/auth.ts';
import { checkScenario, runScenarios, type Scenario } from './helpers/scenarios.ts';

let server: TestApp;
let ctx: TestApp; // signed in as an admin, a backend managing every user's rows (ownership: access-control.int.test.ts)
before(async () => {
  server = await startTestApp();
  ctx = server.withHeaders(await authHeaders(server, 'admin'));
});
after(() => server?.close());
const app = () => ctx;

const firebase = { email: 'ada@example.com', display_name: 'Ada', nested: { b: [1, 2.5, null, 'x'], a: { z: true } } };

describe('access', () => {
  test('every seed 002 route needs a valid token', async () => {
    for (const [method, url] of [['GET', '/users'], ['POST', '/users'], ['GET', '/recordings/r1'], ['PUT', '/algos/a1'], ['PATCH', '/sessions/s1'], ['DELETE', '/events/1']]) {
      const res = await server.request(method, url, { body: method === 'GET' || method === 'DELETE' ? undefined : {} });
      assert.equal(res.status, 401, `${method} ${url}`);
      // Writing algos is a service route: seed 004's message for a missing credential.
      assert.equal(res.body.detail, url.startsWith('/algos') ? 'Token is missing!' : 'Not authenticated');
      assert.equal(res.headers.get('www-authenticate'), 'Bearer');
    }
    const forged = await server.request('GET', '/users', { headers: { authorization: 'Bearer not.a.jwt' } });
    assert.equal(forged.status, 401);
    assert.equal(forged.body.detail, 'Failed to validate');
  });
});

describe('users (README: Users API)', () => {
  const happy: Scenario[] = [
    { name: 'create user', method: 'POST', url: '/users', body: { user_id: 'u1', firebase_data: firebase, body_data: { height: 180, weight: 75.5 } }, status: 201, contains: { user_id: 'u1', firebase_data: firebase, body_data: { height: 180, weight: 75.5 } }, responseHeaders: { location: '/users/u1' } },
    { name: 'create second user', method: 'POST', url: '/users', body: { user_id: 'u2' }, status: 201, contains: { user_id: 'u2', firebase_data: null, body_data: null } },
    { name: 'get user', method: 'GET', url: '/users/u1', status: 200, contains: { user_id: 'u1', firebase_data: firebase } },
    // The one user store also holds the signed-in test account (registered first, so listed first).
    { name: 'list users', method: 'GET', url: '/users', status: 200, contains: [{ firebase_data: null }, { user_id: 'u1' }, { user_id: 'u2' }], responseHeaders: { 'x-total-count': '3' } },
    { name: 'update user (PUT)', method: 'PUT', url: '/users/u2', body: { user_id: 'u2', firebase_data: { email: 'b@example.com' }, body_data: { height: 170 } }, status: 200, contains: { user_id: 'u2', firebase_data: { email: 'b@example.com' }, body_data: { height: 170 } } },
    { name: 'PUT resets omitted fields', method: 'PUT', url: '/users/u2', body: { body_data: { height: 171 } }, status: 200, contains: { firebase_data: null, body_data: { height: 171 } } },
    { name: 'PATCH changes only what it names', method: 'PATCH', url: '/users/u1', body: { body_data: { height: 181 } }, status: 200, contains: { firebase_data: firebase, body_data: { height: 181 } } },
    { name: 'trailing slash works', method: 'GET', url: '/users/u1/', status: 200, contains: { user_id: 'u1' } },
    { name: 'delete user', method: 'DELETE', url: '/users/u2', status: 204 },
    { name: 'deleted user is gone', method: 'GET', url: '/users/u2', status: 404, detail: 'user not found' },
  ];
  const errors: Scenario[] = [
    { name: 'duplicate user_id is 409', method: 'POST', url: '/users', body: { user_id: 'u1' }, status: 409, detail: "user_id 'u1' already exists" },
    { name: 'missing user_id is 400', method: 'POST', url: '/users', body: { firebase_data: {} }, status: 400, detail: "missing required field 'user_id'" },
    { name: 'empty user_id is 400', method: 'POST', url: '/users', body: { user_id: '' }, status: 400, detail: 'user_id' },
    { name: 'numeric user_id is 400 (no silent coercion)', method: 'POST', url: '/users', body: { user_id: 5 }, status: 400, detail: 'user_id must be string' },
    { name: 'unknown field is 400', method: 'POST', url: '/users', body: { user_id: 'u9', password: 'x' }, status: 400, detail: "unknown field 'password'" },
    { name: 'PUT key mismatch is 400', method: 'PUT', url: '/users/u1', body: { user_id: 'other' }, status: 400, detail: 'does not match the path' },
    { name: 'PUT missing user is 404', method: 'PUT', url: '/users/ghost', body: { body_data: {} }, status: 404, detail: 'user not found' },
    { name: 'empty PATCH is 400', method: 'PATCH', url: '/users/u1', body: {}, status: 400 },
    { name: 'DELETE missing user is 404', method: 'DELETE', url: '/users/ghost', status: 404, detail: 'user not found' },
    { name: 'users list refuses a filter it does not have', method: 'GET', url: '/users?email=x', status: 400, detail: "unknown query parameter 'email'" },
  ];
  test('happy path', (t) => runScenarios(t, app, happy));
  test('errors', (t) => runScenarios(t, app, errors));
  test('credentials are never exposed', async () => {
    const res = await ctx.request('GET', '/users/u1');
    for (const k of ['password_hash', 'email', 'role', 'id']) assert.ok(!(k in res.body), `${k} must not be in ${res.text}`);
  });
});

describe('sessions, recordings and algos', () => {
  before(async () => {
    for (const id of ['ru1', 'ru2']) await ctx.request('POST', '/users', { body: { user_id: id } });
  });
  const happy: Scenario[] = [
    { name: 'create session', method: 'POST', url: '/sessions', body: { session_id: 's1', user_id: 'ru1', ts_start: '2024-03-01T10:00:00', exercises_data: [{ name: 'squat', reps: 10 }], device_type: 'phone', device_os: 'ios', region: 'eu', ip: '10.0.0.1', app_version: '1.2.0' }, status: 201, contains: { session_id: 's1', ts_start: '2024-03-01T10:00:00.000Z', exercises_data: [{ name: 'squat', reps: 10 }] } },
    { name: 'create session with offset time', method: 'POST', url: '/sessions', body: { session_id: 's2', user_id: 'ru2', ts_start: '2024-03-02T12:00:00+02:00', device_type: 'tablet' }, status: 201, contains: { ts_start: '2024-03-02T10:00:00.000Z' } },
    { name: 'create recording', method: 'POST', url: '/recordings', body: { recording_id: 'r1', recording_link: 's3://b/r1.mp4', recording_type: 'video', user_id: 'ru1', created_session_id: 's1' }, status: 201, contains: { recording_id: 'r1', recording_type: 'video', user_id: 'ru1', created_session_id: 's1' } },
    { name: 'create recording 2', method: 'POST', url: '/recordings', body: { recording_id: 'r2', recording_link: 'x', recording_type: 'audio', user_id: 'ru1', created_session_id: 's1' }, status: 201 },
    { name: 'create recording 3', method: 'POST', url: '/recordings', body: { recording_id: 'r3', recording_type: 'video', user_id: 'ru2' }, status: 201 },
    { name: 'filter recordings by user_id', method: 'GET', url: '/recordings?user_id=ru1', status: 200, contains: [{ recording_id: 'r1' }, { recording_id: 'r2' }], responseHeaders: { 'x-total-count': '2' } },
    { name: 'filter recordings by recording_type', method: 'GET', url: '/recordings?recording_type=video', status: 200, contains: [{ recording_id: 'r1' }, { recording_id: 'r3' }] },
    { name: 'both filters', method: 'GET', url: '/recordings?recording_type=video&user_id=ru2', status: 200, contains: [{ recording_id: 'r3' }] },
    { name: 'create algo v1', method: 'POST', url: '/algos', body: { algo_id: 'a1', recording_type: 'video', location: 's3://m/a1', version: '1' }, status: 201, contains: { algo_id: 'a1', version: '1' } },
    { name: 'create algo v2', method: 'POST', url: '/algos', body: { algo_id: 'a2', recording_type: 'video', location: 's3://m/a2', version: '2' }, status: 201 },
    { name: 'create algo audio', method: 'POST', url: '/algos', body: { algo_id: 'a3', recording_type: 'audio', location: 's3://m/a3', version: '2' }, status: 201 },
    { name: 'filter algos by version', method: 'GET', url: '/algos?version=2', status: 200, contains: [{ algo_id: 'a2' }, { algo_id: 'a3' }] },
    { name: 'filter algos by recording_type and version', method: 'GET', url: '/algos?recording_type=video&version=2', status: 200, contains: [{ algo_id: 'a2' }] },
    { name: 'get algo', method: 'GET', url: '/algos/a1', status: 200, contains: { location: 's3://m/a1' } },
    { name: 'update algo', method: 'PUT', url: '/algos/a1', body: { algo_id: 'a1', recording_type: 'video', location: 's3://m/a1b', version: '1.1' }, status: 200, contains: { location: 's3://m/a1b', version: '1.1' } },
    { name: 'filter sessions by user', method: 'GET', url: '/sessions?user_id=ru2', status: 200, contains: [{ session_id: 's2' }] },
    { name: 'sessions in a time range', method: 'GET', url: '/sessions?ts_gte=2024-03-02T00:00:00Z', status: 200, contains: [{ session_id: 's2' }] },
    { name: 'update session', method: 'PATCH', url: '/sessions/s2', body: { region: 'us', exercises_data: { a: 1 } }, status: 200, contains: { region: 'us', device_type: 'tablet', exercises_data: { a: 1 } } },
    { name: 'delete algo', method: 'DELETE', url: '/algos/a3', status: 204 },
  ];
  const errors: Scenario[] = [
    { name: 'recording for a missing user is 422', method: 'POST', url: '/recordings', body: { recording_id: 'r9', user_id: 'nobody' }, status: 422, detail: "user_id 'nobody' does not exist" },
    { name: 'recording for a missing session is 422', method: 'POST', url: '/recordings', body: { recording_id: 'r9', created_session_id: 'nope' }, status: 422, detail: "created_session_id 'nope' does not exist" },
    { name: 'duplicate recording is 409', method: 'POST', url: '/recordings', body: { recording_id: 'r1' }, status: 409, detail: "recording with recording_id 'r1' already exists" },
    { name: 'deleting a referenced user is 409', method: 'DELETE', url: '/users/ru1', status: 409, detail: 'still referenced' },
    { name: 'deleting a referenced session is 409', method: 'DELETE', url: '/sessions/s1', status: 409, detail: 'still referenced' },
    { name: 'session with a bad date is 400', method: 'POST', url: '/sessions', body: { session_id: 's9', ts_start: 'yesterday' }, status: 400, detail: 'ts_start' },
    { name: 'session with an impossible date is 400', method: 'POST', url: '/sessions', body: { session_id: 's9', ts_start: '2024-02-30T00:00:00Z' }, status: 400, detail: 'ts_start' },
    { name: 'recording_type must be a string', method: 'POST', url: '/recordings', body: { recording_id: 'r9', recording_type: 3 }, status: 400, detail: 'recording_type' },
    { name: 'unknown recordings filter is 400', method: 'GET', url: '/recordings?type=video', status: 400, detail: "unknown query parameter 'type'" },
    { name: 'missing recording is 404', method: 'GET', url: '/recordings/none', status: 404, detail: 'recording not found' },
    { name: 'missing algo PATCH is 404', method: 'PATCH', url: '/algos/none', body: { version: '3' }, status: 404, detail: 'algo not found' },
    { name: 'NUL byte in text is 400, not 500', method: 'POST', url: '/algos', body: { algo_id: 'a\u0000b' }, status: 400 },
  ];
  test('happy path', (t) => runScenarios(t, app, happy));
  test('errors', (t) => runScenarios(t, app, errors));
  test('data survives the failed writes', async () => {
    const res = await ctx.request('GET', '/recordings');
    assert.equal(res.headers.get('x-total-count'), '3');
    assert.equal((await ctx.request('GET', '/users/ru1')).status, 200);
  });
});

describe('event log (README: Event Log API)', () => {
  before(async () => {
    await ctx.request('POST', '/users', { body: { user_id: 'eu1' } });
    await ctx.request('POST', '/users', { body: { user_id: 'eu2' } });
    await ctx.request('POST', '/sessions', { body: { session_id: 'es1', user_id: 'eu1' } });
  });
  const happy: Scenario[] = [
    { name: 'create event (README body)', method: 'POST', url: '/events', body: { user_id: 'eu1', session_id: 'es1', event_type: 'click', event_data: { button: 'start', at: [1, 2] }, event_source: 'app', log_level: 'info', ts: '2024-05-01T08:00:00' }, status: 201, contains: { event_id: 1, ts: '2024-05-01T08:00:00.000Z', event_data: { button: 'start', at: [1, 2] } }, responseHeaders: { location: '/events/1' } },
    { name: 'create event 2', method: 'POST', url: '/events', body: { user_id: 'eu1', session_id: 'es1', event_type: 'view', event_source: 'web', ts: '2024-05-01T09:00:00Z' }, status: 201, contains: { event_id: 2 } },
    { name: 'create event 3', method: 'POST', url: '/events', body: { user_id: 'eu2', event_type: 'click', event_source: 'app', ts: '2024-05-02T09:00:00Z' }, status: 201, contains: { event_id: 3 } },
    { name: 'create event without ts defaults to now', method: 'POST', url: '/events', body: { user_id: 'eu2', event_type: 'crash', event_source: 'app', log_level: 'error' }, status: 201, check: (r) => assert.ok(Math.abs(Date.parse(r.body.ts) - Date.now()) < 60_000) },
    { name: 'get event by id', method: 'GET', url: '/events/2', status: 200, contains: { event_type: 'view' } },
    { name: 'filter by user_id', method: 'GET', url: '/events?user_id=eu1', status: 200, contains: [{ event_id: 1 }, { event_id: 2 }], responseHeaders: { 'x-total-count': '2' } },
    { name: 'filter by session_id', method: 'GET', url: '/events?session_id=es1', status: 200, contains: [{ event_id: 1 }, { event_id: 2 }] },
    { name: 'filter by event_type', method: 'GET', url: '/events?event_type=click', status: 200, contains: [{ event_id: 1 }, { event_id: 3 }] },
    { name: 'filter by event_source', method: 'GET', url: '/events?event_source=web', status: 200, contains: [{ event_id: 2 }] },
    { name: 'ts_gte', method: 'GET', url: '/events?ts_gte=2024-05-01T09:00:00Z&event_source=app', status: 200, contains: [{ event_id: 3 }, { event_id: 4 }] },
    { name: 'ts_lte (inclusive)', method: 'GET', url: '/events?ts_lte=2024-05-01T09:00:00Z', status: 200, contains: [{ event_id: 1 }, { event_id: 2 }] },
    { name: 'ts_gte and ts_lte', method: 'GET', url: '/events?ts_gte=2024-05-01T08:30:00&ts_lte=2024-05-02T09:00:00', status: 200, contains: [{ event_id: 2 }, { event_id: 3 }] },
    { name: 'update event (PUT)', method: 'PUT', url: '/events/3', body: { user_id: 'eu2', event_type: 'tap', event_source: 'app', ts: '2024-05-02T09:00:00Z', event_data: { v: 2 } }, status: 200, contains: { event_id: 3, event_type: 'tap', event_data: { v: 2 } } },
    { name: 'delete event', method: 'DELETE', url: '/events/4', status: 204 },
    { name: 'deleted event is 404', method: 'GET', url: '/events/4', status: 404, detail: 'event not found' },
  ];
  const errors: Scenario[] = [
    { name: 'event_id must be an integer', method: 'GET', url: '/events/abc', status: 400, detail: 'event_id' },
    { name: 'event for a missing user is 422', method: 'POST', url: '/events', body: { user_id: 'ghost', event_type: 'x' }, status: 422, detail: "user_id 'ghost' does not exist" },
    { name: 'bad ts is 400', method: 'POST', url: '/events', body: { ts: '2024-13-01T00:00:00Z' }, status: 400, detail: 'ts' },
    { name: 'bad ts_gte is 400', method: 'GET', url: '/events?ts_gte=last-week', status: 400, detail: 'ts_gte' },
    { name: 'PUT cannot null a required column', method: 'PUT', url: '/events/3', body: { ts: null }, status: 400, detail: 'ts' },
    { name: 'event_data any JSON, log_level string only', method: 'POST', url: '/events', body: { log_level: 5 }, status: 400, detail: 'log_level' },
  ];
  test('happy path', (t) => runScenarios(t, app, happy));
  test('errors', (t) => runScenarios(t, app, errors));
});

describe('pagination', () => {
  before(async () => {
    for (let i = 0; i < 25; i++) {
      const res = await ctx.request('POST', '/algos', { body: { algo_id: `p${String(i).padStart(2, '0')}`, recording_type: 'page-test', version: String(i % 3) } });
      assert.equal(res.status, 201);
    }
  });
  test('default size is 10, pages are disjoint and stable, total in X-Total-Count', async () => {
    const seen: string[] = [];
    for (const page of [1, 2, 3]) {
      const res = await ctx.request('GET', `/algos?recording_type=page-test&page=${page}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('x-total-count'), '25');
      assert.equal(res.body.length, page === 3 ? 5 : 10);
      seen.push(...res.body.map((r: { algo_id: string }) => r.algo_id));
    }
    assert.equal(new Set(seen).size, 25);
    const again = await ctx.request('GET', '/algos?recording_type=page-test&page=2');
    assert.deepEqual(again.body.map((r: { algo_id: string }) => r.algo_id), seen.slice(10, 20));
  });
  test('size bounds and pages past the end', async () => {
    const cases: Scenario[] = [
      { name: 'size 100 ok', method: 'GET', url: '/algos?size=100&recording_type=page-test', status: 200, check: (r) => assert.equal(r.body.length, 25) },
      { name: 'size 3 page 9 is the last item', method: 'GET', url: '/algos?size=3&page=9&recording_type=page-test', status: 200, contains: [{ algo_id: 'p24' }] },
      { name: 'past the end is empty', method: 'GET', url: '/algos?page=99&recording_type=page-test', status: 200, contains: [], responseHeaders: { 'x-total-count': '25' } },
      { name: 'size 0 is 400', method: 'GET', url: '/algos?size=0', status: 400, detail: 'size' },
      { name: 'size 101 is 400', method: 'GET', url: '/algos?size=101', status: 400, detail: 'size' },
      { name: 'page 0 is 400', method: 'GET', url: '/algos?page=0', status: 400, detail: 'page' },
      { name: 'page abc is 400', method: 'GET', url: '/algos?page=abc', status: 400, detail: 'page' },
    ];
    for (const s of cases) await checkScenario(ctx, s);
  });
});
