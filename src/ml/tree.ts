// CART decision trees (classifier and regressor) with sklearn's parameters and semantics,
// grown on histogram-binned features (see binning.ts, tree-build.ts).

import { binMatrix, fitBinMapper, MAX_BINS } from './binning.ts';
import { NotFittedError } from './errors.ts';
import type { Matrix } from './matrix.ts';
import { Rng } from './rng.ts';
import { buildTree, type BuildOptions, type FlatTree, type TreeData } from './tree-build.ts';
import {
  checkPredictX,
  checkRegressionTargets,
  checkVersion,
  checkXy,
  classWeights,
  encodeLabels,
  type ClassWeight,
  type Labels,
} from './tree-data.ts';
import {
  anyOf,
  classWeightConstraint,
  func,
  intRange,
  maxFeaturesConstraint,
  minSamplesLeafConstraint,
  minSamplesSplitConstraint,
  nullValue,
  oneOf,
  realRange,
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
  maxDepth: anyOf(intRange(1), nullValue),
  minSamplesSplit: minSamplesSplitConstraint,
  minSamplesLeaf: minSamplesLeafConstraint,
  maxFeatures: maxFeaturesConstraint,
  minImpurityDecrease: realRange(0, Infinity, true),
  seed: seedConstraint,
  maxBins: intRange(2, MAX_BINS),
  onProgress: anyOf(func, nullValue),
};

export const classifierConstraints: Constraints = {
  ...commonConstraints,
  criterion: oneOf('gini', 'entropy'),
  classWeight: classWeightConstraint,
};
export const regressorConstraints: Constraints = { ...commonConstraints, criterion: oneOf('squared_error') };

const commonDefaults: CommonTreeParams = {
  maxDepth: null,
  minSamplesSplit: 2,
  minSamplesLeaf: 1,
  maxFeatures: null,
  minImpurityDecrease: 0,
  seed: 0,
  maxBins: MAX_BINS,
};

type Progress = { onProgress?: ((fraction: number) => void) | null };

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

function stripProgress<T extends object>(params: T & Progress): { rest: T; onProgress: ((f: number) => void) | null } {
  const { onProgress, ...rest } = params;
  return { rest: rest as T, onProgress: onProgress ?? null };
}

export class DecisionTreeClassifier {
  static readonly kind = 'DecisionTreeClassifier';
  readonly params: DecisionTreeClassifierParams;
  private onProgress: ((f: number) => void) | null;
  classes: Int32Array | null = null;
  nFeatures = 0;
  tree: FlatTree | null = null;

  constructor(params: Partial<DecisionTreeClassifierParams> & Progress = {}) {
    validateParams(DecisionTreeClassifier.kind, params, classifierConstraints);
    const { rest, onProgress } = stripProgress(params);
    this.params = { ...commonDefaults, criterion: 'gini', classWeight: null, ...definedOnly(rest) };
    this.onProgress = onProgress;
  }

  fit(x: Matrix, y: Labels): this {
    const owner = DecisionTreeClassifier.kind;
    checkXy(x, y, owner);
    const { classes, yc } = encodeLabels(y, owner);
    const cw = classWeights(this.params.classWeight, classes, yc, owner);
    const mapper = fitBinMapper(x, this.params.maxBins);
    const { codes } = binMatrix(x, mapper);
    const data: TreeData = {
      codes,
      n: x.rows,
      p: x.cols,
      nBins: mapper.nBins,
      binLo: mapper.binLo,
      binHi: mapper.binHi,
      task: 'clf',
      yc,
      nClasses: classes.length,
      yr: new Float64Array(0),
    };
    const w = new Float64Array(x.rows);
    for (let i = 0; i < x.rows; i++) w[i] = cw[yc[i]];
    this.tree = buildTree(data, w, buildOptions(this.params, x.rows, x.cols), new Rng(this.params.seed));
    this.classes = classes;
    this.nFeatures = x.cols;
    this.onProgress?.(1);
    return this;
  }

  /** Class probabilities: leaf class frequencies (weighted), one column per entry of `classes`. */
  predictProba(x: Matrix): Matrix {
    const tree = this.fitted();
    checkPredictX(x, this.nFeatures, DecisionTreeClassifier.kind);
    const out = new Float64Array(x.rows * tree.nOutputs);
    accumulateTree(tree, x, out);
    return { data: out, rows: x.rows, cols: tree.nOutputs };
  }

  predict(x: Matrix): Int32Array {
    return argmaxLabels(this.predictProba(x), this.classes!);
  }

  get featureImportances(): Float64Array {
    return treeImportances(this.fitted(), this.nFeatures);
  }

  private fitted(): FlatTree {
    if (this.tree === null) throw new NotFittedError(DecisionTreeClassifier.kind);
    return this.tree;
  }

  toJSON(): DecisionTreeJSON<DecisionTreeClassifierParams> {
    const tree = this.fitted();
    return {
      kind: DecisionTreeClassifier.kind,
      version: VERSION,
      params: this.params,
      nFeatures: this.nFeatures,
      classes: Array.from(this.classes!),
      tree: treeToJSON(tree),
    };
  }

  static fromJSON(json: unknown): DecisionTreeClassifier {
    const j = checkVersion(json, DecisionTreeClassifier.kind, VERSION) as unknown as DecisionTreeJSON<DecisionTreeClassifierParams>;
    const m = new DecisionTreeClassifier(j.params);
    m.tree = treeFromJSON(j.tree);
    m.nFeatures = j.nFeatures;
    if (!Array.isArray(j.classes) || j.classes.length !== m.tree.nOutputs) {
      throw new TypeError(`${DecisionTreeClassifier.kind}.fromJSON: classes must list ${m.tree.nOutputs} labels`);
    }
    m.classes = Int32Array.from(j.classes);
    return m;
  }
}

export class DecisionTreeRegressor {
  static readonly kind = 'DecisionTreeRegressor';
  readonly params: DecisionTreeRegressorParams;
  private onProgress: ((f: number) => void) | null;
  nFeatures = 0;
  tree: FlatTree | null = null;

  constructor(params: Partial<DecisionTreeRegressorParams> & Progress = {}) {
    validateParams(DecisionTreeRegressor.kind, params, regressorConstraints);
    const { rest, onProgress } = stripProgress(params);
    this.params = { ...commonDefaults, criterion: 'squared_error', ...definedOnly(rest) };
    this.onProgress = onProgress;
  }

  fit(x: Matrix, y: Labels): this {
    const owner = DecisionTreeRegressor.kind;
    checkXy(x, y, owner);
    const yr = checkRegressionTargets(y, owner);
    const mapper = fitBinMapper(x, this.params.maxBins);
    const { codes } = binMatrix(x, mapper);
    const data: TreeData = {
      codes,
      n: x.rows,
      p: x.cols,
      nBins: mapper.nBins,
      binLo: mapper.binLo,
      binHi: mapper.binHi,
      task: 'reg',
      yc: new Int32Array(0),
      nClasses: 0,
      yr,
    };
    const w = new Float64Array(x.rows).fill(1);
    this.tree = buildTree(data, w, buildOptions(this.params, x.rows, x.cols), new Rng(this.params.seed));
    this.nFeatures = x.cols;
    this.onProgress?.(1);
    return this;
  }

  predict(x: Matrix): Float64Array {
    const tree = this.fitted();
    checkPredictX(x, this.nFeatures, DecisionTreeRegressor.kind);
    const out = new Float64Array(x.rows);
    accumulateTree(tree, x, out);
    return out;
  }

  get featureImportances(): Float64Array {
    return treeImportances(this.fitted(), this.nFeatures);
  }

  private fitted(): FlatTree {
    if (this.tree === null) throw new NotFittedError(DecisionTreeRegressor.kind);
    return this.tree;
  }

  toJSON(): DecisionTreeJSON<DecisionTreeRegressorParams> {
    return {
      kind: DecisionTreeRegressor.kind,
      version: VERSION,
      params: this.params,
      nFeatures: this.nFeatures,
      classes: null,
      tree: treeToJSON(this.fitted()),
    };
  }

  static fromJSON(json: unknown): DecisionTreeRegressor {
    const j = checkVersion(json, DecisionTreeRegressor.kind, VERSION) as unknown as DecisionTreeJSON<DecisionTreeRegressorParams>;
    const m = new DecisionTreeRegressor(j.params);
    m.tree = treeFromJSON(j.tree);
    m.nFeatures = j.nFeatures;
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
