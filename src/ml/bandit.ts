// Contextual bandits for decision endpoints: Thompson sampling (disjoint and pooled), LinUCB,
// ε-greedy and uniform random, each logging the probability of the action it drew (see
// docs/bandits.md). `banditFromJSON` restores any of them from its toJSON().

import { EpsilonGreedy, type EpsilonGreedyJSON } from './bandit-egreedy.ts';
import { LinUCB, type LinUCBJSON } from './bandit-linucb.ts';
import { PooledThompsonSampling, ThompsonSampling, type PooledThompsonJSON, type ThompsonJSON } from './bandit-thompson.ts';
import { UniformRandom, type UniformRandomJSON } from './bandit-uniform.ts';
import type { BanditPolicy } from './bandit-types.ts';

export { BayesLinearModel, type BayesLinearParams, type NoiseModel } from './bandit-bayes-linear.ts';
export { EpsilonGreedy, type EpsilonGreedyParams } from './bandit-egreedy.ts';
export { LinUCB, type LinUCBParams } from './bandit-linucb.ts';
export { PooledThompsonSampling, ThompsonSampling, type ThompsonParams, DEFAULT_MC_SAMPLES } from './bandit-thompson.ts';
export { UniformRandom } from './bandit-uniform.ts';
export { projectProbabilities, drawIndex, type BanditPolicy, type Choice, type ChooseOptions, type ClipBounds, type ProbabilityEstimate } from './bandit-types.ts';

export type BanditJSON = ThompsonJSON | PooledThompsonJSON | LinUCBJSON | EpsilonGreedyJSON | UniformRandomJSON;

export function banditFromJSON(json: BanditJSON): BanditPolicy {
  if (json === null || typeof json !== 'object') throw new TypeError('bandit JSON must be an object');
  const kind = json.kind;
  switch (kind) {
    case 'ThompsonSampling':
      return ThompsonSampling.fromJSON(json);
    case 'PooledThompsonSampling':
      return PooledThompsonSampling.fromJSON(json);
    case 'LinUCB':
      return LinUCB.fromJSON(json);
    case 'EpsilonGreedy':
      return EpsilonGreedy.fromJSON(json);
    case 'UniformRandom':
      return UniformRandom.fromJSON(json);
    default:
      throw new TypeError(`unknown bandit kind ${String((json as { kind: unknown }).kind)}`);
  }
}
