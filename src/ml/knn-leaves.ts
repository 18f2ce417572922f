// Exact pruned k-nearest-neighbour search for dense rows. fit() splits the rows into leaves of a
// ball partition (recursive median splits along the direction between two far-apart rows, as a
// ball tree builds); search() then takes a block of similar queries (sorted by their nearest
// leaf), visits the leaves in increasing lower bound ||q - centre|| - radius, and skips a leaf
// for a query when that bound proves every row in it farther than the query's current k-th
// neighbour. Kept rows go through the same in-order dot products (dotsABt) and the same
// surrogate ||p||² - 2q·p (cosine: -q·p on unit rows) as the brute-force scan, and the bound
// carries a rounding margin, so the result equals the brute-force result exactly: a skipped row
// could not have entered (or tied into) the top k. All arrays can live in SharedArrayBuffers so
// worker threads search the same index without copying it.

import { TopKHeaps } from './heap.ts';
import { dotsABt, rowNormsSq } from './linalg.ts';
import { SIMD_MAX_BYTES, SimdLeafDots, simdAvailable } from './simd.ts';

export interface LeafIndex {
  /** Identifies the index in this process's threads (a thread keeps its WebAssembly copy of the last one). */
  id: number;
  n: number;
  d: number;
  nLeaves: number;
  /** The rows in leaf order (n×d). */
  points: Float64Array;
  /** Leaf order → fitted row index. */
  perm: Int32Array;
  /** Additive term of the surrogate per row in leaf order (||p||², or 0 for cosine). */
  pn: Float64Array;
  /** Largest squared row norm (bounds the cosine surrogate). */
  pnMax: number;
  /** Leaf j holds rows start[j]..start[j+1]-1 (leaf order). */
  start: Int32Array;
  centre: Float64Array;
  cnorm: Float64Array;
  radius: Float64Array;
}

/** Rows per leaf at most: small enough for tight radii, large enough to amortise the dot tile. */
export const LEAF_SIZE = 96;
/** Queries searched together: they share leaf visits and bounds; a leaf's dots are computed only for the queries it can still improve, so a large block costs little (64: best CPU time of 16-128 on the benchmark). */
export const QUERY_BLOCK = 64;
/** Rows a split looks at (at most about) to choose its direction. */
const SAMPLE = 2048;

function sharedF64(len: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(Math.max(1, len) * 8), 0, len);
}

function sharedI32(len: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(Math.max(1, len) * 4), 0, len);
}

/**
 * Builds the leaves over the n×d rows X; norms are the euclidean ||p||² (null for cosine).
 * The rows are copied once into leaf order and every split permutes its node's rows in place
 * (through a scratch copy), so each pass over a node reads contiguous memory; the median comes
 * from a selection (expected linear time), not a sort. O(n·d·depth) in all.
 */
export function buildLeaves(X: Float64Array, n: number, d: number, norms: Float64Array | null, leafSize: number = LEAF_SIZE): LeafIndex {
  const points = sharedF64(n * d);
  points.set(X.subarray(0, n * d));
  const perm = sharedI32(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  const key = new Float64Array(n);
  const sel = new Float64Array(n);
  const left = new Uint8Array(n);
  const mean = new Float64Array(d);
  const dir = new Float64Array(d);
  const bounds: number[] = []; // leaf j is rows bounds[j]..bounds[j+1]-1, in tree order
  const stack: number[] = [0, n];
  while (stack.length > 0) {
    const hi = stack.pop() as number;
    const lo = stack.pop() as number;
    if (hi - lo <= leafSize) {
      bounds.push(lo);
      continue;
    }
    // The split direction joins two far-apart rows, found on an evenly strided sample of at most
    // ~SAMPLE rows of a large node (the direction only shapes the partition, never the result).
    const step = Math.max(1, Math.floor((hi - lo) / SAMPLE));
    nodeMean(points, lo, hi, step, d, mean);
    const pa = farthestRow(points, lo, hi, step, d, mean, 0);
    const pb = farthestRow(points, lo, hi, step, d, points, pa * d);
    for (let t = 0; t < d; t++) dir[t] = points[pb * d + t] - points[pa * d + t];
    project(points, lo, hi, d, dir, key);
    // Median split: the (mid-lo) smallest keys go left (ties in the current order).
    const mid = (lo + hi) >> 1;
    sel.set(key.subarray(lo, hi));
    const med = selectNth(sel, hi - lo, mid - lo);
    partition(points, perm, key, lo, mid, hi, d, med, left);
    stack.push(mid, hi, lo, mid); // left popped first: leaves come out in tree order
  }
  const L = bounds.length;
  const pn = sharedF64(n);
  const start = sharedI32(L + 1);
  const centre = sharedF64(L * d);
  const radius = sharedF64(L);
  let pnMax = 0;
  if (norms !== null) for (let a = 0; a < n; a++) pn[a] = norms[perm[a]];
  const own = rowNormsSq(points, n, d);
  for (let a = 0; a < n; a++) if (own[a] > pnMax) pnMax = own[a];
  for (let j = 0; j < L; j++) start[j] = bounds[j];
  start[L] = n;
  leafBalls(points, start, L, d, centre, radius);
  const cnorm = rowNormsSq(centre, L, d, sharedF64(L));
  return { id: ++lastIndexId, n, d, nLeaves: L, points, perm, pn, pnMax, start, centre, cnorm, radius };
}

let lastIndexId = 0;

/** This thread's WebAssembly copy of the last index it searched, for blocks of up to maxQueries (null: scalar dots). */
let simdLeaves: { id: number; maxQueries: number; dots: SimdLeafDots | null } | null = null;

function leafDots(ix: LeafIndex, maxQueries: number): SimdLeafDots | null {
  if (simdLeaves !== null && simdLeaves.id === ix.id && simdLeaves.maxQueries >= maxQueries) return simdLeaves.dots;
  simdLeaves?.dots?.release();
  simdLeaves = null;
  let dots: SimdLeafDots | null = null;
  if (simdAvailable && ix.d >= 1 && SimdLeafDots.bytes(ix.start, ix.nLeaves, ix.d, maxQueries) <= SIMD_MAX_BYTES) {
    try {
      dots = new SimdLeafDots(ix.points, ix.start, ix.nLeaves, ix.d, maxQueries);
    } catch (err) {
      if (!(err instanceof RangeError)) throw err; // WebAssembly memory not available: scalar dots
    }
  }
  simdLeaves = { id: ix.id, maxQueries, dots };
  return dots;
}

/**
 * Moves the rows lo..hi-1 (and their fitted indices) in place so that the mid-lo rows with the
 * smallest keys come first (of the rows whose key equals med, the first ones in the current
 * order); med is the key of rank mid-lo. Swaps whole rows, no scratch copy of the node (fresh
 * memory is expensive to touch on this machine).
 */
function partition(points: Float64Array, perm: Int32Array, key: Float64Array, lo: number, mid: number, hi: number, d: number, med: number, left: Uint8Array): void {
  let nLess = 0;
  for (let a = lo; a < hi; a++) if (key[a] < med) nLess++;
  let eqLeft = mid - lo - nLess;
  for (let a = lo; a < hi; a++) {
    const kv = key[a];
    left[a] = kv < med || (kv === med && eqLeft-- > 0) ? 1 : 0;
  }
  let i = lo;
  let j = hi - 1;
  for (;;) {
    while (i < mid && left[i] === 1) i++;
    while (j >= mid && left[j] === 0) j--;
    if (i >= mid || j < mid) break; // as many left rows as slots: both sides finish together
    const io = i * d;
    const jo = j * d;
    for (let t = 0; t < d; t++) {
      const v = points[io + t];
      points[io + t] = points[jo + t];
      points[jo + t] = v;
    }
    const pi = perm[i];
    perm[i] = perm[j];
    perm[j] = pi;
    i++;
    j--;
  }
}

/** Centre (mean) and radius (largest direct distance, slightly inflated) of every leaf. */
function leafBalls(points: Float64Array, start: Int32Array, L: number, d: number, centre: Float64Array, radius: Float64Array): void {
  for (let j = 0; j < L; j++) {
    const lo = start[j];
    const hi = start[j + 1];
    const co = j * d;
    for (let a = lo; a < hi; a++) for (let t = 0; t < d; t++) centre[co + t] += points[a * d + t];
    for (let t = 0; t < d; t++) centre[co + t] /= hi - lo;
    let r = 0;
    for (let a = lo; a < hi; a++) {
      let s = 0;
      for (let t = 0; t < d; t++) {
        const diff = points[a * d + t] - centre[co + t];
        s += diff * diff;
      }
      if (s > r) r = s;
    }
    radius[j] = Math.sqrt(r) * (1 + 1e-10); // direct differences: relative rounding far below 1e-10
  }
}

function nodeMean(P: Float64Array, lo: number, hi: number, step: number, d: number, mean: Float64Array): void {
  mean.fill(0);
  let cnt = 0;
  for (let a = lo; a < hi; a += step) {
    const o = a * d;
    for (let t = 0; t < d; t++) mean[t] += P[o + t];
    cnt++;
  }
  for (let t = 0; t < d; t++) mean[t] /= cnt;
}

/** Position among rows lo, lo+step, … < hi of the row of P farthest from ref[rOff..rOff+d) (first on ties). */
function farthestRow(P: Float64Array, lo: number, hi: number, step: number, d: number, ref: Float64Array, rOff: number): number {
  let best = -1;
  let bi = lo;
  for (let a = lo; a < hi; a += step) {
    const o = a * d;
    let s = 0;
    for (let t = 0; t < d; t++) {
      const diff = P[o + t] - ref[rOff + t];
      s += diff * diff;
    }
    if (s > best) {
      best = s;
      bi = a;
    }
  }
  return bi;
}

function project(P: Float64Array, lo: number, hi: number, d: number, dir: Float64Array, key: Float64Array): void {
  for (let a = lo; a < hi; a++) {
    const o = a * d;
    let s = 0;
    for (let t = 0; t < d; t++) s += P[o + t] * dir[t];
    key[a] = s;
  }
}

/** The value of rank nth (0-based) among v[0..len), by quickselect; reorders v. */
function selectNth(v: Float64Array, len: number, nth: number): number {
  let lo = 0;
  let hi = len - 1;
  while (hi > lo) {
    const m = (lo + hi) >> 1;
    // median of three as pivot
    const x = v[lo];
    const y = v[m];
    const z = v[hi];
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (v[i] < pivot) i++;
      while (v[j] > pivot) j--;
      if (i <= j) {
        const t = v[i];
        v[i] = v[j];
        v[j] = t;
        i++;
        j--;
      }
    }
    if (nth <= j) hi = j;
    else if (nth >= i) lo = i;
    else return v[nth];
  }
  return v[nth];
}

/**
 * The query indices 0..m-1 of qd (m×d) ordered by their nearest leaf centre (tree order), then
 * by index: consecutive queries then share most of their leaf visits and bounds.
 */
export function queryOrder(ix: LeafIndex, qd: Float64Array, m: number, d: number): Int32Array {
  const L = ix.nLeaves;
  const { centre, cnorm } = ix;
  const near = new Int32Array(m);
  const tileL = new Float64Array(QUERY_BLOCK * L);
  for (let b = 0; b < m; b += QUERY_BLOCK) {
    const nb = Math.min(QUERY_BLOCK, m - b);
    dotsABt(qd, b * d, nb, centre, 0, L, d, tileL);
    for (let r = 0; r < nb; r++) near[b + r] = argminLeaf(tileL, r * L, L, cnorm);
  }
  const order = new Int32Array(m);
  for (let r = 0; r < m; r++) order[r] = r;
  order.sort((a, b) => near[a] - near[b] || a - b);
  return order;
}

function argminLeaf(tileL: Float64Array, o: number, L: number, cnorm: Float64Array): number {
  let best = Infinity;
  let bj = 0;
  for (let j = 0; j < L; j++) {
    const v = cnorm[j] - 2 * tileL[o + j];
    if (v < best) {
      best = v;
      bj = j;
    }
  }
  return bj;
}

/**
 * For the queries order[from..to) of qd (rows × d, unit rows for cosine): the k best
 * (surrogate, fitted index) pairs, sorted by (surrogate, index), written at row q of
 * outIdx/outVal (row-major ×k). Each query's result depends on nothing but the query, so any
 * split of the order into ranges (worker threads) gives the same output.
 */
export function searchPruned(
  ix: LeafIndex,
  qd: Float64Array,
  d: number,
  k: number,
  cosine: boolean,
  order: Int32Array,
  from: number,
  to: number,
  outIdx: Int32Array,
  outVal: Float64Array,
  blockSize: number = QUERY_BLOCK,
): void {
  const L = ix.nLeaves;
  const { points, perm, pn, pnMax, start, centre, cnorm, radius } = ix;
  const scale = cosine ? -1 : -2;
  const c0 = 1e-10 + 64 * (d + 4) * Number.EPSILON;
  const QB = blockSize;
  let maxLeaf = 0;
  for (let j = 0; j < L; j++) maxLeaf = Math.max(maxLeaf, start[j + 1] - start[j]);
  const qbuf = new Float64Array(QB * d);
  const qsub = new Float64Array(QB * d);
  const act = new Int32Array(QB);
  const qnb = new Float64Array(QB);
  const tileL = new Float64Array(QB * L);
  const lb2 = new Float64Array(QB * L);
  const minLb = new Float64Array(L);
  const leafOrder = new Int32Array(L);
  const tile = new Float64Array(QB * maxLeaf);
  const thr = new Float64Array(QB);
  const margin = new Float64Array(QB);
  const heaps = new TopKHeaps(QB, k);
  // The leaves' dots on the WebAssembly SIMD kernel when it is available (the same numbers).
  const simd = leafDots(ix, QB);
  const qsimd = simd === null ? qsub : simd.sub;
  for (let b = from; b < to; b += QB) {
    const nb = Math.min(QB, to - b);
    for (let r = 0; r < nb; r++) {
      const q = order[b + r];
      for (let t = 0; t < d; t++) qbuf[r * d + t] = qd[q * d + t];
    }
    simd?.all.set(qbuf.subarray(0, nb * d));
    rowNormsSq(qbuf, nb, d, qnb);
    for (let r = 0; r < nb; r++) {
      margin[r] = (cosine ? 2 : 1) * c0 * (qnb[r] + pnMax);
      thr[r] = Infinity;
    }
    // Squared lower bounds: (||q - centre|| - radius)², from the expansion minus its rounding slack.
    dotsABt(qbuf, 0, nb, centre, 0, L, d, tileL);
    minLb.fill(Infinity);
    for (let r = 0; r < nb; r++) leafBounds(tileL, lb2, r * L, L, qnb[r], cnorm, radius, c0, minLb);
    for (let j = 0; j < L; j++) leafOrder[j] = j;
    leafOrder.sort((a, c) => minLb[a] - minLb[c] || a - c);
    heaps.reset();
    let maxThr = Infinity;
    for (let jj = 0; jj < L; jj++) {
      const j = leafOrder[jj];
      if (minLb[j] > maxThr) break; // sorted: every later leaf is skipped by every query
      // The queries this leaf can still improve; only their dots are computed.
      let nu = 0;
      for (let r = 0; r < nb; r++) if (lb2[r * L + j] <= thr[r]) act[nu++] = r;
      if (nu === 0) continue;
      const s0 = start[j];
      const np = start[j + 1] - s0;
      if (nu < nb) {
        for (let u = 0; u < nu; u++) {
          const o = act[u] * d;
          for (let t = 0; t < d; t++) qsimd[u * d + t] = qbuf[o + t];
        }
      }
      let dots: Float64Array<ArrayBufferLike> = tile;
      let stride = np;
      if (simd !== null) {
        stride = simd.run(j, nu === nb ? 'all' : 'sub', nu);
        dots = simd.tile;
      } else if (nu === nb) dotsABt(qbuf, 0, nb, points, s0 * d, np, d, tile);
      else dotsABt(qsub, 0, nu, points, s0 * d, np, d, tile);
      for (let u = 0; u < nu; u++) {
        const r = act[u];
        const w = scanLeaf(dots, u * stride, np, pn, s0, perm, scale, heaps, r, heaps.worst(r));
        if (w !== Infinity) thr[r] = (cosine ? 2 * w + qnb[r] + pnMax : w + qnb[r]) + margin[r];
      }
      maxThr = 0;
      for (let r = 0; r < nb; r++) if (thr[r] > maxThr) maxThr = thr[r];
    }
    for (let r = 0; r < nb; r++) heaps.sortedInto(r, outVal, outIdx, order[b + r] * k);
  }
}

/** One query's squared leaf lower bounds into lb2[o..o+L), folded into the block minimum. */
function leafBounds(
  tileL: Float64Array,
  lb2: Float64Array,
  o: number,
  L: number,
  qn: number,
  cnorm: Float64Array,
  radius: Float64Array,
  c0: number,
  minLb: Float64Array,
): void {
  for (let j = 0; j < L; j++) {
    const s = qn + cnorm[j];
    const D2 = s - 2 * tileL[o + j] - c0 * s;
    const lb = (D2 > 0 ? Math.sqrt(D2) : 0) - radius[j];
    const v = lb > 0 ? lb * lb : 0;
    lb2[o + j] = v;
    if (v < minLb[j]) minLb[j] = v;
  }
}

/** Offers one query's row of a leaf's dot tile to its heap; returns the heap's new worst value. */
function scanLeaf(
  tile: Float64Array,
  o: number,
  np: number,
  pn: Float64Array,
  s0: number,
  perm: Int32Array,
  scale: number,
  heaps: TopKHeaps,
  r: number,
  worst: number,
): number {
  let w = worst;
  // Leaves are not in index order, so an equal value may still win on its lower index:
  // offer it (<=) and let the heap's (value, index) order decide.
  for (let c = 0; c < np; c++) {
    const v = pn[s0 + c] + scale * tile[o + c];
    if (v <= w) {
      heaps.push(r, v, perm[s0 + c]);
      w = heaps.worst(r);
    }
  }
  return w;
}
