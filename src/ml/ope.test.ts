import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectClose } from '../../test/helpers/expect-close.ts';
import { Rng } from './rng.ts';
import { fromRows, matrix, type Matrix } from './matrix.ts';
import { crossFitRewardPredictions, doublyRobust, evaluatePolicy, fitRewardModel, ips, snips, targetProbabilities, type BanditLogs } from './ope.ts';
import { EpsilonGreedy } from './bandit-egreedy.ts';

const tiny: BanditLogs = {
  contexts: fromRows([[1], [1], [1], [1]]),
  actions: Int32Array.from([0, 0, 1, 1]),
  rewards: Float64Array.from([1, 2, 3, 4]),
  propensities: Float64Array.from([0.5, 0.5, 0.5, 0.8]),
};
const tinyTarget = fromRows([[0.5, 0.5], [1, 0], [0, 1], [0.2, 0.8]]);

test('hand-computed IPS, SNIPS and DR on 4 rows', () => {
  // w = [1, 2, 2, 1], w·r = [1, 4, 6, 4].
  const a = ips(tiny, tinyTarget);
  expectClose(a.value, 3.75, { rtol: 1e-15 });
  expectClose(a.se, Math.sqrt(12.75 / 3 / 4), { rtol: 1e-14 });
  expectClose(a.ess, 3.6, { rtol: 1e-15 });
  expectClose(a.ci, [3.75 - 1.959963984540054 * a.se, 3.75 + 1.959963984540054 * a.se], { rtol: 1e-13 });
  const s = snips(tiny, tinyTarget);
  expectClose(s.value, 2.5, { rtol: 1e-15 });
  // Delta-method terms w(r − 2.5)/1.5 = [−1, −2/3, 2/3, 1].
  expectClose(s.se, Math.sqrt((2 + 8 / 9) / 3 / 4), { rtol: 1e-14 });
  const q = matrix(4, 2);
  q.data.fill(2);
  const d = doublyRobust(tiny, tinyTarget, q, { level: 0.9 });
  expectClose(d.value, 2.75, { rtol: 1e-15 });
  assert.equal(d.level, 0.9);
  expectClose(d.ci[1] - d.value, 1.6448536269514722 * d.se, { rtol: 1e-12 });
});

test('bad propensities, targets and levels throw naming the row', () => {
  for (const [bad, re] of [[0, /propensities\[2\] \(row 2\) must be in \(0, 1\]/], [1.2, /row 2/], [NaN, /row 2/]] as const) {
    const p = Float64Array.from(tiny.propensities);
    p[2] = bad;
    assert.throws(() => ips({ ...tiny, propensities: p }, tinyTarget), re);
  }
  assert.throws(() => ips(tiny, fromRows([[0.5, 0.5], [1, 0], [0, 1], [0.3, 0.8]])), /target probabilities at row 3 must sum to 1/);
  assert.throws(() => ips(tiny, fromRows([[1, 0], [1, 0]])), /must have 4 rows/);
  assert.throws(() => ips(tiny, tinyTarget, { level: 1 }), /level must be in \(0, 1\)/);
  assert.throws(() => doublyRobust(tiny, tinyTarget, matrix(4, 3)), /rewardPredictions must be 4 × 2/);
  assert.throws(() => ips({ ...tiny, actions: Int32Array.from([0, 0, 2, 1]) }, tinyTarget), /actions\[2\] \(row 2\) must be an integer in \[0, 1\]/);
});

// A known world: d = 3 (intercept + 2 features), K = 3, E[r | x, a] = x·θ_a, noise sd 1.
const THETA = [[0.5, 1, -0.5], [0, -0.5, 1], [1, 0.3, 0.3]];
const K = 3;

function mu(x: ArrayLike<number>, a: number): number {
  return x[0] * THETA[a][0] + x[1] * THETA[a][1] + x[2] * THETA[a][2];
}

/** Logging policy: a softmax over a different linear score, floored at 0.1 per action. */
function logging(x: ArrayLike<number>, out: Float64Array): Float64Array {
  let s = 0;
  for (let a = 0; a < K; a++) s += out[a] = Math.exp(0.8 * (x[1] * (a - 1) - x[2] * (a === 2 ? 1 : 0)));
  for (let a = 0; a < K; a++) out[a] = 0.1 + 0.7 * (out[a] / s);
  return out;
}

/** Target policy: 0.8 on the best action under the true model, 0.1 on each other. */
function targetRow(x: ArrayLike<number>, out: Float64Array): Float64Array {
  let best = 0;
  for (let a = 1; a < K; a++) if (mu(x, a) > mu(x, best)) best = a;
  for (let a = 0; a < K; a++) out[a] = a === best ? 0.8 : 0.1;
  return out;
}

function context(rng: Rng, x: Float64Array): Float64Array {
  x[0] = 1;
  x[1] = rng.normal();
  x[2] = rng.normal();
  return x;
}

function trueValue(): number {
  const rng = new Rng(1234);
  const x = new Float64Array(3);
  const p = new Float64Array(K);
  let v = 0;
  const n = 200_000;
  for (let i = 0; i < n; i++) {
    context(rng, x);
    targetRow(x, p);
    for (let a = 0; a < K; a++) v += p[a] * mu(x, a);
  }
  return v / n;
}

function simulateLogs(rng: Rng, n: number): { logs: BanditLogs; target: Matrix } {
  const contexts = matrix(n, 3);
  const actions = new Int32Array(n);
  const rewards = new Float64Array(n);
  const propensities = new Float64Array(n);
  const target = matrix(n, K);
  const p = new Float64Array(K);
  for (let i = 0; i < n; i++) {
    const x = context(rng, contexts.data.subarray(i * 3, i * 3 + 3) as Float64Array);
    logging(x, p);
    let u = rng.next();
    let a = 0;
    while (a < K - 1 && u >= p[a]) u -= p[a++];
    actions[i] = a;
    propensities[i] = p[a];
    rewards[i] = mu(x, a) + rng.normal();
    targetRow(x, target.data.subarray(i * K, (i + 1) * K) as Float64Array);
  }
  return { logs: { contexts, actions, rewards, propensities }, target };
}

const V = trueValue();

test('IPS, SNIPS and DR recover a known target value within their 95% intervals; DR has the smallest SE', () => {
  const { logs, target } = simulateLogs(new Rng(5), 5000);
  const q = fitRewardModel(logs, K).predict(logs.contexts);
  const est = evaluatePolicy(logs, target, { rewardPredictions: q });
  for (const e of [est.ips, est.snips, est.dr!]) {
    assert.ok(e.ci[0] <= V && V <= e.ci[1], `${e.estimator}: ${e.value} ± ${e.se} misses ${V}`);
    assert.ok(e.ess > 0 && e.ess <= e.n);
  }
  assert.ok(est.dr!.se < 0.6 * est.ips.se, `DR se ${est.dr!.se} vs IPS se ${est.ips.se}`);
  const cf = doublyRobust(logs, target, crossFitRewardPredictions(logs, K, new Rng(6)));
  assert.ok(cf.ci[0] <= V && V <= cf.ci[1], `cross-fitted DR ${cf.value} misses ${V}`);
});

test('95% intervals cover the true value about 95% of the time over 300 logged data sets', () => {
  const rng = new Rng(77);
  const reps = 300;
  const covered = { ips: 0, snips: 0, dr: 0 };
  const se = { ips: 0, snips: 0, dr: 0 };
  for (let r = 0; r < reps; r++) {
    const { logs, target } = simulateLogs(rng, 800);
    const q = crossFitRewardPredictions(logs, K, rng, { folds: 2 });
    const est = evaluatePolicy(logs, target, { rewardPredictions: q });
    for (const e of [est.ips, est.snips, est.dr!]) {
      if (e.ci[0] <= V && V <= e.ci[1]) covered[e.estimator]++;
      se[e.estimator] += e.se / reps;
    }
  }
  const rate = { ips: covered.ips / reps, snips: covered.snips / reps, dr: covered.dr / reps };
  console.log(JSON.stringify({ trueValue: V, coverage: rate, meanSe: se }));
  // Binomial sd of a 300-rep coverage rate is about 0.0126; 0.91 is more than 3 sd below 0.95.
  for (const k of ['ips', 'snips', 'dr'] as const) assert.ok(rate[k] >= 0.91 && rate[k] <= 0.99, `${k} coverage ${rate[k]}`);
});

test('targetProbabilities turns a bandit policy into the n × K matrix π(a|x)', () => {
  const { logs } = simulateLogs(new Rng(9), 200);
  const eg = new EpsilonGreedy({ nActions: K, dim: 3, epsilon: 0.3 }).updateBatch(logs.contexts, logs.actions, logs.rewards);
  const pi = targetProbabilities(eg, logs.contexts, new Rng(1));
  assert.equal(pi.rows, 200);
  for (let i = 0; i < 200; i++) {
    const row = pi.data.subarray(i * K, (i + 1) * K);
    expectClose(row[0] + row[1] + row[2], 1, { atol: 1e-12 });
    assert.ok(Math.min(...row) >= 0.1 - 1e-12);
  }
  const e = ips(logs, pi);
  assert.ok(Number.isFinite(e.value) && e.se > 0);
});
