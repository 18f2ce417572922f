// Disjoint LinUCB (Li et al., 2010): per action a ridge model A_a = λI + Σ x xᵀ, θ_a = A_a⁻¹ b_a,
// and the score θ_aᵀx + α·√(xᵀA_a⁻¹x). The policy plays the argmax, breaking exact ties uniformly at
// random, so the probability vector is 1/#ties on the tied actions and 0 elsewhere. With clipping
// that vector is projected into [pMin, pMax] and the action is drawn from the projection.

import type { Matrix } from './matrix.ts';
import type { Rng } from './rng.ts';
import type { BayesLinearJSON, BayesLinearModel } from './bandit-bayes-linear.ts';
import {
  actionModels,
  checkBatch,
  checkContext,
  checkHeader,
  loadActionModels,
  PolicyBase,
  tiedArgmax,
  updateActionModels,
  type BanditBaseParams,
  type BanditPolicy,
  type Choice,
  type ProbabilityEstimate,
} from './bandit-types.ts';

export interface LinUCBParams extends BanditBaseParams {
  /** Width of the confidence bonus, α >= 0 (default 1). */
  alpha?: number;
  /** Ridge penalty λ > 0 (default 1). */
  lambda?: number;
}

export interface LinUCBJSON {
  kind: 'LinUCB';
  version: 1;
  params: LinUCBParams;
  models: BayesLinearJSON[];
}

export class LinUCB extends PolicyBase implements BanditPolicy {
  readonly kind = 'LinUCB';
  static readonly version = 1;
  readonly alpha: number;
  readonly lambda: number;
  readonly models: BayesLinearModel[];
  private readonly ucb: Float64Array;
  private readonly ties: Int32Array;

  constructor(params: LinUCBParams) {
    super(params);
    this.alpha = params.alpha ?? 1;
    if (typeof this.alpha !== 'number' || !(this.alpha >= 0) || !Number.isFinite(this.alpha)) throw new RangeError(`alpha must be a finite number >= 0, got ${this.alpha}`);
    this.lambda = params.lambda ?? 1;
    // A known noise variance of 1 makes the posterior precision exactly A = λI + XᵀX.
    this.models = actionModels(this.nActions, { dim: this.dim, lambda: this.lambda, noise: { kind: 'known', variance: 1 } });
    this.ucb = new Float64Array(this.nActions);
    this.ties = new Int32Array(this.nActions);
  }

  /** The upper confidence bounds θ_aᵀx + α√(xᵀA_a⁻¹x) at x. */
  scores(context: ArrayLike<number>): Float64Array {
    checkContext(context, this.dim);
    const out = new Float64Array(this.nActions);
    for (let a = 0; a < this.nActions; a++) out[a] = this.models[a].predictMean(context) + this.alpha * Math.sqrt(this.models[a].quadForm(context));
    return out;
  }

  private proposed(context: ArrayLike<number>): Float64Array {
    this.ucb.set(this.scores(context));
    const n = tiedArgmax(this.ucb, this.ties);
    const p = new Float64Array(this.nActions);
    for (let i = 0; i < n; i++) p[this.ties[i]] = 1 / n;
    return p;
  }

  choose(context: ArrayLike<number>, rng: Rng): Choice {
    return this.chooseExact(this.proposed(context), rng);
  }

  actionProbabilities(context: ArrayLike<number>): ProbabilityEstimate {
    return this.exactProbabilities(this.proposed(context));
  }

  update(context: ArrayLike<number>, action: number | string, reward: number): this {
    this.models[this.observation(context, action, reward)].update(context, reward);
    return this;
  }

  updateBatch(contexts: Matrix, actions: ArrayLike<number>, rewards: ArrayLike<number>): this {
    updateActionModels(this.models, contexts, checkBatch(contexts, actions, rewards, this.nActions, this.dim), rewards);
    return this;
  }

  toJSON(): LinUCBJSON {
    return { kind: 'LinUCB', version: 1, params: this.paramsJSON({ alpha: this.alpha, lambda: this.lambda }), models: this.models.map((m) => m.toJSON()) };
  }

  static fromJSON(json: LinUCBJSON): LinUCB {
    const j = checkHeader(json, 'LinUCB', 1);
    const policy = new LinUCB(j.params as LinUCBParams);
    loadActionModels(j.models, policy.models, policy.dim);
    return policy;
  }
}
