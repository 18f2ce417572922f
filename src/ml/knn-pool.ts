// A small pool of KNN worker threads owned by one NearestNeighbors. The leaf index, the queries,
// their order and the result arrays all live in SharedArrayBuffers, so a job message copies no
// data. It is a WorkerPool: workers are unref'd while idle (an idle pool never keeps the process
// alive) and ref'd while a job runs; close() terminates them.

import { WorkerPool } from './worker-pool.ts';
import type { LeafIndex } from './knn-leaves.ts';

export interface KnnJob {
  id: number;
  ix: LeafIndex;
  qd: Float64Array;
  d: number;
  k: number;
  cosine: boolean;
  /** Query indices in search order; workers take `chunk` of them at a time. */
  order: Int32Array;
  counter: Int32Array;
  /** Queries answered so far (progress). */
  done: Int32Array;
  chunk: number;
  outIdx: Int32Array;
  outVal: Float64Array;
}

/** The KNN workers: each job sends every worker the same search message. */
export class KnnPool extends WorkerPool<Omit<KnnJob, 'id'>> {
  constructor(size: number) {
    super(new URL('./knn-worker.ts', import.meta.url), size, 'KNN');
  }
}
