// ε-greedy: with probability ε a uniformly random action, otherwise the greedy one. Greedy means
// the highest posterior-mean reward of a per-action ridge model at the context ('ridge', default),
// or the highest running average reward ignoring the context ('average'; an unplayed action
// averages 0). Ties share the greedy mass equally, so the exact vector is
// p_a = ε/K + (1 − ε)·[a tied for best]/#ties, which is then clipped (if configured) and drawn from.

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

export class EpsilonGreedy extends PolicyBase implements BanditPolicy {
  readonly kind = 'EpsilonGreedy';
  static readonly version = 1;
  readonly epsilon: number;
  readonly estimator: GreedyEstimator;
  readonly lambda: number;
  readonly models: BayesLinearModel[] = [];
  readonly counts: Float64Array;
  readonly sums: Float64Array;
  private readonly est: Float64Array;
  private readonly ties: Int32Array;

  constructor(params: EpsilonGreedyParams) {
    super(params);
    this.epsilon = params.epsilon ?? 0.1;
    if (typeof this.epsilon !== 'number' || !(this.epsilon >= 0 && this.epsilon <= 1)) throw new RangeError(`epsilon must be in [0, 1], got ${this.epsilon}`);
    this.estimator = params.estimator ?? 'ridge';
    this.lambda = params.lambda ?? 1;
    switch (this.estimator) {
      case 'ridge':
        this.models.push(...actionModels(this.nActions, { dim: this.dim, lambda: this.lambda, noise: { kind: 'known', variance: 1 } }));
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
    return this.chooseExact(this.proposed(context), rng);
  }

  actionProbabilities(context: ArrayLike<number>): ProbabilityEstimate {
    return this.exactProbabilities(this.proposed(context));
  }

  update(context: ArrayLike<number>, action: number | string, reward: number): this {
    const a = this.observation(context, action, reward);
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
    if (this.estimator === 'ridge') updateActionModels(this.models, contexts, acts, rewards);
    return this;
  }

  toJSON(): EpsilonGreedyJSON {
    const params = this.paramsJSON({ epsilon: this.epsilon, estimator: this.estimator, lambda: this.lambda });
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
    if (policy.estimator === 'ridge') loadActionModels(j.models, policy.models, policy.dim);
    return policy;
  }
}
