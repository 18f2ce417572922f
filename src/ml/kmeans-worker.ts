// Worker thread of KMeans.fitAsync. 'hamerly'/'elkan': keeps the bounds of its blocks of samples
// between iterations; 'lloyd': runs the full block-kernel E-step on its blocks. Each step labels
// its samples against the shared centres and writes its blocks' partial sums (in sample order
// within each block, as every dense fit), plus Lloyd's per-CHUNK inertia.

import { BoundedDense, CHUNK, SUM_CHUNK, denseEStep, type DenseEStep } from './kmeans.ts';
import { rowNormsSq } from './linalg.ts';
import { simdAvailable } from './simd.ts';
import type { KMeansWorkerInit, KMeansWorkerStep } from './kmeans-pool.ts';
import { serveJobs } from './worker-pool.ts';

let job: KMeansWorkerInit | null = null;
let bounded: BoundedDense | null = null;
let lo = 0;
let hi = 0;
// The hot loop works on worker-local copies (ordinary ArrayBuffers): reading SharedArrayBuffer
// views measured ~25% slower in a worker thread here. Labels and partial sums are copied out
// after each step, the centres in.
let labels = new Int32Array(0);
let partial = new Float64Array(0);
let pcounts = new Float64Array(0);
let centers = new Float64Array(0);
// 'lloyd' only: local rows and norms, centre norms, the dense E-step, per-CHUNK inertia.
let x: Float64Array<ArrayBufferLike> = new Float64Array(0);
let xnorm: Float64Array<ArrayBufferLike> = new Float64Array(0);
let cnorm = new Float64Array(0);
let estep: DenseEStep | null = null;
let totals = new Float64Array(0);

serveJobs<KMeansWorkerInit | KMeansWorkerStep>((m) => {
  if (m.type === 'init') {
    job = m;
    lo = Math.min(m.n, m.ch0 * SUM_CHUNK);
    hi = Math.min(m.n, m.ch1 * SUM_CHUNK);
    const { d, k } = m;
    const nc = m.ch1 - m.ch0;
    labels = new Int32Array(hi - lo);
    partial = new Float64Array(nc * k * d);
    pcounts = new Float64Array(nc * k);
    centers = new Float64Array(k * d);
    bounded = null;
    estep?.release();
    estep = null;
    if (m.algorithm === 'lloyd') {
      // The WebAssembly kernel copies the rows into its own memory; without it, the scalar code reads
      // local copies (views of shared memory are slower in a worker).
      x = simdAvailable ? m.x.subarray(lo * d, hi * d) : m.x.slice(lo * d, hi * d);
      xnorm = simdAvailable ? m.xnorm.subarray(lo, hi) : m.xnorm.slice(lo, hi);
      cnorm = new Float64Array(k);
      estep = denseEStep(x, xnorm, hi - lo, d, k);
      totals = new Float64Array(Math.ceil((hi - lo) / CHUNK));
    } else if (hi > lo) {
      x = new Float64Array(0);
      xnorm = new Float64Array(0);
      bounded = new BoundedDense({ dense: m.x.slice(lo * d, hi * d), csr: null, n: hi - lo, d, xnorm: m.xnorm.slice(lo, hi) }, k, m.algorithm === 'elkan');
    }
  } else {
    const j = job as KMeansWorkerInit;
    if (j.algorithm === 'lloyd') {
      if (hi > lo) {
        centers.set(j.centers);
        rowNormsSq(centers, j.k, j.d, cnorm);
        (estep as DenseEStep).run(centers, cnorm, labels, null, totals, partial, pcounts);
        j.labels.set(labels, lo);
        j.partial.set(partial, j.ch0 * j.k * j.d);
        j.pcounts.set(pcounts, j.ch0 * j.k);
        j.totals.set(totals, (j.ch0 * SUM_CHUNK) / CHUNK);
      }
    } else if (bounded !== null) {
      if (m.invalidate) bounded.invalidate();
      if (m.invalidate) labels.set(j.labels.subarray(lo, hi)); // relocation moved some samples
      centers.set(j.centers);
      bounded.estep(centers, labels, partial, pcounts, 0);
      j.labels.set(labels, lo);
      j.partial.set(partial, j.ch0 * j.k * j.d);
      j.pcounts.set(pcounts, j.ch0 * j.k);
    }
  }
});
