// Thompson sampling on Bayesian linear reward models: draw a plausible reward for every action from
// the posterior and play the best. Two structures:
//  - ThompsonSampling (disjoint): one BayesLinearModel per action over the context x.
//  - PooledThompsonSampling: one BayesLinearModel over φ(x, a) = [x, e_a, e_a ⊗ x] (length
//    d + K + K·d): a slope shared by all actions, a per-action intercept, and per-action slope
//    deviations that the prior shrinks toward the shared slope. Actions learn from each other.
//
// Probabilities. Without clipping the action is the argmax of one posterior draw of the scores.
// The probability of that argmax is exact where a closed form exists:
//  - K = 1: 1.
//  - K = 2, known noise: s1 − s0 is Gaussian, so P(a1) = Φ(μΔ/σΔ).
//  - K = 2, pooled, estimated noise: s1 − s0 given σ² is Gaussian with variance σ²·vΔ and σ² is
//    shared, so s1 − s0 is Student-t with 2a degrees of freedom and scale √(b/a·vΔ):
//    P(a1) = T_2a(μΔ / √(b/a·vΔ)).
//  - K = 2, disjoint, estimated noise: s0 and s1 are independent Student-t's (their σ² differ); the
//    difference has no closed form, so P(a1) = E_t[T_ν(·)] is integrated numerically (midpoint rule
//    after t = tan θ: 500 nodes and error at most about 4e-8 when the outer ν = 2a >= 3, which the default
//    a0 = 2 guarantees; 4,000 nodes and error about 1e-5 for heavier tails) and reported as 'exact'.
// Otherwise it is Monte Carlo: the draw that chose the action plus mcSamples − 1 more, so the
// chosen action's estimate is never 0 (reported 'monte_carlo' with mcSamples).
// With clipping the order is: estimate the Thompson probabilities (exact, or Monte Carlo with
// mcSamples fresh draws), project them into [pMin, pMax], then draw the action from the projected
// vector with one uniform. The logged probability is then exactly the probability of the draw made.

import type { Matrix } from './matrix.ts';
import type { Rng } from './rng.ts';
import { BayesLinearModel, type BayesLinearJSON, type NoiseModel } from './bandit-bayes-linear.ts';
import { cholesky } from './linalg-small.ts';
import { logGamma, normalCdf, sampleInverseGamma, studentTCdf, studentTCdfOf } from './stats.ts';
import {
  actionModels,
  argmaxRandomTies,
  captureState,
  checkBatch,
  checkContext,
  checkHeader,
  checkMcSamples,
  choiceOf,
  chooseFromVector,
  loadActionModels,
  PolicyBase,
  projectProbabilities,
  updateActionModels,
  type BanditBaseParams,
  type BanditPolicy,
  type Choice,
  type ChooseOptions,
  type ProbabilityEstimate,
} from './bandit-types.ts';

export interface ThompsonParams extends BanditBaseParams {
  /** Prior precision λ of the weights (default 1). */
  lambda?: number;
  /** Noise model of every action's reward model (default NIG-estimated, a0 = 2, b0 = 1). */
  noise?: NoiseModel;
  /** Monte Carlo draws for probabilities when no closed form applies (default 1,000). */
  mcSamples?: number;
}

export const DEFAULT_MC_SAMPLES = 1000;

/** The joint distribution of the K sampled scores at one context. */
interface ScoreDistribution {
  k: number;
  mu: Float64Array;
  /** Noise: known (scale factor 1) or per-row σ² ~ IG(shape, scale). */
  estimated: boolean;
  pooled: boolean;
  // Disjoint: independent scores with per-unit-σ² sd and their own σ² posteriors.
  sd: Float64Array;
  shape: Float64Array;
  scale: Float64Array;
  // Pooled: K×K Cholesky factor of the score covariance per unit σ², and one σ² posterior.
  chol: Float64Array;
  z: Float64Array;
  /** Per unit σ²: variance of s1 − s0 (used for K = 2). */
  vDiff: number;
}

function drawScores(dist: ScoreDistribution, rng: Rng, out: Float64Array): Float64Array {
  const k = dist.k;
  if (dist.pooled) {
    const s = dist.estimated ? Math.sqrt(sampleInverseGamma(rng, dist.shape[0], dist.scale[0])) : 1;
    for (let i = 0; i < k; i++) dist.z[i] = rng.normal();
    for (let i = 0; i < k; i++) {
      let t = 0;
      for (let j = 0; j <= i; j++) t += dist.chol[i * k + j] * dist.z[j];
      out[i] = dist.mu[i] + s * t;
    }
  } else {
    for (let a = 0; a < k; a++) {
      const s = dist.estimated ? Math.sqrt(sampleInverseGamma(rng, dist.shape[a], dist.scale[a])) : 1;
      out[a] = dist.mu[a] + s * dist.sd[a] * rng.normal();
    }
  }
  return out;
}

/** P(action 1 is the argmax) in closed form (or quadrature) for K = 2; ties count half. */
function exactTwo(dist: ScoreDistribution): number {
  const muD = dist.mu[1] - dist.mu[0];
  if (!dist.estimated) {
    const sd = Math.sqrt(dist.vDiff);
    return sd > 0 ? normalCdf(muD / sd) : muD > 0 ? 1 : muD < 0 ? 0 : 0.5;
  }
  if (dist.pooled) {
    const a = dist.shape[0];
    const sd = Math.sqrt((dist.scale[0] / a) * dist.vDiff);
    return sd > 0 ? studentTCdf(muD / sd, 2 * a) : muD > 0 ? 1 : muD < 0 ? 0 : 0.5;
  }
  // Disjoint, estimated: s_a = μ_a + τ_a t_a with t_a ~ Student-t(2 a_a), independent.
  const tau0 = dist.sd[0] * Math.sqrt(dist.scale[0] / dist.shape[0]);
  const tau1 = dist.sd[1] * Math.sqrt(dist.scale[1] / dist.shape[1]);
  const nu0 = 2 * dist.shape[0];
  const nu1 = 2 * dist.shape[1];
  if (tau0 === 0 && tau1 === 0) return muD > 0 ? 1 : muD < 0 ? 0 : 0.5;
  // Integrate over the variable with the smaller scale, so the inner CDF is smooth in it.
  const outer0 = tau0 <= tau1;
  const nuOut = outer0 ? nu0 : nu1;
  const logC = logGamma((nuOut + 1) / 2) - logGamma(nuOut / 2) - 0.5 * Math.log(nuOut * Math.PI);
  const nodes = nuOut >= 3 ? 500 : 4000;
  const cdfIn = studentTCdfOf(outer0 ? nu1 : nu0);
  let sum = 0;
  const h = Math.PI / nodes;
  for (let i = 0; i < nodes; i++) {
    const th = -Math.PI / 2 + (i + 0.5) * h;
    const t = Math.tan(th);
    const c = Math.cos(th);
    const f = Math.exp(logC - ((nuOut + 1) / 2) * Math.log1p((t * t) / nuOut)); // Student-t pdf
    const g = outer0
      ? 1 - cdfIn((-muD + tau0 * t) / tau1) // P(t1 > (μ0 + τ0 t − μ1)/τ1)
      : cdfIn((muD + tau1 * t) / tau0); // P(t0 < (μ1 + τ1 t − μ0)/τ0)
    sum += (f * g) / (c * c);
  }
  return Math.min(1, Math.max(0, sum * h));
}

function newDistribution(k: number, pooled: boolean, estimated: boolean): ScoreDistribution {
  return {
    k,
    mu: new Float64Array(k),
    estimated,
    pooled,
    sd: new Float64Array(k),
    shape: new Float64Array(pooled ? 1 : k),
    scale: new Float64Array(pooled ? 1 : k),
    chol: new Float64Array(pooled ? k * k : 0),
    z: new Float64Array(k),
    vDiff: 0,
  };
}

/** Shared engine of both Thompson variants: everything after the score distribution is known. */
abstract class ThompsonBase extends PolicyBase implements BanditPolicy {
  abstract readonly kind: string;
  readonly lambda: number;
  readonly noise: NoiseModel;
  readonly mcSamples: number;
  protected readonly scores: Float64Array;
  protected readonly ties: Int32Array;

  constructor(params: ThompsonParams) {
    super(params);
    this.lambda = params.lambda ?? 1;
    this.noise = params.noise ?? { kind: 'estimated', a0: 2, b0: 1 };
    this.mcSamples = checkMcSamples(params.mcSamples ?? DEFAULT_MC_SAMPLES);
    this.scores = new Float64Array(this.nActions);
    this.ties = new Int32Array(this.nActions);
  }

  protected abstract distribution(context: ArrayLike<number>): ScoreDistribution;
  abstract update(context: ArrayLike<number>, action: number | string, reward: number): this;
  abstract updateBatch(contexts: Matrix, actions: ArrayLike<number>, rewards: ArrayLike<number>): this;
  abstract toJSON(): unknown;

  /** Thompson probabilities before clipping: exact for K <= 2, else M fresh Monte Carlo draws. */
  private thompsonProbabilities(dist: ScoreDistribution, rng: Rng, m: number): ProbabilityEstimate {
    const k = this.nActions;
    const p = new Float64Array(k);
    if (k === 1) {
      p[0] = 1;
      return { probabilities: p, method: 'exact' };
    }
    if (k === 2) {
      p[1] = exactTwo(dist);
      p[0] = 1 - p[1];
      return { probabilities: p, method: 'exact' };
    }
    return { probabilities: this.monteCarlo(dist, rng, m, p, 0), method: 'monte_carlo', mcSamples: m };
  }

  /** Adds the argmax of posterior draws `from`..m−1 to the counts in p, then divides by m. */
  private monteCarlo(dist: ScoreDistribution, rng: Rng, m: number, p: Float64Array, from: number): Float64Array {
    for (let i = from; i < m; i++) p[argmaxRandomTies(drawScores(dist, rng, this.scores), rng, this.ties)] += 1;
    for (let a = 0; a < p.length; a++) p[a] /= m;
    return p;
  }

  /** One joint posterior draw of the K action scores at x: the randomisation behind an unclipped
   * choose(), whose action is the argmax of exactly this draw from the same generator state. */
  sampleScores(context: ArrayLike<number>, rng: Rng, out: Float64Array = new Float64Array(this.nActions)): Float64Array {
    checkContext(context, this.dim);
    return drawScores(this.distribution(context), rng, out);
  }

  choose(context: ArrayLike<number>, rng: Rng, opts: ChooseOptions = {}): Choice {
    checkContext(context, this.dim);
    const m = checkMcSamples(opts.mcSamples ?? this.mcSamples);
    const rngState = captureState(rng);
    const dist = this.distribution(context);
    if (this.clip) {
      const est = this.thompsonProbabilities(dist, rng, m);
      return chooseFromVector(est.probabilities, this.clip, rng, rngState, this.actionNames, est.method, est.mcSamples);
    }
    const action = argmaxRandomTies(drawScores(dist, rng, this.scores), rng, this.ties);
    const k = this.nActions;
    let p: Float64Array;
    let method: 'exact' | 'monte_carlo' = 'exact';
    if (k <= 2) {
      p = this.thompsonProbabilities(dist, rng, m).probabilities;
    } else {
      // The draw that chose the action is the first of the m Monte Carlo draws.
      p = new Float64Array(k);
      p[action] = 1;
      this.monteCarlo(dist, rng, m, p, 1);
      method = 'monte_carlo';
    }
    return choiceOf(action, p, rngState, this.actionNames, method, m);
  }

  actionProbabilities(context: ArrayLike<number>, rng: Rng, opts: ChooseOptions = {}): ProbabilityEstimate {
    checkContext(context, this.dim);
    const m = checkMcSamples(opts.mcSamples ?? this.mcSamples);
    const est = this.thompsonProbabilities(this.distribution(context), rng, m);
    if (!this.clip) return est;
    return { ...est, probabilities: projectProbabilities(est.probabilities, this.clip) };
  }

  protected thompsonParamsJSON(): ThompsonParams {
    return this.paramsJSON({ lambda: this.lambda, noise: { ...this.noise }, mcSamples: this.mcSamples });
  }
}

export interface ThompsonJSON {
  kind: 'ThompsonSampling';
  version: 1;
  params: ThompsonParams;
  models: BayesLinearJSON[];
}

/** Disjoint Thompson sampling: one Bayesian linear model per action. */
export class ThompsonSampling extends ThompsonBase {
  readonly kind = 'ThompsonSampling';
  static readonly version = 1;
  readonly models: BayesLinearModel[];

  constructor(params: ThompsonParams) {
    super(params);
    this.models = actionModels(this.nActions, { dim: this.dim, lambda: this.lambda, noise: this.noise });
  }

  protected distribution(x: ArrayLike<number>): ScoreDistribution {
    const k = this.nActions;
    const estimated = this.noise.kind === 'estimated';
    const dist = newDistribution(k, false, estimated);
    for (let a = 0; a < k; a++) {
      const model = this.models[a];
      dist.mu[a] = model.predictMean(x);
      dist.sd[a] = Math.sqrt(model.quadForm(x));
      if (estimated) {
        const post = model.noisePosterior();
        dist.shape[a] = post.shape;
        dist.scale[a] = post.scale;
      }
    }
    if (k === 2) dist.vDiff = dist.sd[0] * dist.sd[0] + dist.sd[1] * dist.sd[1];
    return dist;
  }

  update(context: ArrayLike<number>, action: number | string, reward: number): this {
    this.models[this.observation(context, action, reward)].update(context, reward);
    return this;
  }

  updateBatch(contexts: Matrix, actions: ArrayLike<number>, rewards: ArrayLike<number>): this {
    updateActionModels(this.models, contexts, checkBatch(contexts, actions, rewards, this.nActions, this.dim), rewards);
    return this;
  }

  toJSON(): ThompsonJSON {
    return { kind: 'ThompsonSampling', version: 1, params: this.thompsonParamsJSON(), models: this.models.map((m) => m.toJSON()) };
  }

  static fromJSON(json: ThompsonJSON): ThompsonSampling {
    const j = checkHeader(json, 'ThompsonSampling', 1);
    const policy = new ThompsonSampling(j.params as ThompsonParams);
    loadActionModels(j.models, policy.models, policy.dim);
    return policy;
  }
}

export interface PooledThompsonJSON {
  kind: 'PooledThompsonSampling';
  version: 1;
  params: ThompsonParams;
  model: BayesLinearJSON;
}

/** Pooled Thompson sampling: one Bayesian linear model over φ(x, a) = [x, e_a, e_a ⊗ x]. */
export class PooledThompsonSampling extends ThompsonBase {
  readonly kind = 'PooledThompsonSampling';
  static readonly version = 1;
  model: BayesLinearModel;
  /** Length of φ(x, a): d + K + K·d. */
  readonly featureDim: number;
  private readonly phi: Float64Array; // K feature rows, reused

  constructor(params: ThompsonParams) {
    super(params);
    this.featureDim = this.dim + this.nActions + this.nActions * this.dim;
    this.model = new BayesLinearModel({ dim: this.featureDim, lambda: this.lambda, noise: this.noise });
    this.phi = new Float64Array(this.nActions * this.featureDim);
  }

  /** φ(x, a) = [x, e_a, e_a ⊗ x] written into out (length d + K + K·d). */
  features(x: ArrayLike<number>, action: number, out: Float64Array = new Float64Array(this.featureDim)): Float64Array {
    const d = this.dim;
    out.fill(0);
    for (let j = 0; j < d; j++) {
      out[j] = x[j];
      out[d + this.nActions + action * d + j] = x[j];
    }
    out[d + action] = 1;
    return out;
  }

  protected distribution(x: ArrayLike<number>): ScoreDistribution {
    const k = this.nActions;
    const p = this.featureDim;
    const estimated = this.noise.kind === 'estimated';
    const dist = newDistribution(k, true, estimated);
    for (let a = 0; a < k; a++) {
      const row = this.phi.subarray(a * p, (a + 1) * p);
      this.features(x, a, row);
      dist.mu[a] = this.model.predictMean(row);
    }
    const cov = new Float64Array(k * k);
    for (let a = 0; a < k; a++) {
      for (let b = a; b < k; b++) {
        const v = this.model.bilinear(this.phi.subarray(a * p, (a + 1) * p), this.phi.subarray(b * p, (b + 1) * p));
        cov[a * k + b] = v;
        cov[b * k + a] = v;
      }
    }
    if (k === 2) dist.vDiff = Math.max(0, cov[0] + cov[3] - 2 * cov[1]);
    cholesky(cov, k, dist.chol);
    if (estimated) {
      const post = this.model.noisePosterior();
      dist.shape[0] = post.shape;
      dist.scale[0] = post.scale;
    }
    return dist;
  }

  update(context: ArrayLike<number>, action: number | string, reward: number): this {
    this.model.update(this.features(context, this.observation(context, action, reward)), reward);
    return this;
  }

  updateBatch(contexts: Matrix, actions: ArrayLike<number>, rewards: ArrayLike<number>): this {
    const acts = checkBatch(contexts, actions, rewards, this.nActions, this.dim);
    const n = contexts.rows;
    const p = this.featureDim;
    const data = new Float64Array(n * p);
    for (let i = 0; i < n; i++) this.features(contexts.data.subarray(i * this.dim, (i + 1) * this.dim), acts[i], data.subarray(i * p, (i + 1) * p));
    this.model.updateBatch({ data, rows: n, cols: p }, rewards);
    return this;
  }

  toJSON(): PooledThompsonJSON {
    return { kind: 'PooledThompsonSampling', version: 1, params: this.thompsonParamsJSON(), model: this.model.toJSON() };
  }

  static fromJSON(json: PooledThompsonJSON): PooledThompsonSampling {
    const j = checkHeader(json, 'PooledThompsonSampling', 1);
    const policy = new PooledThompsonSampling(j.params as ThompsonParams);
    const m = BayesLinearModel.fromJSON(j.model as BayesLinearJSON);
    if (m.dim !== policy.featureDim) throw new RangeError(`model has dim ${m.dim}, expected d + K + K·d = ${policy.featureDim}`);
    policy.model = m;
    return policy;
  }
}
