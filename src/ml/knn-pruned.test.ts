// The pruned dense search must return exactly what the brute-force scan returns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NearestNeighbors } from './knn.ts';
import { buildLeaves, queryOrder, searchPruned } from './knn-leaves.ts';
import { rowNormsSq } from './linalg.ts';
import { Rng } from './rng.ts';
import { blobs } from './test-blobs.ts';

test('pruned equals brute force: indices and distances, both metrics, ties, duplicates, zero rows', () => {
  const rng = new Rng(42);
  const cases: [number, number, number, number, boolean, number][] = [
    [3000, 8, 6, 1, false, 10],
    [2500, 3, 4, 2, true, 7], // integer grid: exact ties everywhere
    [700, 32, 16, 3, false, 1],
    [150, 5, 2, 1, false, 150], // k = n
    [97, 2, 1, 0.5, true, 5], // fewer rows than one leaf
  ];
  for (const [n, d, nb, spread, round, k] of cases) {
    const X = blobs(rng, n, d, nb, spread, round);
    for (let t = 0; t < d; t++) { X.data[10 * d + t] = X.data[3 * d + t]; X.data[20 * d + t] = 0; }
    const Q = blobs(rng, 130, d, nb, spread * 2, round);
    for (let t = 0; t < d; t++) Q.data[t] = X.data[3 * d + t];
    for (const metric of ['euclidean', 'cosine'] as const) {
      const a = new NearestNeighbors({ metric, search: 'brute' }).fit(X).kneighbors(Q, k);
      const b = new NearestNeighbors({ metric }).fit(X).kneighbors(Q, k);
      assert.deepEqual(b.indices, a.indices, `${metric} n=${n} d=${d}`);
      assert.deepEqual(b.distances, a.distances, `${metric} n=${n} d=${d}`);
    }
  }
  assert.throws(() => new NearestNeighbors({ search: 'tree' as 'brute' }), /search must be 'pruned' or 'brute'/);
});

test('the search gives the same result whatever the query block size, in any order of calls on one index', () => {
  const rng = new Rng(1);
  const [n, d, m, k] = [2000, 8, 200, 5];
  const X = Float64Array.from({ length: n * d }, () => rng.normal());
  const Q = Float64Array.from({ length: m * d }, () => rng.normal());
  const ix = buildLeaves(X, n, d, rowNormsSq(X, n, d));
  const order = queryOrder(ix, Q, m, d);
  const search = (block?: number) => {
    const idx = new Int32Array(m * k);
    const val = new Float64Array(m * k);
    searchPruned(ix, Q, d, k, false, order, 0, m, idx, val, block);
    return { idx, val };
  };
  const small = search(4); // the thread's SIMD copy of the index is sized for blocks of 4 first
  const large = search(); // then blocks of 64 on the same index
  assert.deepEqual(large, small);
  assert.deepEqual(search(17), small);
});
