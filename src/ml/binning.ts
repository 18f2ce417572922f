// Quantile binning of each feature into at most 256 bins, so tree split search runs on
// per-node histograms of Uint8 codes and never sorts. Thresholds sit between bin edges, and
// each bin remembers the smallest and largest training value it holds, so a split placed
// between two non-empty bins gets sklearn's midpoint threshold on the raw floats.

import type { Matrix } from './matrix.ts';

export const MAX_BINS = 256;

export interface BinMapper {
  nFeatures: number;
  /** Number of bins used by each feature (1..256). */
  nBins: Int32Array;
  /** Per feature, nBins-1 ascending cut points: code = number of cut points < x. */
  cuts: Float64Array[];
  /** Smallest / largest training value in bin b of feature f, at [f * 256 + b]. */
  binLo: Float64Array;
  binHi: Float64Array;
}

/** Column-major codes: codes[f * rows + i] is the bin of row i, feature f. */
export interface BinnedMatrix {
  codes: Uint8Array;
  rows: number;
  cols: number;
}

/**
 * Learns the bins of every feature. A feature with at most maxBins distinct values gets one
 * bin per value (exact, as an unbinned CART); otherwise cut points are placed at quantiles.
 */
export function fitBinMapper(x: Matrix, maxBins = MAX_BINS): BinMapper {
  if (!Number.isInteger(maxBins) || maxBins < 2 || maxBins > MAX_BINS) {
    throw new RangeError(`maxBins must be an integer in [2, ${MAX_BINS}], got ${maxBins}`);
  }
  const { rows: n, cols: p, data } = x;
  const nBins = new Int32Array(p);
  const cuts: Float64Array[] = [];
  const binLo = new Float64Array(p * MAX_BINS);
  const binHi = new Float64Array(p * MAX_BINS);
  const col = new Float64Array(n);
  const cutBuf = new Float64Array(maxBins);
  for (let f = 0; f < p; f++) {
    for (let i = 0; i < n; i++) col[i] = data[i * p + f];
    col.sort();
    let distinct = n === 0 ? 0 : 1;
    for (let i = 1; i < n; i++) if (col[i] !== col[i - 1]) distinct++;
    let nc = 0;
    if (distinct <= maxBins) {
      for (let i = 1; i < n; i++) {
        if (col[i] !== col[i - 1]) cutBuf[nc++] = midpoint(col[i - 1], col[i]);
      }
    } else {
      for (let k = 1; k < maxBins; k++) {
        let pos = Math.floor((k * n) / maxBins);
        if (pos < 1) pos = 1;
        // Inside a run of equal values, move the cut to the end of the run.
        while (pos < n && col[pos] === col[pos - 1]) pos++;
        if (pos >= n) break;
        const t = midpoint(col[pos - 1], col[pos]);
        if (nc === 0 || t > cutBuf[nc - 1]) cutBuf[nc++] = t;
      }
    }
    const c = cutBuf.slice(0, nc);
    cuts.push(c);
    nBins[f] = nc + 1;
    // Walk the sorted column once to record each bin's min and max.
    const off = f * MAX_BINS;
    let b = 0;
    let first = true;
    for (let i = 0; i < n; i++) {
      const v = col[i];
      while (b < nc && v > c[b]) {
        b++;
        first = true;
      }
      if (first) {
        binLo[off + b] = v;
        first = false;
      }
      binHi[off + b] = v;
    }
  }
  return { nFeatures: p, nBins, cuts, binLo, binHi };
}

function midpoint(a: number, b: number): number {
  let t = (a + b) / 2;
  if (!Number.isFinite(t)) t = a / 2 + b / 2;
  // As sklearn: if rounding lands on b, use a so that a goes left and b goes right.
  return t >= b || t < a ? a : t;
}

/** Bins the rows of x with a fitted mapper into column-major codes (optionally into `out`). */
export function binMatrix(x: Matrix, mapper: BinMapper, out?: Uint8Array): BinnedMatrix {
  const { rows: n, cols: p, data } = x;
  if (p !== mapper.nFeatures) {
    throw new RangeError(`X has ${p} features, but the bins were fitted on ${mapper.nFeatures}`);
  }
  const codes = out ?? new Uint8Array(n * p);
  if (codes.length < n * p) throw new RangeError(`codes buffer holds ${codes.length} values, needs ${n * p}`);
  for (let f = 0; f < p; f++) {
    const c = mapper.cuts[f];
    const nc = c.length;
    const off = f * n;
    for (let i = 0; i < n; i++) {
      const v = data[i * p + f];
      // Smallest b with v <= c[b]; nc if none.
      let lo = 0;
      let hi = nc;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (v <= c[mid]) hi = mid;
        else lo = mid + 1;
      }
      codes[off + i] = lo;
    }
  }
  return { codes, rows: n, cols: p };
}

/**
 * Raw-value threshold for a split that sends bins <= bl left and bins >= br right, where bl and
 * br are the non-empty bins either side of the cut: midpoint of the largest value on the left
 * and the smallest on the right, as sklearn places its thresholds.
 */
export function splitThreshold(mapper: BinMapper, f: number, bl: number, br: number): number {
  return midpoint(mapper.binHi[f * MAX_BINS + bl], mapper.binLo[f * MAX_BINS + br]);
}
