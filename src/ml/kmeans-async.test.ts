// KMeans.fitAsync on worker threads must give fit()'s result bit for bit for any nJobs, and
// every dense algorithm must agree (all sum the M-step in the same fixed block order).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KMeans, type KMeansParams } from './kmeans.ts';
import { fromRows } from './matrix.ts';
import { blobs } from './test-blobs.ts';
import { csrFromDense } from './sparse.ts';

/** Same fit bit for bit; history too unless one side is lloyd (its per-iteration inertia sums samples, not statistics). */
function same(a: KMeans, b: KMeans, msg: string, history = true): void {
  assert.deepEqual(a.labels, b.labels, msg);
  assert.deepEqual(a.clusterCenters, b.clusterCenters, msg);
  assert.equal(a.nIter, b.nIter, msg);
  assert.equal(a.inertia, b.inertia, msg);
  if (history) assert.deepEqual(a.inertiaHistory, b.inertiaHistory, msg);
  assert.deepEqual(a.initCenters, b.initCenters, msg);
}

test('fitAsync with nJobs 1, 2, 3 equals fit() and lloyd, for lloyd, hamerly and elkan', async () => {
  const cases: [number, number, number, number, number, KMeansParams][] = [
    // seed, n, d, k, spread, params (n spans several SUM_CHUNK blocks, not a multiple of one)
    [1, 5000, 16, 8, 6, { tol: 0, maxIter: 60 }],
    [2, 3100, 3, 5, 2, { init: 'random', nInit: 3 }],
    [3, 2200, 7, 12, 4, { tol: 1e-6 }],
  ];
  for (const [seed, n, d, k, spread, p] of cases) {
    const X = blobs(seed, n, d, k, spread);
    const ref = new KMeans({ ...p, nClusters: k, seed, algorithm: 'lloyd' }).fit(X);
    for (const algorithm of ['lloyd', 'hamerly', 'elkan'] as const) {
      const params = { ...p, nClusters: k, seed, algorithm };
      const sync = new KMeans(params).fit(X);
      same(sync, ref, `seed ${seed} ${algorithm} vs lloyd`, false);
      const km = new KMeans(params);
      try {
        for (const nJobs of [1, 2, 3, 2]) same(await km.fitAsync(X, { nJobs }), sync, `seed ${seed} ${algorithm} nJobs ${nJobs}`);
      } finally {
        await km.close();
      }
    }
  }
});

test('fitAsync: empty-cluster relocation, lloyd/CSR/small inputs in the calling thread, bad nJobs, concurrent calls', async () => {
  // Coincident initial centres empty clusters in the first iteration, so relocation runs.
  const base = blobs(4, 2500, 2, 3, 1);
  const init = fromRows([[0, 0], [0, 0], [0, 0]]);
  const p = { nClusters: 3, init, maxIter: 20, tol: 0 } as const;
  const ref = new KMeans(p).fit(base);
  same(ref, new KMeans({ ...p, algorithm: 'lloyd' }).fit(base), 'relocation vs lloyd', false);
  const km = new KMeans(p);
  same(await km.fitAsync(base, { nJobs: 2 }), ref, 'relocation');
  const refL = new KMeans({ ...p, algorithm: 'lloyd' }).fit(base);
  const kmL = new KMeans({ ...p, algorithm: 'lloyd' });
  same(await kmL.fitAsync(base, { nJobs: 2 }), refL, 'relocation, parallel lloyd');
  await kmL.close();
  await assert.rejects(km.fitAsync(base, { nJobs: 0 }), /nJobs must be an integer >= 1/);
  const [a, b] = await Promise.all([new KMeans(p).fitAsync(base, { nJobs: 2 }), km.fitAsync(base, { nJobs: 2 })]);
  same(a, ref, 'concurrent a');
  same(b, ref, 'concurrent b');
  await km.close();
  await km.close();
  const small = blobs(5, 300, 4, 3, 1);
  same(await new KMeans({ nClusters: 3, algorithm: 'lloyd' }).fitAsync(small, { nJobs: 2 }), new KMeans({ nClusters: 3, algorithm: 'lloyd' }).fit(small), 'lloyd');
  same(await new KMeans({ nClusters: 3 }).fitAsync(small, { nJobs: 2 }), new KMeans({ nClusters: 3 }).fit(small), 'small');
  const csr = csrFromDense(small);
  same(await new KMeans({ nClusters: 3 }).fitAsync(csr, { nJobs: 2 }), new KMeans({ nClusters: 3 }).fit(csr), 'csr');
});

test('an idle fitAsync pool does not keep the process alive', () => {
  const script = `
    import { KMeans } from ${JSON.stringify(new URL('./kmeans.ts', import.meta.url).href)};
    const X = { rows: 3000, cols: 2, data: Float64Array.from({ length: 6000 }, (_, i) => Math.abs(Math.sin(i * 12.9898) * 43758.5453) % 1) };
    const km = await new KMeans({ nClusters: 3, seed: 1 }).fitAsync(X, { nJobs: 2 });
    console.log(km.labels.length);
  `;
  const dir = mkdtempSync(join(tmpdir(), 'kmeans-async-'));
  try {
    const file = join(dir, 'idle.mjs');
    writeFileSync(file, script);
    assert.equal(execFileSync(process.execPath, [file], { encoding: 'utf8', timeout: 20_000 }).trim(), '3000');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
