// ε-greedy: with probability ε a uniformly random action, otherwise the greedy one. Greedy means
// the highest posterior-mean reward of a per-action ridge model at the context ('ridge', default),
// or the highest running average reward ignoring the context ('average'; an unplayed action
// averages 0). Ties share the greedy mass equally, so the exact vector is
// p_a = ε/K + (1 − ε)·[a tied for best]/#ties, which is then clipped (if configured) and drawn from.

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

export type GreedyEstimator = 'ridge' | 'average';

export interface EpsilonGreedyParams extends BanditBaseParams {
  /** Exploration rate ε in [0, 1] (default 0.1). */
  epsilon?: number;
  /** What "greedy" maximises (default 'ridge'). */
  estimator?: GreedyEstimator;
  /** Ridge penalty λ > 0 of the 'ridge' estimator (default 1). */
  lambda?: number;
}

export interface EpsilonGreedyJSON {
  kind: 'EpsilonGreedy';
  version: 1;
  params: EpsilonGreedyParams;
  models?: BayesLinearJSON[];
  counts?: number[];
  sums?: number[];
}

export class EpsilonGreedy implements BanditPolicy {
  readonly kind = 'EpsilonGreedy';
  static readonly version = 1;
  readonly nActions: number;
  readonly dim: number;
  readonly actionNames: readonly string[] | undefined;
  readonly clip: ClipBounds | undefined;
  readonly epsilon: number;
  readonly estimator: GreedyEstimator;
  readonly lambda: number;
  readonly models: BayesLinearModel[] = [];
  readonly counts: Float64Array;
  readonly sums: Float64Array;
  private readonly est: Float64Array;
  private readonly ties: Int32Array;

  constructor(params: EpsilonGreedyParams) {
    const base = checkBaseParams(params);
    this.nActions = base.nActions;
    this.dim = base.dim;
    this.actionNames = base.actionNames;
    this.clip = base.clip;
    this.epsilon = params.epsilon ?? 0.1;
    if (typeof this.epsilon !== 'number' || !(this.epsilon >= 0 && this.epsilon <= 1)) throw new RangeError(`epsilon must be in [0, 1], got ${this.epsilon}`);
    this.estimator = params.estimator ?? 'ridge';
    this.lambda = params.lambda ?? 1;
    switch (this.estimator) {
      case 'ridge':
        for (let a = 0; a < this.nActions; a++) this.models.push(new BayesLinearModel({ dim: this.dim, lambda: this.lambda, noise: { kind: 'known', variance: 1 } }));
        break;
      case 'average':
        break;
      default:
        throw new TypeError(`estimator must be 'ridge' or 'average', got ${String(this.estimator)}`);
    }
    this.counts = new Float64Array(this.nActions);
    this.sums = new Float64Array(this.nActions);
    this.est = new Float64Array(this.nActions);
    this.ties = new Int32Array(this.nActions);
  }

  /** The greedy estimates at x: ridge posterior means or running averages. */
  estimates(context: ArrayLike<number>): Float64Array {
    checkContext(context, this.dim);
    const out = new Float64Array(this.nActions);
    for (let a = 0; a < this.nActions; a++) {
      switch (this.estimator) {
        case 'ridge':
          out[a] = this.models[a].predictMean(context);
          break;
        case 'average':
          out[a] = this.counts[a] > 0 ? this.sums[a] / this.counts[a] : 0;
          break;
        default:
          throw new TypeError(`unknown estimator ${String(this.estimator)}`);
      }
    }
    return out;
  }

  private proposed(context: ArrayLike<number>): Float64Array {
    this.est.set(this.estimates(context));
    const k = this.nActions;
    const n = tiedArgmax(this.est, this.ties);
    const p = new Float64Array(k).fill(this.epsilon / k);
    for (let i = 0; i < n; i++) p[this.ties[i]] += (1 - this.epsilon) / n;
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
    const a = resolveAction(action, this.nActions, this.actionNames);
    this.counts[a] += 1;
    this.sums[a] += reward;
    if (this.estimator === 'ridge') this.models[a].update(context, reward);
    return this;
  }

  updateBatch(contexts: Matrix, actions: ArrayLike<number>, rewards: ArrayLike<number>): this {
    const acts = checkBatch(contexts, actions, rewards, this.nActions, this.dim);
    for (let i = 0; i < acts.length; i++) {
      this.counts[acts[i]] += 1;
      this.sums[acts[i]] += rewards[i];
    }
    if (this.estimator === 'ridge') {
      for (let a = 0; a < this.nActions; a++) {
        const rows = groupRows(contexts, acts, rewards, a);
        if (rows.r.length > 0) this.models[a].updateBatch(rows.X, rows.r);
      }
    }
    return this;
  }

  toJSON(): EpsilonGreedyJSON {
    const params: EpsilonGreedyParams = { nActions: this.nActions, dim: this.dim, epsilon: this.epsilon, estimator: this.estimator, lambda: this.lambda };
    if (this.actionNames) params.actionNames = [...this.actionNames];
    if (this.clip) params.clip = { ...this.clip };
    const out: EpsilonGreedyJSON = { kind: 'EpsilonGreedy', version: 1, params, counts: Array.from(this.counts), sums: Array.from(this.sums) };
    if (this.estimator === 'ridge') out.models = this.models.map((m) => m.toJSON());
    return out;
  }

  static fromJSON(json: EpsilonGreedyJSON): EpsilonGreedy {
    const j = checkHeader(json, 'EpsilonGreedy', 1);
    const policy = new EpsilonGreedy(j.params as EpsilonGreedyParams);
    const counts = j.counts as number[];
    const sums = j.sums as number[];
    if (!Array.isArray(counts) || counts.length !== policy.nActions || !Array.isArray(sums) || sums.length !== policy.nActions) {
      throw new RangeError(`counts and sums must hold nActions = ${policy.nActions} numbers`);
    }
    policy.counts.set(counts);
    policy.sums.set(sums);
    if (policy.estimator === 'ridge') {
      const models = j.models as BayesLinearJSON[];
      if (!Array.isArray(models) || models.length !== policy.nActions) throw new RangeError(`models must hold nActions = ${policy.nActions} entries`);
      for (let a = 0; a < policy.nActions; a++) {
        const m = BayesLinearModel.fromJSON(models[a]);
        if (m.dim !== policy.dim) throw new RangeError(`models[${a}] has dim ${m.dim}, expected ${policy.dim}`);
        policy.models[a] = m;
      }
    }
    return policy;
  }
}
