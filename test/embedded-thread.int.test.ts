// The embedded database's thread stopping under a running server (its memory exhausted, PGlite's
// WebAssembly trapped; here the thread is ended from outside): what needs the database answers 503,
// never a 500 and never a hang; /ready says the database is down; /health stays 200.
import assert from 'node:assert/strict';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { after, before, describe, test } from 'node:test';
import type { Worker } from 'node:worker_threads';
import { startTestApp, type TestApp } from './helpers/app.ts';
import { createAccount, type TestAccount } from './helpers/auth.ts';

describe('the embedded database thread stops', { skip: process.env.DATABASE_URL ? 'embedded database only' : false }, () => {
  let ctx: TestApp;
  let user: TestAccount;
  let dbThread: Worker | null = null;

  before(async () => {
    // Catches the database's thread as the app opens it, by subclassing Worker while it starts.
    const threads = createRequire(import.meta.url)('node:worker_threads') as typeof import('node:worker_threads');
    const Original = threads.Worker;
    threads.Worker = class extends Original {
      constructor(...args: ConstructorParameters<typeof Original>) {
        super(...args);
        if (String(args[0]).endsWith('embedded-db-thread.ts')) dbThread = this;
      }
    };
    syncBuiltinESMExports();
    try {
      ctx = await startTestApp();
    } finally {
      threads.Worker = Original;
      syncBuiltinESMExports();
    }
    user = await createAccount(ctx);
  });
  after(() => ctx?.close());

  test('503 with Retry-After for what needs the database; /ready 503 naming it; /health 200', async () => {
    assert.ok(dbThread, "the database's thread was caught");
    const read = () => ctx.request('GET', `/api/events?user_id=${user.id}`, { headers: user.headers });
    assert.equal((await read()).status, 200);
    await dbThread!.terminate();

    for (const res of [await read(), await ctx.request('POST', '/api/events', { body: { type: 'deposit', amount: '1.00', user_id: user.id, time: 1 }, headers: user.headers })]) {
      assert.equal(res.status, 503, res.text);
      assert.equal(res.headers.get('retry-after'), '1');
      assert.match(res.body.detail, /database is unavailable/);
    }
    const ready = await ctx.request('GET', '/ready');
    assert.equal(ready.status, 503, ready.text);
    assert.equal(ready.body.dependencies.database, 'down');
    assert.equal((await ctx.request('GET', '/health')).status, 200);
  });
});
