// Disjoint LinUCB (Li et al., 2010): per action a ridge model A_a = λI + Σ x xᵀ, θ_a = A_a⁻¹ b_a,
// and the score θ_aᵀx + α·√(xᵀA_a⁻¹x). The policy plays the argmax, breaking exact ties uniformly at
// random, so the probability vector is 1/#ties on the tied actions and 0 elsewhere. With clipping
// that vector is projected into [pMin, pMax] and the action is drawn from the projection.

import type { Matrix } from './matrix.ts';
import type { Rng } from './rng.ts';
import { BayesLinearModel, type BayesLinearJSON } from './bandit-bayes-linear.ts';
import {
  captureState,
  checkBaseParams,
  checkBatch,
  checkContext,
  checkHeader,
  checkReward,
  chooseFromVector,
  groupRows,
  projectProbabilities,
  resolveAction,
  tiedArgmax,
  type BanditBaseParams,
  type BanditPolicy,
  type Choice,
  type ClipBounds,
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

export class LinUCB implements BanditPolicy {
  readonly kind = 'LinUCB';
  static readonly version = 1;
  readonly nActions: number;
  readonly dim: number;
  readonly actionNames: readonly string[] | undefined;
  readonly clip: ClipBounds | undefined;
  readonly alpha: number;
  readonly lambda: number;
  readonly models: BayesLinearModel[];
  private readonly ucb: Float64Array;
  private readonly ties: Int32Array;

  constructor(params: LinUCBParams) {
    const base = checkBaseParams(params);
    this.nActions = base.nActions;
    this.dim = base.dim;
    this.actionNames = base.actionNames;
    this.clip = base.clip;
    this.alpha = params.alpha ?? 1;
    if (typeof this.alpha !== 'number' || !(this.alpha >= 0) || !Number.isFinite(this.alpha)) throw new RangeError(`alpha must be a finite number >= 0, got ${this.alpha}`);
    this.lambda = params.lambda ?? 1;
    // A known noise variance of 1 makes the posterior precision exactly A = λI + XᵀX.
    this.models = [];
    for (let a = 0; a < this.nActions; a++) this.models.push(new BayesLinearModel({ dim: this.dim, lambda: this.lambda, noise: { kind: 'known', variance: 1 } }));
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
    const rngState = captureState(rng);
    return chooseFromVector(this.proposed(context), this.clip, rng, rngState, this.actionNames, 'exact');
  }

  actionProbabilities(context: ArrayLike<number>): ProbabilityEstimate {
    const p = this.proposed(context);
    return { probabilities: this.clip ? projectProbabilities(p, this.clip) : p, method: 'exact' };
  }

  update(context: ArrayLike<number>, action: number | string, reward: number): this {
    checkContext(context, this.dim);
    checkReward(reward);
    this.models[resolveAction(action, this.nActions, this.actionNames)].update(context, reward);
    return this;
  }

  updateBatch(contexts: Matrix, actions: ArrayLike<number>, rewards: ArrayLike<number>): this {
    const acts = checkBatch(contexts, actions, rewards, this.nActions, this.dim);
    for (let a = 0; a < this.nActions; a++) {
      const rows = groupRows(contexts, acts, rewards, a);
      if (rows.r.length > 0) this.models[a].updateBatch(rows.X, rows.r);
    }
    return this;
  }

  toJSON(): LinUCBJSON {
    const params: LinUCBParams = { nActions: this.nActions, dim: this.dim, alpha: this.alpha, lambda: this.lambda };
    if (this.actionNames) params.actionNames = [...this.actionNames];
    if (this.clip) params.clip = { ...this.clip };
    return { kind: 'LinUCB', version: 1, params, models: this.models.map((m) => m.toJSON()) };
  }

  static fromJSON(json: LinUCBJSON): LinUCB {
    const j = checkHeader(json, 'LinUCB', 1);
    const policy = new LinUCB(j.params as LinUCBParams);
    const models = j.models as BayesLinearJSON[];
    if (!Array.isArray(models) || models.length !== policy.nActions) throw new RangeError(`models must hold nActions = ${policy.nActions} entries`);
    for (let a = 0; a < policy.nActions; a++) {
      const m = BayesLinearModel.fromJSON(models[a]);
      if (m.dim !== policy.dim) throw new RangeError(`models[${a}] has dim ${m.dim}, expected ${policy.dim}`);
      policy.models[a] = m;
    }
    return policy;
  }
}
