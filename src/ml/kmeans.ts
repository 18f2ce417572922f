// k-means as sklearn's KMeans(algorithm='lloyd'): greedy k-means++ seeding with 2 + floor(ln k)
// local trials, Lloyd iterations with sklearn's stopping rule (labels unchanged, or total squared
// centre shift <= tol × mean feature variance), empty clusters moved to the farthest points.
// Works on dense rows and on CSR rows (TF-IDF vectors in the recommendation service).

import { NotFittedError } from './errors.ts';
import { checkRunOptions, Progress, resolveThreads, type RunOptions } from './runtime.ts';
import { dotSeq, dotsABt, dotsRowK, rowNormsSq } from './linalg.ts';
import type { FloatArray, Matrix } from './matrix.ts';
import { KMeansPool, type KMeansWorkerInit, type KMeansWorkerStep } from './kmeans-pool.ts';
import { Rng } from './rng.ts';
import { SIMD_MAX_BYTES, SimdLloyd, simdAvailable, simdBytes } from './simd.ts';
import { type CsrMatrix, csrAssertFinite, csrRowNorms, isCsr } from './sparse.ts';

export interface KMeansIteration {
  run: number;
  iter: number;
  /** Sum of squared distances of the samples to the centres they were assigned to this iteration. */
  inertia: number;
  /** Total squared movement of the centres in this iteration. */
  centerShift: number;
}

export interface KMeansParams {
  nClusters?: number;
  /** 'k-means++' (default), 'random' (k distinct rows), or an explicit nClusters×d matrix of centres. */
  init?: 'k-means++' | 'random' | Matrix;
  /**
   * Independent initialisations, best inertia kept. 'auto' (default) is sklearn ≥ 1.4's rule:
   * 1 run for k-means++ or explicit centres, 10 for 'random'.
   */
  nInit?: number | 'auto';
  maxIter?: number;
  /** Relative tolerance: stop when the total squared centre shift <= tol × mean feature variance. */
  tol?: number;
  seed?: number;
  /**
   * 'lloyd' (default, as sklearn) computes every distance, with the WebAssembly SIMD kernel of
   * simd.ts where it is available. 'hamerly' and 'elkan' run the same iterations but skip the
   * distance computations that their bounds (distance to the own centre, to the other centres,
   * centre drift) prove cannot change a label; labels, centres, inertia and nIter are bit-identical
   * to 'lloyd'. They pay off where the clusters are well separated. CSR input always uses 'lloyd'.
   */
  algorithm?: 'lloyd' | 'hamerly' | 'elkan';
  /**
   * A per-iteration trace, not progress (progress is the fit's RunOptions.onProgress): called after
   * every Lloyd iteration with the run, iteration, inertia and centre shift (inertia never rises
   * across calls of one run). Kept for diagnostics and the tests that check that invariant.
   */
  onIteration?: ((info: KMeansIteration) => void) | null;
}

type Resolved = Required<KMeansParams>;

const KIND = 'KMeans';
const VERSION = 1;

const CONSTRAINTS: Record<Exclude<keyof KMeansParams, 'onIteration'>, { check: (v: any) => boolean; limit: string; type?: boolean }> = {
  nClusters: { check: (v) => Number.isInteger(v) && v >= 1, limit: 'an integer >= 1' },
  init: {
    check: (v) => v === 'k-means++' || v === 'random' || (typeof v === 'object' && v !== null && typeof v.rows === 'number' && 'data' in v),
    limit: "'k-means++', 'random' or a Matrix of centres",
    type: true,
  },
  nInit: { check: (v) => v === 'auto' || (Number.isInteger(v) && v >= 1), limit: "'auto' or an integer >= 1" },
  maxIter: { check: (v) => Number.isInteger(v) && v >= 1, limit: 'an integer >= 1' },
  tol: { check: (v) => typeof v === 'number' && v >= 0 && Number.isFinite(v), limit: 'a finite number >= 0' },
  seed: { check: (v) => typeof v === 'number' && Number.isFinite(v), limit: 'a finite number' },
  algorithm: { check: (v) => v === 'lloyd' || v === 'hamerly' || v === 'elkan', limit: "'lloyd', 'hamerly' or 'elkan'", type: true },
};

function resolve(p: KMeansParams): Resolved {
  const r: Resolved = {
    nClusters: p.nClusters ?? 8,
    init: p.init ?? 'k-means++',
    nInit: p.nInit ?? 'auto',
    maxIter: p.maxIter ?? 300,
    tol: p.tol ?? 1e-4,
    seed: p.seed ?? 0,
    algorithm: p.algorithm ?? 'lloyd',
    onIteration: p.onIteration ?? null,
  };
  for (const key of Object.keys(CONSTRAINTS) as (keyof typeof CONSTRAINTS)[]) {
    const c = CONSTRAINTS[key];
    if (!c.check(r[key])) {
      const Err = c.type ? TypeError : RangeError;
      const shown = key === 'init' ? typeof r[key] : JSON.stringify(r[key]);
      throw new Err(`KMeans: ${key} must be ${c.limit}, got ${shown}`);
    }
  }
  if (r.onIteration !== null && typeof r.onIteration !== 'function') throw new TypeError('KMeans: onIteration must be a function or null');
  if (typeof r.init === 'object') {
    if (r.init.rows !== r.nClusters) throw new RangeError(`KMeans: init has ${r.init.rows} rows, must equal nClusters=${r.nClusters}`);
  }
  return r;
}

/** The samples, dense or CSR, with their squared norms. */
export interface Data {
  dense: FloatArray | null;
  csr: CsrMatrix | null;
  n: number;
  d: number;
  xnorm: Float64Array;
}

function toData(X: Matrix | CsrMatrix): Data {
  if (isCsr(X)) {
    csrAssertFinite(X);
    const xnorm = csrRowNorms(X, true);
    assertNormsFit(xnorm, 'X');
    return { dense: null, csr: X, n: X.rows, d: X.cols, xnorm };
  }
  const v = X.data;
  for (let t = 0; t < v.length; t++) {
    if (!Number.isFinite(v[t])) throw new RangeError(`X has a non-finite value at row ${Math.floor(t / X.cols)}, column ${t % X.cols}`);
  }
  const xnorm = rowNormsSq(X.data, X.rows, X.cols);
  assertNormsFit(xnorm, 'X');
  return { dense: X.data, csr: null, n: X.rows, d: X.cols, xnorm };
}

/**
 * Rows whose squared norm exceeds a quarter of the largest double (values around 1e154) would make
 * ‖x‖² − 2x·c + ‖c‖² overflow to ∞ or NaN, where nearest centres are no longer defined: refused.
 */
function assertNormsFit(norms: Float64Array, name: string): void {
  for (let i = 0; i < norms.length; i++) {
    if (!(norms[i] <= Number.MAX_VALUE / 4)) throw new RangeError(`${name} row ${i} is too large: its squared norm ${norms[i]} would overflow the distance computations; scale the data`);
  }
}

// Samples per block of the dense assignment step: a 256×d block and its 256×k tile of dot
// products stay in L1/L2 while centres are reused across the block.
export const CHUNK = 256;

/**
 * Scratch buffers for one fit, allocated once. `tile` holds k dots of a sparse row; `ct` the
 * centres transposed (d×k) for sparse rows; `estep` the dense E-step (made on first use).
 */
interface Scratch {
  tile: Float64Array;
  estep: DenseEStep | null;
  cnorm: Float64Array;
  ct: Float64Array;
  /** Dense: per-block partial sums and counts (M-step), per-CHUNK inertia (sized on first use). */
  partial: Float64Array | null;
  pcounts: Float64Array | null;
  totals: Float64Array | null;
}

/** Runs work with a fresh Scratch, released after. */
function withScratch<R>(k: number, d: number, sparse: boolean, work: (s: Scratch) => R): R {
  const s = makeScratch(k, d, sparse);
  const release = () => s.estep?.release();
  let out: R;
  try {
    out = work(s);
  } catch (err) {
    release();
    throw err;
  }
  if (out instanceof Promise) return out.finally(release) as R;
  release();
  return out;
}

function makeScratch(k: number, d: number, sparse: boolean): Scratch {
  return {
    tile: new Float64Array(sparse ? k : 0),
    estep: null,
    cnorm: new Float64Array(k),
    ct: sparse ? new Float64Array(d * k) : new Float64Array(0),
    partial: null,
    pcounts: null,
    totals: null,
  };
}

/** Sum of totals[0..m) in index order from 0 (the order of Lloyd's per-chunk inertia). */
export function sumInOrder(totals: Float64Array, m: number): number {
  let s = 0;
  for (let j = 0; j < m; j++) s += totals[j];
  return s;
}

/**
 * Lloyd's dense E-step over the n rows of x: labels[i] = the nearest centre (the smallest
 * cnorm − 2x·c, ties to the lowest index), minDist[i] its squared distance (clamped at 0), each
 * CHUNK's sum of distances into totals (row order), and, when partial is given, the partial sums and
 * counts of each block of SUM_CHUNK rows (block-major, rows in order). Rows are taken in blocks, each
 * block's CHUNK-row tiles first. The WebAssembly SIMD kernel (simd.ts) where it is available and the
 * data fits, else the scalar code below; both give bit-identical results, so a worker running it on
 * its own blocks writes exactly the entries the one-thread fit writes.
 */
export interface DenseEStep {
  run(
    centers: Float64Array,
    cnorm: Float64Array,
    labels: Int32Array,
    minDist: Float64Array | null,
    totals: Float64Array,
    partial: Float64Array | null,
    pcounts: Float64Array | null,
  ): void;
  /** Done with this data: frees what the step holds for the next fit in this thread. */
  release(): void;
}

export function denseEStep(x: FloatArray, xnorm: Float64Array, n: number, d: number, k: number): DenseEStep {
  if (simdAvailable && d >= 1 && simdBytes(n, d, k) <= SIMD_MAX_BYTES) {
    try {
      return simdEStep(x, xnorm, n, d, k);
    } catch (err) {
      if (!(err instanceof RangeError)) throw err; // WebAssembly memory not available: the scalar step
    }
  }
  return scalarEStep(x, xnorm, n, d, k);
}

/** The dense E-step on the WebAssembly SIMD kernel. */
export function simdEStep(x: FloatArray, xnorm: Float64Array, n: number, d: number, k: number): DenseEStep {
  const nBlocks = Math.ceil(n / SUM_CHUNK);
  const simd = new SimdLloyd(x, xnorm, n, d, k);
  return {
    run(centers, cnorm, labels, minDist, totals, partial, pcounts) {
      simd.setCenters(centers, cnorm);
      let j = 0;
      for (let ch = 0; ch < nBlocks; ch++) {
        const lo = ch * SUM_CHUNK;
        const hi = Math.min(n, lo + SUM_CHUNK);
        for (let i0 = lo; i0 < hi; i0 += CHUNK) totals[j++] = simd.assign(i0, Math.min(CHUNK, hi - i0));
        if (partial !== null) simd.sums(lo, hi, partial, pcounts as Float64Array, ch);
      }
      simd.read(labels, minDist);
    },
    release: () => simd.release(),
  };
}

/** The dense E-step in scalar TypeScript: the 2×4 block kernel, argminChunk, blockPartials. */
export function scalarEStep(x: FloatArray, xnorm: Float64Array, n: number, d: number, k: number): DenseEStep {
  const nBlocks = Math.ceil(n / SUM_CHUNK);
  const tile = new Float64Array(CHUNK * k);
  return {
    run(centers, cnorm, labels, minDist, totals, partial, pcounts) {
      let j = 0;
      for (let ch = 0; ch < nBlocks; ch++) {
        const lo = ch * SUM_CHUNK;
        const hi = Math.min(n, lo + SUM_CHUNK);
        for (let i0 = lo; i0 < hi; i0 += CHUNK) {
          const m = Math.min(CHUNK, hi - i0);
          dotsABt(x, i0 * d, m, centers, 0, k, d, tile);
          totals[j++] = argminChunk(tile, m, k, cnorm, xnorm, i0, labels, minDist);
        }
        if (partial !== null) blockPartials(x, n, d, k, labels, ch, ch + 1, partial, pcounts as Float64Array);
      }
    },
    release: () => {},
  };
}

/**
 * E-step (and optionally the sums of the M-step): labels[i] = nearest centre, minDist[i] its
 * squared distance (from the norm expansion, clamped at 0). Returns the sum of minDist.
 */
function assign(
  X: Data,
  centers: Float64Array,
  k: number,
  labels: Int32Array,
  minDist: Float64Array | null,
  sums: Float64Array | null,
  counts: Float64Array | null,
  s: Scratch,
): number {
  const { n, d, xnorm } = X;
  const cnorm = rowNormsSq(centers, k, d, s.cnorm);
  const tile = s.tile;
  if (sums !== null) sums.fill(0);
  if (counts !== null) counts.fill(0);
  let total = 0;
  if (X.dense !== null) {
    const estep = (s.estep ??= denseEStep(X.dense, xnorm, n, d, k));
    const nBlocks = Math.ceil(n / SUM_CHUNK);
    const nTiles = Math.ceil(n / CHUNK);
    if (s.totals === null || s.totals.length !== nTiles) s.totals = new Float64Array(nTiles);
    if (sums !== null && (s.partial === null || s.partial.length !== nBlocks * k * d)) {
      s.partial = new Float64Array(nBlocks * k * d);
      s.pcounts = new Float64Array(nBlocks * k);
    }
    const withSums = sums !== null;
    estep.run(centers, cnorm, labels, minDist, s.totals, withSums ? s.partial : null, withSums ? s.pcounts : null);
    if (withSums) mergePartials(nBlocks, k, d, s.partial as Float64Array, s.pcounts as Float64Array, sums, counts as Float64Array);
    return sumInOrder(s.totals, nTiles);
  }
  const { indptr, indices, data } = X.csr as CsrMatrix;
  const ct = s.ct;
  for (let c = 0; c < k; c++) for (let t = 0; t < d; t++) ct[t * k + c] = centers[c * d + t];
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) tile[c] = 0;
    const a = indptr[i];
    const b = indptr[i + 1];
    for (let p = a; p < b; p++) {
      const v = data[p];
      const o = indices[p] * k;
      for (let c = 0; c < k; c++) tile[c] += v * ct[o + c];
    }
    total += argminChunk(tile, 1, k, cnorm, xnorm, i, labels, minDist);
    if (sums !== null) {
      const bc = labels[i];
      const so = bc * d;
      for (let p = a; p < b; p++) sums[so + indices[p]] += data[p];
      (counts as Float64Array)[bc]++;
    }
  }
  return total;
}

/**
 * Nearest centre for the m samples of one chunk from their tile of dots; returns the chunk's sum.
 * The scan starts from the sample's current label (a guess; any value gives the same result):
 * in Lloyd's later iterations it is usually the winner, so the comparisons rarely flip and the
 * branch predictor stops paying for the unpredictable argmin (2.2 -> ~1 ms per 50k×8 tile pass).
 * The guessed entry is set to −∞ in the tile (distance +∞) so the scan skips it. The result is
 * still the smallest value, ties to the lowest index, exactly as a plain scan from centre 0.
 */
function argminChunk(
  tile: Float64Array,
  m: number,
  k: number,
  cnorm: Float64Array,
  xnorm: Float64Array,
  i0: number,
  labels: Int32Array,
  minDist: Float64Array | null,
): number {
  let total = 0;
  for (let r = 0; r < m; r++) {
    const o = r * k;
    const i = i0 + r;
    let bc = labels[i];
    if (!(bc >= 0 && bc < k)) bc = 0;
    let best = cnorm[bc] - 2 * tile[o + bc];
    tile[o + bc] = -Infinity;
    for (let c = 0; c < k; c++) {
      const v = cnorm[c] - 2 * tile[o + c];
      if (v <= best && (v < best || c < bc)) {
        best = v;
        bc = c;
      }
    }
    labels[i] = bc;
    let dist = xnorm[i] + best;
    if (dist < 0) dist = 0;
    if (minDist !== null) minDist[i] = dist;
    total += dist;
  }
  return total;
}

/**
 * Samples per block of the M-step sums. Every dense algorithm (and every worker split) sums
 * each block in sample order from 0, then adds the blocks' partial sums in block order, so
 * centres are bit-identical across 'lloyd', 'hamerly', 'elkan' and any nJobs.
 */
export const SUM_CHUNK = 1024;
const SUM_SHIFT = 10; // log2(SUM_CHUNK)

/** partial[slot·d ..] += the row x[xo..xo+d), pcounts[slot]++ (slot = block·k + cluster). */
function addToBlock(x: FloatArray, xo: number, d: number, partial: Float64Array, pcounts: Float64Array, slot: number): void {
  const so = slot * d;
  for (let t = 0; t < d; t++) partial[so + t] += x[xo + t];
  pcounts[slot]++;
}

/** Partial sums and counts of the blocks ch0..ch1-1 (rows ch·SUM_CHUNK.. of x), block-major. */
function blockPartials(
  x: FloatArray,
  n: number,
  d: number,
  k: number,
  labels: Int32Array,
  ch0: number,
  ch1: number,
  partial: Float64Array,
  pcounts: Float64Array,
): void {
  for (let ch = ch0; ch < ch1; ch++) {
    const po = ch * k * d;
    const co = ch * k;
    partial.fill(0, po, po + k * d);
    pcounts.fill(0, co, co + k);
    const hi = Math.min(n, (ch + 1) * SUM_CHUNK);
    for (let i = ch * SUM_CHUNK; i < hi; i++) {
      const c = labels[i];
      const so = po + c * d;
      const xo = i * d;
      for (let t = 0; t < d; t++) partial[so + t] += x[xo + t];
      pcounts[co + c]++;
    }
  }
}

/** sums/counts = the blocks' partials added in block order. */
export function mergePartials(nChunks: number, k: number, d: number, partial: Float64Array, pcounts: Float64Array, sums: Float64Array, counts: Float64Array): void {
  sums.fill(0);
  counts.fill(0);
  const kd = k * d;
  for (let ch = 0; ch < nChunks; ch++) {
    const po = ch * kd;
    for (let j = 0; j < kd; j++) sums[j] += partial[po + j];
    for (let c = 0; c < k; c++) counts[c] += pcounts[ch * k + c];
  }
}

/** Iteration inertia from the sufficient statistics: Σ‖x‖² − 2Σ c·S_c + Σ n_c‖c‖², clamped at 0. */
export function inertiaFromStats(xnormSum: number, centers: Float64Array, cnorm: Float64Array, k: number, d: number, sums: Float64Array, counts: Float64Array): number {
  let cross = 0;
  let own = 0;
  for (let c = 0; c < k; c++) {
    own += counts[c] * cnorm[c];
    cross += dotSeq(centers, c * d, sums, c * d, d);
  }
  const total = xnormSum - 2 * cross + own;
  return total > 0 ? total : 0;
}

/** minDist[i] = Lloyd's squared distance of sample i to its centre (dense; empty-cluster relocation). */
export function fillMinDistDense(X: Data, k: number, centers: Float64Array, labels: Int32Array, minDist: Float64Array): void {
  const { n, d, xnorm } = X;
  const x = X.dense as FloatArray;
  const cnorm = rowNormsSq(centers, k, d);
  for (let i = 0; i < n; i++) {
    const a = labels[i];
    const v = xnorm[i] + (cnorm[a] - 2 * dotSeq(x, i * d, centers, a * d, d));
    minDist[i] = v > 0 ? v : 0;
  }
}

/** Exact inertia: sum of ||x_i - c_{label_i}||² (direct differences for dense rows). */
function inertiaOf(X: Data, centers: Float64Array, labels: Int32Array): number {
  const { n, d } = X;
  let total = 0;
  if (X.dense !== null) {
    const x = X.dense;
    for (let i = 0; i < n; i++) {
      const xo = i * d;
      const co = labels[i] * d;
      let s = 0;
      for (let t = 0; t < d; t++) {
        const diff = x[xo + t] - centers[co + t];
        s += diff * diff;
      }
      total += s;
    }
    return total;
  }
  const { indptr, indices, data } = X.csr as CsrMatrix;
  const cn = rowNormsSq(centers, centers.length / d, d);
  for (let i = 0; i < n; i++) {
    const co = labels[i] * d;
    let dp = 0;
    for (let p = indptr[i]; p < indptr[i + 1]; p++) dp += data[p] * centers[co + indices[p]];
    const v = X.xnorm[i] - 2 * dp + cn[labels[i]];
    total += v > 0 ? v : 0;
  }
  return total;
}

/** Squared distance of every sample to centre c (a dense row), into out. */
function distToCenter(X: Data, c: Float64Array, cOff: number, out: Float64Array): void {
  const { n, d, xnorm } = X;
  let cn = 0;
  for (let t = 0; t < d; t++) cn += c[cOff + t] * c[cOff + t];
  if (X.dense !== null) {
    const x = X.dense;
    for (let i = 0; i < n; i++) {
      const xo = i * d;
      let s0 = 0;
      let s1 = 0;
      let t = 0;
      for (; t + 1 < d; t += 2) {
        s0 += x[xo + t] * c[cOff + t];
        s1 += x[xo + t + 1] * c[cOff + t + 1];
      }
      if (t < d) s0 += x[xo + t] * c[cOff + t];
      const v = xnorm[i] - 2 * (s0 + s1) + cn;
      out[i] = v > 0 ? v : 0;
    }
    return;
  }
  const { indptr, indices, data } = X.csr as CsrMatrix;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let p = indptr[i]; p < indptr[i + 1]; p++) s += data[p] * c[cOff + indices[p]];
    const v = xnorm[i] - 2 * s + cn;
    out[i] = v > 0 ? v : 0;
  }
}

function copyRow(X: Data, i: number, out: Float64Array, off: number): void {
  const d = X.d;
  if (X.dense !== null) {
    for (let t = 0; t < d; t++) out[off + t] = X.dense[i * d + t];
    return;
  }
  const { indptr, indices, data } = X.csr as CsrMatrix;
  out.fill(0, off, off + d);
  for (let p = indptr[i]; p < indptr[i + 1]; p++) out[off + indices[p]] = data[p];
}

/** Greedy k-means++ (sklearn's _kmeans_plusplus): each new centre is the best of 2+floor(ln k) draws. */
function kmeansPlusPlus(X: Data, k: number, rng: Rng): Float64Array {
  const { n, d } = X;
  const centers = new Float64Array(k * d);
  const trials = 2 + Math.floor(Math.log(k));
  const closest = new Float64Array(n);
  const cum = new Float64Array(n);
  const cand = new Float64Array(d);
  const candDist = new Float64Array(n);
  const bestDist = new Float64Array(n);
  copyRow(X, rng.int(n), centers, 0);
  distToCenter(X, centers, 0, closest);
  let pot = 0;
  for (let i = 0; i < n; i++) pot += closest[i];
  for (let c = 1; c < k; c++) {
    let acc = 0;
    for (let i = 0; i < n; i++) {
      acc += closest[i];
      cum[i] = acc;
    }
    let bestPot = Infinity;
    let bestId = -1;
    for (let t = 0; t < trials; t++) {
      const r = rng.next() * pot;
      // searchsorted(side='left'): first i with cum[i] >= r, clipped to n-1
      let lo = 0;
      let hi = n - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cum[mid] >= r) hi = mid;
        else lo = mid + 1;
      }
      copyRow(X, lo, cand, 0);
      distToCenter(X, cand, 0, candDist);
      let p = 0;
      for (let i = 0; i < n; i++) {
        const v = candDist[i] < closest[i] ? candDist[i] : closest[i];
        candDist[i] = v;
        p += v;
      }
      if (p < bestPot) {
        bestPot = p;
        bestId = lo;
        bestDist.set(candDist);
      }
    }
    pot = bestPot;
    closest.set(bestDist);
    copyRow(X, bestId, centers, c * d);
  }
  return centers;
}

function randomInit(X: Data, k: number, rng: Rng): Float64Array {
  const { n, d } = X;
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  const centers = new Float64Array(k * d);
  for (let c = 0; c < k; c++) {
    const j = c + rng.int(n - c);
    const t = perm[c];
    perm[c] = perm[j];
    perm[j] = t;
    copyRow(X, perm[c], centers, c * d);
  }
  return centers;
}

/** Mean over features of the per-feature variance, the scale of sklearn's tol. */
function meanVariance(X: Data): number {
  const { n, d } = X;
  const sum = new Float64Array(d);
  const sq = new Float64Array(d);
  if (X.dense !== null) {
    const x = X.dense;
    for (let i = 0; i < n; i++) for (let t = 0; t < d; t++) sum[t] += x[i * d + t];
    for (let t = 0; t < d; t++) sum[t] /= n;
    for (let i = 0; i < n; i++) {
      for (let t = 0; t < d; t++) {
        const diff = x[i * d + t] - sum[t];
        sq[t] += diff * diff;
      }
    }
    let v = 0;
    for (let t = 0; t < d; t++) v += sq[t] / n;
    return v / d;
  }
  const { indices, data } = X.csr as CsrMatrix;
  for (let p = 0; p < data.length; p++) {
    sum[indices[p]] += data[p];
    sq[indices[p]] += data[p] * data[p];
  }
  let v = 0;
  for (let t = 0; t < d; t++) {
    const mean = sum[t] / n;
    v += Math.max(0, sq[t] / n - mean * mean);
  }
  return v / d;
}

interface RunResult {
  centers: Float64Array;
  labels: Int32Array;
  inertia: number;
  nIter: number;
  history: number[];
}

/** One E-step plus the M-step sums; returns the inertia of the new labels against `centers`. */
interface Assigner {
  step(centers: Float64Array, labels: Int32Array, minDist: Float64Array, sums: Float64Array, counts: Float64Array): number;
  /** Labels were changed outside step() (empty-cluster relocation): bounds are void. */
  invalidate(): void;
  /** Makes minDist Lloyd's distance of every sample to its centre (for empty-cluster relocation). */
  fillMinDist(centers: Float64Array, labels: Int32Array, minDist: Float64Array): void;
}

function lloydAssigner(X: Data, k: number, s: Scratch): Assigner {
  return {
    step: (centers, labels, minDist, sums, counts) => assign(X, centers, k, labels, minDist, sums, counts, s),
    invalidate: () => {},
    fillMinDist: () => {}, // step() already filled it
  };
}

/**
 * Exact accelerations of the dense E-step: Hamerly's (one lower bound per sample) and Elkan's
 * (one lower bound per sample and centre). Per sample, u ≥ distance to its own centre and the
 * lower bound(s) ≤ distance to the other centres; after the centres move, u grows by its
 * centre's drift and each lower bound shrinks by the drift of its centre (Hamerly: the largest
 * other drift). A distance is only computed when the bounds (and half the gap between the two
 * centres) cannot prove the own centre closer. Computed distances use the same expansion and
 * the same in-order dot products as Lloyd's block kernel, and a centre replaces the current one
 * only if it is smaller, or equal with a lower index, so the label is Lloyd's argmin, ties
 * included. Every pruning comparison carries a margin M (relative 1e-11 plus the expansion's
 * rounding bound), so rounding never prunes a centre that Lloyd's computed distances would pick.
 * The M-step sums are added in sample order in the same pass, so the centres are bit-identical
 * to Lloyd's. The iteration's inertia comes from the sums (Σ‖x‖² − 2Σ c·S_c + Σ n_c‖c‖²), equal
 * to Lloyd's per-sample sum up to rounding.
 */
export class BoundedDense implements Assigner {
  private readonly X: Data;
  private readonly k: number;
  private readonly elkan: boolean;
  private readonly u: Float64Array;
  private readonly l: Float64Array;
  private readonly prev: Float64Array;
  private readonly drift: Float64Array;
  private readonly half: Float64Array;
  private readonly gap: Float64Array;
  private readonly cnorm: Float64Array;
  private readonly dots: Float64Array;
  private readonly xnormSum: number;
  private partial: Float64Array | null = null;
  private pcounts: Float64Array | null = null;
  private valid = false;
  /** Sample-centre distances computed in the last step (for benchmarks). */
  computed = 0;

  constructor(X: Data, k: number, elkan: boolean) {
    this.X = X;
    this.k = k;
    this.elkan = elkan;
    this.u = new Float64Array(X.n);
    this.l = new Float64Array(elkan ? X.n * k : X.n);
    this.prev = new Float64Array(k * X.d);
    this.drift = new Float64Array(k);
    this.half = new Float64Array(k);
    this.gap = new Float64Array(k * k);
    this.cnorm = new Float64Array(k);
    this.dots = new Float64Array(k);
    let s = 0;
    for (let i = 0; i < X.n; i++) s += X.xnorm[i];
    this.xnormSum = s;
  }

  invalidate(): void {
    this.valid = false;
  }

  fillMinDist(centers: Float64Array, labels: Int32Array, minDist: Float64Array): void {
    fillMinDistDense(this.X, this.k, centers, labels, minDist);
  }

  step(centers: Float64Array, labels: Int32Array, _minDist: Float64Array, sums: Float64Array, counts: Float64Array): number {
    const { n, d } = this.X;
    const nChunks = Math.ceil(n / SUM_CHUNK);
    if (this.partial === null) {
      this.partial = new Float64Array(nChunks * this.k * d);
      this.pcounts = new Float64Array(nChunks * this.k);
    }
    this.estep(centers, labels, this.partial, this.pcounts as Float64Array, 0);
    mergePartials(nChunks, this.k, d, this.partial, this.pcounts as Float64Array, sums, counts);
    return inertiaFromStats(this.xnormSum, centers, this.cnorm, this.k, d, sums, counts);
  }

  /**
   * The E-step: labels and bounds of this.X's samples against `centers` (sets this.cnorm), and in
   * the same pass the partial sums of its blocks of SUM_CHUNK samples (this.X's sample 0 starts
   * block ch0 of partial/pcounts), each block summed in sample order.
   */
  estep(centers: Float64Array, labels: Int32Array, partial: Float64Array, pcounts: Float64Array, ch0: number): void {
    const { n, d, xnorm } = this.X;
    const x = this.X.dense as FloatArray;
    const k = this.k;
    const nChunks = Math.ceil(n / SUM_CHUNK);
    partial.fill(0, ch0 * k * d, (ch0 + nChunks) * k * d);
    pcounts.fill(0, ch0 * k, (ch0 + nChunks) * k);
    const { u, l, prev, drift, half, gap } = this;
    const cnorm = rowNormsSq(centers, k, d, this.cnorm);
    let cmax = 0;
    for (let c = 0; c < k; c++) if (cnorm[c] > cmax) cmax = cnorm[c];
    const c0 = 1e-11 + 32 * (d + 4) * Number.EPSILON;
    let computed = 0;
    if (!this.valid) {
      for (let i = 0; i < n; i++) {
        const a = this.scan(x, i, centers, cnorm);
        labels[i] = a;
        addToBlock(x, i * d, d, partial, pcounts, (ch0 + (i >> SUM_SHIFT)) * k + a);
      }
      computed = n * k;
    } else {
      // Centre drift, the largest two drifts, half the distance between centres.
      let m1 = 0;
      let m2 = 0;
      let am = -1;
      for (let c = 0; c < k; c++) {
        let s = 0;
        const o = c * d;
        for (let t = 0; t < d; t++) {
          const diff = centers[o + t] - prev[o + t];
          s += diff * diff;
        }
        const v = Math.sqrt(s);
        drift[c] = v;
        if (v > m1) {
          m2 = m1;
          m1 = v;
          am = c;
        } else if (v > m2) m2 = v;
      }
      half.fill(Infinity);
      for (let a = 0; a < k; a++) {
        gap[a * k + a] = 0;
        for (let b = a + 1; b < k; b++) {
          let s = 0;
          const oa = a * d;
          const ob = b * d;
          for (let t = 0; t < d; t++) {
            const diff = centers[oa + t] - centers[ob + t];
            s += diff * diff;
          }
          const h = 0.5 * Math.sqrt(s);
          gap[a * k + b] = h;
          gap[b * k + a] = h;
          if (h < half[a]) half[a] = h;
          if (h < half[b]) half[b] = h;
        }
      }
      for (let i = 0; i < n; i++) {
        let a = labels[i];
        let ui = u[i] + drift[a];
        const M = c0 * (xnorm[i] + cmax);
        const xo = i * d;
        if (!this.elkan) {
          let li = l[i] - (a === am ? m2 : m1);
          let m = half[a] > li ? half[a] : li;
          if (!(m > 0 && ui * ui + M < m * m)) {
            const s2 = xnorm[i] + (cnorm[a] - 2 * dotSeq(x, xo, centers, a * d, d));
            ui = s2 > 0 ? Math.sqrt(s2) : 0;
            computed++;
            if (!(m > 0 && ui * ui + M < m * m)) {
              a = this.scan(x, i, centers, cnorm);
              ui = u[i];
              li = l[i];
              computed += k;
            }
          }
          l[i] = li;
          u[i] = ui;
          labels[i] = a;
          addToBlock(x, xo, d, partial, pcounts, (ch0 + (i >> SUM_SHIFT)) * k + a);
        } else {
          const lo = i * k;
          for (let c = 0; c < k; c++) {
            const v = l[lo + c] - drift[c];
            l[lo + c] = v > 0 ? v : 0;
          }
          const ha = half[a];
          if (!(ha > 0 && ui * ui + M < ha * ha)) {
            let tight = false;
            let fa = 0; // Lloyd's computed cnorm - 2x·c of the current centre, once tight
            for (let c = 0; c < k; c++) {
              if (c === a) continue;
              const lc = l[lo + c];
              const g = gap[a * k + c];
              const m = lc > g ? lc : g;
              if (m > 0 && ui * ui + M < m * m) continue;
              if (!tight) {
                fa = cnorm[a] - 2 * dotSeq(x, xo, centers, a * d, d);
                const s2 = xnorm[i] + fa;
                ui = s2 > 0 ? Math.sqrt(s2) : 0;
                tight = true;
                computed++;
                if (m > 0 && ui * ui + M < m * m) continue;
              }
              const fc = cnorm[c] - 2 * dotSeq(x, xo, centers, c * d, d);
              computed++;
              const s2 = xnorm[i] + fc;
              const dc = s2 > 0 ? Math.sqrt(s2) : 0;
              l[lo + c] = dc;
              if (fc < fa || (fc === fa && c < a)) {
                a = c;
                fa = fc;
                ui = dc;
              }
            }
            u[i] = ui;
            labels[i] = a;
          } else u[i] = ui;
          addToBlock(x, xo, d, partial, pcounts, (ch0 + (i >> SUM_SHIFT)) * k + a);
        }
      }
    }
    this.computed = computed;
    prev.set(centers);
    this.valid = true;
  }

  /** All k distances of sample i, as Lloyd computes them: sets the bounds, returns the label. */
  private scan(x: FloatArray, i: number, centers: Float64Array, cnorm: Float64Array): number {
    const k = this.k;
    const dots = this.dots;
    const xn = this.X.xnorm[i];
    dotsRowK(x, i * this.X.d, centers, 0, k, this.X.d, dots);
    let best = cnorm[0] - 2 * dots[0];
    let second = Infinity;
    let bc = 0;
    for (let c = 1; c < k; c++) {
      const v = cnorm[c] - 2 * dots[c];
      if (v < best) {
        second = best;
        best = v;
        bc = c;
      } else if (v < second) second = v;
    }
    const sb = xn + best;
    this.u[i] = sb > 0 ? Math.sqrt(sb) : 0;
    if (this.elkan) {
      const lo = i * k;
      for (let c = 0; c < k; c++) {
        const s2 = xn + (cnorm[c] - 2 * dots[c]);
        this.l[lo + c] = s2 > 0 ? Math.sqrt(s2) : 0;
      }
    } else {
      const s2 = xn + second;
      this.l[i] = s2 > 0 ? Math.sqrt(s2) : 0;
    }
    return bc;
  }
}

/** What one E-step (plus the M-step sums) works on; the driver of lloydRun performs it. */
interface StepArgs {
  centers: Float64Array;
  labels: Int32Array;
  minDist: Float64Array;
  sums: Float64Array;
  counts: Float64Array;
}

/**
 * One run of Lloyd iterations as a generator: it yields each E-step for its driver to perform
 * (in this thread, or on worker threads) and takes back the iteration's inertia, so the sync
 * and the parallel fit share one loop.
 */
function* lloydRun(
  X: Data,
  init: Float64Array,
  k: number,
  maxIter: number,
  tol: number,
  run: number,
  onIteration: Resolved['onIteration'],
  assigner: Pick<Assigner, 'invalidate' | 'fillMinDist'>,
  labels: Int32Array,
  s: Scratch,
): Generator<StepArgs, RunResult, number> {
  const { n, d } = X;
  let centers = Float64Array.from(init);
  let next = new Float64Array(k * d);
  const labelsOld = new Int32Array(n).fill(-1);
  const minDist = new Float64Array(n);
  const counts = new Float64Array(k);
  const order: number[] = [];
  const history: number[] = [];
  let strict = false;
  let it = 0;
  for (; it < maxIter; it++) {
    const inertia: number = yield { centers, labels, minDist, sums: next, counts };
    // Empty clusters take the samples farthest from their centres (sklearn's relocation).
    let nEmpty = 0;
    for (let c = 0; c < k; c++) if (counts[c] === 0) nEmpty++;
    if (nEmpty > 0) {
      assigner.fillMinDist(centers, labels, minDist);
      order.length = 0;
      for (let i = 0; i < n; i++) order.push(i);
      order.sort((a, b) => minDist[b] - minDist[a] || a - b);
      let f = 0;
      for (let c = 0; c < k; c++) {
        if (counts[c] !== 0) continue;
        const far = order[f++];
        const old = labels[far];
        subtractRowInto(X, far, next, old * d);
        copyRow(X, far, next, c * d);
        counts[c] = 1;
        counts[old] -= 1;
      }
      assigner.invalidate();
    }
    let shift = 0;
    for (let c = 0; c < k; c++) {
      const inv = counts[c] > 0 ? 1 / counts[c] : 0;
      const o = c * d;
      for (let t = 0; t < d; t++) {
        const v = counts[c] > 0 ? next[o + t] * inv : centers[o + t];
        next[o + t] = v;
        const diff = v - centers[o + t];
        shift += diff * diff;
      }
    }
    const tmp = centers;
    centers = next;
    next = tmp;
    history.push(inertia);
    if (onIteration !== null) onIteration({ run, iter: it + 1, inertia, centerShift: shift });
    let same = true;
    for (let i = 0; i < n; i++) {
      if (labels[i] !== labelsOld[i]) {
        same = false;
        break;
      }
    }
    if (same) {
      strict = true;
      break;
    }
    if (shift <= tol) break;
    labelsOld.set(labels);
  }
  // As sklearn: unless labels were already stable, relabel against the final centres.
  if (!strict) assign(X, centers, k, labels, null, null, null, s);
  return { centers, labels, inertia: inertiaOf(X, centers, labels), nIter: Math.min(it + 1, maxIter), history };
}

function lloyd(
  X: Data,
  init: Float64Array,
  k: number,
  maxIter: number,
  tol: number,
  run: number,
  onIteration: Resolved['onIteration'],
  algorithm: Resolved['algorithm'] = 'lloyd',
): RunResult {
  const sparse = X.csr !== null;
  return withScratch(k, X.d, sparse, (s) => {
    const assigner: Assigner = algorithm !== 'lloyd' && !sparse ? new BoundedDense(X, k, algorithm === 'elkan') : lloydAssigner(X, k, s);
    const gen = lloydRun(X, init, k, maxIter, tol, run, onIteration, assigner, new Int32Array(X.n), s);
    let r = gen.next();
    while (!r.done) {
      const a = r.value;
      r = gen.next(assigner.step(a.centers, a.labels, a.minDist, a.sums, a.counts));
    }
    return r.value;
  });
}

/**
 * The same run with the bounded E-step split over the workers of `pool` by blocks of SUM_CHUNK
 * samples (each worker keeps the bounds of its blocks); partial sums are merged in block order,
 * so the result is bit-identical to lloyd() with the same algorithm.
 */
async function lloydParallel(
  X: Data,
  init: Float64Array,
  k: number,
  maxIter: number,
  tol: number,
  run: number,
  onIteration: Resolved['onIteration'],
  algorithm: Resolved['algorithm'],
  pool: KMeansPool,
): Promise<RunResult> {
  const { n, d } = X;
  const sharedF64 = (len: number) => new Float64Array(new SharedArrayBuffer(Math.max(1, len) * 8), 0, len);
  const x = sharedF64(n * d);
  x.set(X.dense as FloatArray);
  const xnorm = sharedF64(n);
  xnorm.set(X.xnorm);
  const labels = new Int32Array(new SharedArrayBuffer(Math.max(1, n) * 4), 0, n);
  const nChunks = Math.ceil(n / SUM_CHUNK);
  const jobs = Math.min(pool.size, nChunks);
  const centersShared = sharedF64(k * d);
  const partial = sharedF64(nChunks * k * d);
  const pcounts = sharedF64(nChunks * k);
  const nTiles = Math.ceil(n / CHUNK);
  const totals = sharedF64(nTiles);
  const inits: KMeansWorkerInit[] = [];
  for (let w = 0; w < pool.size; w++) {
    const ch0 = w < jobs ? Math.round((w * nChunks) / jobs) : nChunks;
    const ch1 = w < jobs ? Math.round(((w + 1) * nChunks) / jobs) : nChunks;
    inits.push({ type: 'init', x, xnorm, labels, n, d, k, algorithm, ch0, ch1, centers: centersShared, partial, pcounts, totals });
  }
  await pool.run(inits);
  let xnormSum = 0;
  for (let i = 0; i < n; i++) xnormSum += X.xnorm[i];
  const cnorm = new Float64Array(k);
  let invalid = false;
  const assigner = {
    invalidate: () => {
      invalid = true;
    },
    fillMinDist: (centers: Float64Array, lab: Int32Array, minDist: Float64Array) => fillMinDistDense(X, k, centers, lab, minDist),
  };
  return withScratch(k, d, false, async (s) => {
    const gen = lloydRun(X, init, k, maxIter, tol, run, onIteration, assigner, labels, s);
    let r = gen.next();
    while (!r.done) {
      const a = r.value;
      centersShared.set(a.centers);
      const step: KMeansWorkerStep = { type: 'step', invalidate: invalid };
      await pool.run(step);
      invalid = false;
      mergePartials(nChunks, k, d, partial, pcounts, a.sums, a.counts);
      if (algorithm === 'lloyd') {
        // Lloyd's inertia: the per-CHUNK sums added in order, as the one-thread fit adds them.
        r = gen.next(sumInOrder(totals, nTiles));
      } else {
        rowNormsSq(a.centers, k, d, cnorm);
        r = gen.next(inertiaFromStats(xnormSum, a.centers, cnorm, k, d, a.sums, a.counts));
      }
    }
    const res = r.value;
    return { ...res, labels: res.labels.slice() };
  });
}

function subtractRowInto(X: Data, i: number, out: Float64Array, off: number): void {
  const d = X.d;
  if (X.dense !== null) {
    for (let t = 0; t < d; t++) out[off + t] -= X.dense[i * d + t];
    return;
  }
  const { indptr, indices, data } = X.csr as CsrMatrix;
  for (let p = indptr[i]; p < indptr[i + 1]; p++) out[off + indices[p]] -= data[p];
}

export class KMeans {
  readonly params: Readonly<Resolved>;
  private centers: Float64Array | null = null;
  private nFeatures = 0;
  labels: Int32Array = new Int32Array(0);
  inertia = NaN;
  nIter = 0;
  /** Per-iteration inertia of the kept run (the E-step value, non-increasing). */
  inertiaHistory: number[] = [];
  /** The initial centres of the kept run (e.g. to give sklearn the same start). */
  initCenters: Float64Array = new Float64Array(0) as Float64Array;
  private pool: KMeansPool | null = null; // fitAsync workers, kept until close()
  private queue: Promise<void> = Promise.resolve(); // fitAsync calls run one at a time

  constructor(params: KMeansParams = {}) {
    this.params = resolve(params);
  }

  /**
   * Fits in the calling thread. `run.onProgress` gets (runs done + iterations / maxIter) / nInit,
   * then 1; `run.signal` is checked after the initialisation and every iteration (an abort leaves
   * the model unfitted). `run.nJobs` is not used.
   */
  fit(X: Matrix | CsrMatrix, run: RunOptions = {}): this {
    const progress = this.startCall('KMeans.fit', run);
    const algorithm = this.params.algorithm;
    return this.fitRuns(X, progress, (data, start, k, maxIter, tol, r, onIteration) => lloyd(data, start, k, maxIter, tol, r, onIteration, algorithm));
  }

  private startCall(owner: string, run: RunOptions): Progress {
    checkRunOptions(owner, run);
    const progress = new Progress(run.onProgress, run.signal);
    progress.check();
    return progress;
  }

  /** Forgets the fitted model (once X is found valid), so an aborted or failed fit leaves it unfitted. */
  private reset(): void {
    this.centers = null;
    this.nFeatures = 0;
    this.labels = new Int32Array(0);
    this.inertia = NaN;
    this.nIter = 0;
    this.inertiaHistory = [];
    this.initCenters = new Float64Array(0);
  }

  /** Checks X, then runs nInit initialisations through runOne (sync or async) and keeps the best. */
  private fitRuns<R extends RunResult | Promise<RunResult>>(
    X: Matrix | CsrMatrix,
    progress: Progress,
    runOne: (data: Data, start: Float64Array, k: number, maxIter: number, tol: number, run: number, onIteration: Resolved['onIteration']) => R,
  ): R extends Promise<RunResult> ? Promise<this> : this {
    const { nClusters: k, init, maxIter, seed, onIteration } = this.params;
    const data = toData(X);
    if (data.n < k) throw new RangeError(`KMeans: nClusters=${k} must be <= the number of samples (${data.n})`);
    if (typeof init === 'object' && init.cols !== data.d) throw new RangeError(`KMeans: init has ${init.cols} columns, X has ${data.d}`);
    if (typeof init === 'object') assertNormsFit(rowNormsSq(init.data, init.rows, init.cols), 'init');
    const nInit = this.params.nInit === 'auto' ? (init === 'random' ? 10 : 1) : this.params.nInit;
    this.reset();
    // The trace callback, then progress and the signal, after every iteration.
    const tick = (info: KMeansIteration): void => {
      if (onIteration !== null) onIteration(info);
      progress.step((info.run + info.iter / maxIter) / nInit);
    };
    const tol = this.params.tol === 0 ? 0 : this.params.tol * meanVariance(data);
    const rng = new Rng(seed);
    let best: RunResult | null = null;
    let bestInit: Float64Array = new Float64Array(0);
    const starts: Float64Array[] = [];
    let runsDone = 0;
    const keep = (r: RunResult, start: Float64Array) => {
      progress.step(++runsDone / nInit);
      if (best === null || r.inertia < best.inertia) {
        best = r;
        bestInit = start;
      }
    };
    const finish = (): this => {
      const b = best as unknown as RunResult;
      this.centers = b.centers;
      this.nFeatures = data.d;
      this.labels = b.labels;
      this.inertia = b.inertia;
      this.nIter = b.nIter;
      this.inertiaHistory = b.history;
      this.initCenters = bestInit;
      progress.done();
      return this;
    };
    const nextStart = () =>
      init === 'k-means++' ? kmeansPlusPlus(data, k, rng) : init === 'random' ? randomInit(data, k, rng) : Float64Array.from(init.data);
    // The initialisations draw from one Rng in run order, as fit() always has.
    for (let run = 0; run < nInit; run++) starts.push(nextStart());
    progress.check();
    const first = runOne(data, starts[0], k, maxIter, tol, 0, tick);
    if (first instanceof Promise) {
      return (async () => {
        keep(await first, starts[0]);
        for (let run = 1; run < nInit; run++) keep(await runOne(data, starts[run], k, maxIter, tol, run, tick), starts[run]);
        return finish();
      })() as never;
    }
    keep(first as RunResult, starts[0]);
    for (let run = 1; run < nInit; run++) keep(runOne(data, starts[run], k, maxIter, tol, run, tick) as RunResult, starts[run]);
    return finish() as never;
  }

  /**
   * fit() with the E-step on nJobs worker threads (run.nJobs, default defaultThreads()), each
   * owning a fixed range of sample blocks: 'hamerly'/'elkan' keep their bounds, 'lloyd' assigns
   * them with the block kernel. The result is bit-identical to fit() for any nJobs (M-step sums
   * are added per block of SUM_CHUNK samples, then block by block, on every path). The workers
   * are kept for later fits, never keep the process alive while idle, and stop on close(). CSR
   * input and nJobs 1 run fit() in the calling thread. Progress and the signal are as fit()'s;
   * an abort, like any failure, terminates the workers (the next call starts new ones).
   */
  async fitAsync(X: Matrix | CsrMatrix, run: RunOptions = {}): Promise<this> {
    const progress = this.startCall('KMeans.fitAsync', run);
    const nJobs = resolveThreads(run.nJobs, 'KMeans.fitAsync: nJobs');
    const jobs = Math.min(nJobs, Math.ceil(X.rows / SUM_CHUNK));
    if (jobs <= 1 || isCsr(X)) return this.fit(X, run);
    const prev = this.queue;
    let release!: () => void;
    this.queue = new Promise<void>((r) => (release = r));
    await prev;
    try {
      progress.check();
      if (this.pool !== null && (this.pool.closed || this.pool.size !== jobs)) await this.close();
      if (this.pool === null) this.pool = new KMeansPool(jobs);
      const pool = this.pool;
      const algorithm = this.params.algorithm;
      try {
        return await this.fitRuns(X, progress, (data, start, k, maxIter, tol, run, onIteration) => lloydParallel(data, start, k, maxIter, tol, run, onIteration, algorithm, pool));
      } catch (e) {
        await this.close();
        throw e;
      }
    } finally {
      release();
    }
  }

  /** Terminates fitAsync's worker threads (they restart on the next call). */
  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = null;
    await pool?.close();
  }

  fitPredict(X: Matrix | CsrMatrix): Int32Array {
    return this.fit(X).labels;
  }

  get clusterCenters(): Matrix {
    if (this.centers === null) throw new NotFittedError(KIND);
    return { data: this.centers.slice(), rows: this.params.nClusters, cols: this.nFeatures };
  }

  private check(X: Matrix | CsrMatrix): Data {
    if (this.centers === null) throw new NotFittedError(KIND);
    if (X.cols !== this.nFeatures) throw new RangeError(`KMeans: X has ${X.cols} columns, the model was fitted on ${this.nFeatures}`);
    return toData(X);
  }

  /** Index of the nearest centre for every row. */
  predict(X: Matrix | CsrMatrix): Int32Array {
    const data = this.check(X);
    const labels = new Int32Array(data.n);
    const k = this.params.nClusters;
    withScratch(k, data.d, data.csr !== null, (s) => assign(data, this.centers as Float64Array, k, labels, null, null, null, s));
    return labels;
  }

  /** Euclidean distance of every row to every centre (rows × nClusters). */
  transform(X: Matrix | CsrMatrix): Matrix {
    const data = this.check(X);
    const k = this.params.nClusters;
    const out = new Float64Array(data.n * k);
    const col = new Float64Array(data.n);
    const centers = this.centers as Float64Array;
    for (let c = 0; c < k; c++) {
      distToCenter(data, centers, c * data.d, col);
      for (let i = 0; i < data.n; i++) out[i * k + c] = Math.sqrt(col[i]);
    }
    return { data: out, rows: data.n, cols: k };
  }

  /** Opposite of the inertia of X against the fitted centres (higher is better), as sklearn. */
  score(X: Matrix | CsrMatrix): number {
    const data = this.check(X);
    const labels = this.predict(X);
    return -inertiaOf(data, this.centers as Float64Array, labels);
  }

  toJSON(): {
    kind: string;
    version: number;
    params: Omit<Resolved, 'onIteration' | 'init'> & { init: 'k-means++' | 'random' | number[][] };
    fitted: { centers: number[]; cols: number; inertia: number; nIter: number; labels: number[] } | null;
  } {
    const { onIteration: _cb, init, ...rest } = this.params;
    const initJson = typeof init === 'object' ? rowsOf(init) : init;
    return {
      kind: KIND,
      version: VERSION,
      params: { ...rest, init: initJson },
      fitted:
        this.centers === null
          ? null
          : { centers: Array.from(this.centers), cols: this.nFeatures, inertia: this.inertia, nIter: this.nIter, labels: Array.from(this.labels) },
    };
  }

  static fromJSON(json: unknown): KMeans {
    const j = json as { kind?: unknown; version?: unknown; params?: any; fitted?: any };
    if (j === null || typeof j !== 'object' || j.kind !== KIND) throw new TypeError(`fromJSON: expected kind '${KIND}', got ${JSON.stringify(j?.kind)}`);
    if (j.version !== VERSION) throw new RangeError(`fromJSON: ${KIND} version ${JSON.stringify(j.version)} is not supported (expected ${VERSION})`);
    const p = { ...(j.params ?? {}) };
    if (Array.isArray(p.init)) {
      const rows = p.init as number[][];
      const cols = rows.length ? rows[0].length : 0;
      p.init = { rows: rows.length, cols, data: Float64Array.from(rows.flat()) };
    }
    const km = new KMeans(p);
    const f = j.fitted;
    if (f) {
      const centers = Float64Array.from(f.centers as number[]);
      if (centers.length !== km.params.nClusters * f.cols) throw new RangeError('fromJSON: centers must hold nClusters × cols values');
      km.centers = centers;
      km.nFeatures = f.cols;
      km.inertia = f.inertia;
      km.nIter = f.nIter;
      km.labels = Int32Array.from(f.labels ?? []);
    }
    return km;
  }
}

function rowsOf(m: Matrix): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < m.rows; i++) out.push(Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols)));
  return out;
}
