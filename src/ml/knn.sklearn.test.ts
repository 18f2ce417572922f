// Compares NearestNeighbors with sklearn's NearestNeighbors(algorithm='brute') on the fixtures
// written by scripts/sklearn_ref_cluster.py.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { NearestNeighbors } from './knn.ts';
import { fromRows } from './matrix.ts';
import { csr, csrTakeRows, csrToDense } from './sparse.ts';
import { expectClose } from '../../test/helpers/expect-close.ts';

const load = (name: string) => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));
const dense = load('knn-dense.json');
const sparse = load('knn-sparse.json');

for (const metric of ['euclidean', 'cosine'] as const) {
  test(`dense ${metric} neighbours equal sklearn's`, () => {
    const r = new NearestNeighbors({ nNeighbors: dense.k, metric }).fit(fromRows(dense.X)).kneighbors(fromRows(dense.Q));
    assert.deepEqual(Array.from(r.indices), dense[metric].indices.flat());
    assert.deepEqual(dense[metric].stable.indices, dense[metric].indices);
    expectClose(r.distances, dense[metric].distances.flat(), { rtol: 1e-9, atol: 1e-9 });
  });

  test(`sparse count-matrix ${metric} neighbours equal sklearn's, ties by lower index (CSR and dense paths)`, () => {
    const X = csr(sparse.rows, sparse.cols, Int32Array.from(sparse.indptr), Int32Array.from(sparse.indices), Float64Array.from(sparse.data));
    const Q = csrTakeRows(X, sparse.queryRows);
    for (const [fitX, q] of [[X, Q], [csrToDense(X), csrToDense(Q)]] as const) {
      const r = new NearestNeighbors({ nNeighbors: sparse.k, metric }).fit(fitX).kneighbors(q);
      // Count vectors tie often; sklearn's sparse path orders ties arbitrarily (argpartition), so
      // indices are compared with its neighbours re-ordered by (distance, index).
      assert.deepEqual(Array.from(r.indices), sparse[metric].stable.indices.flat());
      expectClose(r.distances, sparse[metric].distances.flat(), { rtol: 1e-9, atol: 1e-9 });
    }
  });
}
