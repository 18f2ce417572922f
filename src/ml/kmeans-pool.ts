// Worker threads of KMeans.fitAsync, kept by the estimator between fits (a WorkerPool: idle
// workers are unref'd, close() terminates them). Each job sends every worker its own message.

import { WorkerPool } from './worker-pool.ts';

/** Starts a fit on one worker: its samples are the blocks ch0..ch1-1 of SUM_CHUNK rows. */
export interface KMeansWorkerInit {
  type: 'init';
  x: Float64Array;
  xnorm: Float64Array;
  labels: Int32Array;
  n: number;
  d: number;
  k: number;
  algorithm: 'lloyd' | 'hamerly' | 'elkan';
  ch0: number;
  ch1: number;
  /** Read by every step: the current centres (k×d). */
  centers: Float64Array;
  /** Written by every step: each block's partial sums (k×d) and counts (k). */
  partial: Float64Array;
  pcounts: Float64Array;
  /** Written by every 'lloyd' step: each CHUNK's sum of squared distances (global CHUNK index). */
  totals: Float64Array;
}

/** One E-step (bounded, or Lloyd's full one) over the worker's blocks, then their partial sums. */
export interface KMeansWorkerStep {
  type: 'step';
  /** Labels were changed outside the step (empty-cluster relocation): bounds are void. */
  invalidate: boolean;
}

/** The k-means workers: each job sends every worker its own init or step message. */
export class KMeansPool extends WorkerPool<KMeansWorkerInit | KMeansWorkerStep> {
  constructor(size: number) {
    super(new URL('./kmeans-worker.ts', import.meta.url), size, 'k-means');
  }
}
