// Benchmark rows for k-means and exact KNN against scikit-learn on identical data.
// run(dir) writes the data as CSV into dir, times src/ml, then runs bench/ml_sklearn_cluster.py
// with Debian's /usr/bin/python3 for sklearn's times. bench/ml.ts prints these rows with the rest.

import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KMeans } from '../src/ml/kmeans.ts';
import { NearestNeighbors, type KnnMetric } from '../src/ml/knn.ts';
import { matrix, type Matrix } from '../src/ml/matrix.ts';
import { Rng } from '../src/ml/rng.ts';

import { bestOf, type BenchRow } from './ml-table.ts';

export type { BenchRow };

const K_CLUSTERS = 8;
const MAX_ITER = 50;
const KNN_K = 10;

/** n rows around nBlobs Gaussian centres, rounded to 1e-6 so the CSV text is exact. */
function blobs(rng: Rng, n: number, d: number, nBlobs: number, spread: number): Matrix {
  const centres = new Float64Array(nBlobs * d);
  for (let i = 0; i < centres.length; i++) centres[i] = rng.normal() * 5;
  const X = matrix(n, d);
  for (let i = 0; i < n; i++) {
    const c = rng.int(nBlobs);
    for (let t = 0; t < d; t++) X.data[i * d + t] = Math.round((centres[c * d + t] + rng.normal() * spread) * 1e6) / 1e6;
  }
  return X;
}

function writeCsv(path: string, X: Matrix): void {
  const lines: string[] = new Array(X.rows);
  for (let i = 0; i < X.rows; i++) lines[i] = Array.from(X.data.subarray(i * X.cols, (i + 1) * X.cols)).join(',');
  writeFileSync(path, lines.join('\n') + '\n');
}

const KNN_JOBS = 2;
const KMEANS_JOBS = 2;

/** Fraction of queries whose k neighbours are the same set on both sides. */
function sameSets(ours: Int32Array, theirs: number[][], k: number): number {
  let same = 0;
  for (let q = 0; q < theirs.length; q++) {
    const a = Array.from(ours.subarray(q * k, (q + 1) * k)).sort((x, y) => x - y);
    const b = theirs[q].slice().sort((x, y) => x - y);
    if (a.every((v, i) => v === b[i])) same++;
  }
  return same / theirs.length;
}

export async function run(dir: string): Promise<BenchRow[]> {
  mkdirSync(dir, { recursive: true });
  const rng = new Rng(20260601);
  const Xk = blobs(rng, 50_000, 16, K_CLUSTERS, 6); // overlapping, so Lloyd runs all MAX_ITER iterations
  const P = blobs(rng, 51_000, 32, 16, 3);
  const points: Matrix = { data: P.data.subarray(0, 50_000 * 32), rows: 50_000, cols: 32 };
  const queries: Matrix = { data: P.data.subarray(50_000 * 32), rows: 1_000, cols: 32 };

  // Our k-means++ picks the start; sklearn gets the same centres so per-iteration times compare.
  const init: Matrix = { data: new KMeans({ nClusters: K_CLUSTERS, maxIter: 1, seed: 1 }).fit(Xk).initCenters, rows: K_CLUSTERS, cols: 16 };
  writeCsv(join(dir, 'kmeans.csv'), Xk);
  writeCsv(join(dir, 'kmeans-init.csv'), init);
  writeCsv(join(dir, 'knn.csv'), points);
  writeCsv(join(dir, 'knn-queries.csv'), queries);

  // Ours: the default algorithm (lloyd, WebAssembly SIMD E-step) on KMEANS_JOBS worker threads
  // (fitAsync), timed on one estimator after a first fit that starts its pool; for the note, 2-thread
  // hamerly and one-thread lloyd and hamerly (hamerly's bounds use the scalar code), all bit-identical.
  const kmParams = { nClusters: K_CLUSTERS, init, maxIter: MAX_ITER, tol: 0 } as const;
  const snap = (m: KMeans) => ({ labels: m.labels.slice(), centers: m.clusterCenters.data, nIter: m.nIter, inertia: m.inertia });
  const timeAsync = async (params: ConstructorParameters<typeof KMeans>[0]) => {
    const m = new KMeans(params);
    try {
      const t0 = performance.now();
      await m.fitAsync(Xk, { nJobs: KMEANS_JOBS });
      const coldSec = (performance.now() - t0) / 1000 / m.nIter;
      return { coldSec, ...(await bestOf(3, async () => snap(await m.fitAsync(Xk, { nJobs: KMEANS_JOBS })))) };
    } finally {
      await m.close();
    }
  };
  const km = await timeAsync(kmParams);
  const kmColdSec = km.coldSec;
  const kmPerIter = km.sec / km.out.nIter;
  const kmH2 = await timeAsync({ ...kmParams, algorithm: 'hamerly' });
  const km1 = await bestOf(3, () => snap(new KMeans(kmParams).fit(Xk)));
  const kmH1 = await bestOf(3, () => snap(new KMeans({ ...kmParams, algorithm: 'hamerly' }).fit(Xk)));
  const same = (a: ReturnType<typeof snap>, b: ReturnType<typeof snap>) =>
    a.nIter === b.nIter && a.inertia === b.inertia && a.labels.every((v, i) => v === b.labels[i]) && a.centers.every((v, i) => v === b.centers[i]);
  const sameAll = same(km.out, km1.out) && same(km.out, kmH1.out) && same(km.out, kmH2.out);

  // Ours: the pruned leaf search on KNN_JOBS worker threads (kneighborsAsync; the estimator keeps
  // its pool between calls, as sklearn keeps its threads), timed after one call that starts the
  // pool; the single-thread kneighbors time and the first (pool-starting) call go in the note.
  const knn: Record<KnnMetric, { sec: number; idx: Int32Array; fitSec: number; syncSec: number; coldSec: number; same: boolean }> = {} as never;
  for (const metric of ['euclidean', 'cosine'] as const) {
    const t = performance.now();
    const nn = new NearestNeighbors({ nNeighbors: KNN_K, metric }).fit(points); // search: 'pruned'
    const fitSec = (performance.now() - t) / 1000;
    try {
      const t1 = performance.now();
      await nn.kneighborsAsync(queries, KNN_K, { nJobs: KNN_JOBS });
      const coldSec = (performance.now() - t1) / 1000;
      const r = await bestOf(3, () => nn.kneighborsAsync(queries, KNN_K, { nJobs: KNN_JOBS }));
      const s1 = await bestOf(3, () => nn.kneighbors(queries));
      const same = r.out.indices.every((v, i) => v === s1.out.indices[i]) && r.out.distances.every((v, i) => v === s1.out.distances[i]);
      knn[metric] = { sec: r.sec, idx: r.out.indices, fitSec, syncSec: s1.sec, coldSec, same };
    } finally {
      await nn.close();
    }
  }

  const script = fileURLToPath(new URL('./ml_sklearn_cluster.py', import.meta.url));
  const sk = JSON.parse(execFileSync('/usr/bin/python3', [script, dir], { encoding: 'utf8', maxBuffer: 1 << 24 })) as Array<{
    task: string;
    sk1Sec: number;
    sk2Sec: number | null;
    inertia?: number;
    nIter?: number;
    note: string;
  }>;

  const rows: BenchRow[] = [];
  for (const skKm of sk.slice(0, 2)) {
    rows.push({
      task: skKm.task,
      oursSec: kmPerIter,
      sk1Sec: skKm.sk1Sec,
      sk2Sec: skKm.sk2Sec,
      accOurs: null,
      accSk: null,
      note:
        `ours lloyd (default, WebAssembly SIMD E-step), nJobs=${KMEANS_JOBS} worker threads, ${(kmPerIter * 1000).toFixed(2)} ms per iteration vs sk ${(skKm.sk1Sec * 1000).toFixed(2)} / ${((skKm.sk2Sec ?? NaN) * 1000).toFixed(2)} ms ` +
          `(1 thread lloyd ${((km1.sec / km1.out.nIter) * 1000).toFixed(2)} ms; hamerly (scalar bounds) ${KMEANS_JOBS} threads ${((kmH2.sec / kmH2.out.nIter) * 1000).toFixed(2)} ms, 1 thread ${((kmH1.sec / kmH1.out.nIter) * 1000).toFixed(2)} ms; first fit with pool start ${(kmColdSec * 1000).toFixed(2)} ms; ` +
          `2-thread and 1-thread lloyd and hamerly bit-identical: ${sameAll}), same init, tol=0, whole fit (setup included) / iterations; ` +
        `inertia ours ${km.out.inertia.toExponential(6)} (${km.out.nIter} it), sk ${skKm.inertia?.toExponential(6)} (${skKm.nIter} it); ${skKm.note}`,
    });
  }
  (['euclidean', 'cosine'] as const).forEach((metric, m) => {
    const s = sk[2 + m];
    const theirs = readFileSync(join(dir, `sk-knn-${metric}.csv`), 'utf8').trim().split('\n').map((l) => l.split(',').map(Number));
    const frac = sameSets(knn[metric].idx, theirs, KNN_K);
    rows.push({
      task: s.task,
      oursSec: knn[metric].sec,
      sk1Sec: s.sk1Sec,
      sk2Sec: s.sk2Sec,
      accOurs: null,
      accSk: null,
      note:
        `ours pruned leaves, nJobs=${KNN_JOBS} worker threads (1 thread ${knn[metric].syncSec.toFixed(3)} s, first call with pool start ${knn[metric].coldSec.toFixed(3)} s, ` +
        `bit-identical to 1 thread: ${knn[metric].same}; fit ${knn[metric].fitSec.toFixed(2)} s); identical neighbour sets ${(frac * 100).toFixed(1)}%; ${s.note}`,
    });
  });
  return rows;
}
