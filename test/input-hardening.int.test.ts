// Bad input gets a clear 4xx {"detail", "message"}: never a 500, a database's words, a huge echo,
// or a silent change of what was sent. Each block replays an issue's request sequence over HTTP.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { openDatabase } from '../src/platform/db.ts';
import { startTestApp, httpRequest, type TestApp, type TestResponse } from './helpers/app.ts';
import { authHeaders, createAccount } from './helpers/auth.ts';
import { createTestDatabase } from './helpers/db.ts';
import { runScenarios, type Scenario } from './helpers/scenarios.ts';
import { CLI, exited, viaServer } from './helpers/server.ts';

// A zone far from UTC, so a time without a zone read as local time shows.
process.env.TZ = 'America/New_York';

let server: TestApp;
let ctx: TestApp; // a service API key: a backend that writes any user's rows
let admin: TestApp;
before(async () => {
  server = await startTestApp();
  ctx = server.withHeaders(await authHeaders(server, 'service'));
  admin = server.withHeaders(await authHeaders(server, 'admin'));
});
after(() => server?.close());
const user = () => ctx;

const nested = (depth: number, leaf = '1') => '['.repeat(depth) + leaf + ']'.repeat(depth);
const json = { 'content-type': 'application/json' };
let seq = 0;
const uid = (p: string) => `${p}-${process.pid}-${++seq}`;

/** Every error body carries the same text in `detail` and `message`, and no database wording. */
function cleanError(res: TestResponse): void {
  assert.ok(res.status >= 400 && res.status < 500, `a 4xx, got ${res.status}: ${res.text.slice(0, 300)}`);
  assert.equal(res.body.message, res.body.detail, 'message repeats detail');
  assert.doesNotMatch(res.text, /for type (bigint|integer|json|timestamp)|invalid byte sequence|invalid input syntax|UTF8|0x00/i);
}
const clean = (res: TestResponse) => cleanError(res);

describe('1. deep JSON is refused by the body parser, on every route', () => {
  const deep = nested(5000);
  const deepRule = { code: 4242, kind: 'threshold', event_type: 'withdraw', params: { op: '__X__', amount: '1.00' } };
  const scenarios: Scenario[] = [
    { name: 'POST /users firebase_data 5000 levels', method: 'POST', url: '/users', headers: json, rawBody: `{"user_id":"deep-1","firebase_data":${deep}}`, status: 400, detail: /nested more than 64 levels deep \(at firebase_data/, check: clean },
    { name: 'POST /sessions exercises_data 5000 levels', method: 'POST', url: '/sessions', headers: json, rawBody: `{"session_id":"deep-s","exercises_data":${deep}}`, status: 400, detail: /64 levels/, check: clean },
    { name: 'POST /events event_data 5000 levels', method: 'POST', url: '/events', headers: json, rawBody: `{"event_data":${deep}}`, status: 400, detail: /64 levels/, check: clean },
    { name: 'POST /api/events 5000 levels', method: 'POST', url: '/api/events', headers: json, rawBody: `{"type":"deposit","amount":"1","user_id":1,"time":${deep}}`, status: 400, detail: /64 levels/, check: clean },
    { name: 'a body that is only nesting', method: 'POST', url: '/users', headers: json, rawBody: nested(100_000), status: 400, detail: /64 levels deep \(at \[0\]/, check: clean },
    { name: '60 levels are stored and returned as sent', method: 'POST', url: '/users', body: { user_id: 'deep-ok', firebase_data: JSON.parse(nested(60, '"x"')) }, status: 201, check: (r) => assert.equal(JSON.stringify(r.body.firebase_data), nested(60, '"x"')) },
  ];
  test('scenarios', (t) => runScenarios(t, user, scenarios));

  test('/api/rules params.op 5000 levels deep', async () => {
    const res = await admin.request('POST', '/api/rules', { headers: json, rawBody: JSON.stringify(deepRule).replace('"__X__"', deep) });
    assert.equal(res.status, 400, res.text);
    assert.match(res.body.detail, /nested more than 64 levels deep \(at params\.op/);
    clean(res);
  });
});

describe('2. timestamps: out of range is 400, no zone is UTC', () => {
  const lists = ['/users', '/recordings', '/algos', '/sessions', '/events'];
  const bad = ['9999-12-31T23:59:59-23:59', '0000-01-01T00:00:00Z', '0099-06-01T00:00:00Z', '0100-01-01T00:00:00+00:01', '-0001-01-01T00:00:00Z', '+010000-01-01T00:00:00Z', '2024-02-30T00:00:00Z'];

  test('list filters refuse out-of-range instants on all five lists', async () => {
    for (const list of lists) {
      for (const f of ['ts_gte', 'ts_lte']) {
        for (const v of bad) {
          const res = await ctx.request('GET', `${list}?${f}=${encodeURIComponent(v)}`);
          assert.equal(res.status, 400, `${list}?${f}=${v}: ${res.text}`);
          assert.match(res.body.detail, new RegExp(`${f}|iso-date-time`));
          clean(res);
        }
      }
    }
  });

  test('writes refuse them too', async () => {
    for (const v of bad) {
      const ev = await ctx.request('POST', '/events', { body: { ts: v } });
      assert.equal(ev.status, 400, `${v}: ${ev.text}`);
      clean(ev);
      const s = await ctx.request('POST', '/sessions', { body: { session_id: uid('s'), ts_start: v } });
      assert.equal(s.status, 400, `${v}: ${s.text}`);
      clean(s);
    }
    const res = await ctx.request('POST', '/events', { body: { ts: '9999-12-31T23:59:59-23:59' } });
    assert.match(res.body.detail, /ts is out of range: years 100 to 9999/);
  });

  test('the edges of the range round-trip exactly', async () => {
    for (const [sent, back] of [['0100-01-01T00:00:00Z', '0100-01-01T00:00:00.000Z'], ['9999-12-31T23:59:59.999Z', '9999-12-31T23:59:59.999Z'], ['9999-12-31T23:59:59+23:59', '9999-12-31T00:00:59.000Z']]) {
      const res = await ctx.request('POST', '/events', { body: { ts: sent } });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.ts, back);
    }
  });

  test('a time without a zone is UTC on writes and in filters, whatever the server zone', async () => {
    assert.notEqual(new Date(2024, 4, 1).getTimezoneOffset(), 0, 'the test runs in a non-UTC zone');
    const sid = uid('utc');
    for (const [sent, back] of [['2024-05-01 12:00:00', '2024-05-01T12:00:00.000Z'], ['2024-05-01t12:30:00', '2024-05-01T12:30:00.000Z'], ['2024-05-01T13:00:00', '2024-05-01T13:00:00.000Z']]) {
      const res = await ctx.request('POST', '/events', { body: { ts: sent, event_type: sid } });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.ts, back, sent);
    }
    const s = await ctx.request('POST', '/sessions', { body: { session_id: sid, ts_start: '2024-05-01 12:00:00' } });
    assert.equal(s.body.ts_start, '2024-05-01T12:00:00.000Z');
    const list = await ctx.request('GET', `/events?event_type=${sid}&ts_gte=${encodeURIComponent('2024-05-01 12:00:00')}&ts_lte=${encodeURIComponent('2024-05-01 12:30:00')}`);
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(list.body.map((e: { ts: string }) => e.ts), ['2024-05-01T12:00:00.000Z', '2024-05-01T12:30:00.000Z']);
  });
});

describe('3. JSON columns keep what was sent, or refuse it', () => {
  const scenarios: Scenario[] = [
    { name: 'a 20-digit integer', method: 'POST', url: '/users', headers: json, rawBody: '{"user_id":"n1","firebase_data":{"n":12345678901234567890}}', status: 400, detail: /number 12345678901234567890 at firebase_data\.n cannot be stored exactly \(it would become 12345678901234567000\)/, check: clean },
    { name: '1e309', method: 'POST', url: '/sessions', headers: json, rawBody: '{"session_id":"n2","exercises_data":[1,1e309]}', status: 400, detail: /number 1e309 at exercises_data\[1\] is beyond the range/, check: clean },
    { name: 'duplicate keys', method: 'POST', url: '/events', headers: json, rawBody: '{"event_data":{"a":1,"b":{"c":1,"c":2}}}', status: 400, detail: /object at event_data\.b has the key "c" more than once/, check: clean },
    { name: 'duplicate top-level keys', method: 'POST', url: '/users', headers: json, rawBody: '{"user_id":"n3","user_id":"n4"}', status: 400, detail: /has the key "user_id" more than once/, check: clean },
    { name: 'exact numbers are kept', method: 'POST', url: '/users', headers: json, rawBody: '{"user_id":"n5","firebase_data":{"a":9007199254740991,"b":0.1,"c":-2.5e-3,"d":1e300}}', status: 201, contains: { firebase_data: { a: 9007199254740991, b: 0.1, c: -0.0025, d: 1e300 } } },
  ];
  test('scenarios', (t) => runScenarios(t, user, scenarios));

  test('a __proto__ key is stored and read back as data, polluting nothing', async () => {
    const raw = '{"user_id":"proto-1","firebase_data":{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"a":1}}';
    const res = await ctx.request('POST', '/users', { headers: json, rawBody: raw });
    assert.equal(res.status, 201, res.text);
    const back = await ctx.request('GET', '/users/proto-1');
    assert.equal(back.status, 200);
    assert.ok(back.text.includes('"firebase_data":{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"a":1}'), back.text);
    assert.deepEqual(Object.keys(back.body.firebase_data), ['__proto__', 'constructor', 'a']);
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype untouched in the server process');
    const top = await ctx.request('POST', '/users', { headers: json, rawBody: '{"user_id":"proto-2","__proto__":{"role":"admin"}}' });
    assert.equal(top.status, 400, 'a top-level __proto__ is an unknown field like any other');
    assert.match(top.body.detail, /unknown field '__proto__'/);
  });
});

describe('4. 400s speak our words and echo at most ~100 characters', () => {
  const scenarios: Scenario[] = [
    { name: 'NUL in a text field', method: 'POST', url: '/recordings', body: { recording_id: 'nul-1', recording_type: 'a\u0000b' }, status: 400, detail: /string at recording_type contains a NUL character/, check: clean },
    { name: 'NUL in a JSON column', method: 'POST', url: '/users', body: { user_id: 'nul-2', firebase_data: { k: 'a\u0000' } }, status: 400, detail: /firebase_data\.k contains a NUL/, check: clean },
    { name: 'NUL in a key', method: 'POST', url: '/events', body: { event_data: { 'k\u0000': 1 } }, status: 400, detail: /a key in the object at event_data contains a NUL/, check: clean },
    { name: 'NUL in a query filter', method: 'GET', url: '/recordings?user_id=%00', status: 400, detail: /cannot be stored|NUL/, check: clean },
    { name: 'NUL in a path id', method: 'GET', url: '/algos/a%00b', status: 400, check: clean },
    { name: 'lone surrogate in a JSON column', method: 'POST', url: '/sessions', headers: json, rawBody: '{"session_id":"sur-1","exercises_data":{"s":"\\ud800"}}', status: 400, detail: /unpaired surrogate \(\\ud800\)/, check: clean },
    { name: 'lone surrogate in a text field', method: 'POST', url: '/algos', headers: json, rawBody: '{"algo_id":"sur-2","version":"x\\udfffy"}', status: 400, detail: /unpaired surrogate/, check: clean },
    { name: 'rule id beyond bigint', method: 'GET', url: '/api/rules/99999999999999999999', status: 400, detail: /must be <= 9007199254740991/, check: clean },
    { name: 'rule id beyond a double', method: 'GET', url: '/api/rules/1e400', status: 400, check: clean },
    { name: 'account id beyond bigint', method: 'GET', url: '/api/v1/users/99999999999999999999/', status: 400, check: clean },
    { name: 'account id near 2^63', method: 'GET', url: '/api/v1/users/9223372036854775808/', status: 400, check: clean },
    { name: 'event id beyond int', method: 'GET', url: '/events/3000000000', status: 400, check: clean },
    { name: 'seed 001 user filter beyond bigint', method: 'GET', url: '/api/events?user_id=99999999999999999999', status: 400, check: clean },
    { name: 'rule priority beyond int', method: 'GET', url: '/api/rules?code=99999999999', status: 400, check: clean },
  ];
  test('scenarios', (t) => runScenarios(t, user, scenarios));

  test('invalid UTF-8 is refused, not stored as U+FFFD', async () => {
    const headers = { ...(await authHeaders(server, 'service')), ...json };
    const body = Buffer.concat([Buffer.from('{"algo_id":"utf-1","version":"a'), Buffer.from([0xff, 0xed, 0xa0, 0x80]), Buffer.from('"}')]);
    const res = await fetch(`${server.url}/algos`, { method: 'POST', headers, body });
    assert.equal(res.status, 400);
    const err = (await res.json()) as { detail: string };
    assert.equal(err.detail, 'malformed JSON body: it is not valid UTF-8');
    assert.equal((await ctx.request('GET', '/algos/utf-1')).status, 404);
  });

  test('a 500 KB field is echoed truncated, not whole', async () => {
    const huge = 'x'.repeat(500_000);
    for (const body of [
      { type: 'deposit', amount: huge, user_id: 1, time: 1 },
      { type: 'deposit', amount: '1.00', user_id: huge, time: 1 },
    ]) {
      const res = await ctx.request('POST', '/api/events', { body });
      assert.equal(res.status, 400, res.text.slice(0, 300));
      clean(res);
      assert.ok(res.text.length < 2000, `the answer is ${res.text.length} characters`);
      assert.match(res.body.detail, /x{100}…/);
    }
    const key = await ctx.request('POST', '/events', { body: { event_type: huge } });
    assert.equal(key.status, 400);
    assert.ok(key.text.length < 2000);
  });

  test('a duplicate key of 255 characters is quoted truncated', async () => {
    const id = `${'k'.repeat(250)}${seq}`;
    assert.equal((await ctx.request('POST', '/algos', { body: { algo_id: id } })).status, 201);
    const dup = await ctx.request('POST', '/algos', { body: { algo_id: id } });
    assert.equal(dup.status, 409, dup.text);
    assert.match(dup.body.detail, /algo with algo_id 'k{100}…' already exists/);
  });
});

describe('6. a body over the limit gets a readable 413', () => {
  test('2 MB to POST /users, five times in a row with fetch', async () => {
    const body = JSON.stringify({ user_id: 'big', firebase_data: { blob: 'y'.repeat(2 * 1024 * 1024) } });
    const headers = { ...(await authHeaders(server, 'service')), 'content-type': 'application/json' };
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${server.url}/users`, { method: 'POST', headers, body });
      assert.equal(res.status, 413);
      const err = (await res.json()) as { detail: string; message: string; code: string };
      assert.equal(err.code, 'PAYLOAD_TOO_LARGE');
      assert.match(err.detail, /larger than the limit of 1048576 bytes/);
      assert.equal(err.message, err.detail);
    }
    // Chunked, without a content-length: Fastify finds out while reading.
    for (let i = 0; i < 3; i++) {
      const stream = new ReadableStream({
        start(c) {
          for (let k = 0; k < 32; k++) c.enqueue(new TextEncoder().encode(k === 0 ? '{"user_id":"big","firebase_data":"' : 'z'.repeat(64 * 1024)));
          c.close();
        },
      });
      const res = await fetch(`${server.url}/users`, { method: 'POST', headers, body: stream, duplex: 'half' } as RequestInit);
      assert.equal(res.status, 413);
      assert.equal(((await res.json()) as { code: string }).code, 'PAYLOAD_TOO_LARGE');
    }
    // A client that is still sending when the 413 is ready: before, one try in a few ended in EPIPE.
    const total = 2 * 1024 * 1024;
    const chunk = 64 * 1024;
    for (let i = 0; i < 8; i++) {
      let sent = 0;
      const slow = new ReadableStream({
        async pull(c) {
          await new Promise((r) => setTimeout(r, 5));
          c.enqueue(new Uint8Array(chunk).fill(0x20));
          sent += chunk;
          if (sent >= total) c.close();
        },
      });
      const res = await fetch(`${server.url}/users`, { method: 'POST', headers: { ...headers, 'content-length': String(total) }, body: slow, duplex: 'half' } as RequestInit);
      assert.equal(res.status, 413);
      assert.equal(((await res.json()) as { code: string }).code, 'PAYLOAD_TOO_LARGE');
    }
    assert.equal((await ctx.request('GET', '/health')).status, 200, 'the server still answers');
  });
});

describe('7. compatibility with the Flask originals', () => {
  let userId = 0;
  before(async () => {
    userId = 7_700_000 + Math.floor(Math.random() * 100_000);
    assert.equal((await ctx.request('POST', '/users', { body: { user_id: String(userId) } })).status, 201);
  });

  test('seed 001 time takes an integer string, and refuses non-integers', async () => {
    const ok = await ctx.request('POST', '/api/events', { body: { type: 'deposit', amount: '1.00', user_id: userId, time: '60' } });
    assert.equal(ok.status, 200, ok.text);
    const stored = await ctx.request('GET', `/api/events?user_id=${userId}`);
    assert.deepEqual(stored.body.map((e: { time: number }) => e.time), [60]);
    for (const time of ['1.5', 1.5, '', ' 60', '-1', -1, '6e1', 'abc', '99999999999999999999', true, null]) {
      const res = await ctx.request('POST', '/api/events', { body: { type: 'deposit', amount: '1.00', user_id: userId, time } });
      assert.equal(res.status, 400, `${JSON.stringify(time)}: ${res.text}`);
      assert.match(res.body.detail, /time/);
      clean(res);
    }
  });

  test('every error body carries message = detail', async () => {
    for (const [method, url, c] of [['GET', '/nowhere', ctx], ['GET', '/recordings/none', ctx], ['GET', '/recordings?size=0', ctx], ['GET', '/recordings', server], ['POST', '/api/rules', ctx]] as const) {
      const res = await c.request(method, url, method === 'POST' ? { body: {} } : {});
      assert.ok(res.status >= 400, `${method} ${url}`);
      assert.deepEqual(Object.keys(res.body).sort(), ['code', 'detail', 'message', 'requestId']);
      assert.equal(res.body.message, res.body.detail);
    }
    const malformed = await ctx.request('POST', '/algos', { headers: json, rawBody: '{"algo_id":' });
    assert.equal(malformed.status, 400);
    assert.match(malformed.body.message, /^malformed JSON body/);
  });
});

describe('5. error logs carry statements, not values', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbiter-logs-'));
  let proc: ChildProcess | null = null;
  after(async () => {
    if (proc && proc.exitCode === null) {
      proc.kill('SIGKILL');
      await exited(proc);
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  test('a database error answered 500 is logged without the request data', async () => {
    const testDb = await createTestDatabase();
    try {
      // A constraint the server does not know of makes its write fail with an error it cannot map.
      const db = await openDatabase({ databaseUrl: testDb.config.databaseUrl, dataDir, memoryDb: false, dbPoolSize: 1 });
      await db.migrate();
      await db.db.execute(sql.raw(`alter table recordings add constraint no_secret check (recording_link not like '%SECRET%')`));
      await db.db.execute(sql.raw(`alter table users add constraint no_boom check (first_name is distinct from 'Boom')`));
      await db.close();

      // Below Linux's ephemeral range (32768 and up), where outgoing connections take their ports.
      const port = 10_000 + Math.floor(Math.random() * 22_000);
      const env = { PATH: process.env.PATH, DATA_DIR: dataDir, LOG_LEVEL: 'info', PORT: String(port), HOST: '127.0.0.1', ...(testDb.config.databaseUrl ? { DATABASE_URL: testDb.config.databaseUrl } : {}) };
      proc = spawn(process.execPath, [CLI, 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      proc.stdout!.on('data', (d) => (out += d));
      proc.stderr!.on('data', (d) => (out += d));
      const url = `http://127.0.0.1:${port}`;
      for (let i = 0; i < 300; i++) {
        if (proc.exitCode !== null) throw new Error(`the server exited with ${proc.exitCode}:\n${out.slice(-3000)}`);
        try {
          if ((await fetch(`${url}/ready`)).ok) break;
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      const remote = viaServer(url);
      const account = await createAccount(remote, 'user');
      const secret = `SECRET-${'v'.repeat(8)}-${process.pid}`;
      const rec = await httpRequest(url, 'POST', '/recordings', { headers: account.headers, body: { recording_id: 'log-1', recording_link: `https://x/${secret}` } });
      assert.equal(rec.status, 500, rec.text);
      assert.equal(rec.body.detail, 'internal server error');
      const boomPassword = `pw-boom-${process.pid}-secret`;
      const reg = await httpRequest(url, 'POST', '/api/v1/auth/register/', { body: { email: `boom-${process.pid}@example.com`, password: boomPassword, first_name: 'Boom', last_name: 'X' } });
      assert.equal(reg.status, 500, reg.text);
      await new Promise((r) => setTimeout(r, 300));

      const errors = out.split('\n').filter((l) => l.includes('"level":50'));
      assert.ok(errors.length >= 2, `two errors logged:\n${out.slice(-3000)}`);
      for (const leaked of [secret, boomPassword, '$argon2', account.access, account.refresh, account.password]) {
        assert.ok(!out.includes(leaked), `the log holds ${leaked.slice(0, 20)}…:\n${out.slice(-3000)}`);
      }
      assert.ok(!/"(parameters|params|args)":/.test(out), 'no parameter arrays in the log');
      assert.ok(errors.some((l) => /insert into \\?"recordings\\?"/i.test(l) && l.includes('23514')), `the statement and SQLSTATE are logged:\n${errors.join('\n')}`);
      assert.deepEqual(Object.keys(rec.body).sort(), ['code', 'detail', 'message', 'requestId']);
    } finally {
      if (proc && proc.exitCode === null) {
        proc.kill('SIGTERM');
        await exited(proc);
      }
      await testDb.drop();
    }
  });
});
