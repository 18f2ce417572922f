// Two server processes over one PostgreSQL: one user's concurrent events, split across both, are
// evaluated as if one at a time; a rule changed through one process applies on the other at once;
// an SSE stream on one process receives the alerts raised on the other. PostgreSQL only.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_RULES, evaluateRules, type EventType, type HistoryEvent } from '../src/modules/events/rules.ts';
import { parseCents } from '../src/platform/money.ts';
import { httpRequest } from './helpers/app.ts';
import { authHeaders } from './helpers/auth.ts';
import { createTestDatabase, usingPostgres, type TestDatabase } from './helpers/db.ts';
import { killAllServers, spawnServer, viaServer } from './helpers/server.ts';

let testDb: TestDatabase;
let dataDir: string;
let urls: string[] = [];
let headers: Record<string, string>;
let admin: Record<string, string>;

before(async () => {
  if (!usingPostgres) return;
  testDb = await createTestDatabase();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbiter-events-'));
  const env = { ...process.env, LOG_LEVEL: 'warn', DATA_DIR: dataDir, DATABASE_URL: testDb.config.databaseUrl!, SECRET_KEY: randomBytes(32).toString('hex') };
  urls = (await Promise.all([spawnServer(env), spawnServer(env)])).map((s) => s.url);
  headers = await authHeaders(viaServer(urls[0]), 'service');
  admin = await authHeaders(viaServer(urls[1]), 'admin');
});

after(async () => {
  await killAllServers();
  await testDb?.drop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

const call = (i: number, method: string, p: string, body?: unknown, h = headers) => httpRequest(urls[i % 2], method, p, { body, headers: h });

describe('two server processes over one PostgreSQL', { skip: !usingPostgres && 'needs DATABASE_URL' }, () => {
  test('concurrent events of one user across both processes match a sequential replay; SSE on one sees alerts raised on the other', async () => {
    const userId = 910_000 + Math.floor(Math.random() * 10_000);
    assert.equal((await call(0, 'POST', '/users', { user_id: String(userId) })).status, 201);

    const ac = new AbortController();
    const stream = await fetch(`${urls[1]}/api/alerts/stream?user_id=${userId}`, { headers, signal: ac.signal });
    assert.equal(stream.status, 200);
    const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    const received = () => buf.split('\n').filter((l) => l.startsWith('event: alert')).length;
    const pump = (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          buf += value;
        }
      } catch {
        // aborted
      }
    })();

    let s = 7;
    const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const n = 300;
    const events = Array.from({ length: n }, () => ({
      type: (rnd() < 0.5 ? 'deposit' : 'withdraw') as EventType,
      amount: (Math.floor(rnd() * 12000) / 100 + 0.01).toFixed(2),
      time: Math.floor(rnd() * 50),
    }));
    // even-numbered events go to process 0, odd ones to process 1
    const answers = await Promise.all(events.map((e, i) => call(i, 'POST', '/api/events', { ...e, user_id: userId })));
    for (const a of answers) assert.equal(a.status, 200, a.text);
    const raised = answers.reduce((k, a) => k + a.body.alert_codes.length, 0);

    const stored: { id: number; type: EventType; amount: string; time: number; alert_codes: number[] }[] = [];
    for (let page = 1; stored.length < n; page++) stored.push(...(await call(page, 'GET', `/api/events?user_id=${userId}&size=100&page=${page}`)).body);
    stored.sort((a, b) => a.id - b.id);
    const rules = DEFAULT_RULES.map((r, i) => ({ ...r, id: i + 1 }));
    const history: HistoryEvent[] = [];
    const replay = stored.map((e) => {
      const ev = { seq: e.id, type: e.type, cents: parseCents(e.amount)!, time: e.time };
      const codes = evaluateRules(history, ev, rules).map((r) => r.code);
      history.push(ev);
      return codes;
    });
    assert.deepEqual(stored.map((e) => e.alert_codes), replay);
    assert.equal(raised, replay.flat().length);
    assert.ok(raised > 20, `the mix raises alerts (${raised})`);

    const deadline = Date.now() + 10_000;
    while (received() < raised && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(received(), raised, 'the stream on process 1 received every alert, including those raised through process 0');
    ac.abort();
    await pump;
  });

  test('a rule disabled through one process no longer fires on the other', async () => {
    const userId = 920_000 + Math.floor(Math.random() * 10_000);
    assert.equal((await call(0, 'POST', '/users', { user_id: String(userId) })).status, 201);
    const rule = (await call(0, 'GET', '/api/rules?code=1100')).body[0];
    const before = await call(1, 'POST', '/api/events', { type: 'withdraw', amount: '150', user_id: userId, time: 1 });
    assert.deepEqual(before.body.alert_codes, [1100]);
    assert.equal((await call(0, 'PATCH', `/api/rules/${rule.id}`, { enabled: false }, admin)).status, 200);
    const afterOff = await call(1, 'POST', '/api/events', { type: 'withdraw', amount: '150', user_id: userId, time: 100 });
    assert.deepEqual(afterOff.body.alert_codes, []);
    assert.equal((await call(1, 'PATCH', `/api/rules/${rule.id}`, { enabled: true }, admin)).status, 200);
    const afterOn = await call(0, 'POST', '/api/events', { type: 'withdraw', amount: '150', user_id: userId, time: 200 });
    // (the third withdrawal in a row also raises 30)
    assert.deepEqual(afterOn.body.alert_codes, [1100, 30]);
  });
});
