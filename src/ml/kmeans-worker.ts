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

parentPort!.on('message', (m: (KMeansWorkerInit | KMeansWorkerStep) & { id: number }) => {
  try {
    if (m.type === 'init') {
      job = m;
      lo = Math.min(m.n, m.ch0 * SUM_CHUNK);
      hi = Math.min(m.n, m.ch1 * SUM_CHUNK);
      const { d } = m;
      bounded =
        hi > lo ? new BoundedDense({ dense: m.x.subarray(lo * d, hi * d), csr: null, n: hi - lo, d, xnorm: m.xnorm.subarray(lo, hi) }, m.k, m.elkan) : null;
    } else {
      const j = job as KMeansWorkerInit;
      if (bounded !== null) {
        if (m.invalidate) bounded.invalidate();
        bounded.estep(j.centers, j.labels.subarray(lo, hi), j.partial, j.pcounts, j.ch0);
      }
    }
    parentPort!.postMessage({ id: m.id, ok: true });
  } catch (e) {
    parentPort!.postMessage({ id: m.id, ok: false, error: e instanceof Error ? e.message : String(e) });
  }
});
