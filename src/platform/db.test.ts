// The embedded database must let the event loop turn between its answers (docs/architecture.md,
// "The event loop on the embedded database"): without that, a chain of queries starves HTTP.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openDatabase } from './db.ts';

test('embedded: the event loop turns between two answers, through Drizzle, raw SQL and transactions', async () => {
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
      assert.equal(doneWhenLoopTurned, 0, `${name}: the loop did not turn before the first answer was used (-1: not during all 20)`);
    }
  } finally {
    await database.close();
  }
});
