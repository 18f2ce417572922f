// One training, as plain data in and out so it runs the same inline or on a worker thread
// (training-pool.ts): GridSearchCV over the grid (stratified folds), out-of-fold predictions of the
// best parameters (held-out accuracy, macro F1, confusion matrix), the refit model and its JSON.
import { performance } from 'node:perf_hooks';
import { accuracy, f1Macro, type ScorerName } from '../../ml/metrics.ts';
import { GridSearchCV, StratifiedKFold, type EstimatorKind } from '../../ml/model-selection.ts';
import { makeEstimator, normaliseParams, takeValues } from '../../ml/model-selection-tasks.ts';
import { takeRows } from '../../ml/matrix.ts';
import { confusionMatrix } from './models.domain.ts';

export interface TrainingInput {
  kind: EstimatorKind;
  grid: Record<string, unknown[]>;
  /** Features, row-major: y.length × nFeatures. */
  x: Float64Array;
  nFeatures: number;
  y: Int32Array;
  nClasses: number;
  cv: number;
  scoring: ScorerName;
  seed: number;
  /** Worker threads of the grid search; 1 = in this thread, which also times each fit. */
  nJobs: number;
}

export interface TrainingOutput {
  best_params: Record<string, unknown>;
  best_score: number;
  training_accuracy: number;
  cv_results: {
    params: Record<string, unknown>[];
    mean_test_score: number[];
    std_test_score: number[];
    rank_test_score: number[];
    /** Seconds per fit (fit and score of one fold), null when the search ran on several threads. */
    mean_fit_time: (number | null)[];
    std_fit_time: (number | null)[];
    [split: `split${number}_test_score`]: number[];
  };
  metrics: { accuracy: number; f1_macro: number; confusion_matrix: number[][]; method: string };
  feature_importances: number[];
  artifact: unknown;
  /** Size of the fitted model as JSON (what the registry stores). */
  artifact_bytes: number;
  fits_planned: number;
  training_ms: number;
}

/** Fits planned: candidates × folds, the out-of-fold pass of the best (folds), and the refit. */
export function fitsPlanned(candidates: number, cv: number): number {
  return candidates * cv + cv + 1;
}

export async function runTraining(input: TrainingInput, run: { signal?: AbortSignal; onFits?(done: number, planned: number): void } = {}): Promise<TrainingOutput> {
  const started = performance.now();
  const x = { data: input.x, rows: input.y.length, cols: input.nFeatures };
  const y = input.y;
  const grid = new GridSearchCV({ estimator: { kind: input.kind, params: { seed: input.seed } }, paramGrid: input.grid, cv: input.cv, scoring: input.scoring, nJobs: input.nJobs });
  const nC = grid.candidates.length;
  const planned = fitsPlanned(nC, input.cv);
  const searchSteps = nC * input.cv + 1;
  // Sequential search: each progress step is one task finished, in order, so the gaps are its times.
  const taskMs: number[] = [];
  let last = performance.now();
  let reported = 0;
  const onProgress = (f: number) => {
    const done = Math.round(f * searchSteps);
    const now = performance.now();
    if (input.nJobs === 1 && done <= nC * input.cv) for (let t = reported; t < done; t++) taskMs[t] = (now - last) / Math.max(1, done - reported);
    last = now;
    reported = done;
    // The refit is counted last of all fits (after the out-of-fold pass).
    run.onFits?.(Math.min(done, nC * input.cv), planned);
  };
  await grid.fit(x, y, { signal: run.signal, onProgress });
  const res = grid.cvResults!;
  const best = grid.bestEstimator! as unknown as { predict(m: typeof x): ArrayLike<number>; featureImportances: Float64Array; toJSON(): unknown };
  // Out-of-fold predictions of the best parameters on the same folds: held-out metrics of the model.
  const own = { seed: input.seed, ...normaliseParams(input.kind, grid.bestParams!) };
  const oof = new Int32Array(y.length);
  const splits = new StratifiedKFold({ nSplits: input.cv }).split(y);
  for (let k = 0; k < splits.length; k++) {
    run.signal?.throwIfAborted();
    const est = makeEstimator(input.kind, own);
    est.fit(takeRows(x, splits[k].train), takeValues(y, splits[k].train));
    const pred = est.predict(takeRows(x, splits[k].test));
    for (let i = 0; i < pred.length; i++) oof[splits[k].test[i]] = pred[i];
    run.onFits?.(nC * input.cv + k + 1, planned);
  }
  run.signal?.throwIfAborted();
  const trainPred = best.predict(x);
  run.onFits?.(planned, planned);
  const fitTimes = Array.from({ length: nC }, (_, c) => {
    if (input.nJobs !== 1) return { mean: null, std: null };
    const t = taskMs.slice(c * input.cv, (c + 1) * input.cv).map((ms) => ms / 1000);
    const mean = t.reduce((a, b) => a + b, 0) / t.length;
    return { mean, std: Math.sqrt(t.reduce((a, b) => a + (b - mean) ** 2, 0) / t.length) };
  });
  const cvResults: TrainingOutput['cv_results'] = {
    params: res.params,
    mean_test_score: res.meanTestScore,
    std_test_score: res.stdTestScore,
    rank_test_score: res.rankTestScore,
    mean_fit_time: fitTimes.map((f) => f.mean),
    std_fit_time: fitTimes.map((f) => f.std),
  };
  res.splitTestScores.forEach((scores, k) => (cvResults[`split${k}_test_score`] = scores));
  const artifact = best.toJSON();
  return {
    best_params: grid.bestParams!,
    best_score: grid.bestScore,
    training_accuracy: accuracy(y, trainPred),
    cv_results: cvResults,
    metrics: {
      accuracy: accuracy(y, oof),
      f1_macro: f1Macro(y, oof),
      confusion_matrix: confusionMatrix(y, oof, input.nClasses),
      method: `out-of-fold predictions of the best parameters over the same ${input.cv} stratified folds`,
    },
    feature_importances: Array.from(best.featureImportances),
    artifact,
    artifact_bytes: JSON.stringify(artifact).length,
    fits_planned: planned,
    training_ms: Math.round(performance.now() - started),
  };
}
