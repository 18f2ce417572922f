// What every long-running estimator of src/ml shares at run time, kept out of the models (never in
// toJSON): the default number of worker threads (set once by the app, from its config), the
// registry of live worker threads and pools (so the app can close them all on shutdown), and the
// per-call options of long fits and searches (nJobs, signal, onProgress).

import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';

/** The most worker threads one call may ask for (nJobs and setDefaultThreads). */
export const MAX_THREADS = 1024;

let threads: number | null = null;

/** The thread count used wherever nJobs is not given: setDefaultThreads()'s, else os.availableParallelism(). */
export function defaultThreads(): number {
  return threads ?? Math.min(availableParallelism(), MAX_THREADS);
}

/**
 * Sets the thread count used wherever nJobs is not given (the app calls it at start with its
 * ML_THREADS setting); null restores the default, os.availableParallelism().
 */
export function setDefaultThreads(n: number | null): void {
  threads = n === null ? null : checkThreads(n, 'setDefaultThreads: threads');
}

/** Checks a thread count: an integer in [1, MAX_THREADS]; `what` names it in the error. */
export function checkThreads(n: unknown, what: string): number {
  const limit = `an integer >= 1 and <= ${MAX_THREADS}`;
  if (typeof n !== 'number') throw new TypeError(`${what} must be ${limit}, got ${JSON.stringify(n)}`);
  if (!Number.isInteger(n) || n < 1 || n > MAX_THREADS) throw new RangeError(`${what} must be ${limit}, got ${n}`);
  return n;
}

/** nJobs if given (checked), else defaultThreads(). */
export function resolveThreads(n: number | undefined, what: string): number {
  return n === undefined ? defaultThreads() : checkThreads(n, what);
}

// ---- the registry of worker threads and pools ----

/** Anything holding worker threads beyond one synchronous call: a pool, or one call's workers. */
export interface Closable {
  close(): Promise<void>;
}

const pools = new Set<Closable>();
const live = new Map<Worker, Promise<void>>();

/** Registers a pool (or a call's set of workers) for closeAllPools(); the returned function unregisters it. */
export function registerPool(p: Closable): () => void {
  pools.add(p);
  return () => {
    pools.delete(p);
  };
}

/** Counts a worker as live until it exits. */
export function trackWorker(w: Worker): void {
  live.set(
    w,
    new Promise<void>((resolve) =>
      w.once('exit', () => {
        live.delete(w);
        resolve();
      }),
    ),
  );
}

/** Worker threads of src/ml that have started and not yet exited. */
export function liveWorkerCount(): number {
  return live.size;
}

/**
 * Closes every pool and terminates every worker thread of src/ml, resolving once all have exited
 * (the app calls it on shutdown). Calls running on them reject with an AbortError. Estimators
 * start fresh workers on their next call.
 */
export async function closeAllPools(): Promise<void> {
  const open = [...pools];
  pools.clear();
  await Promise.allSettled(open.map((p) => p.close()));
  const rest = [...live];
  for (const [w] of rest) void w.terminate();
  await Promise.all(rest.map(([, exited]) => exited));
}

/** The error of a call cut short by close() or closeAllPools(). */
export function closedError(what: string): DOMException {
  return new DOMException(`${what} was closed`, 'AbortError');
}

// ---- per-call options ----

/**
 * The last argument of every long call (fit, fitAsync, GridSearchCV.fit, kneighbors,
 * kneighborsAsync). Values given here override the ones given to the constructor.
 */
export interface RunOptions {
  /** Worker threads (async calls); default defaultThreads(). */
  nJobs?: number;
  /** Aborts the call: it throws signal.reason and leaves the estimator unfitted. */
  signal?: AbortSignal | null;
  /** Called with the fraction done, in (0, 1], non-decreasing; 1 exactly once, on success, after the result is in place. */
  onProgress?: ((fraction: number) => void) | null;
}

/** Checks the signal and onProgress of a call's options. */
export function checkRunOptions(owner: string, o: RunOptions | undefined): void {
  if (o === undefined) return;
  if (typeof o !== 'object' || o === null) throw new TypeError(`${owner}: options must be an object { nJobs?, signal?, onProgress? }`);
  if (o.signal != null && !(o.signal instanceof AbortSignal)) throw new TypeError(`${owner}: signal must be an AbortSignal`);
  if (o.onProgress != null && typeof o.onProgress !== 'function') throw new TypeError(`${owner}: onProgress must be a function or null`);
}

/**
 * A call's progress and cancellation: step() reports a fraction below 1 and then checks the
 * signal (so an abort from the callback takes effect at once); done() reports 1 when the result
 * is in place. Reports never go down and 1 is reported only by done().
 */
export class Progress {
  private readonly onProgress: ((fraction: number) => void) | null;
  readonly signal: AbortSignal | null;
  private last = 0;

  constructor(onProgress: ((fraction: number) => void) | null | undefined, signal: AbortSignal | null | undefined) {
    this.onProgress = onProgress ?? null;
    this.signal = signal ?? null;
  }

  /** Throws the signal's reason if it is aborted. */
  check(): void {
    this.signal?.throwIfAborted();
  }

  /** Reports f if it is above the last report and below 1 (no signal check). */
  report(f: number): void {
    if (f > this.last && f < 1) {
      this.last = f;
      this.onProgress?.(f);
    }
  }

  /** report(f), then check(). */
  step(f: number): void {
    this.report(f);
    this.check();
  }

  /** Reports 1. */
  done(): void {
    this.last = 1;
    this.onProgress?.(1);
  }
}
