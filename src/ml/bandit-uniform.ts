// Uniform random assignment: every action with probability 1/K (clipping can only leave it as is,
// since 1/K always lies in a feasible [pMin, pMax]). It learns nothing; it is the baseline and the
// classic logging policy of a randomized trial.

import type { Matrix } from './matrix.ts';
import type { Rng } from './rng.ts';
import {
  captureState,
  checkBaseParams,
  checkBatch,
  checkContext,
  checkHeader,
  checkReward,
  chooseFromVector,
  resolveAction,
  type BanditBaseParams,
  type BanditPolicy,
  type Choice,
  type ClipBounds,
  type ProbabilityEstimate,
} from './bandit-types.ts';

export interface UniformRandomJSON {
  kind: 'UniformRandom';
  version: 1;
  params: BanditBaseParams;
}

export class UniformRandom implements BanditPolicy {
  readonly kind = 'UniformRandom';
  static readonly version = 1;
  readonly nActions: number;
  readonly dim: number;
  readonly actionNames: readonly string[] | undefined;
  readonly clip: ClipBounds | undefined;

  constructor(params: BanditBaseParams) {
    const base = checkBaseParams(params);
    this.nActions = base.nActions;
    this.dim = base.dim;
    this.actionNames = base.actionNames;
    this.clip = base.clip;
  }

  choose(context: ArrayLike<number>, rng: Rng): Choice {
    checkContext(context, this.dim);
    const rngState = captureState(rng);
    return chooseFromVector(new Float64Array(this.nActions).fill(1 / this.nActions), this.clip, rng, rngState, this.actionNames, 'exact');
  }

  actionProbabilities(context: ArrayLike<number>): ProbabilityEstimate {
    checkContext(context, this.dim);
    return { probabilities: new Float64Array(this.nActions).fill(1 / this.nActions), method: 'exact' };
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
    const params: BanditBaseParams = { nActions: this.nActions, dim: this.dim };
    if (this.actionNames) params.actionNames = [...this.actionNames];
    if (this.clip) params.clip = { ...this.clip };
    return { kind: 'UniformRandom', version: 1, params };
  }

  static fromJSON(json: UniformRandomJSON): UniformRandom {
    const j = checkHeader(json, 'UniformRandom', 1);
    return new UniformRandom(j.params as BanditBaseParams);
  }
}
