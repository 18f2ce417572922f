// Row-major dense matrices on typed arrays, the one data shape every estimator takes.

export type FloatArray = Float64Array | Float32Array;

export interface Matrix {
  data: FloatArray;
  rows: number;
  cols: number;
}

export function matrix(rows: number, cols: number, data?: FloatArray): Matrix {
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(cols) || cols < 0) {
    throw new RangeError(`matrix shape must be non-negative integers, got ${rows}x${cols}`);
  }
  const d = data ?? new Float64Array(rows * cols);
  if (d.length !== rows * cols) throw new RangeError(`matrix data has ${d.length} values, expected ${rows}x${cols}=${rows * cols}`);
  return { data: d, rows, cols };
}

/** Builds a matrix from nested arrays (tests, small inputs, JSON bodies). */
export function fromRows(rows: ArrayLike<ArrayLike<number>>): Matrix {
  const n = rows.length;
  const m = n === 0 ? 0 : rows[0].length;
  const data = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    const r = rows[i];
    if (r.length !== m) throw new RangeError(`row ${i} has ${r.length} values, expected ${m}`);
    for (let j = 0; j < m; j++) data[i * m + j] = r[j];
  }
  return { data, rows: n, cols: m };
}

export function toRows(x: Matrix): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < x.rows; i++) out.push(Array.from(x.data.subarray(i * x.cols, (i + 1) * x.cols)));
  return out;
}

/** Copies the given rows into a new matrix (used by CV splits and bootstraps). */
export function takeRows(x: Matrix, idx: ArrayLike<number>): Matrix {
  const out = new Float64Array(idx.length * x.cols);
  for (let i = 0; i < idx.length; i++) {
    const r = idx[i];
    out.set(x.data.subarray(r * x.cols, (r + 1) * x.cols), i * x.cols);
  }
  return { data: out, rows: idx.length, cols: x.cols };
}

export function assertFinite(x: Matrix, name = 'X'): void {
  const d = x.data;
  for (let i = 0; i < d.length; i++) {
    if (!Number.isFinite(d[i])) throw new RangeError(`${name} has a non-finite value at row ${Math.floor(i / x.cols)}, column ${i % x.cols}`);
  }
}
