import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createBatcher } from './batcher.ts';

/** A run function that records its batches and how many ran at once; each batch takes one macrotask. */
function recorder(fail: (item: number) => boolean = () => false) {
  const batches: number[][] = [];
  let running = 0;
  let maxRunning = 0;
  const run = async (items: number[]) => {
    batches.push([...items]);
    running++;
    maxRunning = Math.max(maxRunning, running);
    await new Promise((r) => setTimeout(r, 5));
    running--;
    const bad = items.find(fail);
    if (bad !== undefined) throw new Error(`item ${bad} is bad`);
    return items.map((i) => i * 10);
  };
  return { run, batches, maxRunning: () => maxRunning };
}

describe('createBatcher', () => {
  test('a call on an idle batcher goes alone at once; calls made while a batch runs form the next batch', async () => {
    const r = recorder();
    const submit = createBatcher({ run: r.run, maxBatch: 100, retryAlone: () => true });
    const first = submit(1);
    await new Promise((res) => setTimeout(res, 1)); // the first batch is running
    const rest = [2, 3, 4, 5].map(submit);
    assert.deepEqual(await Promise.all([first, ...rest]), [10, 20, 30, 40, 50]);
    assert.deepEqual(r.batches, [[1], [2, 3, 4, 5]]);
  });

  test('calls of one turn of the event loop share a batch; one batch at a time, in submission order, at most maxBatch items', async () => {
    const r = recorder();
    const submit = createBatcher({ run: r.run, maxBatch: 3, retryAlone: () => true });
    const items = Array.from({ length: 8 }, (_, i) => i + 1);
    assert.deepEqual(await Promise.all(items.map(submit)), items.map((i) => i * 10));
    assert.deepEqual(r.batches, [[1, 2, 3], [4, 5, 6], [7, 8]]);
    assert.equal(r.maxRunning(), 1);
  });

  test('when a batch fails with a retryable error, each item runs again alone and only the bad one fails', async () => {
    const r = recorder((i) => i === 3);
    const submit = createBatcher({ run: r.run, maxBatch: 10, retryAlone: (err) => /is bad/.test((err as Error).message) });
    const results = await Promise.allSettled([1, 2, 3, 4].map(submit));
    assert.deepEqual(
      results.map((x) => (x.status === 'fulfilled' ? x.value : (x.reason as Error).message)),
      [10, 20, 'item 3 is bad', 40],
    );
    assert.deepEqual(r.batches, [[1, 2, 3, 4], [1], [2], [3], [4]]);
    // The batcher keeps working after a failure.
    assert.equal(await submit(5), 50);
  });

  test('when retryAlone says no (e.g. a lost connection: the batch may have committed), every item fails and nothing is run again', async () => {
    const r = recorder((i) => i === 3);
    const submit = createBatcher({ run: r.run, maxBatch: 10, retryAlone: () => false });
    const results = await Promise.allSettled([1, 2, 3, 4].map(submit));
    assert.deepEqual(results.map((x) => x.status), ['rejected', 'rejected', 'rejected', 'rejected']);
    assert.deepEqual(r.batches, [[1, 2, 3, 4]]);
    assert.equal(await submit(5), 50, 'the batcher keeps working');
  });

  test('a run that answers the wrong number of results fails its calls', async () => {
    const submit = createBatcher<number, number>({ run: async () => [1], maxBatch: 10, retryAlone: () => false });
    const results = await Promise.allSettled([1, 2].map(submit));
    for (const x of results) assert.match(String(x.status === 'rejected' && x.reason), /1 results for 2 items/);
    await assert.rejects(createBatcher<number, number>({ run: async () => [], maxBatch: 10, retryAlone: () => true })(1), /0 results for 1 items/);
  });

  test('maxBatch must be a positive integer', () => {
    for (const maxBatch of [0, -1, 1.5, Number.NaN]) assert.throws(() => createBatcher({ run: async (x: number[]) => x, maxBatch, retryAlone: () => true }), RangeError);
  });
});
