// Small dense linear algebra for the Bayesian linear models behind the bandits: n is a context
// dimension (tens, not thousands), so plain O(n³) loops on preallocated row-major Float64Arrays are
// the fast path. Every function writes into an `out` the caller owns; none allocates.

/** Lower Cholesky factor L of a symmetric positive definite n×n A (A = L Lᵀ), written into `out`
 * (upper triangle zeroed). Throws RangeError if A is not positive definite. `out` may alias `a`. */
export function cholesky(a: Float64Array, n: number, out: Float64Array): Float64Array {
  checkSquare(a, n, 'a');
  checkSquare(out, n, 'out');
  for (let j = 0; j < n; j++) {
    let s = a[j * n + j];
    for (let k = 0; k < j; k++) s -= out[j * n + k] * out[j * n + k];
    if (!(s > 0)) throw new RangeError(`matrix is not positive definite (pivot ${j} is ${s}, must be > 0)`);
    const ljj = Math.sqrt(s);
    out[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let t = a[i * n + j];
      for (let k = 0; k < j; k++) t -= out[i * n + k] * out[j * n + k];
      out[i * n + j] = t / ljj;
    }
  }
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) out[i * n + j] = 0;
  return out;
}

/** Solves L Lᵀ x = b given the lower Cholesky factor; `out` may alias `b`. */
export function choleskySolve(l: Float64Array, n: number, b: ArrayLike<number>, out: Float64Array): Float64Array {
  for (let i = 0; i < n; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= l[i * n + k] * out[k];
    out[i] = s / l[i * n + i];
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = out[i];
    for (let k = i + 1; k < n; k++) s -= l[k * n + i] * out[k];
    out[i] = s / l[i * n + i];
  }
  return out;
}

/** (L Lᵀ)⁻¹ from the lower Cholesky factor, into `out` (n×n, must not alias `l`); `work` has n slots. */
export function choleskyInverse(l: Float64Array, n: number, out: Float64Array, work: Float64Array): Float64Array {
  if (out === l) throw new RangeError('choleskyInverse: out must not alias l');
  for (let j = 0; j < n; j++) {
    work.fill(0, 0, n);
    work[j] = 1;
    choleskySolve(l, n, work, work);
    for (let i = 0; i < n; i++) out[i * n + j] = work[i];
  }
  symmetrize(out, n);
  return out;
}

/** Solves the SPD system A x = b by Cholesky; `lWork` is an n×n scratch for the factor. */
export function solveSpd(a: Float64Array, n: number, b: ArrayLike<number>, out: Float64Array, lWork: Float64Array): Float64Array {
  cholesky(a, n, lWork);
  return choleskySolve(lWork, n, b, out);
}

/** A += w · x xᵀ (symmetric rank-one update of, e.g., a precision matrix). */
export function rankOneUpdate(a: Float64Array, n: number, x: ArrayLike<number>, w = 1): Float64Array {
  for (let i = 0; i < n; i++) {
    const wi = w * x[i];
    if (wi === 0) continue;
    for (let j = 0; j < n; j++) a[i * n + j] += wi * x[j];
  }
  return a;
}

/** Sherman–Morrison: given S = A⁻¹ (symmetric), overwrite S with (A + w·x xᵀ)⁻¹ =
 * S − w (S x)(S x)ᵀ / (1 + w xᵀ S x). `work` has n slots. Returns xᵀ S x before the update. */
export function shermanMorrisonUpdate(s: Float64Array, n: number, x: ArrayLike<number>, work: Float64Array, w = 1): number {
  matVec(s, n, n, x, work);
  let q = 0;
  for (let i = 0; i < n; i++) q += x[i] * work[i];
  const denom = 1 + w * q;
  if (!(denom > 0)) throw new RangeError(`Sherman–Morrison update would lose positive definiteness (1 + w·xᵀSx = ${denom}, must be > 0)`);
  const f = w / denom;
  for (let i = 0; i < n; i++) {
    const fi = f * work[i];
    if (fi === 0) continue;
    for (let j = 0; j < n; j++) s[i * n + j] -= fi * work[j];
  }
  return q;
}

/** out = A x for an r×c row-major A. */
export function matVec(a: Float64Array, r: number, c: number, x: ArrayLike<number>, out: Float64Array): Float64Array {
  for (let i = 0; i < r; i++) {
    let s = 0;
    const o = i * c;
    for (let j = 0; j < c; j++) s += a[o + j] * x[j];
    out[i] = s;
  }
  return out;
}

/** out = L z for a lower-triangular L (used to draw N(μ, L Lᵀ) samples). */
export function lowerMatVec(l: Float64Array, n: number, z: ArrayLike<number>, out: Float64Array): Float64Array {
  for (let i = n - 1; i >= 0; i--) {
    let s = 0;
    const o = i * n;
    for (let j = 0; j <= i; j++) s += l[o + j] * z[j];
    out[i] = s;
  }
  return out;
}

/** xᵀ A x for a symmetric n×n A. */
export function quadForm(a: Float64Array, n: number, x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[i];
    if (xi === 0) continue;
    let t = 0;
    const o = i * n;
    for (let j = 0; j < n; j++) t += a[o + j] * x[j];
    s += xi * t;
  }
  return s;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

/** Replaces A by (A + Aᵀ)/2 so rounding never leaves a "symmetric" matrix lopsided. */
export function symmetrize(a: Float64Array, n: number): Float64Array {
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const v = 0.5 * (a[i * n + j] + a[j * n + i]);
      a[i * n + j] = v;
      a[j * n + i] = v;
    }
  }
  return a;
}

/** Writes c·I into an n×n buffer. */
export function setIdentity(a: Float64Array, n: number, c = 1): Float64Array {
  a.fill(0, 0, n * n);
  for (let i = 0; i < n; i++) a[i * n + i] = c;
  return a;
}

function checkSquare(a: Float64Array, n: number, name: string): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be an integer >= 1, got ${n}`);
  if (a.length < n * n) throw new RangeError(`${name} has ${a.length} values, needs at least n*n = ${n * n}`);
}
