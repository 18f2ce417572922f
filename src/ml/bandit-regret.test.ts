// A simulated linear environment: d = 5 (an intercept and four N(0, 1) features), K = 4 actions,
// θ_a ~ N(0, I), reward x·θ_a + N(0, 0.5²). Every policy sees the same contexts and the same noise
// (common random numbers); regret is the pseudo-regret Σ_t max_a x_t·θ_a − x_t·θ_{a_t}.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from './rng.ts';
import { EpsilonGreedy, LinUCB, PooledThompsonSampling, ThompsonSampling, UniformRandom, type BanditPolicy } from './bandit.ts';

const D = 5;
const K = 4;
const T = 5000;

function simulate(policy: BanditPolicy, seed: number, mcSamples: number): number {
  const envRng = new Rng(seed);
  const theta: number[][] = [];
  for (let a = 0; a < K; a++) theta.push(Array.from({ length: D }, () => envRng.normal()));
  const policyRng = Rng.derive(seed, 1);
  const x = new Float64Array(D);
  let regret = 0;
  for (let t = 0; t < T; t++) {
    x[0] = 1;
    for (let j = 1; j < D; j++) x[j] = envRng.normal();
    const noise = 0.5 * envRng.normal();
    let best = -Infinity;
    const mean = new Float64Array(K);
    for (let a = 0; a < K; a++) {
      let s = 0;
      for (let j = 0; j < D; j++) s += x[j] * theta[a][j];
      mean[a] = s;
      if (s > best) best = s;
    }
    const c = policy.choose(x, policyRng, { mcSamples });
    regret += best - mean[c.action];
    policy.update(x, c.action, mean[c.action] + noise);
  }
  return regret;
}

test('cumulative regret over 5,000 rounds: Thompson, LinUCB and ε-greedy far below uniform', () => {
  const seed = 2024;
  // 100 Monte Carlo draws per decision keep the probability estimates cheap here; the choice itself
  // does not depend on them.
  const regret = {
    thompson: simulate(new ThompsonSampling({ nActions: K, dim: D }), seed, 100),
    pooledThompson: simulate(new PooledThompsonSampling({ nActions: K, dim: D }), seed, 100),
    linucb: simulate(new LinUCB({ nActions: K, dim: D, alpha: 1 }), seed, 100),
    epsilonGreedy: simulate(new EpsilonGreedy({ nActions: K, dim: D, epsilon: 0.1 }), seed, 100),
    uniform: simulate(new UniformRandom({ nActions: K, dim: D }), seed, 100),
  };
  console.log(JSON.stringify(Object.fromEntries(Object.entries(regret).map(([k, v]) => [k, Math.round(v * 10) / 10]))));
  assert.ok(regret.thompson < 0.25 * regret.uniform, `Thompson ${regret.thompson} vs uniform ${regret.uniform}`);
  assert.ok(regret.pooledThompson < 0.25 * regret.uniform, `pooled Thompson ${regret.pooledThompson}`);
  assert.ok(regret.linucb < 0.25 * regret.uniform, `LinUCB ${regret.linucb}`);
  assert.ok(regret.epsilonGreedy < 0.5 * regret.uniform, `ε-greedy ${regret.epsilonGreedy}`);
});
