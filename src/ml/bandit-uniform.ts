// Uniform random assignment: every action with probability 1/K (clipping can only leave it as is,
// since 1/K always lies in a feasible [pMin, pMax]). It learns nothing; it is the baseline and the
// classic logging policy of a randomized trial.

import type { Matrix } from './matrix.ts';
import type { Rng } from './rng.ts';
import {
  checkBatch,
  checkContext,
  checkHeader,
  checkReward,
  PolicyBase,
  resolveAction,
  type BanditBaseParams,
  type BanditPolicy,
  type Choice,
  type ProbabilityEstimate,
} from './bandit-types.ts';

export interface UniformRandomJSON {
  kind: 'UniformRandom';
  version: 1;
  params: BanditBaseParams;
}

export class UniformRandom extends PolicyBase implements BanditPolicy {
  readonly kind = 'UniformRandom';
  static readonly version = 1;

  private uniform(context: ArrayLike<number>): Float64Array {
    checkContext(context, this.dim);
    return new Float64Array(this.nActions).fill(1 / this.nActions);
  }

  choose(context: ArrayLike<number>, rng: Rng): Choice {
    return this.chooseExact(this.uniform(context), rng);
  }

  actionProbabilities(context: ArrayLike<number>): ProbabilityEstimate {
    return { probabilities: this.uniform(context), method: 'exact' };
  }

  /** Validates and ignores the observation: the uniform policy has nothing to learn. */
  update(context: ArrayLike<number>, action: number | string, reward: number): this {
    checkContext(context, this.dim);
    resolveAction(action, this.nActions, this.actionNames);
    checkReward(reward);
    return this;
  }

  updateBatch(contexts: Matrix, actions: ArrayLike<number>, rewards: ArrayLike<number>): this {
    checkBatch(contexts, actions, rewards, this.nActions, this.dim);
    return this;
  }

  toJSON(): UniformRandomJSON {
    return { kind: 'UniformRandom', version: 1, params: this.paramsJSON({}) };
  }

  static fromJSON(json: UniformRandomJSON): UniformRandom {
    const j = checkHeader(json, 'UniformRandom', 1);
    return new UniformRandom(j.params as BanditBaseParams);
  }
}
