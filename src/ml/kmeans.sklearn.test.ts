// Compares KMeans with sklearn's KMeans(algorithm='lloyd') on the fixtures written by
// scripts/sklearn_ref_cluster.py.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { KMeans } from './kmeans.ts';
import { fromRows, toRows } from './matrix.ts';
import { csrFromDense } from './sparse.ts';
import { expectClose } from '../../test/helpers/expect-close.ts';

const load = (name: string) => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));
const hand = load('kmeans-hand.json');
const blobs = load('kmeans-blobs.json');

/** Centres compared up to a permutation of the clusters: match each of ours to its nearest. */
function expectSameCentres(ours: number[][], theirs: number[][], atol: number): void {
  const used = new Set<number>();
  for (const c of ours) {
    let best = -1;
    let bd = Infinity;
    theirs.forEach((t, j) => {
      const d = Math.hypot(...t.map((v, q) => v - c[q]));
      if (d < bd && !used.has(j)) {
        bd = d;
        best = j;
      }
    });
    used.add(best);
    expectClose(c, theirs[best], { atol, rtol: 0 });
  }
}

test('hand case equals sklearn (weights [3,1,1,3] as repeated rows): inertia 0.375', () => {
  const km = new KMeans({ nClusters: 2, init: fromRows(hand.init) }).fit(fromRows(hand.XRepeated));
  expectClose(km.inertia, hand.inertia, { rtol: 1e-12 });
  expectClose(km.clusterCenters.data, hand.centers.flat(), { atol: 1e-12 });
  assert.deepEqual(Array.from(km.labels), hand.labelsRepeated);
});

test('blobs from the same initial centres: identical labels, iterations, centres, inertia (dense and CSR)', () => {
  const f = blobs.fixedInit;
  for (const X of [fromRows(blobs.X), csrFromDense(fromRows(blobs.X))]) {
    const km = new KMeans({ nClusters: blobs.nClusters, init: fromRows(f.init), tol: blobs.tol }).fit(X);
    assert.deepEqual(Array.from(km.labels), f.labels);
    assert.equal(km.nIter, f.nIter);
    expectClose(km.clusterCenters.data, f.centers.flat(), { rtol: 1e-9, atol: 1e-9 });
    expectClose(km.inertia, f.inertia, { rtol: 1e-9 });
  }
});

test('blobs with k-means++ and 10 inits reach sklearn inertia and centres (up to permutation)', () => {
  const f = blobs.kmeansPlusPlus;
  const km = new KMeans({ nClusters: blobs.nClusters, nInit: f.nInit, tol: blobs.tol, seed: 0 }).fit(fromRows(blobs.X));
  expectClose(km.inertia, f.inertia, { rtol: 1e-6 });
  expectSameCentres(toRows(km.clusterCenters), f.centers, 1e-6);
});
