// Worker thread of NearestNeighbors.kneighborsAsync: for each job it takes chunks of the shared
// query order from an atomic counter, runs the pruned search on the shared leaf index into the
// shared result arrays, and reports when no chunk is left. It stays alive between jobs (the
// estimator's pool unrefs it while idle and terminates it on close()).

import { searchPruned } from './knn-leaves.ts';
import type { KnnJob } from './knn-pool.ts';
import { serveJobs } from './worker-pool.ts';

serveJobs<KnnJob>((job) => {
  const { ix, qd, d, k, cosine, order, counter, done, chunk, outIdx, outVal } = job;
  const m = order.length;
  for (;;) {
    const from = Atomics.add(counter, 0, chunk);
    if (from >= m) break;
    const to = Math.min(m, from + chunk);
    searchPruned(ix, qd, d, k, cosine, order, from, to, outIdx, outVal);
    Atomics.add(done, 0, to - from);
  }
});
