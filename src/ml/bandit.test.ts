import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectClose } from '../../test/helpers/expect-close.ts';
import { Rng } from './rng.ts';
import { matrix } from './matrix.ts';
import {
  banditFromJSON,
  EpsilonGreedy,
  LinUCB,
  PooledThompsonSampling,
  projectProbabilities,
  ThompsonSampling,
  UniformRandom,
  type BanditJSON,
  type BanditPolicy,
} from './bandit.ts';

const D = 3;

/** Logged data from a linear environment with K actions, uniform logging. */
function env(seed: number, n: number, k: number) {
  const rng = new Rng(seed);
  const theta = Array.from({ length: k }, () => Array.from({ length: D }, () => rng.normal()));
  const X = matrix(n, D);
  const A = new Int32Array(n);
  const R = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    X.data[i * D] = 1;
    for (let j = 1; j < D; j++) X.data[i * D + j] = rng.normal();
    A[i] = rng.int(k);
    let s = 0;
    for (let j = 0; j < D; j++) s += X.data[i * D + j] * theta[A[i]][j];
    R[i] = s + 0.5 * rng.normal();
  }
  return { X, A, R };
}

function policies(k: number, clip?: { pMin: number; pMax: number }): BanditPolicy[] {
  const base = { nActions: k, dim: D, actionNames: Array.from({ length: k }, (_, i) => `a${i}`), clip };
  return [
    new ThompsonSampling({ ...base, mcSamples: 300 }),
    new ThompsonSampling({ ...base, noise: { kind: 'known', variance: 0.25 }, mcSamples: 300 }),
    new PooledThompsonSampling({ ...base, mcSamples: 300 }),
    new LinUCB({ ...base, alpha: 0.5 }),
    new EpsilonGreedy({ ...base, epsilon: 0.2 }),
    new EpsilonGreedy({ ...base, epsilon: 0.2, estimator: 'average' }),
    new UniformRandom(base),
  ];
}

const ctx = [1, 0.3, -0.7];

test('projection onto [pMin, pMax]: MRT rule, worked cases, invariants', () => {
  expectClose(projectProbabilities([0.95, 0.05], { pMin: 0.2, pMax: 0.8 }), [0.8, 0.2], { atol: 1e-15 });
  expectClose(projectProbabilities([1, 0, 0, 0], { pMin: 0.2, pMax: 0.8 }), [0.4, 0.2, 0.2, 0.2], { atol: 1e-15 });
  expectClose(projectProbabilities([0.7, 0.2, 0.1], { pMin: 0.15, pMax: 0.6 }), [0.6, 0.25, 0.15], { atol: 1e-15 });
  assert.deepEqual(projectProbabilities([0.3, 0.3, 0.4], { pMin: 0.1, pMax: 0.9 }), Float64Array.from([0.3, 0.3, 0.4]));
  assert.throws(() => projectProbabilities([0.5, 0.5, 0, 0, 0], { pMin: 0.21, pMax: 0.8 }), /pMin \* nActions must be <= 1/);
  assert.throws(() => projectProbabilities([0.5, 0.5], { pMin: 0.1, pMax: 0.4 }), /pMax \* nActions must be >= 1/);
  const rng = new Rng(4);
  for (let t = 0; t < 500; t++) {
    const k = 2 + rng.int(6);
    const p = new Float64Array(k);
    let s = 0;
    for (let i = 0; i < k; i++) s += p[i] = rng.next() ** 3;
    for (let i = 0; i < k; i++) p[i] /= s;
    const pMin = (rng.next() * 1) / k;
    const pMax = 1 / k + rng.next() * (1 - 1 / k);
    const q = projectProbabilities(p, { pMin, pMax });
    let sq = 0;
    for (let i = 0; i < k; i++) {
      assert.ok(q[i] >= pMin - 1e-15 && q[i] <= pMax + 1e-15, `q[${i}] = ${q[i]} outside [${pMin}, ${pMax}]`);
      sq += q[i];
      for (let j = 0; j < k; j++) if (p[i] > p[j]) assert.ok(q[i] >= q[j] - 1e-15, 'order is kept');
    }
    expectClose(sq, 1, { atol: 1e-14 });
  }
});

test('every policy: probabilities sum to 1 and the logged probability is the chosen entry', () => {
  const { X, A, R } = env(1, 300, 4);
  const rng = new Rng(2);
  for (const clip of [undefined, { pMin: 0.1, pMax: 0.6 }]) {
    for (const p of policies(4, clip)) {
      p.updateBatch(X, A, R);
      for (let t = 0; t < 20; t++) {
        const x = [1, rng.normal(), rng.normal()];
        const c = p.choose(x, rng);
        let s = 0;
        for (const v of c.probabilities) s += v;
        expectClose(s, 1, { atol: 1e-12, msg: p.kind });
        assert.equal(c.probability, c.probabilities[c.action]);
        assert.ok(c.probability > 0);
        assert.equal(c.actionName, `a${c.action}`);
        if (clip) for (const v of c.probabilities) assert.ok(v >= clip.pMin - 1e-15 && v <= clip.pMax + 1e-15, `${p.kind} ${v}`);
        if (c.method === 'monte_carlo') assert.equal(c.mcSamples, 300);
        const est = p.actionProbabilities(x, new Rng(t));
        expectClose(est.probabilities.reduce((a, b) => a + b, 0), 1, { atol: 1e-12 });
      }
    }
  }
});

test('replay from rngState, and after a JSON round trip', () => {
  const { X, A, R } = env(3, 200, 3);
  for (const clip of [undefined, { pMin: 0.1, pMax: 0.7 }]) {
    for (const p of policies(3, clip)) {
      p.updateBatch(X, A, R);
      const rng = new Rng(77);
      for (let i = 0; i < 5; i++) rng.next();
      const c1 = p.choose(ctx, rng);
      const c2 = p.choose(ctx, new Rng(c1.rngState));
      assert.deepEqual(c2, c1, p.kind);
      const back = banditFromJSON(JSON.parse(JSON.stringify(p.toJSON())) as BanditJSON);
      assert.equal(back.kind, p.kind);
      assert.deepEqual(back.toJSON(), p.toJSON());
      assert.deepEqual(back.choose(ctx, new Rng(c1.rngState)), c1, `${p.kind} restored`);
    }
  }
});

test('unclipped Thompson plays the argmax of its posterior draw from the same state', () => {
  const { X, A, R } = env(5, 100, 4);
  const ts = new ThompsonSampling({ nActions: 4, dim: D }).updateBatch(X, A, R);
  const rng = new Rng(8);
  for (let t = 0; t < 50; t++) {
    const state = rng.state();
    const c = ts.choose(ctx, rng, { mcSamples: 10 });
    const s = ts.sampleScores(ctx, new Rng(state));
    assert.equal(c.action, s.indexOf(Math.max(...s)));
  }
});

test('exact two-action Thompson probabilities agree with 100k posterior draws', () => {
  const { X, A, R } = env(9, 20, 2);
  const variants = [
    new ThompsonSampling({ nActions: 2, dim: D, noise: { kind: 'known', variance: 0.25 } }),
    new ThompsonSampling({ nActions: 2, dim: D }), // Student-t quadrature
    new PooledThompsonSampling({ nActions: 2, dim: D }),
    new PooledThompsonSampling({ nActions: 2, dim: D, noise: { kind: 'known', variance: 0.25 } }),
  ];
  const x = [1, 0, 2.2]; // near the boundary between the two actions: P(a1) is 0.57–0.71
  const n = 100_000;
  for (const p of variants) {
    p.updateBatch(X, A, R);
    const c = p.choose(x, new Rng(1));
    assert.equal(c.method, 'exact');
    const rng = new Rng(12);
    const s = new Float64Array(2);
    let wins = 0;
    for (let i = 0; i < n; i++) {
      p.sampleScores(x, rng, s);
      if (s[1] > s[0]) wins++;
    }
    const exact = c.probabilities[1];
    assert.ok(exact > 0.05 && exact < 0.95, `a non-trivial case (${exact})`);
    assert.ok(Math.abs(wins / n - exact) < 0.01, `${p.kind}: MC ${wins / n} vs exact ${exact}`);
  }
});

test('clipped draws: probabilities within bounds, empirical frequencies match the logged ones', () => {
  const { X, A, R } = env(13, 200, 2);
  // Two actions, known noise: the Thompson probability is near 1, clipped to 0.8.
  const ts2 = new ThompsonSampling({ nActions: 2, dim: D, noise: { kind: 'known', variance: 0.25 }, clip: { pMin: 0.2, pMax: 0.8 } }).updateBatch(X, A, R);
  const x = [1, 1.5, -1.5];
  const unclipped = new ThompsonSampling({ nActions: 2, dim: D, noise: { kind: 'known', variance: 0.25 } }).updateBatch(X, A, R);
  const raw = unclipped.actionProbabilities(x, new Rng(0)).probabilities;
  assert.ok(Math.max(raw[0], raw[1]) > 0.8, `the unclipped vector needs clipping (${raw})`);
  const cases: Array<[BanditPolicy, number, number]> = [
    [ts2, 20000, 2],
    [new ThompsonSampling({ nActions: 4, dim: D, clip: { pMin: 0.1, pMax: 0.5 }, mcSamples: 200 }).updateBatch(X, A, R), 4000, 4],
    [new LinUCB({ nActions: 4, dim: D, clip: { pMin: 0.15, pMax: 0.8 } }).updateBatch(X, A, R), 20000, 4],
  ];
  for (const [p, n, k] of cases) {
    const rng = new Rng(21);
    const counts = new Float64Array(k);
    const meanP = new Float64Array(k);
    for (let i = 0; i < n; i++) {
      const c = p.choose(x, rng);
      counts[c.action]++;
      for (let a = 0; a < k; a++) {
        assert.ok(c.probabilities[a] >= (p as ThompsonSampling).clip!.pMin - 1e-15);
        meanP[a] += c.probabilities[a] / n;
      }
    }
    for (let a = 0; a < k; a++) {
      const se = Math.sqrt((meanP[a] * (1 - meanP[a])) / n);
      assert.ok(Math.abs(counts[a] / n - meanP[a]) < 3 * se + 1e-12, `${p.kind} action ${a}: ${counts[a] / n} vs ${meanP[a]} (se ${se})`);
    }
  }
});

test('LinUCB and ε-greedy: exact tie probabilities', () => {
  const lin = new LinUCB({ nActions: 4, dim: D });
  const c = lin.choose(ctx, new Rng(1));
  expectClose(c.probabilities, [0.25, 0.25, 0.25, 0.25], { rtol: 1e-15 });
  const eg = new EpsilonGreedy({ nActions: 4, dim: D, epsilon: 0.2 });
  expectClose(eg.choose(ctx, new Rng(1)).probabilities, [0.25, 0.25, 0.25, 0.25], { rtol: 1e-15 });
  eg.update(ctx, 2, 1);
  expectClose(eg.choose(ctx, new Rng(1)).probabilities, [0.05, 0.05, 0.85, 0.05], { rtol: 1e-14 });
  const lin2 = new LinUCB({ nActions: 3, dim: D, alpha: 0 });
  lin2.update(ctx, 0, 1).update(ctx, 1, 1);
  const c2 = lin2.choose(ctx, new Rng(5));
  expectClose(c2.probabilities, [0.5, 0.5, 0], { rtol: 1e-15 });
  assert.equal(c2.probability, 0.5);
});

test('incremental and batch policy updates give identical posteriors', () => {
  const { X, A, R } = env(17, 150, 3);
  const inc = new ThompsonSampling({ nActions: 3, dim: D });
  const incP = new PooledThompsonSampling({ nActions: 3, dim: D });
  for (let i = 0; i < X.rows; i++) {
    const x = X.data.subarray(i * D, (i + 1) * D);
    inc.update(x, A[i], R[i]);
    incP.update(x, A[i], R[i]);
  }
  const bat = new ThompsonSampling({ nActions: 3, dim: D }).updateBatch(X, A, R);
  const batP = new PooledThompsonSampling({ nActions: 3, dim: D }).updateBatch(X, A, R);
  for (let a = 0; a < 3; a++) {
    expectClose(inc.models[a].mean(), bat.models[a].mean(), { rtol: 1e-9, atol: 1e-12 });
    expectClose(inc.models[a].covariance(), bat.models[a].covariance(), { rtol: 1e-9, atol: 1e-12 });
  }
  expectClose(incP.model.mean(), batP.model.mean(), { rtol: 1e-9, atol: 1e-12 });
  expectClose(incP.model.scaleMatrix(), batP.model.scaleMatrix(), { rtol: 1e-9, atol: 1e-12 });
});

test('bad parameters, contexts, actions and JSON throw with the limit named', () => {
  assert.throws(() => new UniformRandom({ nActions: 0, dim: 2 }), /nActions must be an integer in \[1, 1024\]/);
  assert.throws(() => new UniformRandom({ nActions: 2, dim: 1.5 }), /dim must be an integer/);
  assert.throws(() => new UniformRandom({ nActions: 5, dim: 2, clip: { pMin: 0.25, pMax: 0.8 } }), /pMin \* nActions must be <= 1/);
  assert.throws(() => new UniformRandom({ nActions: 2, dim: 2, clip: { pMin: 0.6, pMax: 0.5 } }), /pMin must be <= clip.pMax/);
  assert.throws(() => new UniformRandom({ nActions: 2, dim: 2, actionNames: ['x', 'x'] }), /unique/);
  assert.throws(() => new EpsilonGreedy({ nActions: 2, dim: 2, epsilon: 1.5 }), /epsilon must be in \[0, 1\]/);
  assert.throws(() => new EpsilonGreedy({ nActions: 2, dim: 2, estimator: 'knn' as 'ridge' }), TypeError);
  assert.throws(() => new LinUCB({ nActions: 2, dim: 2, alpha: -1 }), /alpha must be a finite number >= 0/);
  assert.throws(() => new LinUCB({ nActions: 2, dim: 2, lambda: 0 }), /lambda must be a finite number > 0/);
  assert.throws(() => new ThompsonSampling({ nActions: 2, dim: 2, mcSamples: 0 }), /mcSamples must be an integer in \[1/);
  const ts = new ThompsonSampling({ nActions: 3, dim: 2, actionNames: ['a', 'b', 'c'] });
  assert.throws(() => ts.choose([1], new Rng(1)), /context must have length dim = 2/);
  assert.throws(() => ts.choose([1, NaN], new Rng(1)), /context\[1\] must be a finite number/);
  assert.throws(() => ts.update([1, 2], 3, 1), /action must be an integer in \[0, 2\]/);
  assert.throws(() => ts.update([1, 2], 'z', 1), /unknown action name 'z'/);
  ts.update([1, 2], 'c', 1);
  assert.equal(ts.models[2].count, 1);
  assert.throws(() => ts.updateBatch(matrix(1, 2), Int32Array.from([5]), [1]), /actions\[0\] must be an integer in \[0, 2\]/);
  assert.throws(() => banditFromJSON({ ...ts.toJSON(), version: 2 as 1 }), /unsupported ThompsonSampling version 2/);
  assert.throws(() => ThompsonSampling.fromJSON({ ...ts.toJSON(), kind: 'LinUCB' as 'ThompsonSampling' }), TypeError);
  assert.throws(() => banditFromJSON({ kind: 'Nope' } as unknown as BanditJSON), /unknown bandit kind/);
});
