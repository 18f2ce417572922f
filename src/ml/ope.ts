// Off-policy evaluation: the value V(π) = E_x Σ_a π(a|x) E[r | x, a] of a target policy π, estimated
// from logs collected by another policy that recorded the probability p_i of each action it drew.
// With w_i = π(a_i|x_i) / p_i:
//   IPS    V̂ = (1/n) Σ w_i r_i                                   SE = sd(w_i r_i)/√n
//   SNIPS  V̂ = Σ w_i r_i / Σ w_i                                 SE (delta method) = sd(w_i (r_i − V̂)) / (√n · w̄)
//   DR     V̂ = (1/n) Σ [Σ_a π(a|x_i) q̂(x_i,a) + w_i (r_i − q̂(x_i,a_i))]   SE = sd(ψ_i)/√n
// Intervals are V̂ ± z_{(1+level)/2}·SE (normal approximation). IPS and DR are unbiased when the
// logged p_i are the true probabilities of the draws (what the bandit policies here log) and p_i > 0
// wherever π puts mass; DR is also unbiased with a wrong q̂ and has lower variance with a good one.
// q̂ is either passed in (n × K) or fitted here: ridge regression per action (`fitRewardModel`), or
// cross-fitted on K folds (`crossFitRewardPredictions`) so a row's prediction never saw its reward.

import type { Matrix } from './matrix.ts';
import type { Rng } from './rng.ts';
import { BayesLinearModel } from './bandit-bayes-linear.ts';
import type { BanditPolicy, ChooseOptions } from './bandit-types.ts';
import { normalQuantile } from './stats.ts';

export interface BanditLogs {
  contexts: Matrix;
  actions: Int32Array;
  rewards: Float64Array;
  /** Probability with which the logging policy drew actions[i], in (0, 1]. */
  propensities: Float64Array;
}

export type OpeEstimator = 'ips' | 'snips' | 'dr';

export interface OpeEstimate {
  estimator: OpeEstimator;
  value: number;
  se: number;
  ci: [number, number];
  level: number;
  n: number;
  /** Effective sample size (Σ w)² / Σ w² of the importance weights. */
  ess: number;
}

export interface OpeOptions {
  /** Confidence level of the interval, in (0, 1); default 0.95. */
  level?: number;
}

/** Checks the logs against a K-action probability matrix and returns the importance weights. */
function weights(logs: BanditLogs, target: Matrix): { w: Float64Array; k: number; n: number } {
  if (logs === null || typeof logs !== 'object') throw new TypeError('logs must be an object { contexts, actions, rewards, propensities }');
  const { actions, rewards, propensities } = logs;
  const n = actions?.length;
  if (!Number.isInteger(n)) throw new TypeError('logs.actions must be an Int32Array');
  if (n < 2) throw new RangeError(`logs must hold at least 2 rows for a standard error, got ${n}`);
  if (rewards?.length !== n) throw new RangeError(`logs.rewards must have ${n} values (one per action), got ${rewards?.length}`);
  if (propensities?.length !== n) throw new RangeError(`logs.propensities must have ${n} values (one per action), got ${propensities?.length}`);
  if (logs.contexts && logs.contexts.rows !== n) throw new RangeError(`logs.contexts must have ${n} rows, got ${logs.contexts.rows}`);
  if (target?.rows !== n) throw new RangeError(`target probabilities must have ${n} rows (one per log row), got ${target?.rows}`);
  const k = target.cols;
  if (!(k >= 1)) throw new RangeError(`target probabilities must have at least 1 column, got ${k}`);
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const p = propensities[i];
    if (!(p > 0 && p <= 1)) throw new RangeError(`propensities[${i}] (row ${i}) must be in (0, 1], got ${p}`);
    const a = actions[i];
    if (!Number.isInteger(a) || a < 0 || a >= k) throw new RangeError(`actions[${i}] (row ${i}) must be an integer in [0, ${k - 1}], got ${a}`);
    if (!Number.isFinite(rewards[i])) throw new RangeError(`rewards[${i}] (row ${i}) must be finite, got ${rewards[i]}`);
    let s = 0;
    for (let j = 0; j < k; j++) {
      const v = target.data[i * k + j];
      if (!(v >= 0 && v <= 1)) throw new RangeError(`target probability at row ${i}, action ${j} must be in [0, 1], got ${v}`);
      s += v;
    }
    if (Math.abs(s - 1) > 1e-6) throw new RangeError(`target probabilities at row ${i} must sum to 1 (±1e-6), got ${s}`);
    w[i] = target.data[i * k + a] / p;
  }
  return { w, k, n };
}

function zFor(level: number): number {
  if (typeof level !== 'number' || !(level > 0 && level < 1)) throw new RangeError(`level must be in (0, 1), got ${level}`);
  return normalQuantile(0.5 + level / 2);
}

function ess(w: Float64Array): number {
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < w.length; i++) {
    s += w[i];
    s2 += w[i] * w[i];
  }
  return s2 > 0 ? (s * s) / s2 : 0;
}

/** Mean and standard error sd/√n (sd with n − 1) of per-row terms. */
function meanSe(v: Float64Array): { mean: number; se: number } {
  const n = v.length;
  let m = 0;
  for (let i = 0; i < n; i++) m += v[i];
  m /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (v[i] - m) * (v[i] - m);
  return { mean: m, se: Math.sqrt(ss / (n - 1) / n) };
}

function estimate(estimator: OpeEstimator, value: number, se: number, level: number, n: number, w: Float64Array): OpeEstimate {
  const z = zFor(level);
  return { estimator, value, se, ci: [value - z * se, value + z * se], level, n, ess: ess(w) };
}

/** Inverse propensity scoring. `target` is π(a|x_i), n × K. */
export function ips(logs: BanditLogs, target: Matrix, opts: OpeOptions = {}): OpeEstimate {
  const level = opts.level ?? 0.95;
  zFor(level);
  const { w, n } = weights(logs, target);
  const terms = new Float64Array(n);
  for (let i = 0; i < n; i++) terms[i] = w[i] * logs.rewards[i];
  const { mean, se } = meanSe(terms);
  return estimate('ips', mean, se, level, n, w);
}

/** Self-normalised IPS, with the delta-method standard error. */
export function snips(logs: BanditLogs, target: Matrix, opts: OpeOptions = {}): OpeEstimate {
  const level = opts.level ?? 0.95;
  zFor(level);
  const { w, n } = weights(logs, target);
  let sw = 0;
  let swr = 0;
  for (let i = 0; i < n; i++) {
    sw += w[i];
    swr += w[i] * logs.rewards[i];
  }
  if (!(sw > 0)) throw new RangeError('SNIPS is undefined: the target policy gives probability 0 to every logged action (Σ w = 0)');
  const value = swr / sw;
  const wBar = sw / n;
  // Linearisation: V̂ − V ≈ (1/n) Σ w_i (r_i − V) / w̄.
  const terms = new Float64Array(n);
  for (let i = 0; i < n; i++) terms[i] = (w[i] * (logs.rewards[i] - value)) / wBar;
  const { se } = meanSe(terms);
  return estimate('snips', value, se, level, n, w);
}

/** Doubly robust: the reward model's value of π plus an importance-weighted correction. */
export function doublyRobust(logs: BanditLogs, target: Matrix, rewardPredictions: Matrix, opts: OpeOptions = {}): OpeEstimate {
  const level = opts.level ?? 0.95;
  zFor(level);
  const { w, n, k } = weights(logs, target);
  if (rewardPredictions?.rows !== n || rewardPredictions.cols !== k) {
    throw new RangeError(`rewardPredictions must be ${n} × ${k} (rows × actions), got ${rewardPredictions?.rows} × ${rewardPredictions?.cols}`);
  }
  const q = rewardPredictions.data;
  const terms = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let dm = 0;
    for (let j = 0; j < k; j++) {
      const v = q[i * k + j];
      if (!Number.isFinite(v)) throw new RangeError(`rewardPredictions at row ${i}, action ${j} must be finite, got ${v}`);
      dm += target.data[i * k + j] * v;
    }
    terms[i] = dm + w[i] * (logs.rewards[i] - q[i * k + logs.actions[i]]);
  }
  const { mean, se } = meanSe(terms);
  return estimate('dr', mean, se, level, n, w);
}

/** All three estimates; DR only when reward predictions are given. */
export function evaluatePolicy(
  logs: BanditLogs,
  target: Matrix,
  opts: OpeOptions & { rewardPredictions?: Matrix } = {},
): { ips: OpeEstimate; snips: OpeEstimate; dr?: OpeEstimate } {
  const out: { ips: OpeEstimate; snips: OpeEstimate; dr?: OpeEstimate } = { ips: ips(logs, target, opts), snips: snips(logs, target, opts) };
  if (opts.rewardPredictions) out.dr = doublyRobust(logs, target, opts.rewardPredictions, opts);
  return out;
}

/** π(a|x) of a bandit policy for every logged context (n × K), as its choose() would draw them. */
export function targetProbabilities(policy: BanditPolicy, contexts: Matrix, rng: Rng, opts: ChooseOptions = {}): Matrix {
  if (contexts.cols !== policy.dim) throw new RangeError(`contexts must have the policy's dim = ${policy.dim} columns, got ${contexts.cols}`);
  const k = policy.nActions;
  const d = contexts.cols;
  const data = new Float64Array(contexts.rows * k);
  for (let i = 0; i < contexts.rows; i++) {
    data.set(policy.actionProbabilities(contexts.data.subarray(i * d, (i + 1) * d), rng, opts).probabilities, i * k);
  }
  return { data, rows: contexts.rows, cols: k };
}

/** A ridge regression per action, q̂(x, a) = x·β_a, for DR. */
export class RidgeRewardModel {
  readonly nActions: number;
  readonly dim: number;
  readonly models: BayesLinearModel[];

  constructor(nActions: number, dim: number, lambda = 1) {
    if (!Number.isInteger(nActions) || nActions < 1) throw new RangeError(`nActions must be an integer >= 1, got ${nActions}`);
    this.nActions = nActions;
    this.dim = dim;
    this.models = [];
    for (let a = 0; a < nActions; a++) this.models.push(new BayesLinearModel({ dim, lambda, noise: { kind: 'known', variance: 1 } }));
  }

  fit(contexts: Matrix, actions: ArrayLike<number>, rewards: ArrayLike<number>, rows?: ArrayLike<number>): this {
    if (contexts.cols !== this.dim) throw new RangeError(`contexts must have dim = ${this.dim} columns, got ${contexts.cols}`);
    const idx = rows ?? Int32Array.from({ length: contexts.rows }, (_, i) => i);
    const d = this.dim;
    for (let a = 0; a < this.nActions; a++) {
      let m = 0;
      for (let t = 0; t < idx.length; t++) if (actions[idx[t]] === a) m++;
      const data = new Float64Array(m * d);
      const r = new Float64Array(m);
      let j = 0;
      for (let t = 0; t < idx.length; t++) {
        const i = idx[t];
        if (actions[i] !== a) continue;
        data.set(contexts.data.subarray(i * d, (i + 1) * d), j * d);
        r[j++] = rewards[i];
      }
      if (m > 0) this.models[a].updateBatch({ data, rows: m, cols: d }, r);
    }
    return this;
  }

  /** q̂ for every row and action (n × K). */
  predict(contexts: Matrix, rows?: ArrayLike<number>, out?: Matrix): Matrix {
    const k = this.nActions;
    const d = this.dim;
    const res = out ?? { data: new Float64Array(contexts.rows * k), rows: contexts.rows, cols: k };
    const idx = rows ?? Int32Array.from({ length: contexts.rows }, (_, i) => i);
    for (let t = 0; t < idx.length; t++) {
      const i = idx[t];
      const x = contexts.data.subarray(i * d, (i + 1) * d);
      for (let a = 0; a < k; a++) res.data[i * k + a] = this.models[a].predictMean(x);
    }
    return res;
  }
}

/** Fits q̂ on all logged rows (ridge per action, penalty λ). */
export function fitRewardModel(logs: BanditLogs, nActions: number, opts: { lambda?: number } = {}): RidgeRewardModel {
  return new RidgeRewardModel(nActions, logs.contexts.cols, opts.lambda ?? 1).fit(logs.contexts, logs.actions, logs.rewards);
}

/** Cross-fitted q̂ (n × K): rows are split at random into `folds` parts, and each part is predicted
 * by a ridge model fitted on the others, so no row's prediction has seen its own reward. */
export function crossFitRewardPredictions(logs: BanditLogs, nActions: number, rng: Rng, opts: { folds?: number; lambda?: number } = {}): Matrix {
  const folds = opts.folds ?? 5;
  const n = logs.contexts.rows;
  if (!Number.isInteger(folds) || folds < 2 || folds > n) throw new RangeError(`folds must be an integer in [2, n = ${n}], got ${folds}`);
  const perm = rng.shuffle(Int32Array.from({ length: n }, (_, i) => i));
  const out: Matrix = { data: new Float64Array(n * nActions), rows: n, cols: nActions };
  for (let f = 0; f < folds; f++) {
    const lo = Math.floor((f * n) / folds);
    const hi = Math.floor(((f + 1) * n) / folds);
    const train = new Int32Array(n - (hi - lo));
    let j = 0;
    for (let t = 0; t < n; t++) if (t < lo || t >= hi) train[j++] = perm[t];
    const model = new RidgeRewardModel(nActions, logs.contexts.cols, opts.lambda ?? 1).fit(logs.contexts, logs.actions, logs.rewards, train);
    model.predict(logs.contexts, perm.subarray(lo, hi), out);
  }
  return out;
}
