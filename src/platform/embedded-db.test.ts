// The embedded database's client (embedded-db.ts): PGlite on a thread of its own, each call a message.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { after, before, test } from 'node:test';
import { longestLoopGap } from '../../test/helpers/event-loop.ts';
import { openEmbeddedClient, type EmbeddedClient } from './embedded-db.ts';

let client: EmbeddedClient;
before(async () => {
  client = await openEmbeddedClient({ dataDir: null });
  await client.usual.exec('create table t (id int primary key, note text, b bytea)');
});
after(() => client.close());

test('the event loop keeps turning while a statement runs (it runs on the thread)', async () => {
  const { maxGap: longest, ticks } = await longestLoopGap(() => client.usual.query('select pg_sleep(0.4)'), 5);
  // On the loop's own thread the 400 ms statement would have been one gap, with no tick during it.
  assert.ok(ticks >= 20, `${ticks} ticks of a 5 ms timer during a 400 ms statement`);
  assert.ok(longest < 200, `the loop went ${longest.toFixed(0)} ms without turning`);
});

test('a statement outside a transaction waits for it; a failed transaction rolls back and rethrows its own error', async () => {
  let outside: Promise<unknown> | null = null;
  await client.drizzle.transaction(async (tx) => {
    await tx.query('insert into t (id, note) values (1, $1)', ['in a transaction']);
    outside = client.usual.query<{ n: number }>('select count(*)::int as n from t');
    // Gives the outside statement time to reach the thread: it must still wait for the commit.
    await new Promise((r) => setTimeout(r, 50));
    await tx.query('insert into t (id, note) values (2, $1)', ['also']);
  });
  assert.deepEqual((await (outside as unknown as Promise<{ rows: unknown[] }>)).rows, [{ n: 2 }]);

  const mine = new Error('the caller failed');
  await assert.rejects(
    client.drizzle.transaction(async (tx) => {
      await tx.query('insert into t (id, note) values (3, $1)', ['rolled back']);
      throw mine;
    }),
    (err) => err === mine,
  );
  assert.deepEqual((await client.usual.query('select id from t order by id')).rows, [{ id: 1 }, { id: 2 }]);
});

test("a failed statement's error keeps PostgreSQL's fields and its caller's stack, never the bound parameters", async () => {
  async function insertTheSecret() {
    await client.usual.query('insert into t (id, note) values (1, $1)', ['a secret value']);
  }
  const err = await insertTheSecret().then(
    () => assert.fail('a duplicate key was accepted'),
    (e: unknown) => e as Record<string, unknown>,
  );
  // Its stack leads back to the caller, not only to where the thread's answer was read.
  assert.match(String(err.stack), /insertTheSecret/);
  assert.equal(err.code, '23505');
  assert.equal(err.constraint, 't_pkey');
  assert.match(String(err.message), /duplicate key/);
  assert.equal(err.params, undefined);
  assert.ok(!JSON.stringify(err).includes('a secret value'), JSON.stringify(err));
});

test('bytea parameters: a view over part of a buffer sends its own bytes; a SharedArrayBuffer view crosses as it is', async () => {
  const big = new Uint8Array(1 << 20).fill(7);
  big.set([1, 2, 3], 500);
  await client.usual.query('update t set b = $1 where id = 1', [big.subarray(500, 503)]);
  const shared = new Uint8Array(new SharedArrayBuffer(8)).fill(9);
  await client.usual.query('update t set b = $1 where id = 2', [shared.subarray(2, 6)]);
  const rows = (await client.usual.query<{ id: number; b: Uint8Array }>('select id, b from t order by id')).rows;
  assert.deepEqual([...rows[0].b], [1, 2, 3]);
  assert.deepEqual([...rows[1].b], [9, 9, 9, 9]);
});

test('a value that cannot be sent as it is is refused, and the client goes on', async () => {
  await assert.rejects(client.usual.query('select $1', [() => 1]), /could not be cloned/);
  // A class's instance would arrive without its prototype (its toString, its toJSON): refused, named.
  class Money {
    toString() {
      return '12.34';
    }
  }
  await assert.rejects(client.usual.query('select $1::text', ['x', new Money()]), /parameter \$2 is a Money/);
  await assert.rejects(client.usual.query('select $1::text', [new URL('http://x')]), /parameter \$1 is a URL/);
  assert.deepEqual((await client.usual.query('select $1::jsonb as j, $2::timestamptz as t', [{ a: [1] }, new Date(0)])).rows, [{ j: { a: [1] }, t: new Date(0) }]);
  assert.deepEqual((await client.usual.query('select 1 as one')).rows, [{ one: 1 }]);
});

test('LISTEN: notifications arrive until the subscription stops', async () => {
  const got: string[] = [];
  const stop = await client.usual.listen('ch', (p) => got.push(p));
  await client.usual.query("select pg_notify('ch', 'one')");
  await new Promise((r) => setTimeout(r, 20));
  await stop();
  await client.usual.query("select pg_notify('ch', 'two')");
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(got, ['one']);
});

test('an idle client does not keep the process alive (in a `node -e` script), and a closed one refuses calls', async () => {
  const script = `import { openEmbeddedClient } from ${JSON.stringify(new URL('./embedded-db.ts', import.meta.url).href)};
    const c = await openEmbeddedClient({ dataDir: null });
    console.log((await c.usual.query('select 41 + 1 as n')).rows[0].n);`;
  // Run as `node -e`, whose --input-type flag the thread must not take (it would refuse its file).
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(child.status, 0, child.stderr);
  assert.equal(child.stdout.trim(), '42');

  const other = await openEmbeddedClient({ dataDir: null });
  await other.close();
  assert.equal(other.closed, true);
  await assert.rejects(other.usual.query('select 1'), /closed/);
});

test('a thread that stops without close(): every call fails as unavailable, and the owner is told once', async () => {
  // Catches the client's Worker (the thread a crash would end) by subclassing it for this one open.
  const threads = createRequire(import.meta.url)('node:worker_threads') as typeof import('node:worker_threads');
  const Original = threads.Worker;
  let caught: InstanceType<typeof Original> | null = null;
  threads.Worker = class extends Original {
    constructor(...args: ConstructorParameters<typeof Original>) {
      super(...args);
      caught = this;
    }
  };
  syncBuiltinESMExports();
  const stops: Error[] = [];
  let doomed: EmbeddedClient;
  try {
    doomed = await openEmbeddedClient({ dataDir: null, onStopped: (err) => stops.push(err) });
  } finally {
    threads.Worker = Original;
    syncBuiltinESMExports();
  }
  assert.ok(caught, 'the thread was caught');
  const inFlight = doomed.usual.query('select pg_sleep(5)');
  await new Promise((r) => setTimeout(r, 50));
  await (caught as InstanceType<typeof Original>).terminate();
  await assert.rejects(inFlight, (err: Error & { code?: string }) => err.code === 'DB_UNAVAILABLE' && /stopped/.test(err.message));
  await assert.rejects(doomed.usual.query('select 1'), (err: Error & { code?: string }) => err.code === 'DB_UNAVAILABLE');
  assert.equal(doomed.closed, true);
  assert.equal(stops.length, 1);
  await doomed.close();
});

test('close() twice at once closes once; calls made while closing are refused', async () => {
  const c = await openEmbeddedClient({ dataDir: null });
  const first = c.close();
  const late = assert.rejects(c.usual.query('select 1'), (err: Error & { code?: string }) => err.code === 'DB_UNAVAILABLE' && /closing/.test(err.message));
  await Promise.all([first, c.close()]);
  await late;
});
