// Exact k-nearest-neighbour search by brute force, as sklearn's NearestNeighbors(algorithm='brute'):
// euclidean or cosine distance over dense rows or CSR rows (e.g. an item×user interaction matrix).
// Dense queries run in blocks of queries × blocks of points through the tiled dot kernel and the
// ||p||² - 2q·p expansion; a bounded max-heap per query keeps the k best, never a full sort.

import { NotFittedError } from './errors.ts';
import { TopKHeaps } from './heap.ts';
import { dot, dotsABt, rowNormsSq } from './linalg.ts';
import { buildLeaves, type LeafIndex, QUERY_BLOCK as PRUNED_BLOCK, queryOrder, searchPruned } from './knn-leaves.ts';
import { KnnPool } from './knn-pool.ts';
import type { Matrix } from './matrix.ts';
import { checkRunOptions, Progress, resolveThreads, type RunOptions } from './runtime.ts';
import {
  type CsrMatrix,
  csrAssertFinite,
  csrFromDense,
  csrFromJSON,
  csrNormalizeRows,
  csrRowNorms,
  csrToDense,
  csrToJSON,
  csrTranspose,
  isCsr,
} from './sparse.ts';

export type KnnMetric = 'euclidean' | 'cosine';

export interface NearestNeighborsParams {
  /** Neighbours returned by kneighbors() when k is not given (sklearn default 5). */
  nNeighbors?: number;
  metric?: KnnMetric;
  /**
   * Dense search: 'pruned' (default) groups the fitted rows into leaves of a ball partition and
   * skips a leaf for a query when the triangle inequality (with a rounding margin) proves all its
   * rows farther than the query's current k-th neighbour; 'brute' scans every row. Both compute
   * every kept distance identically, so their results are identical.
   */
  search?: 'pruned' | 'brute';
}

/**
 * The options of kneighbors() and kneighborsAsync() (RunOptions): nJobs (kneighborsAsync's worker
 * threads, default defaultThreads(); 1 searches in the calling thread), signal and onProgress
 * (the fraction of queries answered).
 */
export type KNeighborsAsyncOptions = RunOptions;

/** Queries between progress reports and signal checks of a search in the calling thread. */
const SLICE = 1024;
/** How often kneighborsAsync reads its workers' progress (ms). */
const POLL_MS = 50;

export interface KNeighborsResult {
  /** rows×k row-major indices into the fitted rows, nearest first, ties by lower index. */
  indices: Int32Array;
  /** rows×k row-major distances (euclidean: l2 distance; cosine: 1 - cosine similarity, in [0, 2]). */
  distances: Float64Array;
  rows: number;
  k: number;
}

const KIND = 'NearestNeighbors';
const VERSION = 1;

const CONSTRAINTS = {
  nNeighbors: { check: (v: unknown) => Number.isInteger(v) && (v as number) >= 1, limit: 'an integer >= 1' },
  metric: { check: (v: unknown) => v === 'euclidean' || v === 'cosine', limit: "'euclidean' or 'cosine'" },
  search: { check: (v: unknown) => v === 'pruned' || v === 'brute', limit: "'pruned' or 'brute'" },
} as const;

function validate(params: Required<NearestNeighborsParams>): void {
  for (const key of Object.keys(CONSTRAINTS) as (keyof typeof CONSTRAINTS)[]) {
    const v = params[key];
    if (!CONSTRAINTS[key].check(v)) {
      const Err = key === 'nNeighbors' ? RangeError : TypeError;
      throw new Err(`NearestNeighbors: ${key} must be ${CONSTRAINTS[key].limit}, got ${JSON.stringify(v)}`);
    }
  }
}

// Query and point block sizes for the dense path: a 64×256 tile of dots is 128 KiB, and a
// 256-row point block of 32 features is 64 KiB, so both stay in L2 while the tile is scanned.
const QUERY_BLOCK = 64;
const POINT_BLOCK = 256;

function normalizeDense(x: Matrix): Float64Array {
  const { rows, cols } = x;
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    let s = 0;
    for (let j = 0; j < cols; j++) s += x.data[o + j] * x.data[o + j];
    const inv = s > 0 ? 1 / Math.sqrt(s) : 1;
    for (let j = 0; j < cols; j++) out[o + j] = x.data[o + j] * inv;
  }
  return out;
}

function assertDenseFinite(x: Matrix, name: string): void {
  const d = x.data;
  for (let t = 0; t < d.length; t++) {
    if (!Number.isFinite(d[t])) throw new RangeError(`${name} has a non-finite value at row ${Math.floor(t / x.cols)}, column ${t % x.cols}`);
  }
}

export class NearestNeighbors {
  readonly nNeighbors: number;
  readonly metric: KnnMetric;
  readonly search: 'pruned' | 'brute';

  private dense: Float64Array | null = null; // euclidean: the rows; cosine: unit rows
  private sparse: CsrMatrix | null = null; // same, CSR
  private sparseT: CsrMatrix | null = null; // columns of `sparse`, for scatter products
  private norms: Float64Array | null = null; // squared row norms (euclidean)
  private source: Matrix | CsrMatrix | null = null;
  private leaves: LeafIndex | null = null; // dense 'pruned' search
  private pool: KnnPool | null = null; // kneighborsAsync workers, kept until close()
  nSamplesFit = 0;
  nFeaturesIn = 0;

  constructor(params: NearestNeighborsParams = {}) {
    const p: Required<NearestNeighborsParams> = { nNeighbors: params.nNeighbors ?? 5, metric: params.metric ?? 'euclidean', search: params.search ?? 'pruned' };
    validate(p);
    this.nNeighbors = p.nNeighbors;
    this.metric = p.metric;
    this.search = p.search;
  }

  fit(X: Matrix | CsrMatrix): this {
    if (X.rows < 1) throw new RangeError('NearestNeighbors.fit: X needs at least 1 row');
    this.source = X;
    this.nSamplesFit = X.rows;
    this.nFeaturesIn = X.cols;
    this.dense = null;
    this.sparse = null;
    this.sparseT = null;
    this.norms = null;
    this.leaves = null;
    if (isCsr(X)) {
      csrAssertFinite(X);
      const s = this.metric === 'cosine' ? csrNormalizeRows(X) : X;
      this.sparse = s;
      this.sparseT = csrTranspose(s);
      if (this.metric === 'euclidean') this.norms = csrRowNorms(s, true);
    } else {
      assertDenseFinite(X, 'X');
      if (this.metric === 'cosine') this.dense = normalizeDense(X);
      else {
        this.dense = X.data instanceof Float64Array ? X.data : Float64Array.from(X.data);
        this.norms = rowNormsSq(this.dense, X.rows, X.cols);
      }
      if (this.search === 'pruned') this.leaves = buildLeaves(this.dense, X.rows, X.cols, this.norms);
    }
    return this;
  }

  /**
   * The k nearest fitted rows of every row of Q (k defaults to nNeighbors). `run.signal` is
   * checked and `run.onProgress` told the fraction answered every SLICE queries.
   */
  kneighbors(Q: Matrix | CsrMatrix, k: number = this.nNeighbors, run: RunOptions = {}): KNeighborsResult {
    const progress = startCall('kneighbors', run);
    const q = this.checkQuery(Q, k);
    const r = isCsr(q) ? this.kneighborsSparse(q, k, progress) : this.kneighborsDense(q, k, progress);
    progress.done();
    return r;
  }

  /**
   * kneighbors() on nJobs worker threads: they take blocks of the (nearest-leaf ordered) queries
   * from a shared counter and search the shared leaf index. The result is identical to
   * kneighbors() for any nJobs, since each query's result depends only on that query. The
   * workers start on the first call and are kept for later calls; they never keep the process
   * alive while idle, and close() terminates them. Only the dense pruned search runs in workers;
   * CSR and 'brute' search (and nJobs 1) run kneighbors() in the calling thread. An abort stops
   * the workers after their current block of queries (the pool is kept) and throws its reason.
   */
  async kneighborsAsync(Q: Matrix | CsrMatrix, k: number = this.nNeighbors, options: KNeighborsAsyncOptions = {}): Promise<KNeighborsResult> {
    const progress = startCall('kneighborsAsync', options);
    const nJobs = resolveThreads(options.nJobs, 'kneighborsAsync: nJobs');
    const q = this.checkQuery(Q, k);
    const m = q.rows;
    const jobs = Math.min(nJobs, Math.ceil(m / PRUNED_BLOCK));
    if (isCsr(q) || this.leaves === null || jobs <= 1) return this.kneighbors(q, k, options);
    const d = this.nFeaturesIn;
    const cosine = this.metric === 'cosine';
    const qd = new Float64Array(new SharedArrayBuffer(Math.max(1, m * d) * 8), 0, m * d);
    if (cosine) qd.set(normalizeDense(q));
    else qd.set(q.data);
    const order = queryOrder(this.leaves, qd, m, d);
    const sharedOrder = new Int32Array(new SharedArrayBuffer(Math.max(1, m) * 4), 0, m);
    sharedOrder.set(order);
    const outIdx = new Int32Array(new SharedArrayBuffer(m * k * 4));
    const outVal = new Float64Array(new SharedArrayBuffer(m * k * 8));
    if (this.pool !== null && (this.pool.closed || this.pool.size !== jobs)) {
      await this.pool.close();
      this.pool = null;
    }
    if (this.pool === null) this.pool = new KnnPool(jobs);
    const counter = new Int32Array(new SharedArrayBuffer(4));
    const done = new Int32Array(new SharedArrayBuffer(4));
    const ix = this.leaves;
    // An abort makes the workers find no block left; they finish the one they hold and answer.
    const onAbort = () => Atomics.store(counter, 0, m);
    progress.signal?.addEventListener('abort', onAbort, { once: true });
    const poll = setInterval(() => progress.report(Atomics.load(done, 0) / m), POLL_MS);
    poll.unref();
    try {
      progress.check();
      await this.pool.run({ ix, qd, d, k, cosine, order: sharedOrder, counter, done, chunk: PRUNED_BLOCK, outIdx, outVal });
    } catch (e) {
      if (progress.signal?.aborted && e === progress.signal.reason) throw e;
      const pool = this.pool;
      this.pool = null;
      await pool?.close();
      throw e;
    } finally {
      clearInterval(poll);
      progress.signal?.removeEventListener('abort', onAbort);
    }
    progress.check();
    const indices = outIdx.slice();
    const distances = outVal.slice();
    this.rerank(qd, m, k, indices, distances);
    progress.done();
    return { indices, distances, rows: m, k };
  }

  /** Terminates the kneighborsAsync worker threads (they restart on the next call). */
  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = null;
    await pool?.close();
  }

  /** Validates the query; returns it in the index's format (dense or CSR), checked finite. */
  private checkQuery(Q: Matrix | CsrMatrix, k: number): Matrix | CsrMatrix {
    if (this.source === null) throw new NotFittedError(KIND);
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`kneighbors: k must be an integer >= 1, got ${k}`);
    if (k > this.nSamplesFit) throw new RangeError(`kneighbors: k must be <= the ${this.nSamplesFit} fitted rows, got ${k}`);
    if (Q.cols !== this.nFeaturesIn) throw new RangeError(`kneighbors: Q has ${Q.cols} columns, the index was fitted on ${this.nFeaturesIn}`);
    if (this.sparse !== null) {
      const q = isCsr(Q) ? Q : csrFromDense(Q);
      csrAssertFinite(q, 'Q');
      return q;
    }
    const q = isCsr(Q) ? csrToDense(Q) : Q;
    assertDenseFinite(q, 'Q');
    return q;
  }

  private kneighborsDense(Q: Matrix, k: number, progress: Progress): KNeighborsResult {
    const X = this.dense as Float64Array;
    const n = this.nSamplesFit;
    const d = this.nFeaturesIn;
    const m = Q.rows;
    const cosine = this.metric === 'cosine';
    const qd: Float64Array = cosine ? normalizeDense(Q) : Q.data instanceof Float64Array ? Q.data : Float64Array.from(Q.data);
    // Surrogate distance per point: euclidean ||p||² - 2q·p (||q||² is constant per query),
    // cosine -q·p on unit rows. pn holds the per-point additive term.
    const pn = cosine ? new Float64Array(n) : (this.norms as Float64Array);
    const scale = cosine ? -1 : -2;
    const indices = new Int32Array(m * k);
    const distances = new Float64Array(m * k);
    if (this.leaves !== null) {
      // Each query's result depends on that query only, so slices give the one-call result.
      const order = queryOrder(this.leaves, qd, m, d);
      for (let from = 0; from < m; from += SLICE) {
        searchPruned(this.leaves, qd, d, k, cosine, order, from, Math.min(m, from + SLICE), indices, distances);
        progress.step(Math.min(m, from + SLICE) / m);
      }
      this.rerank(qd, m, k, indices, distances);
      return { indices, distances, rows: m, k };
    }
    const heaps = new TopKHeaps(QUERY_BLOCK, k);
    const tile = new Float64Array(QUERY_BLOCK * POINT_BLOCK);
    const worst = new Float64Array(QUERY_BLOCK);
    for (let qb = 0; qb < m; qb += QUERY_BLOCK) {
      const qn = Math.min(QUERY_BLOCK, m - qb);
      heaps.reset();
      worst.fill(Infinity);
      for (let pb = 0; pb < n; pb += POINT_BLOCK) {
        const np = Math.min(POINT_BLOCK, n - pb);
        dotsABt(qd, qb * d, qn, X, pb * d, np, d, tile);
        for (let r = 0; r < qn; r++) worst[r] = scanTile(tile, r * np, np, pn, pb, scale, heaps, r, worst[r]);
      }
      for (let r = 0; r < qn; r++) {
        const off = (qb + r) * k;
        heaps.sortedInto(r, distances, indices, off);
      }
      if ((qb + qn) % SLICE === 0) progress.step((qb + qn) / m);
    }
    this.rerank(qd, m, k, indices, distances);
    return { indices, distances, rows: m, k };
  }

  /** Exact distances for the k winners (the expansion loses digits for close points), re-sorted. */
  private rerank(qd: Float64Array, m: number, k: number, indices: Int32Array, distances: Float64Array): void {
    const X = this.dense as Float64Array;
    const d = this.nFeaturesIn;
    const cosine = this.metric === 'cosine';
    for (let q = 0; q < m; q++) {
      const off = q * k;
      const qo = q * d;
      for (let a = 0; a < k; a++) {
        const po = indices[off + a] * d;
        if (cosine) {
          const v = 1 - dot(qd, qo, X, po, d);
          distances[off + a] = v < 0 ? 0 : v > 2 ? 2 : v;
        } else {
          let s = 0;
          for (let t = 0; t < d; t++) {
            const diff = qd[qo + t] - X[po + t];
            s += diff * diff;
          }
          distances[off + a] = Math.sqrt(s);
        }
      }
      sortRun(distances, indices, off, k);
    }
  }

  private kneighborsSparse(Q: CsrMatrix, k: number, progress: Progress): KNeighborsResult {
    const XT = this.sparseT as CsrMatrix;
    const n = this.nSamplesFit;
    const m = Q.rows;
    const cosine = this.metric === 'cosine';
    const q = cosine ? csrNormalizeRows(Q) : Q;
    const qnorm = cosine ? null : csrRowNorms(q, true);
    const pn = cosine ? null : (this.norms as Float64Array);
    const acc = new Float64Array(n);
    const heaps = new TopKHeaps(1, k);
    const indices = new Int32Array(m * k);
    const distances = new Float64Array(m * k);
    const { indptr: tp, indices: ti, data: td } = XT;
    for (let r = 0; r < m; r++) {
      acc.fill(0);
      for (let p = q.indptr[r]; p < q.indptr[r + 1]; p++) {
        const j = q.indices[p];
        const v = q.data[p];
        for (let s = tp[j]; s < tp[j + 1]; s++) acc[ti[s]] += v * td[s];
      }
      heaps.reset();
      let w = Infinity;
      if (cosine) {
        for (let i = 0; i < n; i++) {
          const v = -acc[i];
          if (v < w) {
            heaps.push(0, v, i);
            w = heaps.worst(0);
          }
        }
      } else {
        const norms = pn as Float64Array;
        for (let i = 0; i < n; i++) {
          const v = norms[i] - 2 * acc[i];
          if (v < w) {
            heaps.push(0, v, i);
            w = heaps.worst(0);
          }
        }
      }
      const off = r * k;
      heaps.sortedInto(0, distances, indices, off);
      for (let a = 0; a < k; a++) {
        if (cosine) {
          const v = 1 + distances[off + a];
          distances[off + a] = v < 0 ? 0 : v > 2 ? 2 : v;
        } else {
          const v = distances[off + a] + (qnorm as Float64Array)[r];
          distances[off + a] = v > 0 ? Math.sqrt(v) : 0;
        }
      }
      if ((r + 1) % SLICE === 0) progress.step((r + 1) / m);
    }
    return { indices, distances, rows: m, k };
  }

  toJSON(): { kind: string; version: number; params: Required<NearestNeighborsParams>; fitted: unknown } {
    const s = this.source;
    let fitted: unknown = null;
    if (s !== null) {
      fitted = isCsr(s) ? { format: 'csr', ...csrToJSON(s) } : { format: 'dense', rows: s.rows, cols: s.cols, data: Array.from(s.data) };
    }
    return { kind: KIND, version: VERSION, params: { nNeighbors: this.nNeighbors, metric: this.metric, search: this.search }, fitted };
  }

  static fromJSON(json: unknown): NearestNeighbors {
    const j = json as { kind?: unknown; version?: unknown; params?: NearestNeighborsParams; fitted?: any };
    if (j === null || typeof j !== 'object' || j.kind !== KIND) throw new TypeError(`fromJSON: expected kind '${KIND}', got ${JSON.stringify(j?.kind)}`);
    if (j.version !== VERSION) throw new RangeError(`fromJSON: ${KIND} version ${JSON.stringify(j.version)} is not supported (expected ${VERSION})`);
    const nn = new NearestNeighbors(j.params ?? {});
    const f = j.fitted;
    if (f) {
      if (f.format === 'csr') nn.fit(csrFromJSON(f));
      else if (f.format === 'dense') nn.fit({ rows: f.rows, cols: f.cols, data: Float64Array.from(f.data) });
      else throw new TypeError(`fromJSON: unknown fitted format ${JSON.stringify(f.format)}`);
    }
    return nn;
  }
}

/**
 * Offers one query's row of a dot-product tile to its heap; returns the heap's new worst value.
 * Kept small and separate so V8 optimises the hot comparison loop on its own.
 */
function scanTile(tile: Float64Array, o: number, np: number, pn: Float64Array, pb: number, scale: number, heaps: TopKHeaps, r: number, worst: number): number {
  let w = worst;
  // Any v >= w is rejected: compare in dot space first, t > (pn - w) / -scale, is not cheaper,
  // so compute v directly. Points arrive in increasing index order, so an equal value never
  // beats the heap's current worst (which has a lower index): strict < gives sklearn's tie order.
  for (let c = 0; c < np; c++) {
    const v = pn[pb + c] + scale * tile[o + c];
    if (v < w) {
      heaps.push(r, v, pb + c);
      w = heaps.worst(r);
    }
  }
  return w;
}

/** Insertion sort of one result row by (distance, index); rows are short and nearly sorted. */
function sortRun(d: Float64Array, ix: Int32Array, off: number, k: number): void {
  for (let a = off + 1; a < off + k; a++) {
    const v = d[a];
    const i = ix[a];
    let b = a - 1;
    while (b >= off && (d[b] > v || (d[b] === v && ix[b] > i))) {
      d[b + 1] = d[b];
      ix[b + 1] = ix[b];
      b--;
    }
    d[b + 1] = v;
    ix[b + 1] = i;
  }
}

function startCall(owner: string, run: RunOptions): Progress {
  checkRunOptions(owner, run);
  const progress = new Progress(run.onProgress, run.signal);
  progress.check();
  return progress;
}
