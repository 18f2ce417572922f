// What a cross-validation task is, in a form a worker thread can rebuild: an estimator kind
// name, its parameters (sklearn snake_case names mapped to ours in one table), a train/test
// split and a scorer. The main thread and the workers run the same evaluateTask.

import { RandomForestClassifier, RandomForestRegressor } from './forest.ts';
import type { Matrix } from './matrix.ts';
import { takeRows } from './matrix.ts';
import { scorer, type ScorerName } from './metrics.ts';
import { DecisionTreeClassifier, DecisionTreeRegressor } from './tree.ts';
import { shareBins } from './tree-data.ts';

export type EstimatorKind = 'DecisionTreeClassifier' | 'DecisionTreeRegressor' | 'RandomForestClassifier' | 'RandomForestRegressor';
export const ESTIMATOR_KINDS: readonly EstimatorKind[] = [
  'DecisionTreeClassifier',
  'DecisionTreeRegressor',
  'RandomForestClassifier',
  'RandomForestRegressor',
];

/** The least an estimator must offer to be cross-validated. */
export interface Estimator {
  fit(x: Matrix, y: Int32Array | Float64Array): unknown;
  predict(x: Matrix): ArrayLike<number>;
}

/** sklearn parameter names → ours. Our own camelCase names are accepted as they are. */
export const SKLEARN_PARAM_NAMES: Readonly<Record<string, string>> = {
  criterion: 'criterion',
  max_depth: 'maxDepth',
  min_samples_split: 'minSamplesSplit',
  min_samples_leaf: 'minSamplesLeaf',
  max_features: 'maxFeatures',
  min_impurity_decrease: 'minImpurityDecrease',
  class_weight: 'classWeight',
  n_estimators: 'nEstimators',
  bootstrap: 'bootstrap',
  oob_score: 'oobScore',
  random_state: 'seed',
  n_jobs: 'nJobs',
  max_bins: 'maxBins',
};

const OWN_NAMES: Record<EstimatorKind, readonly string[]> = {
  DecisionTreeClassifier: ['criterion', 'maxDepth', 'minSamplesSplit', 'minSamplesLeaf', 'maxFeatures', 'minImpurityDecrease', 'classWeight', 'seed', 'maxBins'],
  DecisionTreeRegressor: ['criterion', 'maxDepth', 'minSamplesSplit', 'minSamplesLeaf', 'maxFeatures', 'minImpurityDecrease', 'seed', 'maxBins'],
  RandomForestClassifier: [
    'nEstimators', 'criterion', 'maxDepth', 'minSamplesSplit', 'minSamplesLeaf', 'maxFeatures', 'minImpurityDecrease',
    'bootstrap', 'oobScore', 'classWeight', 'seed', 'nJobs', 'maxBins',
  ],
  RandomForestRegressor: [
    'nEstimators', 'criterion', 'maxDepth', 'minSamplesSplit', 'minSamplesLeaf', 'maxFeatures', 'minImpurityDecrease',
    'bootstrap', 'oobScore', 'seed', 'nJobs', 'maxBins',
  ],
};

export function isEstimatorKind(k: unknown): k is EstimatorKind {
  return typeof k === 'string' && (ESTIMATOR_KINDS as readonly string[]).includes(k);
}

export function isClassifierKind(k: EstimatorKind): boolean {
  switch (k) {
    case 'DecisionTreeClassifier':
    case 'RandomForestClassifier':
      return true;
    case 'DecisionTreeRegressor':
    case 'RandomForestRegressor':
      return false;
    default: {
      const never: never = k;
      throw new RangeError(`unknown estimator ${String(never)}`);
    }
  }
}

/**
 * Maps parameter names (sklearn snake_case or ours) to ours for the given kind, and throws a
 * TypeError naming every unknown one.
 */
export function normaliseParams(kind: EstimatorKind, params: Record<string, unknown>): Record<string, unknown> {
  const own = OWN_NAMES[kind];
  const out: Record<string, unknown> = {};
  const unknown: string[] = [];
  for (const [k, v] of Object.entries(params)) {
    const name = own.includes(k) ? k : SKLEARN_PARAM_NAMES[k];
    if (name === undefined || !own.includes(name)) unknown.push(k);
    else out[name] = v;
  }
  if (unknown.length > 0) {
    throw new TypeError(
      `unknown parameter${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => JSON.stringify(u)).join(', ')} for ${kind}; accepted: ${own
        .map((o) => Object.keys(SKLEARN_PARAM_NAMES).find((s) => SKLEARN_PARAM_NAMES[s] === o) ?? o)
        .join(', ')}`,
    );
  }
  return out;
}

/** Builds an estimator from its kind and our parameter names; forests inside a CV task run single-threaded. */
export function makeEstimator(kind: EstimatorKind, params: Record<string, unknown>): Estimator {
  switch (kind) {
    case 'DecisionTreeClassifier':
      return new DecisionTreeClassifier(params);
    case 'DecisionTreeRegressor':
      return new DecisionTreeRegressor(params);
    case 'RandomForestClassifier':
      return new RandomForestClassifier({ ...params, nJobs: 1 });
    case 'RandomForestRegressor':
      return new RandomForestRegressor({ ...params, nJobs: 1 });
    default: {
      const never: never = kind;
      throw new RangeError(`unknown estimator ${String(never)}`);
    }
  }
}

export function takeValues<T extends Int32Array | Float64Array>(y: T, idx: Int32Array): T {
  const out = new (y.constructor as { new (n: number): T })(idx.length);
  for (let i = 0; i < idx.length; i++) out[i] = y[idx[i]];
  return out;
}

export interface Fold {
  xTrain: Matrix;
  yTrain: Int32Array | Float64Array;
  xTest: Matrix;
  yTest: Int32Array | Float64Array;
}

/**
 * Each split's rows, copied out once and kept for every candidate fitted on them, with their
 * bins (shareBins): a grid of 8 trees on iris spent a third of its time re-copying and re-binning
 * the same folds. Only our own estimators get kept copies (they never change their X); with
 * `keep` false each get is a fresh copy, for an estimator from a factory.
 */
export class Folds {
  private readonly taken: (Fold | undefined)[];
  private readonly x: Matrix;
  private readonly y: Int32Array | Float64Array;
  private readonly splits: readonly { train: Int32Array; test: Int32Array }[];
  private readonly keep: boolean;

  constructor(x: Matrix, y: Int32Array | Float64Array, splits: readonly { train: Int32Array; test: Int32Array }[], keep = true) {
    this.x = x;
    this.y = y;
    this.splits = splits;
    this.keep = keep;
    this.taken = new Array(splits.length);
  }

  get(k: number): Fold {
    const kept = this.taken[k];
    if (kept !== undefined) return kept;
    const { train, test } = this.splits[k];
    const xTrain = takeRows(this.x, train);
    const f = { xTrain: this.keep ? shareBins(xTrain) : xTrain, yTrain: takeValues(this.y, train), xTest: takeRows(this.x, test), yTest: takeValues(this.y, test) };
    if (this.keep) this.taken[k] = f;
    return f;
  }
}

/** Fits on the fold's train rows and scores on its test rows. */
export function evaluateSplit(est: Estimator, fold: Fold, scoring: ScorerName): number {
  est.fit(fold.xTrain, fold.yTrain);
  return scorer(scoring)(fold.yTest, est.predict(fold.xTest));
}

/** Everything a worker needs; typed arrays sit on SharedArrayBuffers. */
export interface CvWorkerInput {
  kind: EstimatorKind;
  candidates: Record<string, unknown>[];
  x: Matrix;
  y: Int32Array | Float64Array;
  splits: { train: Int32Array; test: Int32Array }[];
  scoring: ScorerName;
  counter: Int32Array;
}

export interface CvWorkerMessage {
  task: number;
  score: number;
}
