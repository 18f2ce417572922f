import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KMeans } from './kmeans.ts';
import { NotFittedError } from './errors.ts';
import { fromRows, matrix, toRows, type Matrix } from './matrix.ts';
import { Rng } from './rng.ts';
import { csrFromDense } from './sparse.ts';
import { expectClose } from '../../test/helpers/expect-close.ts';

// sklearn's test_kmeans_results: X = [[0,0],[.5,0],[.5,1],[1,1]] with sample weights [3,1,1,3]
// and init [[0,0],[1,1]] gives inertia 0.375 and centres [[.125,0],[.875,1]]. Integer weights
// are the same as repeated rows, so the weighted case is written out as 8 rows.
const HAND = fromRows([[0, 0], [0, 0], [0, 0], [0.5, 0], [0.5, 1], [1, 1], [1, 1], [1, 1]]);

function blobs(seed: number, n: number, d: number, k: number, spread = 1): Matrix {
  const rng = new Rng(seed);
  const centres = Array.from({ length: k }, () => Array.from({ length: d }, () => rng.normal() * 10));
  const X = matrix(n, d);
  for (let i = 0; i < n; i++) {
    const c = centres[i % k];
    for (let t = 0; t < d; t++) X.data[i * d + t] = c[t] + rng.normal() * spread;
  }
  return X;
}

test('hand case: inertia 0.375, centres [[.125,0],[.875,1]] (explicit init, k-means++, CSR)', () => {
  const runs = [
    new KMeans({ nClusters: 2, init: fromRows([[0, 0], [1, 1]]) }).fit(HAND),
    new KMeans({ nClusters: 2, seed: 1 }).fit(HAND),
    new KMeans({ nClusters: 2, init: fromRows([[0, 0], [1, 1]]) }).fit(csrFromDense(HAND)),
  ];
  for (const km of runs) {
    expectClose(km.inertia, 0.375, { rtol: 1e-12 });
    const c = toRows(km.clusterCenters).sort((a, b) => a[0] - b[0]);
    expectClose(c.flat(), [0.125, 0, 0.875, 1], { atol: 1e-12 });
    assert.equal(new Set(km.labels.subarray(0, 4)).size, 1);
  }
  const km = runs[0];
  assert.deepEqual(Array.from(km.labels), [0, 0, 0, 0, 1, 1, 1, 1]);
  assert.deepEqual(Array.from(km.predict(fromRows([[0.1, 0.1], [0.9, 0.8]]))), [0, 1]);
  expectClose(km.transform(fromRows([[0.125, 1]])).data, [1, 0.75], { rtol: 1e-12 });
  expectClose(km.score(HAND), -0.375, { rtol: 1e-12 });
});

test('inertia never rises across iterations; same seed, same result', () => {
  const X = blobs(5, 1500, 6, 7, 4);
  const seen: number[] = [];
  const a = new KMeans({ nClusters: 7, seed: 11, tol: 0, onIteration: (it) => seen.push(it.inertia) }).fit(X);
  assert.ok(seen.length >= 3, `only ${seen.length} iterations`);
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i] <= seen[i - 1] * (1 + 1e-12), `iteration ${i + 1}: ${seen[i]} > ${seen[i - 1]}`);
  assert.deepEqual(a.inertiaHistory, seen);
  assert.ok(a.inertia <= seen[seen.length - 1] * (1 + 1e-12));
  const b = new KMeans({ nClusters: 7, seed: 11, tol: 0 }).fit(X);
  assert.deepEqual(b.clusterCenters, a.clusterCenters);
  assert.deepEqual(b.labels, a.labels);
  assert.equal(b.inertia, a.inertia);
});

test('well-separated blobs are recovered; dense and CSR fits agree', () => {
  const X = blobs(2, 400, 5, 4, 0.1);
  const km = new KMeans({ nClusters: 4, seed: 3 }).fit(X);
  for (let i = 4; i < 400; i++) assert.equal(km.labels[i], km.labels[i % 4]);
  assert.equal(new Set(km.labels).size, 4);
  const sp = new KMeans({ nClusters: 4, seed: 3 }).fit(csrFromDense(X));
  assert.deepEqual(sp.labels, km.labels);
  expectClose(sp.inertia, km.inertia, { rtol: 1e-9 });
  expectClose(sp.clusterCenters.data, km.clusterCenters.data, { rtol: 1e-9, atol: 1e-12 });
});

test('empty clusters are relocated to the farthest point', () => {
  // Two centres start on top of each other: one gets every sample, the other none.
  const X = fromRows([[0], [1], [2], [10]]);
  const km = new KMeans({ nClusters: 2, init: fromRows([[0], [0]]), maxIter: 10 }).fit(X);
  const c = Array.from(km.clusterCenters.data).sort((a, b) => a - b);
  expectClose(c, [1, 10], { rtol: 1e-12 });
  expectClose(km.inertia, 2, { rtol: 1e-12 });
});

test('nInit keeps the best run; JSON round trip predicts identically', () => {
  const X = blobs(8, 300, 3, 5, 3);
  const one = new KMeans({ nClusters: 5, init: 'random', nInit: 1, seed: 4 }).fit(X);
  const many = new KMeans({ nClusters: 5, init: 'random', seed: 4 }).fit(X); // auto: 10 runs
  assert.ok(many.inertia <= one.inertia);
  const back = KMeans.fromJSON(JSON.parse(JSON.stringify(many.toJSON())));
  assert.deepEqual(back.predict(X), many.predict(X));
  assert.deepEqual(back.transform(X), many.transform(X));
  assert.equal(back.inertia, many.inertia);
  const explicit = new KMeans({ nClusters: 1, init: fromRows([[1, 2, 3]]) });
  assert.deepEqual(KMeans.fromJSON(JSON.parse(JSON.stringify(explicit.toJSON()))).params.init, fromRows([[1, 2, 3]]));
  assert.throws(() => KMeans.fromJSON({ ...many.toJSON(), kind: 'TfidfVectorizer' }), /kind/);
  assert.throws(() => KMeans.fromJSON({ ...many.toJSON(), version: 0 }), /version/);
});

test('parameters and fit state are validated', () => {
  assert.throws(() => new KMeans({ nClusters: 0 }), /nClusters must be an integer >= 1/);
  assert.throws(() => new KMeans({ tol: -1 }), /tol must be a finite number >= 0/);
  assert.throws(() => new KMeans({ nInit: 0 }), RangeError);
  assert.throws(() => new KMeans({ init: 'kmeans' as 'random' }), TypeError);
  assert.throws(() => new KMeans({ nClusters: 3, init: fromRows([[0], [1]]) }), /init has 2 rows/);
  assert.throws(() => new KMeans().predict(HAND), NotFittedError);
  assert.throws(() => new KMeans({ nClusters: 9 }).fit(HAND), /nClusters=9/);
  assert.throws(() => new KMeans({ nClusters: 2 }).fit(fromRows([[0], [Infinity]])), /non-finite/);
});

test('rows or initial centres too large for the distance computations are refused', () => {
  const X = fromRows([[1e160, 0], [0, 1], [1, 1]]);
  assert.throws(() => new KMeans({ nClusters: 2, seed: 1 }).fit(X), /X row 0 is too large/);
  const ok = fromRows([[0, 0], [0, 1], [1, 1]]);
  assert.throws(() => new KMeans({ nClusters: 2, init: fromRows([[1e160, 0], [0, 1]]) }).fit(ok), /init row 0 is too large/);
  assert.doesNotThrow(() => new KMeans({ nClusters: 2, seed: 1 }).fit(fromRows([[1e150, 0], [0, 1], [1, 1]])));
});
