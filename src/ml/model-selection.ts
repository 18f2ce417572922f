// Cross-validation splitters, crossValScore and GridSearchCV with sklearn's semantics:
// KFold/StratifiedKFold reproduce sklearn's test folds when shuffle is false, the grid is
// enumerated in ParameterGrid order, and ranks, best index and refit follow GridSearchCV.
// Candidate × split tasks run on worker threads (nJobs) with results identical to nJobs = 1.

import { NotFittedError } from './errors.ts';
import type { Matrix } from './matrix.ts';
import { SCORER_NAMES, type ScorerName } from './metrics.ts';
import {
  evaluateSplit,
  Folds,
  isClassifierKind,
  isEstimatorKind,
  makeEstimator,
  normaliseParams,
  type CvWorkerInput,
  type CvWorkerMessage,
  type Estimator,
  type EstimatorKind,
} from './model-selection-tasks.ts';
import { Rng } from './rng.ts';
import { checkRunOptions, checkThreads, defaultThreads, Progress, type RunOptions } from './runtime.ts';
import { shared } from './forest-train.ts';
import { runWorkersToExit, startWorkers } from './worker-pool.ts';

export { SKLEARN_PARAM_NAMES, ESTIMATOR_KINDS, type Estimator, type EstimatorKind } from './model-selection-tasks.ts';

export interface Split {
  train: Int32Array;
  test: Int32Array;
}

export interface SplitterOptions {
  nSplits?: number;
  shuffle?: boolean;
  seed?: number;
}

function checkSplitter(owner: string, o: SplitterOptions): { nSplits: number; shuffle: boolean; seed: number } {
  const nSplits = o.nSplits ?? 5;
  if (!Number.isInteger(nSplits) || nSplits < 2) throw new RangeError(`${owner}: nSplits must be an integer >= 2, got ${nSplits}`);
  const shuffle = o.shuffle ?? false;
  if (typeof shuffle !== 'boolean') throw new TypeError(`${owner}: shuffle must be a boolean`);
  const seed = o.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0) throw new RangeError(`${owner}: seed must be an integer >= 0, got ${seed}`);
  return { nSplits, shuffle, seed };
}

function splitsFromTestFolds(testFold: Int32Array, nSplits: number): Split[] {
  const out: Split[] = [];
  for (let k = 0; k < nSplits; k++) {
    let nTest = 0;
    for (let i = 0; i < testFold.length; i++) if (testFold[i] === k) nTest++;
    const test = new Int32Array(nTest);
    const train = new Int32Array(testFold.length - nTest);
    let a = 0;
    let b = 0;
    for (let i = 0; i < testFold.length; i++) {
      if (testFold[i] === k) test[a++] = i;
      else train[b++] = i;
    }
    out.push({ train, test });
  }
  return out;
}

/** sklearn's KFold: contiguous folds, the first n % nSplits one row larger; shuffle uses our Rng. */
export class KFold {
  readonly nSplits: number;
  readonly shuffle: boolean;
  readonly seed: number;
  constructor(options: SplitterOptions = {}) {
    ({ nSplits: this.nSplits, shuffle: this.shuffle, seed: this.seed } = checkSplitter('KFold', options));
  }

  split(n: number): Split[] {
    if (this.nSplits > n) throw new RangeError(`KFold: nSplits=${this.nSplits} cannot be greater than the number of samples ${n}`);
    const order = Int32Array.from({ length: n }, (_, i) => i);
    if (this.shuffle) new Rng(this.seed).shuffle(order);
    const testFold = new Int32Array(n);
    let pos = 0;
    for (let k = 0; k < this.nSplits; k++) {
      const size = Math.floor(n / this.nSplits) + (k < n % this.nSplits ? 1 : 0);
      for (let j = 0; j < size; j++) testFold[order[pos++]] = k;
    }
    return splitsFromTestFolds(testFold, this.nSplits);
  }
}

/**
 * sklearn's StratifiedKFold: classes in order of first appearance, per-fold class counts from a
 * round robin over the sorted labels, and each class's rows given to folds in blocks. With
 * shuffle the block order is shuffled by our Rng (so it differs from numpy's).
 */
export class StratifiedKFold {
  readonly nSplits: number;
  readonly shuffle: boolean;
  readonly seed: number;
  constructor(options: SplitterOptions = {}) {
    ({ nSplits: this.nSplits, shuffle: this.shuffle, seed: this.seed } = checkSplitter('StratifiedKFold', options));
  }

  split(y: ArrayLike<number>): Split[] {
    const n = y.length;
    const K = this.nSplits;
    // Encode classes by order of first appearance.
    const code = new Map<number, number>();
    const yEnc = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      let c = code.get(y[i]);
      if (c === undefined) {
        c = code.size;
        code.set(y[i], c);
      }
      yEnc[i] = c;
    }
    const nClasses = code.size;
    const counts = new Int32Array(nClasses);
    for (let i = 0; i < n; i++) counts[yEnc[i]]++;
    if (counts.every((c) => K > c)) {
      throw new RangeError(`StratifiedKFold: nSplits=${K} cannot be greater than the number of members in each class`);
    }
    // allocation[k][c] = count of class c among sorted labels at positions k, k+K, k+2K, ...
    const sorted = Int32Array.from(yEnc).sort();
    const allocation = new Int32Array(K * nClasses);
    for (let i = 0; i < n; i++) allocation[(i % K) * nClasses + sorted[i]]++;
    const testFold = new Int32Array(n);
    const rng = new Rng(this.seed);
    for (let c = 0; c < nClasses; c++) {
      const folds = new Int32Array(counts[c]);
      let pos = 0;
      for (let k = 0; k < K; k++) for (let j = 0; j < allocation[k * nClasses + c]; j++) folds[pos++] = k;
      if (this.shuffle) rng.shuffle(folds);
      let q = 0;
      for (let i = 0; i < n; i++) if (yEnc[i] === c) testFold[i] = folds[q++];
    }
    return splitsFromTestFolds(testFold, K);
  }
}

export type ParamGrid = Record<string, readonly unknown[]>;

/** sklearn's ParameterGrid: per grid, keys sorted, the last key varying fastest. */
export function parameterGrid(grid: ParamGrid | readonly ParamGrid[]): Record<string, unknown>[] {
  const grids = Array.isArray(grid) ? (grid as readonly ParamGrid[]) : [grid as ParamGrid];
  const out: Record<string, unknown>[] = [];
  for (const g of grids) {
    if (typeof g !== 'object' || g === null || Array.isArray(g)) throw new TypeError('paramGrid must be an object or a list of objects');
    const keys = Object.keys(g).sort();
    for (const k of keys) {
      if (!Array.isArray(g[k])) throw new TypeError(`paramGrid: the values of ${JSON.stringify(k)} must be an array`);
      if (g[k].length === 0) throw new RangeError(`paramGrid: the values of ${JSON.stringify(k)} must be a non-empty array`);
    }
    const idx = new Array<number>(keys.length).fill(0);
    for (;;) {
      const p: Record<string, unknown> = {};
      keys.forEach((k, j) => (p[k] = g[k][idx[j]]));
      out.push(p);
      let j = keys.length - 1;
      while (j >= 0 && ++idx[j] === g[keys[j]].length) idx[j--] = 0;
      if (j < 0) break;
    }
  }
  return out;
}

/** An estimator given by kind name (parallelisable) or by a factory from params (in-thread only). */
export type EstimatorSpec = EstimatorKind | { kind: EstimatorKind; params?: Record<string, unknown> } | ((params: Record<string, unknown>) => Estimator);

export interface CvOptions {
  /** Number of stratified (classifier) or plain folds, or a splitter. Default 5. */
  cv?: number | KFold | StratifiedKFold;
  scoring?: ScorerName;
  /** Worker threads; only used with an estimator given by kind. Default (and -1): defaultThreads(). */
  nJobs?: number;
}

interface ResolvedSpec {
  kind: EstimatorKind | null;
  base: Record<string, unknown>;
  factory: ((params: Record<string, unknown>) => Estimator) | null;
}

function resolveSpec(spec: EstimatorSpec): ResolvedSpec {
  if (typeof spec === 'function') return { kind: null, base: {}, factory: spec };
  const kind = typeof spec === 'string' ? spec : spec?.kind;
  if (!isEstimatorKind(kind)) throw new TypeError(`estimator must be a factory or one of DecisionTreeClassifier, DecisionTreeRegressor, RandomForestClassifier, RandomForestRegressor; got ${JSON.stringify(kind)}`);
  const base = typeof spec === 'string' ? {} : normaliseParams(kind, spec.params ?? {});
  return { kind, base, factory: null };
}

function makeSplits(cv: CvOptions['cv'], y: ArrayLike<number>, classifier: boolean): Split[] {
  const c = cv ?? 5;
  if (typeof c === 'number') return classifier ? new StratifiedKFold({ nSplits: c }).split(y) : new KFold({ nSplits: c }).split(y.length);
  if (c instanceof StratifiedKFold) return c.split(y);
  if (c instanceof KFold) return c.split(y.length);
  throw new TypeError('cv must be an integer >= 2, a KFold or a StratifiedKFold');
}

function checkScoring(s: unknown): ScorerName {
  if (!(SCORER_NAMES as readonly unknown[]).includes(s)) throw new RangeError(`scoring must be one of ${SCORER_NAMES.join(', ')}, got ${JSON.stringify(s)}`);
  return s as ScorerName;
}

function checkNJobs(n: unknown): number {
  if (n === undefined || n === -1) return defaultThreads();
  return checkThreads(n, 'nJobs (or -1 for the default thread count)');
}

/**
 * Scores of candidates × splits, laid out [candidate * nSplits + split]. With a kind and
 * nJobs > 1 the tasks run on worker threads that share X and y; the scores are the same.
 */
async function evaluateAll(
  spec: ResolvedSpec,
  candidates: Record<string, unknown>[],
  x: Matrix,
  y: Int32Array | Float64Array,
  splits: Split[],
  scoring: ScorerName,
  nJobs: number,
  progress: Progress,
  /** Progress counts this many steps after the tasks (the refit). */
  after = 0,
): Promise<Float64Array> {
  const nTasks = candidates.length * splits.length;
  const steps = nTasks + after;
  progress.check();
  const scores = new Float64Array(nTasks);
  if (spec.kind === null || nJobs <= 1 || nTasks === 1) {
    const folds = new Folds(x, y, splits, spec.factory === null);
    for (let t = 0; t < nTasks; t++) {
      const c = Math.floor(t / splits.length);
      const est = spec.factory !== null ? spec.factory(candidates[c]) : makeEstimator(spec.kind!, candidates[c]);
      scores[t] = evaluateSplit(est, folds.get(t % splits.length), scoring);
      progress.step((t + 1) / steps);
    }
    return scores;
  }
  const xData = x.data instanceof Float32Array ? shared(Float64Array.from(x.data)) : shared(x.data);
  const input: CvWorkerInput = {
    kind: spec.kind,
    candidates,
    x: { data: xData, rows: x.rows, cols: x.cols },
    y: shared(y),
    splits: splits.map((s) => ({ train: shared(s.train), test: shared(s.test) })),
    scoring,
    counter: new Int32Array(new SharedArrayBuffer(4)),
  };
  let done = 0;
  const workers = startWorkers(new URL('./model-selection-worker.ts', import.meta.url), Math.min(nJobs, nTasks), input);
  const onScore = (m: CvWorkerMessage) => {
    scores[m.task] = m.score;
    progress.report(++done / steps);
  };
  await runWorkersToExit(workers, 'grid search', onScore, () => Atomics.store(input.counter, 0, nTasks), undefined, progress.signal);
  progress.check();
  return scores;
}

/** sklearn's cross_val_score: one score per split (stratified folds for classifiers). */
export async function crossValScore(spec: EstimatorSpec, x: Matrix, y: Int32Array | Float64Array, options: CvOptions = {}, run: RunOptions = {}): Promise<Float64Array> {
  checkRunOptions('crossValScore', run);
  const r = resolveSpec(spec);
  const scoring = checkScoring(options.scoring ?? (r.kind === null || isClassifierKind(r.kind) ? 'accuracy' : 'r2'));
  const classifier = r.kind === null ? scoring !== 'r2' && scoring !== 'neg_mean_squared_error' : isClassifierKind(r.kind);
  const splits = makeSplits(options.cv, y, classifier);
  const progress = new Progress(run.onProgress, run.signal);
  const scores = await evaluateAll(r, [r.base], x, y, splits, scoring, checkNJobs(run.nJobs ?? options.nJobs), progress);
  progress.done();
  return scores;
}

export interface CvResults {
  /** Candidate parameters with the grid's own names (as sklearn's cv_results_['params']). */
  params: Record<string, unknown>[];
  /** splitTestScores[k][c]: score of candidate c on split k (sklearn's split{k}_test_score). */
  splitTestScores: number[][];
  meanTestScore: number[];
  /** Population standard deviation over the splits, as numpy's std. */
  stdTestScore: number[];
  /** 1 = best; ties share the smallest rank (scipy rankdata method 'min'). */
  rankTestScore: number[];
}

export interface GridSearchOptions extends CvOptions {
  estimator: EstimatorSpec;
  paramGrid: ParamGrid | readonly ParamGrid[];
  /** Refit the best candidate on all the data (default true). */
  refit?: boolean;
  onProgress?: ((fraction: number) => void) | null;
}

export class GridSearchCV {
  private readonly spec: ResolvedSpec;
  /** Candidates with the grid's names, and with our parameter names. */
  readonly candidates: Record<string, unknown>[];
  private readonly ownCandidates: Record<string, unknown>[];
  private readonly options: GridSearchOptions;
  cvResults: CvResults | null = null;
  bestIndex = -1;
  bestScore = NaN;
  bestParams: Record<string, unknown> | null = null;
  bestEstimator: Estimator | null = null;

  constructor(options: GridSearchOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('GridSearchCV needs an options object');
    this.options = options;
    this.spec = resolveSpec(options.estimator);
    checkScoring(options.scoring ?? 'accuracy');
    checkNJobs(options.nJobs);
    this.candidates = parameterGrid(options.paramGrid);
    const kind = this.spec.kind;
    this.ownCandidates = this.candidates.map((c) => (kind === null ? { ...c } : { ...this.spec.base, ...normaliseParams(kind, c) }));
    // Fail on invalid values before any fitting (constructors validate their parameters).
    if (kind !== null) for (const c of this.ownCandidates) makeEstimator(kind, c);
  }

  /**
   * Evaluates every candidate on every split (on worker threads when nJobs > 1), then refits the
   * best. `run` (RunOptions) overrides the constructor's nJobs and onProgress and may carry a
   * signal, checked between tasks and before and after the refit; an abort terminates the workers
   * and leaves the search unfitted. Progress counts the tasks and the refit.
   */
  async fit(x: Matrix, y: Int32Array | Float64Array, run: RunOptions = {}): Promise<this> {
    checkRunOptions('GridSearchCV.fit', run);
    const progress = new Progress(run.onProgress === undefined ? this.options.onProgress : run.onProgress, run.signal);
    progress.check();
    const kind = this.spec.kind;
    const scoring = checkScoring(this.options.scoring ?? (kind === null || isClassifierKind(kind) ? 'accuracy' : 'r2'));
    const classifier = kind === null ? scoring !== 'r2' && scoring !== 'neg_mean_squared_error' : isClassifierKind(kind);
    if (x.rows !== y.length) throw new RangeError(`GridSearchCV.fit: X has ${x.rows} rows but y has ${y.length} values`);
    const splits = makeSplits(this.options.cv, y, classifier);
    const nJobs = checkNJobs(run.nJobs ?? this.options.nJobs);
    this.reset();
    const refit = this.options.refit ?? true;
    const scores = await evaluateAll(this.spec, this.ownCandidates, x, y, splits, scoring, nJobs, progress, refit ? 1 : 0);
    const nC = this.candidates.length;
    const nS = splits.length;
    const mean: number[] = [];
    const std: number[] = [];
    const perSplit: number[][] = Array.from({ length: nS }, () => new Array<number>(nC));
    for (let c = 0; c < nC; c++) {
      let s = 0;
      for (let k = 0; k < nS; k++) {
        s += scores[c * nS + k];
        perSplit[k][c] = scores[c * nS + k];
      }
      const m = s / nS;
      let v = 0;
      for (let k = 0; k < nS; k++) v += (scores[c * nS + k] - m) ** 2;
      mean.push(m);
      std.push(Math.sqrt(v / nS));
    }
    const rank = mean.map((m) => 1 + mean.filter((o) => o > m).length);
    const bestIndex = rank.indexOf(1);
    let bestEstimator: Estimator | null = null;
    if (refit) {
      const own = this.ownCandidates[bestIndex];
      if (this.spec.factory !== null) {
        bestEstimator = this.spec.factory(own);
        bestEstimator.fit(x, y);
      } else {
        // Our estimators take the signal (a tree checks it between nodes, a forest between trees).
        const est = makeEstimator(kind!, own) as Estimator & { fit(x: Matrix, y: Int32Array | Float64Array, run: RunOptions): unknown };
        est.fit(x, y, { signal: progress.signal });
        bestEstimator = est;
      }
      progress.check();
    }
    this.bestIndex = bestIndex;
    this.bestScore = mean[bestIndex];
    this.bestParams = this.candidates[bestIndex];
    this.cvResults = { params: this.candidates, splitTestScores: perSplit, meanTestScore: mean, stdTestScore: std, rankTestScore: rank };
    this.bestEstimator = bestEstimator;
    progress.done();
    return this;
  }

  /** Forgets the results of an earlier fit, so an aborted or failed search leaves none behind. */
  private reset(): void {
    this.cvResults = null;
    this.bestIndex = -1;
    this.bestScore = NaN;
    this.bestParams = null;
    this.bestEstimator = null;
  }

  /** The refit best estimator's predictions; NotFittedError before fit, TypeError with refit: false. */
  predict(x: Matrix): ArrayLike<number> {
    if (this.cvResults === null) throw new NotFittedError('GridSearchCV');
    if (this.bestEstimator === null) throw new TypeError('GridSearchCV: predict needs refit: true');
    return this.bestEstimator.predict(x);
  }
}
