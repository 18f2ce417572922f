import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NearestNeighbors, type KnnMetric } from './knn.ts';
import { NotFittedError } from './errors.ts';
import { fromRows, matrix, type Matrix } from './matrix.ts';
import { Rng } from './rng.ts';
import { csrFromDense } from './sparse.ts';
import { expectClose } from '../../test/helpers/expect-close.ts';

/** Naive reference: every distance, full sort by (distance, index). */
function naive(X: Matrix, Q: Matrix, k: number, metric: KnnMetric) {
  const d = X.cols;
  const idx: number[] = [];
  const dist: number[] = [];
  for (let q = 0; q < Q.rows; q++) {
    const all: [number, number][] = [];
    for (let i = 0; i < X.rows; i++) {
      let s = 0, nq = 0, nx = 0;
      for (let t = 0; t < d; t++) {
        const a = Q.data[q * d + t], b = X.data[i * d + t];
        if (metric === 'euclidean') s += (a - b) ** 2;
        else { s += a * b; nq += a * a; nx += b * b; }
      }
      const v = metric === 'euclidean' ? Math.sqrt(s) : nq === 0 || nx === 0 ? 1 : 1 - s / Math.sqrt(nq * nx);
      all.push([v, i]);
    }
    all.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    for (let a = 0; a < k; a++) { dist.push(all[a][0]); idx.push(all[a][1]); }
  }
  return { idx, dist };
}

function randomMatrix(rng: Rng, rows: number, cols: number, sparsity = 0): Matrix {
  const m = matrix(rows, cols);
  for (let i = 0; i < m.data.length; i++) m.data[i] = rng.next() < sparsity ? 0 : Math.round(rng.normal() * 100) / 10;
  return m;
}

test('tiny euclidean case by hand, ties to the lower index', () => {
  const X = fromRows([[0, 0], [1, 0], [0, 1], [3, 4]]);
  const nn = new NearestNeighbors({ nNeighbors: 3 }).fit(X);
  const r = nn.kneighbors(fromRows([[0, 0], [0.5, 0.5]]));
  assert.deepEqual(Array.from(r.indices), [0, 1, 2, 0, 1, 2]);
  expectClose(r.distances, [0, 1, 1, Math.SQRT1_2, Math.SQRT1_2, Math.SQRT1_2], { rtol: 1e-12 });
});

for (const metric of ['euclidean', 'cosine'] as const) {
  test(`${metric}: dense and CSR match a naive full sort (blocks, remainders, duplicates, zero rows)`, () => {
    const rng = new Rng(3);
    const X = randomMatrix(rng, 601, 7, 0.5);
    for (let t = 0; t < 7; t++) { X.data[100 * 7 + t] = X.data[5 * 7 + t]; X.data[200 * 7 + t] = 0; } // a duplicate and a zero row
    const Q = randomMatrix(rng, 70, 7, 0.5);
    for (let t = 0; t < 7; t++) Q.data[3 * 7 + t] = X.data[5 * 7 + t];
    const ref = naive(X, Q, 9, metric);
    for (const [label, fitX, q] of [['dense', X, Q], ['csr', csrFromDense(X), csrFromDense(Q)], ['csr index, dense query', csrFromDense(X), Q]] as const) {
      const r = new NearestNeighbors({ nNeighbors: 9, metric }).fit(fitX).kneighbors(q);
      expectClose(r.distances, ref.dist, { atol: 1e-9, msg: label });
      // Indices must match exactly except inside groups of (numerically) tied distances,
      // where rounding legitimately decides; there they must be the same set.
      for (let q = 0; q < Q.rows; q++) {
        const o = q * 9;
        for (let a = 0; a < 9; ) {
          let b = a + 1;
          while (b < 9 && ref.dist[o + b] - ref.dist[o + a] < 1e-12) b++;
          const ours = Array.from(r.indices.subarray(o + a, o + b)).sort((x, y) => x - y);
          const want = ref.idx.slice(o + a, o + b).sort((x, y) => x - y);
          if (b < 9) assert.deepEqual(ours, want, `${label} query ${q} ranks ${a}..${b - 1}`);
          a = b;
        }
      }
    }
  });
}

test('JSON round trip gives identical neighbours; kind and version are checked', () => {
  const rng = new Rng(9);
  const X = randomMatrix(rng, 50, 4);
  const Q = randomMatrix(rng, 5, 4);
  for (const fitX of [X, csrFromDense(X)]) {
    const nn = new NearestNeighbors({ nNeighbors: 4, metric: 'cosine' }).fit(fitX);
    const back = NearestNeighbors.fromJSON(JSON.parse(JSON.stringify(nn.toJSON())));
    assert.deepEqual(back.kneighbors(Q), nn.kneighbors(Q));
  }
  const j = new NearestNeighbors().fit(X).toJSON();
  assert.throws(() => NearestNeighbors.fromJSON({ ...j, kind: 'KMeans' }), /kind/);
  assert.throws(() => NearestNeighbors.fromJSON({ ...j, version: 99 }), /version/);
});

test('parameters, shapes and fit state are validated', () => {
  assert.throws(() => new NearestNeighbors({ nNeighbors: 0 }), /nNeighbors must be an integer >= 1/);
  assert.throws(() => new NearestNeighbors({ metric: 'manhattan' as KnnMetric }), TypeError);
  assert.throws(() => new NearestNeighbors().kneighbors(fromRows([[1]])), NotFittedError);
  const nn = new NearestNeighbors().fit(fromRows([[1, 2], [3, 4]]));
  assert.throws(() => nn.kneighbors(fromRows([[1, 2]]), 3), /k must be <= the 2 fitted rows/);
  assert.throws(() => nn.kneighbors(fromRows([[1, 2, 3]]), 1), /columns/);
  assert.throws(() => nn.fit(fromRows([[1, NaN]])), /non-finite/);
});
