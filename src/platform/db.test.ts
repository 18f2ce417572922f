// The embedded database must let the event loop turn between its answers (docs/architecture.md,
// "The event loop on the embedded database"): without that, a chain of queries starves HTTP.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openDatabase } from './db.ts';

test('embedded: the event loop turns during a chain of answers, through Drizzle, raw SQL and transactions', async () => {
  const database = await openDatabase({ databaseUrl: null, dataDir: '', memoryDb: true, dbPoolSize: 1 });
  try {
    const calls: [string, () => Promise<unknown>][] = [
      ['query', () => database.query('select 1 as one')],
      ['drizzle', () => database.db.execute('select 1')],
      ['transaction', () => database.db.transaction(async (tx) => tx.execute('select 1'))],
    ];
    for (const [name, call] of calls) {
      let done = 0;
      let doneWhenLoopTurned = -1;
      // Runs at the loop's next check phase, which follows a poll for I/O.
      setImmediate(() => (doneWhenLoopTurned = done));
      for (let i = 0; i < 20; i++) {
        await call();
        done++;
      }
      // Answers come as messages from the database's thread, read in the poll phase: the check phase
      // follows, usually before the next answer. (Node reads every message already queued in one go, so
      // an answer that arrives while the loop is still reading can be used in the same turn.)
      assert.ok(doneWhenLoopTurned >= 0 && doneWhenLoopTurned < 20, `${name}: the loop did not turn during 20 answers`);
    }
  } finally {
    await database.close();
  }
});

test("embedded: Drizzle's queries go without parsers, and every caller reads each type as before", async () => {
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { PglitePreparedQuery } = await import('drizzle-orm/pglite/session');
  const { DRIZZLE_TEXT_TYPES } = await import('./embedded-db.ts');
  const plain = new PGlite();
  // The list the client now parses as text is Drizzle's own.
  const prepared = new PglitePreparedQuery(plain, 'select 1', [], { logQuery() {} }, undefined as never, undefined, undefined, undefined, undefined, false);
  const theirs = (prepared as unknown as { queryConfig: { parsers: Record<string, (x: string) => unknown> } }).queryConfig.parsers;
  assert.deepEqual(Object.keys(theirs).map(Number).sort(), Object.keys(DRIZZLE_TEXT_TYPES).map(Number).sort());
  for (const parse of Object.values(theirs)) assert.equal(parse('2026-12-02 10:00:00'), '2026-12-02 10:00:00');

  // Every such type, and their arrays, read through each path: as a plain PGlite reads them.
  const select = `select '2026-12-02 10:00:01.5'::timestamp as ts, '2026-12-02 10:00:01.5+02'::timestamptz as tz,
    '1 day 02:03:04'::interval as iv, '2026-12-02'::date as d, array[1.5, 2]::numeric[] as nums,
    array['2026-12-02 10:00:00'::timestamp] as tss, array['2026-12-02 10:00:00+00'::timestamptz, null] as tzs,
    array['1 hour'::interval] as ivs, array['2026-12-02'::date] as ds, 'x'::text as t, 7::int as i`;
  const database = await openDatabase({ databaseUrl: null, dataDir: '', memoryDb: true, dbPoolSize: 1 });
  try {
    const expected = (await plain.query(select)).rows;
    assert.ok(expected[0] && (expected[0] as { tz: unknown }).tz instanceof Date, 'a plain PGlite reads timestamptz as a Date');
    assert.deepEqual(await database.query(select), expected);
    assert.deepEqual((await database.pglite!.query(select)).rows, expected);
    assert.deepEqual((await database.pglite!.exec(select))[0].rows, expected);
    assert.deepEqual((await database.pglite!.query(select, [], { rowMode: 'array' })).rows, (await plain.query(select, [], { rowMode: 'array' })).rows);
    assert.deepEqual(await database.db.execute(select), await drizzle({ client: plain }).execute(select));
    assert.deepEqual(
      await database.db.transaction(async (tx) => tx.execute(select)),
      await drizzle({ client: plain }).transaction(async (tx) => tx.execute(select)),
    );
  } finally {
    await database.close();
    await plain.close();
  }
});
