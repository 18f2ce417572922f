import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectClose } from '../../test/helpers/expect-close.ts';
import { Rng } from './rng.ts';
import { matrix } from './matrix.ts';
import { BayesLinearModel } from './bandit-bayes-linear.ts';

function data(seed: number, n: number, d: number) {
  const rng = new Rng(seed);
  const X = matrix(n, d);
  const r = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) {
      X.data[i * d + j] = rng.normal();
      s += X.data[i * d + j] * (j + 1) * 0.3;
    }
    r[i] = s + 0.5 * rng.normal();
  }
  return { X, r };
}

test('tiny hand case: known noise, 1-D', () => {
  // λ = 2, σ² = 0.5, prior mean 1; x = [1, 2], r = [1, 3]: Λ = 2 + 5/0.5 = 12, b = 2 + 7/0.5 = 16.
  const m = new BayesLinearModel({ dim: 1, lambda: 2, priorMean: [1], noise: { kind: 'known', variance: 0.5 } });
  m.update([1], 1).update([2], 3);
  expectClose(m.mean(), [16 / 12], { rtol: 1e-14 });
  expectClose(m.covariance(), [1 / 12], { rtol: 1e-14 });
});

test('incremental and batch updates give the same posterior (both noise models)', () => {
  const { X, r } = data(3, 200, 4);
  for (const noise of [{ kind: 'known', variance: 0.3 } as const, { kind: 'estimated', a0: 2, b0: 1 } as const]) {
    const inc = new BayesLinearModel({ dim: 4, lambda: 0.5, priorMean: [0.1, 0, -0.2, 0.3], noise });
    for (let i = 0; i < X.rows; i++) inc.update(X.data.subarray(i * 4, i * 4 + 4), r[i]);
    const bat = new BayesLinearModel({ dim: 4, lambda: 0.5, priorMean: [0.1, 0, -0.2, 0.3], noise }).updateBatch(X, r);
    expectClose(inc.mean(), bat.mean(), { rtol: 1e-9, atol: 1e-12 });
    expectClose(inc.scaleMatrix(), bat.scaleMatrix(), { rtol: 1e-9, atol: 1e-14 });
    expectClose(inc.covariance(), bat.covariance(), { rtol: 1e-9, atol: 1e-14 });
    expectClose(inc.noiseVariance(), bat.noiseVariance(), { rtol: 1e-9 });
  }
});

test('NIG posterior matches the textbook formulas and learns the noise variance', () => {
  const { X, r } = data(5, 2000, 3);
  const m = new BayesLinearModel({ dim: 3, lambda: 1 }).updateBatch(X, r);
  // Direct: b_n = b0 + ½ Σ (r − x m)² + ½ λ mᵀm (prior mean 0).
  const mean = m.mean();
  let sse = 0;
  for (let i = 0; i < X.rows; i++) {
    let p = 0;
    for (let j = 0; j < 3; j++) p += X.data[i * 3 + j] * mean[j];
    sse += (r[i] - p) ** 2;
  }
  const mm = mean[0] ** 2 + mean[1] ** 2 + mean[2] ** 2;
  const { shape, scale } = m.noisePosterior();
  expectClose(shape, 2 + 1000, { rtol: 1e-15 });
  expectClose(scale, 1 + 0.5 * sse + 0.5 * mm, { rtol: 1e-9 });
  expectClose(m.noiseVariance(), 0.25, { rtol: 0.08 });
  expectClose(mean, [0.3, 0.6, 0.9], { atol: 0.05 });
});

test('posterior draws have the posterior mean and covariance', () => {
  const { X, r } = data(7, 30, 3);
  const m = new BayesLinearModel({ dim: 3, noise: { kind: 'estimated', a0: 3, b0: 1 } }).updateBatch(X, r);
  const rng = new Rng(99);
  const n = 40000;
  const s = new Float64Array(3);
  const s2 = new Float64Array(9);
  const w = new Float64Array(3);
  for (let k = 0; k < n; k++) {
    m.sample(rng, w);
    for (let i = 0; i < 3; i++) {
      s[i] += w[i];
      for (let j = 0; j < 3; j++) s2[i * 3 + j] += w[i] * w[j];
    }
  }
  const mu = m.mean();
  const cov = m.covariance();
  const emp = new Float64Array(9);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) emp[i * 3 + j] = s2[i * 3 + j] / n - (s[i] / n) * (s[j] / n);
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(s[i] / n - mu[i]) < 4 * Math.sqrt(cov[i * 4] / n), `mean ${i}`);
  expectClose(emp, cov, { rtol: 0.06, atol: 0.06 * Math.max(...cov) });
});

test('JSON round trip keeps the posterior and the draws', () => {
  const { X, r } = data(8, 20, 2);
  const m = new BayesLinearModel({ dim: 2 });
  for (let i = 0; i < 20; i++) m.update(X.data.subarray(i * 2, i * 2 + 2), r[i]);
  const back = BayesLinearModel.fromJSON(JSON.parse(JSON.stringify(m)));
  assert.deepEqual(back.mean(), m.mean());
  assert.deepEqual(back.sample(new Rng(1)), m.sample(new Rng(1)));
  assert.throws(() => BayesLinearModel.fromJSON({ ...m.toJSON(), version: 2 as 1 }), /version/);
  assert.throws(() => BayesLinearModel.fromJSON({ ...m.toJSON(), kind: 'X' as 'BayesLinearModel' }), TypeError);
});

test('bad parameters throw, naming the parameter and the limit', () => {
  assert.throws(() => new BayesLinearModel({ dim: 0 }), /dim must be an integer in \[1/);
  assert.throws(() => new BayesLinearModel({ dim: 2, lambda: 0 }), /lambda must be a finite number > 0/);
  assert.throws(() => new BayesLinearModel({ dim: 2, noise: { kind: 'known', variance: -1 } }), /noise.variance/);
  assert.throws(() => new BayesLinearModel({ dim: 2, priorMean: [1] }), /priorMean must have length/);
  assert.throws(() => new BayesLinearModel({ dim: 2 }).update([1, NaN], 1), /x\[1\] must be a finite/);
  assert.throws(() => new BayesLinearModel({ dim: 2 }).update([1, 2], Infinity), /reward must be finite/);
});
