// Input checks and target encoding shared by trees and forests: labels become 0..k-1 with
// the sorted distinct labels kept as `classes` (as sklearn's np.unique), class weights
// become one weight per row, and X is binned into the TreeData the builder grows on.

import { binMatrix, fitBinMapper } from './binning.ts';
import { assertFinite, type Matrix } from './matrix.ts';
import type { TreeData } from './tree-build.ts';

export type Labels = Int32Array | Float64Array;
export type ClassWeight = 'balanced' | Record<string, number> | null;

export function checkXy(x: Matrix, y: ArrayLike<number>, owner: string): void {
  if (!x || !(x.data instanceof Float64Array || x.data instanceof Float32Array)) {
    throw new TypeError(`${owner}.fit: X must be a Matrix {data, rows, cols}`);
  }
  if (x.rows < 1) throw new RangeError(`${owner}.fit: X has 0 rows; need at least 1`);
  if (x.cols < 1) throw new RangeError(`${owner}.fit: X has 0 features; need at least 1`);
  if (y.length !== x.rows) throw new RangeError(`${owner}.fit: X has ${x.rows} rows but y has ${y.length} values`);
  assertFinite(x, 'X');
}

export function checkPredictX(x: Matrix, nFeatures: number, owner: string): void {
  if (!x || !(x.data instanceof Float64Array || x.data instanceof Float32Array)) {
    throw new TypeError(`${owner}.predict: X must be a Matrix {data, rows, cols}`);
  }
  if (x.cols !== nFeatures) {
    throw new RangeError(`${owner}: X has ${x.cols} features, but the model was fitted with ${nFeatures} features`);
  }
  assertFinite(x, 'X');
}

/** Maps integer labels to 0..k-1 in ascending label order. */
export function encodeLabels(y: ArrayLike<number>, owner: string): { classes: Int32Array; yc: Int32Array } {
  const n = y.length;
  const sorted = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = y[i];
    if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) {
      throw new TypeError(`${owner}.fit: class labels must be 32-bit integers, got ${v} at index ${i}`);
    }
    sorted[i] = v;
  }
  sorted.sort();
  let k = 0;
  const tmp = new Int32Array(n);
  for (let i = 0; i < n; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) tmp[k++] = sorted[i];
  const classes = tmp.slice(0, k);
  const yc = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let lo = 0;
    let hi = k - 1;
    const v = y[i];
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (classes[mid] < v) lo = mid + 1;
      else hi = mid;
    }
    yc[i] = lo;
  }
  return { classes, yc };
}

/** One weight per class as sklearn's compute_class_weight ('balanced': n / (k * count)). */
export function classWeights(cw: ClassWeight, classes: Int32Array, yc: Int32Array, owner: string): Float64Array {
  const k = classes.length;
  const out = new Float64Array(k).fill(1);
  if (cw === null) return out;
  if (cw === 'balanced') {
    const counts = new Float64Array(k);
    for (let i = 0; i < yc.length; i++) counts[yc[i]]++;
    for (let c = 0; c < k; c++) out[c] = yc.length / (k * counts[c]);
    return out;
  }
  for (const key of Object.keys(cw)) {
    const label = Number(key);
    const c = classes.indexOf(label);
    if (!Number.isInteger(label) || c < 0) {
      throw new RangeError(`${owner}: classWeight names class ${JSON.stringify(key)}, which is not among the labels [${Array.from(classes).join(', ')}]`);
    }
    out[c] = cw[key];
  }
  return out;
}

/** Encoded labels with their classes and one weight per row (its class weight). */
export function classificationTargets(y: ArrayLike<number>, cw: ClassWeight, owner: string): { classes: Int32Array; yc: Int32Array; w: Float64Array } {
  const { classes, yc } = encodeLabels(y, owner);
  const byClass = classWeights(cw, classes, yc, owner);
  const w = new Float64Array(yc.length);
  for (let i = 0; i < yc.length; i++) w[i] = byClass[yc[i]];
  return { classes, yc, w };
}

/** The targets part of TreeData: class indices for 'clf', values for 'reg' (the other left empty). */
export type TreeTargets = Pick<TreeData, 'task' | 'yc' | 'nClasses' | 'yr'>;

export function classTargets(yc: Int32Array, nClasses: number): TreeTargets {
  return { task: 'clf', yc, nClasses, yr: new Float64Array(0) };
}

export function regressionTargets(yr: Float64Array): TreeTargets {
  return { task: 'reg', yc: new Int32Array(0), nClasses: 0, yr };
}

type BinnedX = Pick<TreeData, 'codes' | 'n' | 'p' | 'nBins' | 'binLo' | 'binHi'>;

/** Bins of the matrices given to shareBins, per maxBins (buildTree only reads them). */
const sharedBins = new WeakMap<Matrix, Map<number, BinnedX>>();

/**
 * Marks a matrix that no one will change again, so that every fit on it bins it once: a grid
 * search fits each candidate on the same fold's rows (model-selection-tasks.ts's Folds).
 */
export function shareBins(x: Matrix): Matrix {
  if (!sharedBins.has(x)) sharedBins.set(x, new Map());
  return x;
}

/** X binned with at most maxBins bins per feature, with the targets: what buildTree grows on. */
export function binnedTreeData(x: Matrix, maxBins: number, targets: TreeTargets): TreeData {
  const memo = sharedBins.get(x);
  let binned = memo?.get(maxBins);
  if (binned === undefined) {
    const mapper = fitBinMapper(x, maxBins);
    const { codes } = binMatrix(x, mapper);
    binned = { codes, n: x.rows, p: x.cols, nBins: mapper.nBins, binLo: mapper.binLo, binHi: mapper.binHi };
    memo?.set(maxBins, binned);
  }
  return { ...binned, ...targets };
}

/** The class labels of a fitted classifier's JSON: one per output of its tree(s). */
export function classesFromJSON(classes: unknown, nOutputs: number, kind: string): Int32Array {
  if (!Array.isArray(classes) || classes.length !== nOutputs) {
    throw new TypeError(`${kind}.fromJSON: classes must list ${nOutputs} labels`);
  }
  return Int32Array.from(classes);
}

export function checkRegressionTargets(y: ArrayLike<number>, owner: string): Float64Array {
  const out = new Float64Array(y.length);
  for (let i = 0; i < y.length; i++) {
    if (!Number.isFinite(y[i])) throw new RangeError(`${owner}.fit: y has a non-finite value at index ${i}`);
    out[i] = y[i];
  }
  return out;
}

export function checkVersion(json: unknown, kind: string, version: number): Record<string, unknown> {
  if (typeof json !== 'object' || json === null) throw new TypeError(`${kind}.fromJSON: expected an object`);
  const j = json as Record<string, unknown>;
  if (j.kind !== kind) throw new TypeError(`${kind}.fromJSON: kind is ${JSON.stringify(j.kind)}, expected ${JSON.stringify(kind)}`);
  if (j.version !== version) {
    throw new RangeError(`${kind}.fromJSON: version ${JSON.stringify(j.version)} is not supported (expected ${version})`);
  }
  return j;
}
