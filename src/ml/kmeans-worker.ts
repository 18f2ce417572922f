// Worker thread of KMeans.fitAsync: keeps the Hamerly/Elkan bounds of its blocks of samples
// between iterations; each step labels its samples against the shared centres and, in the same
// pass, writes its blocks' partial sums (in sample order within each block, as every dense fit).

import { parentPort } from 'node:worker_threads';
import { BoundedDense, SUM_CHUNK } from './kmeans.ts';
import type { KMeansWorkerInit, KMeansWorkerStep } from './kmeans-pool.ts';

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

parentPort!.on('message', (m: (KMeansWorkerInit | KMeansWorkerStep) & { id: number }) => {
  try {
    if (m.type === 'init') {
      job = m;
      lo = Math.min(m.n, m.ch0 * SUM_CHUNK);
      hi = Math.min(m.n, m.ch1 * SUM_CHUNK);
      const { d } = m;
      const nc = m.ch1 - m.ch0;
      labels = new Int32Array(hi - lo);
      partial = new Float64Array(nc * m.k * d);
      pcounts = new Float64Array(nc * m.k);
      centers = new Float64Array(m.k * d);
      bounded =
        hi > lo ? new BoundedDense({ dense: m.x.slice(lo * d, hi * d), csr: null, n: hi - lo, d, xnorm: m.xnorm.slice(lo, hi) }, m.k, m.elkan) : null;
    } else {
      const j = job as KMeansWorkerInit;
      if (bounded !== null) {
        if (m.invalidate) bounded.invalidate();
        if (m.invalidate) labels.set(j.labels.subarray(lo, hi)); // relocation moved some samples
        centers.set(j.centers);
        bounded.estep(centers, labels, partial, pcounts, 0);
        j.labels.set(labels, lo);
        j.partial.set(partial, j.ch0 * j.k * j.d);
        j.pcounts.set(pcounts, j.ch0 * j.k);
      }
    }
    parentPort!.postMessage({ id: m.id, ok: true });
  } catch (e) {
    parentPort!.postMessage({ id: m.id, ok: false, error: e instanceof Error ? e.message : String(e) });
  }
});
