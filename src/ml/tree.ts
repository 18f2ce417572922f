// CART decision trees (classifier and regressor) with sklearn's parameters and semantics,
// grown on histogram-binned features (see binning.ts, tree-build.ts).

import { MAX_BINS } from './binning.ts';
import { NotFittedError } from './errors.ts';
import type { Matrix } from './matrix.ts';
import { Rng } from './rng.ts';
import { checkRunOptions, Progress, type RunOptions } from './runtime.ts';
import { buildTree, type BuildOptions, type FlatTree } from './tree-build.ts';
import {
  binnedTreeData,
  checkPredictX,
  checkRegressionTargets,
  checkVersion,
  checkXy,
  classesFromJSON,
  classificationTargets,
  classTargets,
  regressionTargets,
  type ClassWeight,
  type Labels,
  type TreeTargets,
} from './tree-data.ts';
import {
  anyOf,
  classifierOnlyConstraints,
  func,
  growthConstraints,
  intRange,
  nullValue,
  regressorOnlyConstraints,
  resolveMaxFeatures,
  resolveMinSamples,
  seedConstraint,
  validateParams,
  type Constraints,
  type MaxFeatures,
} from './tree-params.ts';
import { accumulateTree, treeFromJSON, treeImportances, treeToJSON, type FlatTreeJSON } from './tree-predict.ts';

const VERSION = 1;
const NO_LIMIT = 2 ** 31 - 1;

interface CommonTreeParams {
  maxDepth: number | null;
  minSamplesSplit: number;
  minSamplesLeaf: number;
  maxFeatures: MaxFeatures;
  minImpurityDecrease: number;
  seed: number;
  /** Bins per feature for split search (2..256); features with fewer distinct values are exact. */
  maxBins: number;
}

export interface DecisionTreeClassifierParams extends CommonTreeParams {
  criterion: 'gini' | 'entropy';
  classWeight: ClassWeight;
}

export interface DecisionTreeRegressorParams extends CommonTreeParams {
  criterion: 'squared_error';
}

const commonConstraints: Constraints = {
  ...growthConstraints,
  seed: seedConstraint,
  maxBins: intRange(2, MAX_BINS),
  onProgress: anyOf(func, nullValue),
};

export const classifierConstraints: Constraints = { ...commonConstraints, ...classifierOnlyConstraints };
export const regressorConstraints: Constraints = { ...commonConstraints, ...regressorOnlyConstraints };

const commonDefaults: CommonTreeParams = {
  maxDepth: null,
  minSamplesSplit: 2,
  minSamplesLeaf: 1,
  maxFeatures: null,
  minImpurityDecrease: 0,
  seed: 0,
  maxBins: MAX_BINS,
};

type ProgressParam = { onProgress?: ((fraction: number) => void) | null };

export function buildOptions(p: CommonTreeParams & { criterion: BuildOptions['criterion'] }, n: number, nFeatures: number): BuildOptions {
  return {
    criterion: p.criterion,
    maxDepth: p.maxDepth ?? NO_LIMIT,
    minSamplesSplit: resolveMinSamples(p.minSamplesSplit, n),
    minSamplesLeaf: resolveMinSamples(p.minSamplesLeaf, n),
    maxFeatures: resolveMaxFeatures(p.maxFeatures, nFeatures),
    minImpurityDecrease: p.minImpurityDecrease,
  };
}

/** Checks params against the table and fills the defaults; onProgress is kept apart (not in toJSON). */
function treeParams<P>(kind: string, params: object & ProgressParam, table: Constraints, defaults: P): { params: P; onProgress: ((f: number) => void) | null } {
  validateParams(kind, params, table);
  const { onProgress, ...rest } = params;
  return { params: { ...defaults, ...definedOnly(rest) }, onProgress: onProgress ?? null };
}

/** The shared part of both trees: parameters, growing on binned X, and the fitted tree. */
abstract class BaseTree<P extends CommonTreeParams & { criterion: BuildOptions['criterion'] }> {
  readonly params: P;
  protected onProgress: ((f: number) => void) | null;
  nFeatures = 0;
  tree: FlatTree | null = null;

  protected abstract readonly kind: string;

  constructor(checked: { params: P; onProgress: ((f: number) => void) | null }) {
    this.params = checked.params;
    this.onProgress = checked.onProgress;
  }

  /**
   * Bins X and grows the tree on it with one weight per row. Progress is the share of rows in
   * finished subtrees, reported by whole percents; the signal is checked after binning and at
   * each report.
   */
  protected grow(x: Matrix, targets: TreeTargets, w: Float64Array, progress: Progress): FlatTree {
    const data = binnedTreeData(x, this.params.maxBins, targets);
    progress.check();
    let pct = 0;
    const onNode = (settled: number, m: number) => {
      const p = Math.floor((100 * settled) / m);
      if (p > pct) {
        pct = p;
        progress.step(p / 100);
      }
    };
    return buildTree(data, w, buildOptions(this.params, x.rows, x.cols), new Rng(this.params.seed), undefined, onNode);
  }

  /** The call's progress: run.onProgress (else the constructor's) and run.signal. */
  protected startFit(run: RunOptions): Progress {
    checkRunOptions(`${this.kind}.fit`, run);
    const progress = new Progress(run.onProgress === undefined ? this.onProgress : run.onProgress, run.signal);
    progress.check();
    return progress;
  }

  /**
   * Forgets the fitted model once the input is found valid, so a fit that is aborted (or fails)
   * while training leaves the tree unfitted; invalid input leaves it as it was.
   */
  protected reset(): void {
    this.tree = null;
    this.nFeatures = 0;
  }

  /** The leaf values (width per row) of each row of X. */
  protected leafValues(x: Matrix, width: number): Float64Array {
    const tree = this.fitted();
    checkPredictX(x, this.nFeatures, this.kind);
    const out = new Float64Array(x.rows * width);
    accumulateTree(tree, x, out);
    return out;
  }

  get featureImportances(): Float64Array {
    return treeImportances(this.fitted(), this.nFeatures);
  }

  protected fitted(): FlatTree {
    if (this.tree === null) throw new NotFittedError(this.kind);
    return this.tree;
  }

  protected baseJSON(classes: Int32Array | null): DecisionTreeJSON<P> {
    const tree = this.fitted();
    return {
      kind: this.kind,
      version: VERSION,
      params: this.params,
      nFeatures: this.nFeatures,
      classes: classes === null ? null : Array.from(classes),
      tree: treeToJSON(tree),
    };
  }

  protected loadJSON(j: DecisionTreeJSON<P>): void {
    this.tree = treeFromJSON(j.tree);
    this.nFeatures = j.nFeatures;
  }
}

export class DecisionTreeClassifier extends BaseTree<DecisionTreeClassifierParams> {
  static readonly kind = 'DecisionTreeClassifier';
  protected readonly kind = DecisionTreeClassifier.kind;
  classes: Int32Array | null = null;

  constructor(params: Partial<DecisionTreeClassifierParams> & ProgressParam = {}) {
    super(treeParams(DecisionTreeClassifier.kind, params, classifierConstraints, { ...commonDefaults, criterion: 'gini', classWeight: null } as DecisionTreeClassifierParams));
  }

  /** Grows the tree; `run` gives onProgress and signal (see RunOptions). */
  fit(x: Matrix, y: Labels, run: RunOptions = {}): this {
    const progress = this.startFit(run);
    checkXy(x, y, this.kind);
    const { classes, yc, w } = classificationTargets(y, this.params.classWeight, this.kind);
    this.reset();
    const tree = this.grow(x, classTargets(yc, classes.length), w, progress);
    this.tree = tree;
    this.classes = classes;
    this.nFeatures = x.cols;
    progress.done();
    return this;
  }

  protected override reset(): void {
    super.reset();
    this.classes = null;
  }

  /** Class probabilities: leaf class frequencies (weighted), one column per entry of `classes`. */
  predictProba(x: Matrix): Matrix {
    const K = this.fitted().nOutputs;
    return { data: this.leafValues(x, K), rows: x.rows, cols: K };
  }

  predict(x: Matrix): Int32Array {
    return argmaxLabels(this.predictProba(x), this.classes!);
  }

  toJSON(): DecisionTreeJSON<DecisionTreeClassifierParams> {
    return this.baseJSON(this.classes);
  }

  static fromJSON(json: unknown): DecisionTreeClassifier {
    const j = checkVersion(json, DecisionTreeClassifier.kind, VERSION) as unknown as DecisionTreeJSON<DecisionTreeClassifierParams>;
    const m = new DecisionTreeClassifier(j.params);
    m.loadJSON(j);
    m.classes = classesFromJSON(j.classes, m.tree!.nOutputs, DecisionTreeClassifier.kind);
    return m;
  }
}

export class DecisionTreeRegressor extends BaseTree<DecisionTreeRegressorParams> {
  static readonly kind = 'DecisionTreeRegressor';
  protected readonly kind = DecisionTreeRegressor.kind;

  constructor(params: Partial<DecisionTreeRegressorParams> & ProgressParam = {}) {
    super(treeParams(DecisionTreeRegressor.kind, params, regressorConstraints, { ...commonDefaults, criterion: 'squared_error' } as DecisionTreeRegressorParams));
  }

  /** Grows the tree; `run` gives onProgress and signal (see RunOptions). */
  fit(x: Matrix, y: Labels, run: RunOptions = {}): this {
    const progress = this.startFit(run);
    checkXy(x, y, this.kind);
    const yr = checkRegressionTargets(y, this.kind);
    this.reset();
    this.tree = this.grow(x, regressionTargets(yr), new Float64Array(x.rows).fill(1), progress);
    this.nFeatures = x.cols;
    progress.done();
    return this;
  }

  predict(x: Matrix): Float64Array {
    return this.leafValues(x, 1);
  }

  toJSON(): DecisionTreeJSON<DecisionTreeRegressorParams> {
    return this.baseJSON(null);
  }

  static fromJSON(json: unknown): DecisionTreeRegressor {
    const j = checkVersion(json, DecisionTreeRegressor.kind, VERSION) as unknown as DecisionTreeJSON<DecisionTreeRegressorParams>;
    const m = new DecisionTreeRegressor(j.params);
    m.loadJSON(j);
    return m;
  }
}

export interface DecisionTreeJSON<P> {
  kind: string;
  version: number;
  params: P;
  nFeatures: number;
  classes: number[] | null;
  tree: FlatTreeJSON;
}

/** Drops keys whose value is undefined so they do not override defaults. */
export function definedOnly<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/** Row-wise argmax (first maximum wins, as numpy) mapped to class labels. */
export function argmaxLabels(proba: Matrix, classes: Int32Array): Int32Array {
  const { data, rows, cols } = proba;
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let best = 0;
    let bv = data[o];
    for (let k = 1; k < cols; k++) {
      if (data[o + k] > bv) {
        bv = data[o + k];
        best = k;
      }
    }
    out[r] = classes[best];
  }
  return out;
}
