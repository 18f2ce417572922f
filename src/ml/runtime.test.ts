// The run-time contract every long-running estimator shares (runtime.ts): the default thread
// count, closeAllPools(), AbortSignal and onProgress.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { NotFittedError } from './errors.ts';
import { RandomForestClassifier, RandomForestRegressor } from './forest.ts';
import { KMeans } from './kmeans.ts';
import { NearestNeighbors } from './knn.ts';
import { fromRows, type Matrix } from './matrix.ts';
import { GridSearchCV } from './model-selection.ts';
import { closeAllPools, defaultThreads, liveWorkerCount, MAX_THREADS, setDefaultThreads } from './runtime.ts';
import { blobs } from './test-blobs.ts';
import { DecisionTreeClassifier, DecisionTreeRegressor } from './tree.ts';

function loadIris(): { x: Matrix; y: Int32Array } {
  const rows = readFileSync(new URL('../../datasets/iris.csv', import.meta.url), 'utf8').trim().split('\n').slice(1);
  const parsed = rows.map((l) => l.split(',').map(Number));
  return { x: fromRows(parsed.map((r) => r.slice(0, 4))), y: Int32Array.from(parsed.map((r) => r[4])) };
}

const isAbort = (e: unknown): boolean => e instanceof DOMException && e.name === 'AbortError';
const isNotFitted = (e: unknown): boolean => e instanceof NotFittedError && e.name === 'NotFittedError';
const aborted = (): AbortSignal => AbortSignal.abort();

/** Progress values: in (0, 1], never going down, exactly one 1, at the end. */
function assertProgress(seen: number[], what: string): void {
  assert.ok(seen.length > 0, `${what}: no progress`);
  for (let i = 0; i < seen.length; i++) {
    assert.ok(seen[i] > 0 && seen[i] <= 1, `${what}: ${seen[i]} out of (0, 1]`);
    if (i > 0) assert.ok(seen[i] >= seen[i - 1], `${what}: progress went down ${seen[i - 1]} -> ${seen[i]}`);
  }
  assert.equal(seen.at(-1), 1, `${what}: does not end at 1`);
  assert.equal(seen.filter((f) => f === 1).length, 1, `${what}: 1 reported more than once`);
}

/** A signal aborted from the progress callback once progress reaches `at`, and the values seen. */
function abortAt(at: number): { signal: AbortSignal; seen: number[]; onProgress: (f: number) => void } {
  const ac = new AbortController();
  const seen: number[] = [];
  return {
    signal: ac.signal,
    seen,
    onProgress: (f) => {
      seen.push(f);
      if (f >= at) ac.abort();
    },
  };
}

const { x: iris, y: irisY } = loadIris();
const irisR = Float64Array.from(irisY, (v, i) => v + iris.data[i * 4]);

test('defaultThreads: all cores by default, set by setDefaultThreads, limits enforced', () => {
  assert.equal(defaultThreads(), Math.min(availableParallelism(), MAX_THREADS));
  setDefaultThreads(3);
  assert.equal(defaultThreads(), 3);
  for (const bad of [0, -1, 1.5, MAX_THREADS + 1, NaN, Infinity]) {
    assert.throws(() => setDefaultThreads(bad), (e: Error) => e instanceof RangeError && e.message.includes(`>= 1 and <= ${MAX_THREADS}`), String(bad));
  }
  assert.throws(() => setDefaultThreads('2' as unknown as number), TypeError);
  assert.equal(defaultThreads(), 3);
  setDefaultThreads(null);
  assert.equal(defaultThreads(), Math.min(availableParallelism(), MAX_THREADS));
});

test('estimators without nJobs use defaultThreads()', async () => {
  const during = async (threads: number): Promise<number> => {
    setDefaultThreads(threads);
    let most = 0;
    try {
      await new RandomForestClassifier({ nEstimators: 6, seed: 1 }).fitAsync(iris, irisY, { onProgress: () => (most = Math.max(most, liveWorkerCount())) });
    } finally {
      setDefaultThreads(null);
    }
    return most;
  };
  assert.equal(await during(1), 0);
  assert.equal(await during(2), 2);
  assert.equal(liveWorkerCount(), 0, 'forest workers exit with the call');
  setDefaultThreads(2);
  try {
    const km = new KMeans({ nClusters: 3, seed: 1 });
    await km.fitAsync(blobs(1, 3000, 4, 3, 1));
    assert.equal(liveWorkerCount(), 2, 'k-means keeps a pool of defaultThreads() workers');
    await km.close();
    assert.equal(liveWorkerCount(), 0);
  } finally {
    setDefaultThreads(null);
  }
  assert.throws(() => new RandomForestClassifier({ nJobs: 0 }), RangeError);
  await assert.rejects(new RandomForestClassifier().fitAsync(iris, irisY, { nJobs: 0 }), (e: Error) => e instanceof RangeError && /<= 1024/.test(e.message));
});

test('closeAllPools ends every worker; later calls start fresh pools with identical results', async () => {
  const X = blobs(2, 6000, 8, 5, 2);
  const Q = blobs(3, 800, 8, 5, 2);
  const km = new KMeans({ nClusters: 5, seed: 2 });
  const nn = new NearestNeighbors({ nNeighbors: 4 }).fit(X);
  const a = await km.fitAsync(X, { nJobs: 2 });
  const labels = a.labels.slice();
  const centers = a.clusterCenters.data.slice();
  const r1 = await nn.kneighborsAsync(Q, 4, { nJobs: 2 });
  assert.equal(liveWorkerCount(), 4);
  await closeAllPools();
  assert.equal(liveWorkerCount(), 0);
  await closeAllPools(); // idempotent
  const b = await km.fitAsync(X, { nJobs: 2 });
  assert.deepEqual(b.labels, labels);
  assert.deepEqual(b.clusterCenters.data, centers);
  assert.deepEqual(await nn.kneighborsAsync(Q, 4, { nJobs: 2 }), r1);
  assert.equal(liveWorkerCount(), 4);
  await closeAllPools();
  assert.equal(liveWorkerCount(), 0);

  // A call running on workers is cut short with an AbortError, and its estimator stays unfitted.
  const forest = new RandomForestClassifier({ nEstimators: 200, seed: 3, nJobs: 2 });
  const running = forest.fitAsync(iris, irisY, { onProgress: () => void closeAllPools() });
  await assert.rejects(running, isAbort);
  assert.equal(liveWorkerCount(), 0);
  assert.throws(() => forest.predict(iris), isNotFitted);
  const grid = new GridSearchCV({ estimator: 'DecisionTreeClassifier', paramGrid: { max_depth: [1, 2, 3, 4] }, nJobs: 2 });
  const searching = grid.fit(iris, irisY, { onProgress: () => void closeAllPools() });
  await assert.rejects(searching, isAbort);
  assert.equal(liveWorkerCount(), 0);
});

test('abort before start throws the AbortError at once and starts no worker', async () => {
  const X = blobs(4, 3000, 4, 3, 1);
  const nn = new NearestNeighbors().fit(X);
  const calls: [string, () => unknown][] = [
    ['tree', () => new DecisionTreeClassifier().fit(iris, irisY, { signal: aborted() })],
    ['tree regressor', () => new DecisionTreeRegressor().fit(iris, irisR, { signal: aborted() })],
    ['forest fit', () => new RandomForestClassifier().fit(iris, irisY, { signal: aborted() })],
    ['kmeans fit', () => new KMeans({ nClusters: 3 }).fit(X, { signal: aborted() })],
    ['kneighbors', () => nn.kneighbors(X, 3, { signal: aborted() })],
  ];
  for (const [what, call] of calls) assert.throws(call, isAbort, what);
  const asyncCalls: [string, () => Promise<unknown>][] = [
    ['forest fitAsync', () => new RandomForestRegressor({ nJobs: 2 }).fitAsync(iris, irisR, { signal: aborted() })],
    ['grid', () => new GridSearchCV({ estimator: 'DecisionTreeClassifier', paramGrid: { max_depth: [1, 2] }, nJobs: 2 }).fit(iris, irisY, { signal: aborted() })],
    ['kmeans fitAsync', () => new KMeans({ nClusters: 3 }).fitAsync(X, { nJobs: 2, signal: aborted() })],
    ['kneighborsAsync', () => nn.kneighborsAsync(X, 3, { nJobs: 2, signal: aborted() })],
  ];
  for (const [what, call] of asyncCalls) {
    await assert.rejects(call(), isAbort, what);
    assert.equal(liveWorkerCount(), 0, what);
  }
  // The reason given to abort() is what is thrown.
  const reason = new RangeError('stop');
  assert.throws(() => new DecisionTreeClassifier().fit(iris, irisY, { signal: AbortSignal.abort(reason) }), (e) => e === reason);
  assert.throws(() => new DecisionTreeClassifier().fit(iris, irisY, { signal: {} as AbortSignal }), TypeError);
  assert.throws(() => new DecisionTreeClassifier().fit(iris, irisY, { onProgress: 1 as unknown as () => void }), TypeError);
});

test('trees and forests: abort mid-fit leaves them unfitted; the next fit equals a clean fit; progress', async () => {
  const fits: [string, () => { fit: (r: object) => Promise<{ toJSON(): unknown }>; predict: () => unknown }][] = [
    ['tree', () => {
      const m = new DecisionTreeClassifier({ seed: 1 });
      return { fit: async (r) => m.fit(iris, irisY, r), predict: () => m.predict(iris) };
    }],
    ['tree regressor', () => {
      const m = new DecisionTreeRegressor({ seed: 1 });
      return { fit: async (r) => m.fit(iris, irisR, r), predict: () => m.predict(iris) };
    }],
    ['forest fit', () => {
      const m = new RandomForestClassifier({ nEstimators: 12, seed: 2, oobScore: true });
      return { fit: async (r) => m.fit(iris, irisY, r), predict: () => m.predict(iris) };
    }],
    ['forest fitAsync', () => {
      const m = new RandomForestClassifier({ nEstimators: 40, seed: 2, oobScore: true, nJobs: 2 });
      return { fit: (r) => m.fitAsync(iris, irisY, r), predict: () => m.predict(iris) };
    }],
  ];
  for (const [what, make] of fits) {
    const clean: number[] = [];
    const ref = await make().fit({ onProgress: (f: number) => clean.push(f) });
    assertProgress(clean, what);
    const m = make();
    await m.fit({}); // fitted once: an aborted refit must not leave the old model behind
    const cut = abortAt(0.3);
    await assert.rejects(m.fit({ signal: cut.signal, onProgress: cut.onProgress }), isAbort, what);
    assert.ok(cut.seen.every((f) => f < 1), `${what}: reported 1 on an aborted fit`);
    assert.throws(() => m.predict(), isNotFitted, what);
    assert.equal(liveWorkerCount(), 0, what);
    const again = await m.fit({ signal: new AbortController().signal });
    assert.deepEqual(JSON.stringify(again.toJSON()), JSON.stringify(ref.toJSON()), what);
  }
  // Aborted by a timer while the workers grow the trees.
  const ac = new AbortController();
  const slow = new RandomForestClassifier({ nEstimators: 2000, seed: 5, nJobs: 2 });
  const pending = slow.fitAsync(iris, irisY, { signal: ac.signal, onProgress: () => setTimeout(() => ac.abort(), 0) });
  await assert.rejects(pending, isAbort);
  assert.equal(liveWorkerCount(), 0);
  assert.throws(() => slow.predict(iris), isNotFitted);
});

test('GridSearchCV: abort mid-search (in-thread and on workers) leaves no results; progress includes the refit', async () => {
  const options = { estimator: 'DecisionTreeClassifier' as const, paramGrid: { max_depth: [1, 2, 3, 5], criterion: ['gini', 'entropy'] } };
  const seen: number[] = [];
  const ref = await new GridSearchCV({ ...options, nJobs: 1 }).fit(iris, irisY, { onProgress: (f) => seen.push(f) });
  assertProgress(seen, 'grid');
  assert.equal(seen.length, 8 * 5 + 1);
  assert.throws(() => new GridSearchCV(options).predict(iris), isNotFitted);
  for (const nJobs of [1, 2]) {
    const grid = new GridSearchCV({ ...options, nJobs });
    await grid.fit(iris, irisY);
    const cut = abortAt(0.2);
    await assert.rejects(grid.fit(iris, irisY, { signal: cut.signal, onProgress: cut.onProgress }), isAbort);
    assert.equal(grid.cvResults, null);
    assert.equal(grid.bestEstimator, null);
    assert.throws(() => grid.predict(iris), isNotFitted);
    assert.equal(liveWorkerCount(), 0);
    const progress: number[] = [];
    await grid.fit(iris, irisY, { onProgress: (f) => progress.push(f) });
    assertProgress(progress, `grid nJobs ${nJobs}`);
    assert.deepEqual(grid.cvResults, ref.cvResults);
    assert.deepEqual(grid.predict(iris), ref.predict(iris));
  }
});

test('KMeans: abort mid-fit (fit and fitAsync) leaves it unfitted; the next fit is identical; progress', async () => {
  const X = blobs(6, 5000, 6, 6, 3);
  const params = { nClusters: 6, seed: 6, tol: 0, maxIter: 40, init: 'random' as const, nInit: 3 };
  const seen: number[] = [];
  const trace: number[] = [];
  const ref = new KMeans({ ...params, onIteration: (it) => trace.push(it.inertia) }).fit(X, { onProgress: (f) => seen.push(f) });
  assertProgress(seen, 'kmeans');
  assert.ok(trace.length > 3, 'onIteration still traces every iteration');
  for (const nJobs of [1, 2]) {
    const km = new KMeans(params);
    const call = (r: object) => (nJobs === 1 ? Promise.resolve().then(() => km.fit(X, r)) : km.fitAsync(X, { nJobs, ...r }));
    await call({});
    const cut = abortAt(0.5);
    await assert.rejects(call({ signal: cut.signal, onProgress: cut.onProgress }), isAbort);
    assert.throws(() => km.predict(X), isNotFitted);
    assert.throws(() => km.clusterCenters, isNotFitted);
    assert.equal(liveWorkerCount(), 0, 'an aborted fitAsync terminates its pool');
    const progress: number[] = [];
    const again = await call({ onProgress: (f: number) => progress.push(f) });
    assertProgress(progress, `kmeans nJobs ${nJobs}`);
    assert.deepEqual(again.labels, ref.labels);
    assert.deepEqual(again.clusterCenters, ref.clusterCenters);
    assert.equal(again.inertia, ref.inertia);
    await km.close();
  }
});

test('NearestNeighbors: abort mid-search throws, the pool survives, the next call is identical; progress', async () => {
  const X = blobs(7, 4000, 8, 6, 2);
  const Q = blobs(8, 5000, 8, 6, 2);
  for (const search of ['pruned', 'brute'] as const) {
    const nn = new NearestNeighbors({ nNeighbors: 5, search }).fit(X);
    const seen: number[] = [];
    const ref = nn.kneighbors(Q, 5, { onProgress: (f) => seen.push(f) });
    assertProgress(seen, `kneighbors ${search}`);
    assert.ok(seen.length > 2, `${search}: progress in steps`);
    const cut = abortAt(0.2);
    assert.throws(() => nn.kneighbors(Q, 5, { signal: cut.signal, onProgress: cut.onProgress }), isAbort);
    assert.deepEqual(nn.kneighbors(Q, 5), ref);
  }
  const nn = new NearestNeighbors({ nNeighbors: 5 }).fit(X);
  const ref = nn.kneighbors(Q, 5);
  const progress: number[] = [];
  assert.deepEqual(await nn.kneighborsAsync(Q, 5, { nJobs: 2, onProgress: (f) => progress.push(f) }), ref);
  assertProgress(progress, 'kneighborsAsync');
  const ac = new AbortController();
  const pending = nn.kneighborsAsync(Q, 5, { nJobs: 2, signal: ac.signal });
  ac.abort();
  await assert.rejects(pending, isAbort);
  assert.equal(liveWorkerCount(), 2, 'the pool is kept after an abort');
  assert.deepEqual(await nn.kneighborsAsync(Q, 5, { nJobs: 2 }), ref);
  await nn.close();
  assert.equal(liveWorkerCount(), 0);
  assert.throws(() => new NearestNeighbors().kneighbors(Q), isNotFitted);
});
