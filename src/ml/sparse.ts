// Compressed sparse row matrices, the shape of TF-IDF output and item×user interaction data.
// Column indices within a row are kept sorted and unique, as scipy's canonical CSR form.

import type { Matrix } from './matrix.ts';

export interface CsrMatrix {
  indptr: Int32Array;
  indices: Int32Array;
  data: Float64Array;
  rows: number;
  cols: number;
}

export function isCsr(x: unknown): x is CsrMatrix {
  return typeof x === 'object' && x !== null && (x as CsrMatrix).indptr instanceof Int32Array && (x as CsrMatrix).indices instanceof Int32Array;
}

/** Wraps CSR arrays after checking they are consistent (sorted, in-range column indices). */
export function csr(rows: number, cols: number, indptr: Int32Array, indices: Int32Array, data: Float64Array): CsrMatrix {
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(cols) || cols < 0) {
    throw new RangeError(`csr shape must be non-negative integers, got ${rows}x${cols}`);
  }
  if (indptr.length !== rows + 1) throw new RangeError(`csr indptr has ${indptr.length} entries, expected rows+1=${rows + 1}`);
  if (indptr[0] !== 0) throw new RangeError('csr indptr[0] must be 0');
  const nnz = indptr[rows];
  if (indices.length !== nnz || data.length !== nnz) {
    throw new RangeError(`csr indices/data lengths (${indices.length}/${data.length}) must equal indptr[rows]=${nnz}`);
  }
  for (let i = 0; i < rows; i++) {
    const a = indptr[i];
    const b = indptr[i + 1];
    if (b < a) throw new RangeError(`csr indptr must be non-decreasing (row ${i})`);
    let prev = -1;
    for (let p = a; p < b; p++) {
      const j = indices[p];
      if (j <= prev || j >= cols) throw new RangeError(`csr row ${i} has an unsorted, duplicate or out-of-range column ${j}`);
      prev = j;
    }
  }
  return { indptr, indices, data, rows, cols };
}

/** Builds CSR from coordinate triplets, summing duplicates (as scipy's coo.tocsr()). */
export function csrFromTriplets(
  rows: number,
  cols: number,
  r: ArrayLike<number>,
  c: ArrayLike<number>,
  v: ArrayLike<number>,
): CsrMatrix {
  const n = r.length;
  if (c.length !== n || v.length !== n) throw new RangeError('csrFromTriplets needs equally long row, column and value arrays');
  const counts = new Int32Array(rows + 1);
  for (let t = 0; t < n; t++) {
    const i = r[t];
    const j = c[t];
    if (!(i >= 0 && i < rows && Number.isInteger(i))) throw new RangeError(`row index ${i} out of range [0, ${rows})`);
    if (!(j >= 0 && j < cols && Number.isInteger(j))) throw new RangeError(`column index ${j} out of range [0, ${cols})`);
    counts[i + 1]++;
  }
  for (let i = 0; i < rows; i++) counts[i + 1] += counts[i];
  const order = new Int32Array(n);
  const fill = counts.slice(0, rows);
  for (let t = 0; t < n; t++) order[fill[r[t]]++] = t;
  const indptr = new Int32Array(rows + 1);
  const indices = new Int32Array(n);
  const data = new Float64Array(n);
  let nnz = 0;
  const perm: number[] = [];
  for (let i = 0; i < rows; i++) {
    perm.length = 0;
    for (let p = counts[i]; p < counts[i + 1]; p++) perm.push(order[p]);
    perm.sort((a, b) => c[a] - c[b]);
    let last = -1;
    for (let q = 0; q < perm.length; q++) {
      const t = perm[q];
      if (c[t] === last) data[nnz - 1] += v[t];
      else {
        indices[nnz] = c[t];
        data[nnz] = v[t];
        last = c[t];
        nnz++;
      }
    }
    indptr[i + 1] = nnz;
  }
  return { indptr, indices: indices.slice(0, nnz), data: data.slice(0, nnz), rows, cols };
}

/** Keeps the non-zero entries of a dense matrix. */
export function csrFromDense(x: Matrix): CsrMatrix {
  const { rows, cols, data: d } = x;
  let nnz = 0;
  for (let t = 0; t < d.length; t++) if (d[t] !== 0) nnz++;
  const indptr = new Int32Array(rows + 1);
  const indices = new Int32Array(nnz);
  const data = new Float64Array(nnz);
  let p = 0;
  for (let i = 0; i < rows; i++) {
    const off = i * cols;
    for (let j = 0; j < cols; j++) {
      const val = d[off + j];
      if (val !== 0) {
        indices[p] = j;
        data[p++] = val;
      }
    }
    indptr[i + 1] = p;
  }
  return { indptr, indices, data, rows, cols };
}

export function csrToDense(x: CsrMatrix): Matrix {
  const out = new Float64Array(x.rows * x.cols);
  const { indptr, indices, data, cols } = x;
  for (let i = 0; i < x.rows; i++) {
    for (let p = indptr[i]; p < indptr[i + 1]; p++) out[i * cols + indices[p]] += data[p];
  }
  return { data: out, rows: x.rows, cols: x.cols };
}

/** Squared (default) or plain l2 norm of every row. */
export function csrRowNorms(x: CsrMatrix, squared = true): Float64Array {
  const out = new Float64Array(x.rows);
  const { indptr, data } = x;
  for (let i = 0; i < x.rows; i++) {
    let s = 0;
    for (let p = indptr[i]; p < indptr[i + 1]; p++) s += data[p] * data[p];
    out[i] = squared ? s : Math.sqrt(s);
  }
  return out;
}

/** A copy with every row scaled to unit l2 norm; all-zero rows stay zero (as sklearn's normalize). */
export function csrNormalizeRows(x: CsrMatrix): CsrMatrix {
  const data = new Float64Array(x.data.length);
  const { indptr } = x;
  for (let i = 0; i < x.rows; i++) {
    let s = 0;
    for (let p = indptr[i]; p < indptr[i + 1]; p++) s += x.data[p] * x.data[p];
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let p = indptr[i]; p < indptr[i + 1]; p++) data[p] = s > 0 ? x.data[p] * inv : x.data[p];
  }
  return { indptr: x.indptr.slice(), indices: x.indices.slice(), data, rows: x.rows, cols: x.cols };
}

export function csrTakeRows(x: CsrMatrix, idx: ArrayLike<number>): CsrMatrix {
  const indptr = new Int32Array(idx.length + 1);
  for (let t = 0; t < idx.length; t++) {
    const i = idx[t];
    indptr[t + 1] = indptr[t] + x.indptr[i + 1] - x.indptr[i];
  }
  const nnz = indptr[idx.length];
  const indices = new Int32Array(nnz);
  const data = new Float64Array(nnz);
  for (let t = 0; t < idx.length; t++) {
    const a = x.indptr[idx[t]];
    const b = x.indptr[idx[t] + 1];
    indices.set(x.indices.subarray(a, b), indptr[t]);
    data.set(x.data.subarray(a, b), indptr[t]);
  }
  return { indptr, indices, data, rows: idx.length, cols: x.cols };
}

/** The transpose in CSR form, i.e. the CSC form of x; rows come out sorted. */
export function csrTranspose(x: CsrMatrix): CsrMatrix {
  const { rows, cols, indptr, indices, data } = x;
  const nnz = indptr[rows];
  const tp = new Int32Array(cols + 1);
  for (let p = 0; p < nnz; p++) tp[indices[p] + 1]++;
  for (let j = 0; j < cols; j++) tp[j + 1] += tp[j];
  const fill = tp.slice(0, cols);
  const ti = new Int32Array(nnz);
  const td = new Float64Array(nnz);
  for (let i = 0; i < rows; i++) {
    for (let p = indptr[i]; p < indptr[i + 1]; p++) {
      const q = fill[indices[p]]++;
      ti[q] = i;
      td[q] = data[p];
    }
  }
  return { indptr: tp, indices: ti, data: td, rows: cols, cols: rows };
}

export function csrAssertFinite(x: CsrMatrix, name = 'X'): void {
  const d = x.data;
  for (let p = 0; p < d.length; p++) {
    if (!Number.isFinite(d[p])) throw new RangeError(`${name} has a non-finite stored value at position ${p}`);
  }
}

/** JSON-friendly form (plain arrays) and back, for models that keep a sparse matrix. */
export function csrToJSON(x: CsrMatrix): { rows: number; cols: number; indptr: number[]; indices: number[]; data: number[] } {
  return { rows: x.rows, cols: x.cols, indptr: Array.from(x.indptr), indices: Array.from(x.indices), data: Array.from(x.data) };
}

export function csrFromJSON(j: { rows: number; cols: number; indptr: number[]; indices: number[]; data: number[] }): CsrMatrix {
  return csr(j.rows, j.cols, Int32Array.from(j.indptr), Int32Array.from(j.indices), Float64Array.from(j.data));
}
