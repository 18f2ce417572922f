// platform/jobs/threads.ts: what moves between the event loop and a job's thread instead of being
// copied (the buffers a caller hands over, the typed arrays of the answer), and that the values arrive;
// and platform/jobs/priority.ts: job threads and V8's helper threads run below the event loop, libuv's
// thread pool at its priority (Linux).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import os from 'node:os';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { backgroundNice } from '../src/platform/jobs/priority.ts';
import { runOnThread } from '../src/platform/jobs/threads.ts';
import { startTestApp } from './helpers/app.ts';
import { ownNice, processThreads } from './helpers/threads.ts';

const JOB = new URL('./fixtures/bytes-job.ts', import.meta.url);
const NICE = new URL('./fixtures/nice-job.ts', import.meta.url);
const linux = os.platform() === 'linux';
const run = promisify(execFile);
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

test('a job thread runs 10 nice steps below the event loop (Linux)', { skip: !linux }, async () => {
  const loop = os.getPriority(process.pid);
  assert.equal(backgroundNice(), Math.min(19, loop + 10));
  assert.equal(await runOnThread(NICE, null, opts()), backgroundNice());
  assert.equal(ownNice(), loop, 'the event loop keeps its priority');
});

test("once the app is built, V8's helper threads run below the event loop, the loop and libuv's pool do not (Linux)", { skip: !linux }, async () => {
  const loop = ownNice();
  const ctx = await startTestApp();
  try {
    const threads = processThreads();
    const helpers = threads.filter((t) => t.name === 'V8Worker');
    assert.ok(helpers.length > 0, 'Node names its V8 platform threads V8Worker');
    assert.deepEqual(new Set(helpers.map((t) => t.nice)), new Set([backgroundNice()]));
    assert.equal(ownNice(), loop);
    assert.ok(threads.every((t) => !t.name.startsWith('libuv-worker') || t.nice === loop));
  } finally {
    await ctx.close();
  }
});

test("libuv's thread pool keeps the loop's priority though a niced worker thread uses it first (Linux)", { skip: !linux }, async () => {
  const fixture = fileURLToPath(new URL('./fixtures/thread-pool-priority.ts', import.meta.url));
  const poolNice = async (...args: string[]) => JSON.parse((await run(process.execPath, [fixture, ...args])).stdout) as number[];
  // Unprepared, the pool starts on the worker's thread and inherits its priority: what buildApp prevents.
  assert.deepEqual(new Set(await poolNice()), new Set([backgroundNice()]));
  assert.deepEqual(new Set(await poolNice('--prepared')), new Set([os.getPriority(process.pid)]));
});
