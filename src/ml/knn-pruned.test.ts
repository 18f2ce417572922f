// The pruned dense search must return exactly what the brute-force scan returns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NearestNeighbors } from './knn.ts';
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
