// A job's progress reports from callbacks that cannot await (a thread's messages): written in order,
// one at a time, a newer report replacing one still waiting, and settled only once the last is stored.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { progressReporter } from './jobs.ts';

/** A store whose writes finish only when told to, so the test decides the timing. */
function slowStore() {
  const stored: number[] = [];
  const pending: (() => void)[] = [];
  const write = (percent: number) =>
    new Promise<void>((resolve) =>
      pending.push(() => {
        stored.push(percent);
        resolve();
      }),
    );
  const started = async () => {
    for (let i = 0; !pending.length; i++) {
      if (i > 1000) throw new Error('no write started');
      await new Promise((r) => setImmediate(r));
    }
  };
  const finishOne = async () => {
    await started();
    pending.shift()!();
  };
  return { stored, write, started, finishOne, inFlight: () => pending.length };
}

test('reports made while a write is under way are written after it, only the newest of them', async () => {
  const store = slowStore();
  const r = progressReporter(store.write, () => assert.fail('no write fails here'));
  r.report(5);
  r.report(10); // made in the same turn: replaces 5 before its write starts
  await store.started();
  r.report(50);
  r.report(90);
  r.report(100);
  let settled = false;
  void r.settled().then(() => (settled = true));
  await store.finishOne();
  // A turn of the loop: time enough for a settled() that did not wait for the newest write to resolve.
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(settled, false, 'settled before the newest report was written');
  await store.finishOne();
  await r.settled();
  assert.deepEqual(store.stored, [10, 100]);
  assert.equal(settled, true);
  assert.equal(store.inFlight(), 0);
});

test('settled waits for the last write, and a failed write is handed to onError, not thrown', async () => {
  const errors: unknown[] = [];
  let calls = 0;
  const r = progressReporter(async (p) => {
    calls++;
    await new Promise((resolve) => setTimeout(resolve, 20));
    if (p === 100) throw new Error('database gone');
  }, (err) => errors.push(err));
  r.report(100);
  await r.settled();
  assert.equal(calls, 1);
  assert.equal((errors[0] as Error).message, 'database gone');
  r.report(40);
  await r.settled();
  assert.equal(calls, 2);
  assert.equal(errors.length, 1);
});
