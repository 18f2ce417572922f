// A small pool of KNN worker threads owned by one NearestNeighbors. The leaf index, the queries,
// their order and the result arrays all live in SharedArrayBuffers, so a job message copies no
// data. Workers are unref'd while idle (an idle pool never keeps the process alive) and ref'd
// while a job runs (an awaited search is not cut short by process exit); close() terminates them.

import { Worker } from 'node:worker_threads';
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
  chunk: number;
  outIdx: Int32Array;
  outVal: Float64Array;
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

export class KnnPool {
  readonly size: number;
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private broken: Error | null = null;

  constructor(size: number) {
    this.size = size;
    for (let w = 0; w < size; w++) {
      const worker = new Worker(new URL('./knn-worker.ts', import.meta.url));
      worker.unref();
      worker.on('message', (m: Reply) => this.onReply(m));
      worker.on('error', (e) => this.fail(e));
      worker.on('exit', (code) => {
        if (this.broken === null) this.fail(new Error(`KNN worker exited with code ${code}`));
      });
      this.workers.push(worker);
    }
  }

  /** Runs one search job on every worker; resolves when all of them have finished it. */
  run(job: Omit<KnnJob, 'id'>): Promise<void> {
    if (this.broken !== null) return Promise.reject(this.broken);
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      if (this.pending.size === 0) for (const w of this.workers) w.ref();
      this.pending.set(id, { left: this.workers.length, resolve, reject });
      for (const w of this.workers) w.postMessage({ ...job, id });
    });
  }

  private onReply(m: Reply): void {
    const p = this.pending.get(m.id);
    if (p === undefined) return;
    if (!m.ok) {
      this.pending.delete(m.id);
      this.idle();
      p.reject(new Error(`KNN worker failed: ${m.error}`));
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
    if (this.broken === null) this.broken = new Error('KNN worker pool is closed');
    for (const p of this.pending.values()) p.reject(this.broken);
    this.pending.clear();
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
