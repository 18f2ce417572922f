// Hamerly's and Elkan's bounded iterations must be Lloyd's iterations exactly: same labels,
// centres (bit for bit), nIter and final inertia, on sklearn's fixture and on random data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { KMeans, type KMeansParams } from './kmeans.ts';
import { fromRows, type Matrix } from './matrix.ts';
import { blobs } from './test-blobs.ts';
import { expectClose } from '../../test/helpers/expect-close.ts';

const blobsFixture = JSON.parse(readFileSync(new URL('./fixtures/kmeans-blobs.json', import.meta.url), 'utf8'));

function expectSameFit(X: Matrix, p: KMeansParams, msg: string): void {
  const seen: Record<string, number[]> = { lloyd: [], hamerly: [], elkan: [] };
  const fits = (['lloyd', 'hamerly', 'elkan'] as const).map((algorithm) =>
    new KMeans({ ...p, algorithm, onIteration: (it) => seen[algorithm].push(it.inertia) }).fit(X),
  );
  const [ref, ...rest] = fits;
  for (const km of rest) {
    const m = `${msg} (${km.params.algorithm})`;
    assert.deepEqual(km.labels, ref.labels, m);
    assert.deepEqual(km.clusterCenters, ref.clusterCenters, m);
    assert.equal(km.nIter, ref.nIter, m);
    assert.equal(km.inertia, ref.inertia, m);
    assert.deepEqual(km.initCenters, ref.initCenters, m);
    // Per-iteration inertia comes from the sufficient statistics: equal up to the rounding of the
    // ||x||² - 2x·c + ||c||² expansion, which both sides share (scale: the sum of ||x||²).
    let sq = 0;
    for (const v of X.data) sq += v * v;
    expectClose(seen[km.params.algorithm], seen.lloyd, { rtol: 1e-9, atol: 1e-12 * sq, msg: m });
  }
}

test('default algorithm is lloyd; the parameter is validated and survives JSON', () => {
  assert.equal(new KMeans().params.algorithm, 'lloyd');
  assert.throws(() => new KMeans({ algorithm: 'full' as 'lloyd' }), /algorithm must be 'lloyd', 'hamerly' or 'elkan'/);
  const km = new KMeans({ nClusters: 2, algorithm: 'elkan' });
  assert.equal(KMeans.fromJSON(JSON.parse(JSON.stringify(km.toJSON()))).params.algorithm, 'elkan');
});

test("sklearn's blob fixture from the same init: hamerly and elkan equal lloyd and sklearn", () => {
  const f = blobsFixture.fixedInit;
  const X = fromRows(blobsFixture.X);
  expectSameFit(X, { nClusters: blobsFixture.nClusters, init: fromRows(f.init), tol: blobsFixture.tol }, 'fixture');
  for (const algorithm of ['hamerly', 'elkan'] as const) {
    const km = new KMeans({ nClusters: blobsFixture.nClusters, init: fromRows(f.init), tol: blobsFixture.tol, algorithm }).fit(X);
    assert.deepEqual(Array.from(km.labels), f.labels);
    assert.equal(km.nIter, f.nIter);
  }
});

test('random data, several seeds, k, d, tol, overlap, far from the origin, k-means++ and random init', () => {
  const cases: [number, number, number, number, number, number][] = [
    // seed, n, d, k, spread, offset
    [1, 3000, 16, 8, 6, 0],
    [2, 2000, 3, 5, 2, 0],
    [3, 1500, 7, 12, 4, 0],
    [4, 1200, 2, 3, 1, 1e4], // far from the origin: the expansion loses digits, bounds must not prune wrongly
    [5, 800, 33, 1, 3, 0],
    [6, 2500, 5, 20, 8, 0],
  ];
  for (const [seed, n, d, k, spread, offset] of cases) {
    const X = blobs(seed, n, d, k, spread, false, offset);
    expectSameFit(X, { nClusters: k, seed, tol: 0, maxIter: 100 }, `seed ${seed} tol 0`);
    expectSameFit(X, { nClusters: k, seed: seed + 10, init: 'random', nInit: 2 }, `seed ${seed} random init`);
  }
});

test('duplicate rows, duplicate initial centres and empty-cluster relocation', () => {
  const X = fromRows([[0, 0], [0, 0], [1, 1], [1, 1], [5, 5], [5, 5], [9, 9], [10, 10], [10, 10]]);
  expectSameFit(X, { nClusters: 3, init: fromRows([[0, 0], [0, 0], [0, 0]]), maxIter: 20, tol: 0 }, 'coincident centres');
  expectSameFit(fromRows([[0], [1], [2], [10]]), { nClusters: 2, init: fromRows([[0], [0]]), maxIter: 10 }, 'empty cluster');
});
