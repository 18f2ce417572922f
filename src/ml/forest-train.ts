// Growing the trees of a forest, the same way in the main thread and in workers: tree t draws
// its bootstrap and its per-node feature samples from Rng.derive(seed, t) alone, so a forest
// is bit-identical whatever the number of threads and whichever thread grows which tree.

import type { Worker } from 'node:worker_threads';
import { Rng } from './rng.ts';
import type { Progress } from './runtime.ts';
import { buildTree, type BuildOptions, type FlatTree, type TreeData } from './tree-build.ts';
import { runWorkersToExit, startWorkers } from './worker-pool.ts';

export interface ForestJob {
  data: TreeData;
  /** Weight of each row before bootstrapping (its class weight, or 1). */
  baseW: Float64Array;
  opts: BuildOptions;
  bootstrap: boolean;
  seed: number;
  nTrees: number;
}

/** Bootstrap counts of tree t (n draws with replacement), as sklearn's sample_weight. */
export function bootstrapCounts(rng: Rng, n: number, out: Float64Array): Float64Array {
  out.fill(0);
  for (let i = 0; i < n; i++) out[rng.int(n)] += 1;
  return out;
}

/** Grows tree t of the job; `w` is a scratch buffer of n weights. */
export function growTree(job: ForestJob, t: number, w: Float64Array): FlatTree {
  const rng = Rng.derive(job.seed, t);
  const n = job.data.n;
  const base = job.baseW;
  if (job.bootstrap) {
    bootstrapCounts(rng, n, w);
    for (let i = 0; i < n; i++) w[i] *= base[i];
  } else w.set(base);
  return buildTree(job.data, w, job.opts, rng);
}

/** Grows all trees in this thread, reporting progress and checking the signal after each. */
export function growForestSync(job: ForestJob, progress: Progress): FlatTree[] {
  const w = new Float64Array(job.data.n);
  const trees: FlatTree[] = [];
  for (let t = 0; t < job.nTrees; t++) {
    trees.push(growTree(job, t, w));
    progress.step((t + 1) / job.nTrees);
  }
  return trees;
}

/** Moves a typed array onto a SharedArrayBuffer so workers read it without a copy. */
export function shared<T extends Uint8Array | Int32Array | Float64Array>(a: T): T {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const Ctor = a.constructor as { new (b: SharedArrayBuffer): T; BYTES_PER_ELEMENT: number };
  const out = new Ctor(new SharedArrayBuffer(a.length * Ctor.BYTES_PER_ELEMENT));
  out.set(a);
  return out;
}

export interface WorkerTreeMessage {
  t: number;
  tree: FlatTree;
}

/**
 * Starts forest worker threads. They load their modules while the caller bins the data; hand
 * them the job with growForestParallel, or terminate them.
 */
export function startForestWorkers(count: number): Worker[] {
  return startWorkers(new URL('./forest-worker.ts', import.meta.url), count);
}

/**
 * Grows the trees on the given workers, which pull tree indices from a shared counter and exit
 * when none are left. All workers have exited when the promise settles; an abort of
 * progress.signal terminates them and rejects with its reason.
 */
export async function growForestParallel(job: ForestJob, workers: Worker[], progress: Progress): Promise<FlatTree[]> {
  const d = job.data;
  const sharedJob: ForestJob = {
    ...job,
    data: { ...d, codes: shared(d.codes), yc: shared(d.yc), yr: shared(d.yr) },
    baseW: shared(job.baseW),
  };
  const counter = new Int32Array(new SharedArrayBuffer(4));
  const trees: FlatTree[] = new Array(job.nTrees);
  let done = 0;
  const onTree = (m: WorkerTreeMessage) => {
    trees[m.t] = m.tree;
    done++;
    progress.report(done / job.nTrees);
  };
  // On failure, stop the others at their next tree.
  await runWorkersToExit(workers, 'forest', onTree, () => Atomics.store(counter, 0, job.nTrees), { job: sharedJob, counter }, progress.signal);
  for (let t = 0; t < job.nTrees; t++) if (trees[t] === undefined) throw new Error(`forest worker lost tree ${t}`);
  return trees;
}
