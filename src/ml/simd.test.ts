// The WebAssembly SIMD E-step must give exactly what the scalar TypeScript E-step gives: labels,
// distances, per-tile inertia and per-block partial sums, bit for bit, whatever n, d and k.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CHUNK, SUM_CHUNK, scalarEStep, simdEStep, type DenseEStep } from './kmeans.ts';
import { rowNormsSq } from './linalg.ts';
import { Rng } from './rng.ts';
import { SimdLeafDots, simdAvailable } from './simd.ts';
import { dotsABt } from './linalg.ts';
import { blobs } from './test-blobs.ts';

function runStep(step: DenseEStep, centers: Float64Array, n: number, d: number, k: number, withSums: boolean, labelsIn?: Int32Array) {
  const labels = labelsIn ? labelsIn.slice() : new Int32Array(n);
  const minDist = new Float64Array(n);
  const totals = new Float64Array(Math.ceil(n / CHUNK));
  const nBlocks = Math.ceil(n / SUM_CHUNK);
  const partial = withSums ? new Float64Array(nBlocks * k * d).fill(NaN) : null;
  const pcounts = withSums ? new Float64Array(nBlocks * k).fill(NaN) : null;
  step.run(centers, rowNormsSq(centers, k, d), labels, minDist, totals, partial, pcounts);
  return { labels, minDist, totals, partial, pcounts };
}

test('WebAssembly SIMD is available on the Node versions Arbiter supports', () => {
  assert.equal(simdAvailable, true);
});

test('the SIMD E-step equals the scalar one bit for bit (odd and even n and d, k below, at and above 8)', () => {
  const rng = new Rng(11);
  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [2, 3, 2],
    [257, 5, 3],
    [1025, 16, 8],
    [2049, 7, 9],
    [3000, 33, 17],
    [600, 2, 24],
  ];
  for (const [n, d, k] of shapes) {
    const X = blobs(rng, n, d, Math.max(1, Math.min(k, 6)), 2, n === 600); // integer rows: exact distance ties
    const xnorm = rowNormsSq(X.data, n, d);
    const centers = new Float64Array(k * d);
    for (let c = 0; c < k; c++) centers.set(X.data.subarray((((c * 7919) % n) * d), (((c * 7919) % n) + 1) * d), c * d);
    // Duplicate centres (k > n distinct rows, or integer data) make ties that must go to the lowest index.
    const simd = simdEStep(X.data, xnorm, n, d, k);
    const scalar = scalarEStep(X.data, xnorm, n, d, k);
    const guess = Int32Array.from({ length: n }, (_, i) => (i * 31) % k); // the scalar scan starts from the current label
    for (const withSums of [true, false]) {
      const a = runStep(simd, centers, n, d, k, withSums);
      const b = runStep(scalar, centers, n, d, k, withSums, guess);
      const shape = `n=${n} d=${d} k=${k} sums=${withSums}`;
      assert.deepEqual(a.labels, b.labels, `labels, ${shape}`);
      assert.deepEqual(a.minDist, b.minDist, `distances, ${shape}`);
      assert.deepEqual(a.totals, b.totals, `tile inertia, ${shape}`);
      assert.deepEqual(a.partial, b.partial, `partial sums, ${shape}`);
      assert.deepEqual(a.pcounts, b.pcounts, `counts, ${shape}`);
    }
    // New centres on the same data (a later iteration) give the same again.
    for (let i = 0; i < centers.length; i++) centers[i] += rng.normal() * 0.1;
    const a = runStep(simd, centers, n, d, k, true);
    const b = runStep(scalar, centers, n, d, k, true);
    assert.deepEqual([a.labels, a.minDist, a.totals, a.partial], [b.labels, b.minDist, b.totals, b.partial], `second step, n=${n} d=${d} k=${k}`);
    simd.release();
  }
});

test('Float32 rows are read as the scalar code reads them', () => {
  const n = 777;
  const d = 9;
  const k = 4;
  const X = blobs(new Rng(8), n, d, k, 3);
  const x32 = Float32Array.from(X.data);
  const xnorm = rowNormsSq(x32, n, d);
  const centers = Float64Array.from(x32.subarray(0, k * d));
  const simd = simdEStep(x32, xnorm, n, d, k);
  const a = runStep(simd, centers, n, d, k, true);
  simd.release();
  const b = runStep(scalarEStep(x32, xnorm, n, d, k), centers, n, d, k, true);
  assert.deepEqual([a.labels, a.minDist, a.totals, a.partial], [b.labels, b.minDist, b.totals, b.partial]);
});

test('a released kernel is reused by the next data set, growing its memory as needed', () => {
  const rng = new Rng(5);
  for (const n of [500, 5000, 300]) {
    const d = 12;
    const k = 5;
    const X = blobs(rng, n, d, k, 1);
    const xnorm = rowNormsSq(X.data, n, d);
    const centers = Float64Array.from(X.data.subarray(0, k * d));
    const simd = simdEStep(X.data, xnorm, n, d, k);
    const a = runStep(simd, centers, n, d, k, true);
    simd.release();
    const b = runStep(scalarEStep(X.data, xnorm, n, d, k), centers, n, d, k, true);
    assert.deepEqual([a.labels, a.totals, a.partial], [b.labels, b.totals, b.partial], `n=${n}`);
  }
});

test('the KNN leaf kernel equals dotsABt for every leaf, with all or some of the queries, odd counts', () => {
  const rng = new Rng(21);
  for (const d of [1, 2, 7, 32]) {
    const sizes = [1, 7, 8, 9, 17, 96];
    const start = new Int32Array(sizes.length + 1);
    sizes.forEach((s, j) => (start[j + 1] = start[j] + s));
    const n = start[sizes.length];
    const points = Float64Array.from({ length: n * d }, () => rng.normal());
    const maxQ = 13;
    const queries = Float64Array.from({ length: maxQ * d }, () => rng.normal());
    const simd = new SimdLeafDots(points, start, sizes.length, d, maxQ);
    const tile = new Float64Array(maxQ * 96);
    for (let j = 0; j < sizes.length; j++) {
      for (const [from, m] of [['all', maxQ], ['sub', 5], ['sub', 1], ['all', 2]] as const) {
        (from === 'all' ? simd.all : simd.sub).set(queries.subarray(0, m * d));
        const stride = simd.run(j, from, m);
        const np = sizes[j];
        dotsABt(queries, 0, m, points, start[j] * d, np, d, tile);
        for (let u = 0; u < m; u++) {
          for (let c = 0; c < np; c++) assert.equal(simd.tile[u * stride + c], tile[u * np + c], `d=${d} leaf ${j} ${from} m=${m} (${u}, ${c})`);
        }
      }
    }
    simd.release();
  }
});
