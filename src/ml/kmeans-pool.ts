// Worker threads of KMeans.fitAsync, kept by the estimator between fits. Each job message goes
// to one worker and every worker answers it; all data lives in SharedArrayBuffers. Workers are
// unref'd while idle (an idle pool never keeps the process alive), ref'd while a job runs, and
// terminated by close().

import { Worker } from 'node:worker_threads';

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

interface Reply {
  id: number;
  ok: boolean;
  error?: string;
}

interface Pending {
  left: number;
  resolve: () => void;
  reject: (e: Error) => void;
}

export class KMeansPool {
  readonly size: number;
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private broken: Error | null = null;

  constructor(size: number) {
    this.size = size;
    for (let w = 0; w < size; w++) {
      const worker = new Worker(new URL('./kmeans-worker.ts', import.meta.url));
      worker.unref();
      worker.on('message', (m: Reply) => this.onReply(m));
      worker.on('error', (e) => this.fail(e));
      worker.on('exit', (code) => {
        if (this.broken === null) this.fail(new Error(`k-means worker exited with code ${code}`));
      });
      this.workers.push(worker);
    }
  }

  /** Sends msgs[w] to worker w; resolves when every worker has answered. */
  run(msgs: (KMeansWorkerInit | KMeansWorkerStep)[]): Promise<void> {
    if (this.broken !== null) return Promise.reject(this.broken);
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      if (this.pending.size === 0) for (const w of this.workers) w.ref();
      this.pending.set(id, { left: this.workers.length, resolve, reject });
      this.workers.forEach((w, i) => w.postMessage({ ...msgs[i], id }));
    });
  }

  private onReply(m: Reply): void {
    const p = this.pending.get(m.id);
    if (p === undefined) return;
    if (!m.ok) {
      this.pending.delete(m.id);
      this.idle();
      p.reject(new Error(`k-means worker failed: ${m.error}`));
      return;
    }
    if (--p.left === 0) {
      this.pending.delete(m.id);
      this.idle();
      p.resolve();
    }
  }

  private idle(): void {
    if (this.pending.size === 0) for (const w of this.workers) w.unref();
  }

  private fail(e: Error): void {
    if (this.broken !== null) return;
    this.broken = e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
    for (const w of this.workers) void w.terminate();
  }

  /** Terminates the workers; later jobs are rejected. */
  async close(): Promise<void> {
    if (this.broken === null) this.broken = new Error('k-means worker pool is closed');
    for (const p of this.pending.values()) p.reject(this.broken);
    this.pending.clear();
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
