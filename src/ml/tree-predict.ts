// Prediction over flat trees on raw float rows (x <= threshold goes left), plus the JSON
// form of a flat tree and the normalised feature importances.

import type { Matrix } from './matrix.ts';
import type { FlatTree } from './tree-build.ts';

/** Index of the leaf reached by row r of x. */
export function leafOf(t: FlatTree, data: ArrayLike<number>, rowOff: number): number {
  const { feature, threshold, left, right } = t;
  let node = 0;
  let f = feature[0];
  while (f >= 0) {
    node = data[rowOff + f] <= threshold[node] ? left[node] : right[node];
    f = feature[node];
  }
  return node;
}

/** Adds each row's leaf values (scaled by `scale`) into out[r * nOutputs + k]. */
export function accumulateTree(t: FlatTree, x: Matrix, out: Float64Array, scale = 1): void {
  const K = t.nOutputs;
  const { data, rows, cols } = x;
  const v = t.value;
  for (let r = 0; r < rows; r++) {
    const leaf = leafOf(t, data, r * cols);
    const o = r * K;
    const lo = leaf * K;
    for (let k = 0; k < K; k++) out[o + k] += v[lo + k] * scale;
  }
}

export interface FlatTreeJSON {
  nodeCount: number;
  nOutputs: number;
  feature: number[];
  threshold: number[];
  left: number[];
  right: number[];
  value: number[];
  impurity: number[];
  weightedN: number[];
  nSamples: number[];
}

export function treeToJSON(t: FlatTree): FlatTreeJSON {
  return {
    nodeCount: t.nodeCount,
    nOutputs: t.nOutputs,
    feature: Array.from(t.feature),
    threshold: Array.from(t.threshold),
    left: Array.from(t.left),
    right: Array.from(t.right),
    value: Array.from(t.value),
    impurity: Array.from(t.impurity),
    weightedN: Array.from(t.weightedN),
    nSamples: Array.from(t.nSamples),
  };
}

export function treeFromJSON(j: FlatTreeJSON): FlatTree {
  const n = j.nodeCount;
  if (!Number.isInteger(n) || n < 1) throw new TypeError('tree JSON: nodeCount must be a positive integer');
  const check = (name: string, a: unknown, len: number) => {
    if (!Array.isArray(a) || a.length !== len) throw new TypeError(`tree JSON: ${name} must be an array of ${len} numbers`);
  };
  check('feature', j.feature, n);
  check('threshold', j.threshold, n);
  check('left', j.left, n);
  check('right', j.right, n);
  check('value', j.value, n * j.nOutputs);
  check('impurity', j.impurity, n);
  check('weightedN', j.weightedN, n);
  check('nSamples', j.nSamples, n);
  const t: FlatTree = {
    nodeCount: n,
    nOutputs: j.nOutputs,
    feature: Int32Array.from(j.feature),
    threshold: Float64Array.from(j.threshold),
    left: Int32Array.from(j.left),
    right: Int32Array.from(j.right),
    value: Float64Array.from(j.value),
    impurity: Float64Array.from(j.impurity),
    weightedN: Float64Array.from(j.weightedN),
    nSamples: Int32Array.from(j.nSamples),
  };
  for (let i = 0; i < n; i++) {
    if (t.feature[i] >= 0 && !(t.left[i] > i && t.left[i] < n && t.right[i] > i && t.right[i] < n)) {
      throw new TypeError(`tree JSON: node ${i} has invalid children`);
    }
  }
  return t;
}

/** sklearn's feature_importances_: impurity decrease per feature, normalised to sum 1. */
export function treeImportances(t: FlatTree, p: number): Float64Array {
  const imp = new Float64Array(p);
  const { feature, left, right, impurity, weightedN } = t;
  for (let i = 0; i < t.nodeCount; i++) {
    const f = feature[i];
    if (f < 0) continue;
    const l = left[i];
    const r = right[i];
    imp[f] += weightedN[i] * impurity[i] - weightedN[l] * impurity[l] - weightedN[r] * impurity[r];
  }
  normalise(imp);
  return imp;
}

export function normalise(a: Float64Array): void {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  if (s > 0) for (let i = 0; i < a.length; i++) a[i] /= s;
}
