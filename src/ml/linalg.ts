// Dense kernels shared by k-means and KNN: row norms and a register-tiled A·Bᵀ block product.
// V8 compiles these to scalar SSE code, so the win comes from reusing loads across a 2×4 tile
// of accumulators (14 live doubles fit the 16 XMM registers) rather than from vector width.

import type { FloatArray } from './matrix.ts';

/** out[i] = squared l2 norm of row i of a rows×d row-major array. */
export function rowNormsSq(a: FloatArray, rows: number, d: number, out: Float64Array = new Float64Array(rows)): Float64Array {
  for (let i = 0; i < rows; i++) {
    const o = i * d;
    let s0 = 0;
    let s1 = 0;
    let t = 0;
    for (; t + 1 < d; t += 2) {
      const x = a[o + t];
      const y = a[o + t + 1];
      s0 += x * x;
      s1 += y * y;
    }
    if (t < d) s0 += a[o + t] * a[o + t];
    out[i] = s0 + s1;
  }
  return out;
}

/** Plain dot product of a[aOff..aOff+d) and b[bOff..bOff+d), unrolled by 4. */
export function dot(a: FloatArray, aOff: number, b: FloatArray, bOff: number, d: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let t = 0;
  for (; t + 3 < d; t += 4) {
    s0 += a[aOff + t] * b[bOff + t];
    s1 += a[aOff + t + 1] * b[bOff + t + 1];
    s2 += a[aOff + t + 2] * b[bOff + t + 2];
    s3 += a[aOff + t + 3] * b[bOff + t + 3];
  }
  for (; t < d; t++) s0 += a[aOff + t] * b[bOff + t];
  return s0 + s1 + (s2 + s3);
}

/**
 * out[i*bRows + j] = A_i · B_j for the aRows rows of A starting at element aOff and the bRows
 * rows of B starting at bOff (both row-major with row length d). Callers pick aRows×bRows
 * blocks small enough that both blocks stay in L2 cache.
 */
export function dotsABt(
  A: FloatArray,
  aOff: number,
  aRows: number,
  B: FloatArray,
  bOff: number,
  bRows: number,
  d: number,
  out: Float64Array,
): void {
  let i = 0;
  for (; i + 1 < aRows; i += 2) {
    const a0 = aOff + i * d;
    const a1 = a0 + d;
    const o0 = i * bRows;
    const o1 = o0 + bRows;
    let j = 0;
    for (; j + 3 < bRows; j += 4) {
      const b0 = bOff + j * d;
      const b1 = b0 + d;
      const b2 = b1 + d;
      const b3 = b2 + d;
      let s00 = 0;
      let s01 = 0;
      let s02 = 0;
      let s03 = 0;
      let s10 = 0;
      let s11 = 0;
      let s12 = 0;
      let s13 = 0;
      for (let t = 0; t < d; t++) {
        const x0 = A[a0 + t];
        const x1 = A[a1 + t];
        const y0 = B[b0 + t];
        const y1 = B[b1 + t];
        const y2 = B[b2 + t];
        const y3 = B[b3 + t];
        s00 += x0 * y0;
        s01 += x0 * y1;
        s02 += x0 * y2;
        s03 += x0 * y3;
        s10 += x1 * y0;
        s11 += x1 * y1;
        s12 += x1 * y2;
        s13 += x1 * y3;
      }
      out[o0 + j] = s00;
      out[o0 + j + 1] = s01;
      out[o0 + j + 2] = s02;
      out[o0 + j + 3] = s03;
      out[o1 + j] = s10;
      out[o1 + j + 1] = s11;
      out[o1 + j + 2] = s12;
      out[o1 + j + 3] = s13;
    }
    for (; j < bRows; j++) {
      const b0 = bOff + j * d;
      let s0 = 0;
      let s1 = 0;
      for (let t = 0; t < d; t++) {
        const y = B[b0 + t];
        s0 += A[a0 + t] * y;
        s1 += A[a1 + t] * y;
      }
      out[o0 + j] = s0;
      out[o1 + j] = s1;
    }
  }
  if (i < aRows) {
    const a0 = aOff + i * d;
    const o0 = i * bRows;
    for (let j = 0; j < bRows; j++) out[o0 + j] = dotSeq(A, a0, B, bOff + j * d, d);
  }
}

/**
 * Dot product summed strictly in order t = 0..d-1, the order every entry of dotsABt and
 * dotsRowK uses: callers that recompute one entry (k-means bounds, KNN pruning) get the
 * bit-identical value the block kernel gave.
 */
export function dotSeq(a: FloatArray, aOff: number, b: FloatArray, bOff: number, d: number): number {
  let s = 0;
  for (let t = 0; t < d; t++) s += a[aOff + t] * b[bOff + t];
  return s;
}

/**
 * out[j] = a_row · B_j for the bRows rows of B starting at bOff, one row of A against 4 rows of
 * B at a time, each entry summed in order (bit-identical to dotsABt's entries).
 */
export function dotsRowK(a: FloatArray, aOff: number, B: FloatArray, bOff: number, bRows: number, d: number, out: Float64Array): void {
  let j = 0;
  for (; j + 3 < bRows; j += 4) {
    const b0 = bOff + j * d;
    const b1 = b0 + d;
    const b2 = b1 + d;
    const b3 = b2 + d;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let t = 0; t < d; t++) {
      const x = a[aOff + t];
      s0 += x * B[b0 + t];
      s1 += x * B[b1 + t];
      s2 += x * B[b2 + t];
      s3 += x * B[b3 + t];
    }
    out[j] = s0;
    out[j + 1] = s1;
    out[j + 2] = s2;
    out[j + 3] = s3;
  }
  for (; j < bRows; j++) out[j] = dotSeq(a, aOff, B, bOff + j * d, d);
}
