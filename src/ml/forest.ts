// Random forests (classifier and regressor) as sklearn's: bootstrap rows, sample features per
// node, average the trees' leaf values. Data is binned once and shared with worker threads.
//
// fit() always grows the trees in the calling thread (synchronous). fitAsync() grows them on
// nJobs worker threads (or in-thread when nJobs is 1). Both give bit-identical forests because
// tree t only uses Rng.derive(seed, t).

import { MAX_BINS } from './binning.ts';
import { NotFittedError } from './errors.ts';
import { bootstrapCounts, growForestParallel, growForestSync, startForestWorkers, type ForestJob } from './forest-train.ts';
import type { Matrix } from './matrix.ts';
import { accuracy, r2Score } from './metrics.ts';
import { Rng } from './rng.ts';
import { checkRunOptions, MAX_THREADS, Progress, resolveThreads, type RunOptions } from './runtime.ts';
import type { FlatTree } from './tree-build.ts';
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
  boolean,
  classifierOnlyConstraints,
  func,
  growthConstraints,
  intRange,
  nullValue,
  regressorOnlyConstraints,
  seedConstraint,
  validateParams,
  type Constraints,
  type MaxFeatures,
} from './tree-params.ts';
import { accumulateTree, leafOf, normalise, treeFromJSON, treeImportances, treeToJSON, type FlatTreeJSON } from './tree-predict.ts';
import { argmaxLabels, buildOptions, definedOnly } from './tree.ts';

const VERSION = 1;

interface CommonForestParams {
  nEstimators: number;
  maxDepth: number | null;
  minSamplesSplit: number;
  minSamplesLeaf: number;
  maxFeatures: MaxFeatures;
  minImpurityDecrease: number;
  bootstrap: boolean;
  oobScore: boolean;
  seed: number;
  maxBins: number;
}

export interface RandomForestClassifierParams extends CommonForestParams {
  criterion: 'gini' | 'entropy';
  classWeight: ClassWeight;
}
export interface RandomForestRegressorParams extends CommonForestParams {
  criterion: 'squared_error';
}

/**
 * Runtime options, not part of the model (so not in toJSON): the defaults of the same options
 * of each call (RunOptions, which override them).
 */
export interface ForestRuntime {
  /** Worker threads used by fitAsync (default: defaultThreads() when fitAsync runs). */
  nJobs?: number;
  onProgress?: ((fraction: number) => void) | null;
}

const commonConstraints: Constraints = {
  nEstimators: intRange(1, 100000),
  ...growthConstraints,
  bootstrap: boolean,
  oobScore: boolean,
  seed: seedConstraint,
  maxBins: intRange(2, MAX_BINS),
  nJobs: intRange(1, MAX_THREADS),
  onProgress: anyOf(func, nullValue),
};
export const forestClassifierConstraints: Constraints = { ...commonConstraints, ...classifierOnlyConstraints };
export const forestRegressorConstraints: Constraints = { ...commonConstraints, ...regressorOnlyConstraints };

const commonDefaults = {
  nEstimators: 100,
  maxDepth: null,
  minSamplesSplit: 2,
  minSamplesLeaf: 1,
  minImpurityDecrease: 0,
  bootstrap: true,
  oobScore: false,
  seed: 0,
  maxBins: MAX_BINS,
};

export interface ForestJSON<P> {
  kind: string;
  version: number;
  params: P;
  nFeatures: number;
  classes: number[] | null;
  oobScore: number | null;
  trees: FlatTreeJSON[];
}

/** The shared part of both forests: parameters, fitting and tree bookkeeping. */
abstract class BaseForest<P extends CommonForestParams & { criterion: 'gini' | 'entropy' | 'squared_error' }> {
  readonly params: P;
  /** undefined: defaultThreads() at each fitAsync. */
  nJobs: number | undefined;
  onProgress: ((f: number) => void) | null;
  trees: FlatTree[] | null = null;
  nFeatures = 0;
  /** sklearn's oob_score_: accuracy (classifier) or R² (regressor) of out-of-bag predictions. */
  oobScore_: number | null = null;

  protected abstract readonly kind: string;

  constructor(params: P, runtime: ForestRuntime) {
    this.params = params;
    this.nJobs = runtime.nJobs;
    this.onProgress = runtime.onProgress ?? null;
    if (params.oobScore && !params.bootstrap) throw new RangeError('oobScore requires bootstrap: true (as sklearn)');
  }

  /** The encoded targets, and each row's weight before bootstrapping. */
  protected abstract prepare(x: Matrix, y: Labels): { targets: TreeTargets; baseW: Float64Array };
  protected abstract computeOob(x: Matrix, job: ForestJob): number;

  private makeJob(x: Matrix, y: Labels): ForestJob {
    checkXy(x, y, this.kind);
    const { targets, baseW } = this.prepare(x, y);
    return {
      data: binnedTreeData(x, this.params.maxBins, targets),
      baseW,
      opts: buildOptions(this.params, x.rows, x.cols),
      bootstrap: this.params.bootstrap,
      seed: this.params.seed,
      nTrees: this.params.nEstimators,
    };
  }

  private finish(x: Matrix, job: ForestJob, trees: FlatTree[]): this {
    this.trees = trees;
    this.nFeatures = x.cols;
    this.oobScore_ = this.params.oobScore ? this.computeOob(x, job) : null;
    return this;
  }

  /**
   * Forgets the fitted model once X and y pass checkXy, so a fit that is aborted (or fails) while
   * training leaves the forest unfitted; input refused by checkXy leaves it as it was.
   */
  protected reset(): void {
    this.trees = null;
    this.nFeatures = 0;
    this.oobScore_ = null;
  }

  private progress(run: RunOptions): Progress {
    checkRunOptions(`${this.kind}.fit`, run);
    return new Progress(run.onProgress === undefined ? this.onProgress : run.onProgress, run.signal);
  }

  /**
   * Grows every tree in the calling thread. `run.onProgress` (else the constructor's) gets the
   * fraction of trees grown; `run.signal` is checked between trees.
   */
  fit(x: Matrix, y: Labels, run: RunOptions = {}): this {
    const progress = this.progress(run);
    progress.check();
    checkXy(x, y, this.kind);
    this.reset();
    try {
      const job = this.makeJob(x, y);
      progress.check();
      const trees = growForestSync(job, progress);
      this.finish(x, job, trees);
    } catch (e) {
      this.reset();
      throw e;
    }
    progress.done();
    return this;
  }

  /**
   * Grows the trees on nJobs worker threads (run.nJobs, else the constructor's, else
   * defaultThreads()); the result equals fit()'s bit for bit. An abort terminates the workers.
   */
  async fitAsync(x: Matrix, y: Labels, run: RunOptions = {}): Promise<this> {
    const progress = this.progress(run);
    const nJobs = resolveThreads(run.nJobs ?? this.nJobs, `${this.kind}.fitAsync: nJobs`);
    if (nJobs <= 1 || this.params.nEstimators === 1) return this.fit(x, y, run);
    progress.check();
    checkXy(x, y, this.kind);
    this.reset();
    // Workers load their code while this thread bins the data.
    const workers = startForestWorkers(Math.min(nJobs, this.params.nEstimators));
    let job: ForestJob;
    try {
      job = this.makeJob(x, y);
      progress.check();
    } catch (e) {
      this.reset();
      await Promise.all(workers.map((w) => w.terminate()));
      throw e;
    }
    try {
      const trees = await growForestParallel(job, workers, progress);
      progress.check();
      this.finish(x, job, trees);
    } catch (e) {
      this.reset();
      throw e;
    }
    progress.done();
    return this;
  }

  protected fitted(): FlatTree[] {
    if (this.trees === null) throw new NotFittedError(this.kind);
    return this.trees;
  }

  /** Mean over the trees (with more than one node) of their normalised importances, renormalised. */
  get featureImportances(): Float64Array {
    const trees = this.fitted();
    const out = new Float64Array(this.nFeatures);
    let used = 0;
    for (const t of trees) {
      if (t.nodeCount <= 1) continue;
      const imp = treeImportances(t, this.nFeatures);
      for (let f = 0; f < out.length; f++) out[f] += imp[f];
      used++;
    }
    if (used > 0) for (let f = 0; f < out.length; f++) out[f] /= used;
    normalise(out);
    return out;
  }

  /** Sum of per-tree leaf values divided by the number of trees, as sklearn. */
  protected average(x: Matrix, width: number): Float64Array {
    const trees = this.fitted();
    checkPredictX(x, this.nFeatures, this.kind);
    const out = new Float64Array(x.rows * width);
    for (const t of trees) accumulateTree(t, x, out);
    const inv = trees.length;
    for (let i = 0; i < out.length; i++) out[i] /= inv;
    return out;
  }

  /** Out-of-bag sums as sklearn's _compute_oob_predictions (rows never out of bag count once). */
  protected oobPredictions(x: Matrix, job: ForestJob, width: number): Float64Array {
    const n = x.rows;
    const sum = new Float64Array(n * width);
    const count = new Int32Array(n);
    const w = new Float64Array(n);
    const trees = this.fitted();
    for (let t = 0; t < trees.length; t++) {
      bootstrapCounts(Rng.derive(job.seed, t), n, w);
      const tree = trees[t];
      for (let r = 0; r < n; r++) {
        if (w[r] !== 0) continue;
        const leaf = leafOf(tree, x.data, r * x.cols);
        for (let k = 0; k < width; k++) sum[r * width + k] += tree.value[leaf * width + k];
        count[r]++;
      }
    }
    for (let r = 0; r < n; r++) {
      const c = Math.max(1, count[r]);
      for (let k = 0; k < width; k++) sum[r * width + k] /= c;
    }
    return sum;
  }

  protected baseJSON(classes: Int32Array | null): ForestJSON<P> {
    return {
      kind: this.kind,
      version: VERSION,
      params: this.params,
      nFeatures: this.nFeatures,
      classes: classes === null ? null : Array.from(classes),
      oobScore: this.oobScore_,
      trees: this.fitted().map(treeToJSON),
    };
  }

  protected loadJSON(j: ForestJSON<P>): void {
    if (!Array.isArray(j.trees) || j.trees.length === 0) throw new TypeError(`${this.kind}.fromJSON: trees must be a non-empty array`);
    this.trees = j.trees.map(treeFromJSON);
    this.nFeatures = j.nFeatures;
    this.oobScore_ = j.oobScore ?? null;
  }
}

function splitRuntime<T extends object>(params: T & ForestRuntime): { rest: T; runtime: ForestRuntime } {
  const { nJobs, onProgress, ...rest } = params;
  return { rest: rest as T, runtime: { nJobs, onProgress } };
}

export class RandomForestClassifier extends BaseForest<RandomForestClassifierParams> {
  static readonly kind = 'RandomForestClassifier';
  protected readonly kind = RandomForestClassifier.kind;
  classes: Int32Array | null = null;

  constructor(params: Partial<RandomForestClassifierParams> & ForestRuntime = {}) {
    validateParams(RandomForestClassifier.kind, params, forestClassifierConstraints);
    const { rest, runtime } = splitRuntime(params);
    super({ ...commonDefaults, maxFeatures: 'sqrt', criterion: 'gini', classWeight: null, ...definedOnly(rest) }, runtime);
  }

  protected override reset(): void {
    super.reset();
    this.classes = null;
  }

  protected prepare(_x: Matrix, y: Labels): { targets: TreeTargets; baseW: Float64Array } {
    const { classes, yc, w } = classificationTargets(y, this.params.classWeight, this.kind);
    this.classes = classes;
    return { targets: classTargets(yc, classes.length), baseW: w };
  }

  protected computeOob(x: Matrix, job: ForestJob): number {
    const K = job.data.nClasses;
    const pred = argmaxLabels({ data: this.oobPredictions(x, job, K), rows: x.rows, cols: K }, Int32Array.from({ length: K }, (_, k) => k));
    return accuracy(job.data.yc, pred);
  }

  predictProba(x: Matrix): Matrix {
    const K = this.fitted()[0].nOutputs;
    return { data: this.average(x, K), rows: x.rows, cols: K };
  }

  predict(x: Matrix): Int32Array {
    return argmaxLabels(this.predictProba(x), this.classes!);
  }

  toJSON(): ForestJSON<RandomForestClassifierParams> {
    return this.baseJSON(this.classes);
  }

  static fromJSON(json: unknown): RandomForestClassifier {
    const j = checkVersion(json, RandomForestClassifier.kind, VERSION) as unknown as ForestJSON<RandomForestClassifierParams>;
    const m = new RandomForestClassifier({ ...j.params, nJobs: 1 });
    m.loadJSON(j);
    m.classes = classesFromJSON(j.classes, m.trees![0].nOutputs, RandomForestClassifier.kind);
    return m;
  }
}

export class RandomForestRegressor extends BaseForest<RandomForestRegressorParams> {
  static readonly kind = 'RandomForestRegressor';
  protected readonly kind = RandomForestRegressor.kind;

  constructor(params: Partial<RandomForestRegressorParams> & ForestRuntime = {}) {
    validateParams(RandomForestRegressor.kind, params, forestRegressorConstraints);
    const { rest, runtime } = splitRuntime(params);
    super({ ...commonDefaults, maxFeatures: 1, criterion: 'squared_error', ...definedOnly(rest) }, runtime);
  }

  protected prepare(x: Matrix, y: Labels): { targets: TreeTargets; baseW: Float64Array } {
    const yr = checkRegressionTargets(y, this.kind);
    return { targets: regressionTargets(yr), baseW: new Float64Array(x.rows).fill(1) };
  }

  protected computeOob(x: Matrix, job: ForestJob): number {
    return r2Score(job.data.yr, this.oobPredictions(x, job, 1));
  }

  predict(x: Matrix): Float64Array {
    return this.average(x, 1);
  }

  toJSON(): ForestJSON<RandomForestRegressorParams> {
    return this.baseJSON(null);
  }

  static fromJSON(json: unknown): RandomForestRegressor {
    const j = checkVersion(json, RandomForestRegressor.kind, VERSION) as unknown as ForestJSON<RandomForestRegressorParams>;
    const m = new RandomForestRegressor({ ...j.params, nJobs: 1 });
    m.loadJSON(j);
    return m;
  }
}
