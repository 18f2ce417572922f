// Worker threads shared by the ML estimators, in two styles:
// - WorkerPool: long-lived workers kept by an estimator between calls (k-means, KNN). Each job
//   message goes to every worker and each answers it with { id, ok, error? }; all data lives in
//   SharedArrayBuffers. Workers are unref'd while idle (an idle pool never keeps the process
//   alive), ref'd while a job runs (an awaited job is not cut short by process exit), and
//   terminated by close(). A worker error or unexpected exit breaks the pool and rejects its jobs.
// - startWorkers + runWorkersToExit: one-shot workers per call (forest, grid search) that pull
//   tasks from a shared counter, stream their results as messages and exit when none are left.
// Every worker is counted in runtime.ts until it exits, and every pool (and every call's set of
// one-shot workers) is registered there while open, so closeAllPools() can end them all.

import { Worker, parentPort } from 'node:worker_threads';
import { closedError, registerPool, trackWorker } from './runtime.ts';

/** The answer every pool worker posts for each job message. */
export interface PoolReply {
  id: number;
  ok: boolean;
  error?: string;
}

interface Pending {
  left: number;
  resolve: () => void;
  reject: (e: Error) => void;
}

export class WorkerPool<M extends object> {
  readonly size: number;
  private readonly name: string;
  private readonly workers: Worker[];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private broken: Error | null = null;
  private readonly unregister: () => void;

  /** Starts `size` workers from `url` (with `workerData` if given); `name` labels its errors. */
  constructor(url: URL, size: number, name: string, workerData?: unknown) {
    this.size = size;
    this.name = name;
    this.workers = startWorkers(url, size, workerData);
    this.unregister = registerPool(this);
    for (const worker of this.workers) {
      worker.unref();
      worker.on('message', (m: PoolReply) => this.onReply(m));
      worker.on('error', (e) => this.fail(e));
      worker.on('exit', (code) => {
        if (this.broken === null) this.fail(new Error(`${name} worker exited with code ${code}`));
      });
    }
  }

  /**
   * Sends msgs[w] (or the one message `msgs`) to worker w, with a job id added; resolves when
   * every worker has answered.
   */
  /** True once close() was called or a worker failed: the owner should start a new pool. */
  get closed(): boolean {
    return this.broken !== null;
  }

  run(msgs: M | M[]): Promise<void> {
    if (this.broken !== null) return Promise.reject(this.broken);
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      if (this.pending.size === 0) for (const w of this.workers) w.ref();
      this.pending.set(id, { left: this.workers.length, resolve, reject });
      this.workers.forEach((w, i) => w.postMessage({ ...(Array.isArray(msgs) ? msgs[i] : msgs), id }));
    });
  }

  private onReply(m: PoolReply): void {
    const p = this.pending.get(m.id);
    if (p === undefined) return;
    if (!m.ok) {
      this.pending.delete(m.id);
      this.idle();
      p.reject(new Error(`${this.name} worker failed: ${m.error}`));
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
    this.unregister();
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
    for (const w of this.workers) void w.terminate();
  }

  /** Terminates the workers; running and later jobs are rejected with an AbortError. */
  async close(): Promise<void> {
    if (this.broken === null) this.broken = closedError(`the ${this.name} worker pool`);
    this.unregister();
    for (const p of this.pending.values()) p.reject(this.broken);
    this.pending.clear();
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** Runs a pool worker's job handler: answers each job message with ok, or with the error thrown. */
export function serveJobs<M>(handle: (m: M & { id: number }) => void): void {
  const port = parentPort!;
  port.on('message', (m: M & { id: number }) => {
    let reply: PoolReply;
    try {
      handle(m);
      reply = { id: m.id, ok: true };
    } catch (e) {
      reply = { id: m.id, ok: false, error: e instanceof Error ? e.message : String(e) };
    }
    port.postMessage(reply);
  });
}

/** Starts `count` workers from `url`, each with `workerData` if given; they count as live until they exit. */
export function startWorkers(url: URL, count: number, workerData?: unknown): Worker[] {
  const out: Worker[] = [];
  for (let k = 0; k < count; k++) {
    const w = new Worker(url, workerData === undefined ? undefined : { workerData });
    trackWorker(w);
    out.push(w);
  }
  return out;
}

/**
 * Waits for one-shot workers to exit, passing each message they post to onMessage (after posting
 * `first` to each, if given). If one fails (error or non-zero exit), onMessage throws, `signal`
 * aborts or closeAllPools() runs, it calls stop() so the others stop pulling tasks, terminates
 * them all so none outlives the call, and throws that error (the signal's reason on abort).
 */
export async function runWorkersToExit<R>(
  workers: Worker[],
  name: string,
  onMessage: (m: R) => void,
  stop: () => void,
  first?: unknown,
  signal?: AbortSignal | null,
): Promise<void> {
  let fail!: (e: unknown) => void;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => {}); // observed through the race below
  const runs = workers.map(
    (worker) =>
      new Promise<void>((resolve, reject) => {
        worker.on('message', (m: R) => {
          try {
            onMessage(m);
          } catch (e) {
            fail(e);
          }
        });
        worker.on('error', reject);
        worker.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${name} worker exited with code ${code}`))));
        if (first !== undefined) worker.postMessage(first);
      }),
  );
  const onAbort = () => fail(signal!.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  const unregister = registerPool({
    close: async () => {
      fail(closedError(`the ${name} workers`));
      await Promise.allSettled(runs);
    },
  });
  try {
    if (signal?.aborted) throw signal.reason;
    await Promise.race([Promise.all(runs), failed]);
  } catch (e) {
    stop();
    await Promise.all(workers.map((w) => w.terminate()));
    throw e;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    unregister();
  }
}
