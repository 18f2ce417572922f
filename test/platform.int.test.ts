// Platform endpoints and the error model, through HTTP.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { defaultThreads, liveWorkerCount } from '../src/ml/runtime.ts';
import { openDatabase } from '../src/platform/db.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { authHeaders } from './helpers/auth.ts';
import { runScenarios, type Scenario } from './helpers/scenarios.ts';

let server: TestApp;
let ctx: TestApp; // signed in as an ordinary user
let admin: TestApp;
before(async () => {
  server = await startTestApp({ bodyLimit: 4096 });
  ctx = server.withHeaders(await authHeaders(server, 'user'));
  admin = server.withHeaders(await authHeaders(server, 'admin'));
});
after(() => server?.close());
const app = () => ctx;

describe('health, readiness, metrics, docs', () => {
  const scenarios: Scenario[] = [
    { name: 'health', method: 'GET', url: '/health', status: 200, contains: { status: 'ok' } },
    { name: 'ready', method: 'GET', url: '/ready', status: 200, contains: { status: 'ready' } },
    { name: 'openapi document', method: 'GET', url: '/openapi.json', status: 200, check: (r) => {
      assert.equal(r.body.openapi, '3.1.0');
      for (const p of ['/users', '/users/{user_id}', '/recordings', '/algos/{algo_id}', '/sessions', '/events', '/events/{event_id}', '/health', '/ready']) {
        assert.ok(r.body.paths[p], `openapi lists ${p}`);
      }
      const list = r.body.paths['/events'].get;
      const names = list.parameters.filter((p: { in: string }) => p.in === 'query').map((p: { name: string }) => p.name).sort();
      assert.deepEqual(names, ['after', 'event_source', 'event_type', 'page', 'session_id', 'size', 'ts_gte', 'ts_lte', 'user_id']);
      // Prefer: count=… is documented as a header of every list that takes it.
      for (const p of ['/events', '/api/alerts']) {
        assert.ok(r.body.paths[p].get.parameters.some((h: { in: string; name: string }) => h.in === 'header' && h.name === 'prefer'), `${p} documents Prefer`);
      }
    } },
    { name: 'interactive docs', method: 'GET', url: '/docs', status: 200, check: (r) => assert.match(r.text, /<html/i) },
  ];
  test('scenarios', (t) => runScenarios(t, app, scenarios));

  test('metrics count requests per route with latency histograms', async () => {
    await ctx.request('GET', '/users/nobody');
    await ctx.request('GET', '/users/nobody2');
    assert.equal((await ctx.request('GET', '/metrics')).status, 403, 'metrics are for admins and service clients');
    assert.equal((await server.request('GET', '/metrics')).status, 401);
    const res = await admin.request('GET', '/metrics');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    assert.match(res.text, /http_requests_total\{method="GET",route="\/users\/:user_id",status_code="404"\} 2/);
    assert.match(res.text, /http_request_duration_seconds_bucket\{le="0\.005",method="GET",route="\/users\/:user_id",status_code="404"\}/);
    assert.match(res.text, /process_cpu_user_seconds_total/);
  });

  test('closing: an in-flight request finishes, in our shape, and its answer closes the connection', async () => {
    const database = await openDatabase({ ...ctx.config });
    const other = await buildApp(ctx.config, { database });
    const url = new URL(await other.listen({ port: 0, host: '127.0.0.1' }));
    // A request whose body is still on its way when the server starts closing.
    const socket = net.connect(Number(url.port), url.hostname);
    await new Promise((r) => socket.once('connect', r));
    const body = JSON.stringify({ email: 'nobody@example.com', password: 'wrong-password' });
    socket.write(`POST /api/v1/auth/login/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 5)}`);
    await new Promise((r) => setTimeout(r, 50));
    const closed = other.close();
    await new Promise((r) => setTimeout(r, 20)); // close() has begun (its preClose hooks ran)
    let answer = '';
    socket.on('data', (d) => (answer += d));
    const ended = new Promise((r) => socket.once('close', r));
    socket.write(body.slice(5));
    await ended;
    assert.match(answer, /^HTTP\/1\.1 401 /);
    assert.match(answer, /\r\nconnection: close\r\n/i);
    assert.match(answer, /"code":"UNAUTHORIZED"/);
    await closed;
    await database.close();
  });

  test('a malformed escape in the path is a 400 in our shape, with a request id', async () => {
    const res = await ctx.request('GET', '/api/v1/datasets/%ff');
    assert.equal(res.status, 400, res.text);
    assert.equal(res.body.code, 'BAD_REQUEST');
    assert.match(res.body.detail, /malformed URL/);
    assert.ok(res.headers.get('x-request-id'));
  });

  test('ready answers 503 when the database does not answer', async () => {
    const database = await openDatabase({ ...ctx.config });
    const down = { ...database, dependency: { name: 'database', up: true, check: async () => false, stop() {} } };
    const other = await buildApp(ctx.config, { database: down });
    try {
      const res = await other.inject({ method: 'GET', url: '/ready' });
      assert.equal(res.statusCode, 503);
      assert.deepEqual(Object.keys(res.json()).sort(), ['code', 'dependencies', 'detail', 'message', 'requestId']);
      assert.equal(res.json().detail, 'not ready: database is unreachable');
      assert.equal(res.json().code, 'UNAVAILABLE');
      assert.deepEqual(res.json().dependencies, { database: 'down', ...(ctx.config.redisUrl ? { redis: 'up' } : {}) });
      assert.equal(res.headers['retry-after'], '1');
    } finally {
      await other.close();
      await database.close();
    }
  });
});

describe('request ids', () => {
  test('a sane incoming x-request-id is echoed and used in errors', async () => {
    const res = await ctx.request('GET', '/users/none', { headers: { 'x-request-id': 'abc-123' } });
    assert.equal(res.headers.get('x-request-id'), 'abc-123');
    assert.equal(res.body.requestId, 'abc-123');
  });
  test('a hostile x-request-id is replaced', async () => {
    const res = await ctx.request('GET', '/health', { headers: { 'x-request-id': 'a b<script>' } });
    assert.match(res.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });
});

describe('the error model: every bad input is a 4xx with a detail', () => {
  const big = 'x'.repeat(5000);
  const scenarios: Scenario[] = [
    { name: 'unknown route 404', method: 'GET', url: '/no/such/route', status: 404, detail: 'route GET /no/such/route not found', contains: { code: 'NOT_FOUND' } },
    { name: 'unknown method on a route 404', method: 'PATCH', url: '/users', body: {}, status: 404 },
    { name: 'malformed JSON 400', method: 'POST', url: '/users', rawBody: '{"user_id": ', headers: { 'content-type': 'application/json' }, status: 400, detail: 'malformed JSON' },
    { name: 'empty JSON body 400 where a body is needed', method: 'POST', url: '/users', rawBody: '', headers: { 'content-type': 'application/json' }, status: 400, detail: 'body' },
    { name: 'empty JSON body is fine on DELETE', method: 'DELETE', url: '/users/nobody', rawBody: '', headers: { 'content-type': 'application/json' }, status: 404, detail: 'user not found' },
    { name: 'JSON array instead of object 400', method: 'POST', url: '/users', body: [1, 2], status: 400, detail: 'body must be object' },
    { name: 'JSON null body 400', method: 'POST', url: '/users', rawBody: 'null', headers: { 'content-type': 'application/json' }, status: 400 },
    { name: 'prototype poisoning 400', method: 'POST', url: '/users', rawBody: '{"user_id":"p","__proto__":{"admin":true}}', headers: { 'content-type': 'application/json' }, status: 400 },
    { name: 'unsupported media type 415', method: 'POST', url: '/users', rawBody: 'user_id=u', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 415, contains: { code: 'UNSUPPORTED_MEDIA_TYPE' } },
    { name: 'text/plain is 415 too', method: 'POST', url: '/users', rawBody: 'hello', headers: { 'content-type': 'text/plain' }, status: 415 },
    { name: 'body over the limit 413', method: 'POST', url: '/users', body: { user_id: 'big', body_data: { s: big } }, status: 413, detail: 'larger than the limit of 4096 bytes', contains: { code: 'PAYLOAD_TOO_LARGE' } },
    { name: 'no body at all 400', method: 'POST', url: '/users', status: 400, detail: 'body' },
    { name: 'wrong type in a nested-free field 400', method: 'POST', url: '/algos', body: { algo_id: 'a', version: 2 }, status: 400, detail: 'version must be string' },
    { name: 'very long id 400', method: 'POST', url: '/algos', body: { algo_id: 'a'.repeat(300) }, status: 400, detail: 'algo_id' },
    { name: 'percent-encoded path id', method: 'GET', url: '/users/%E2%9C%93', status: 404, detail: 'user not found' },
  ];
  // As an admin, who may write every resource: what is refused here is refused for the input alone.
  test('scenarios', (t) => runScenarios(t, () => admin, scenarios));
  test('nothing was written by the refused requests', async () => {
    const res = await admin.request('GET', '/users');
    assert.equal(res.headers.get('x-total-count'), '2', 'only the two signed-up test accounts');
  });
});

describe('ML_THREADS', () => {
  test('sets the estimators\' thread budget, refuses a bad value, and the app closes every pool', async () => {
    assert.throws(() => loadConfig({ ML_THREADS: '0' }), /ML_THREADS must be between 1 and 1024/);
    assert.equal(loadConfig({}).mlThreads, null);
    const app = await startTestApp({ mlThreads: 1 });
    try {
      assert.equal(defaultThreads(), 1);
    } finally {
      await app.close();
    }
    assert.equal(liveWorkerCount(), 0);
  });
});

describe('MODULES: a process serves only the named modules', () => {
  test('unknown names are refused at start', () => {
    assert.throws(() => loadConfig({ MODULES: 'events,recommendation' }), /MODULES: unknown module "recommendation"/);
    assert.deepEqual(loadConfig({ MODULES: ' events , auth ' }).modules, ['events', 'auth']);
  });

  test("MODULES=events serves seed 001 and the platform routes, and no other module's", async () => {
    const secret = 'a-shared-service-secret';
    const only = await startTestApp({ modules: ['events'], eventsAutoCreateUsers: true, auth: { clientHeaderSecret: secret } });
    try {
      const service = { 'client-header-secret': secret };
      const event = await only.request('POST', '/api/events', { headers: service, body: { type: 'withdraw', amount: '150', user_id: 4242, time: 1 } });
      assert.equal(event.status, 200, event.text);
      assert.deepEqual(event.body.alert_codes, [1100]);
      assert.equal((await only.request('POST', '/api/v1/auth/login/', { body: { email: 'a@example.com', password: 'x' } })).status, 404);
      assert.equal((await only.request('GET', '/users', { headers: service })).status, 404);
      assert.equal((await only.request('GET', '/recordings', { headers: service })).status, 404);
      assert.equal((await only.request('GET', '/health')).status, 200);
      const paths = Object.keys((await only.request('GET', '/openapi.json')).body.paths);
      assert.ok(paths.includes('/api/events') && paths.includes('/health'));
      assert.ok(!paths.some((p) => p.startsWith('/api/v1/auth') || p.startsWith('/users') || p.startsWith('/recordings')), paths.join(' '));
    } finally {
      await only.close();
    }
  });
});
