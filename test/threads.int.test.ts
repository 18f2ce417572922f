// platform/jobs/threads.ts: what moves between the event loop and a job's thread instead of being
// copied (the buffers a caller hands over, the typed arrays of the answer), and that the values arrive.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runOnThread } from '../src/platform/jobs/threads.ts';

const JOB = new URL('./fixtures/bytes-job.ts', import.meta.url);
const opts = () => ({ signal: new AbortController().signal, progress: () => {} });

test('a transferred buffer moves to the thread; the answer typed arrays arrive whole', async () => {
  const bytes = new Uint8Array(1 << 20).fill(3);
  const result = (await runOnThread(JOB, { bytes }, { ...opts(), move: [bytes] })) as {
    total: number;
    own: Float64Array;
    view: Float64Array;
    nested: { ints: Int32Array };
  };
  assert.equal(result.total, 3 << 20);
  assert.equal(bytes.byteLength, 0, 'moved: the caller no longer holds the bytes');
  assert.deepEqual([...result.own], [3 << 20, 1, 2]);
  assert.deepEqual([...result.view], [2, 2]);
  assert.deepEqual([...result.nested.ints], [7, 8]);
});

test('without move the caller keeps its copy; a view into a larger buffer is copied, not moved', async () => {
  const bytes = new Uint8Array(1000).fill(1);
  const result = (await runOnThread(JOB, { bytes }, opts())) as { total: number };
  assert.equal(result.total, 1000);
  assert.equal(bytes.byteLength, 1000);
  const view = new Uint8Array(2000).fill(1).subarray(500, 1500);
  const fromView = (await runOnThread(JOB, { bytes: view }, { ...opts(), move: [view] })) as { total: number };
  assert.equal(fromView.total, 1000);
  assert.equal(view.byteLength, 1000, 'a view into a larger buffer stays here');
});
