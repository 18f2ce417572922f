import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { NotFittedError } from './errors.ts';
import { fromRows, type Matrix } from './matrix.ts';
import { DecisionTreeClassifier, DecisionTreeRegressor } from './tree.ts';
import { expectClose } from '../../test/helpers/expect-close.ts';

function loadIris(): { x: Matrix; y: Int32Array } {
  const rows = readFileSync(new URL('../../datasets/iris.csv', import.meta.url), 'utf8').trim().split('\n').slice(1);
  const parsed = rows.map((l) => l.split(',').map(Number));
  return { x: fromRows(parsed.map((r) => r.slice(0, 4))), y: Int32Array.from(parsed.map((r) => r[4])) };
}

const col = (v: number[]) => fromRows(v.map((a) => [a]));

test('1-D hand case: the cut lands midway between the classes', () => {
  const m = new DecisionTreeClassifier().fit(col([1, 2, 3, 4, 5, 6]), Int32Array.from([0, 0, 0, 1, 1, 1]));
  const t = m.tree!;
  assert.equal(t.nodeCount, 3);
  assert.equal(t.feature[0], 0);
  assert.equal(t.threshold[0], 3.5);
  assert.deepEqual(Array.from(m.predict(col([3.4, 3.5, 3.6]))), [0, 0, 1]);
  for (const criterion of ['gini', 'entropy'] as const) {
    const m2 = new DecisionTreeClassifier({ criterion }).fit(col([1, 2, 3, 4]), Int32Array.from([0, 1, 1, 1]));
    assert.equal(m2.tree!.threshold[0], 1.5);
  }
});

test('minImpurityDecrease uses sklearn weighted formula (root gini .375, best decrease .125 at x<=2.5)', () => {
  const x = col([1, 2, 3, 4]);
  const y = Int32Array.from([0, 0, 1, 0]);
  const split = new DecisionTreeClassifier({ maxDepth: 1, minImpurityDecrease: 0.12 }).fit(x, y);
  assert.equal(split.tree!.threshold[0], 2.5);
  expectClose(split.tree!.impurity[0], 0.375, { rtol: 1e-12 });
  const leaf = new DecisionTreeClassifier({ maxDepth: 1, minImpurityDecrease: 0.13 }).fit(x, y);
  assert.equal(leaf.tree!.nodeCount, 1);
  expectClose(leaf.predictProba(col([0])).data, [0.75, 0.25], { rtol: 1e-12 });
});

test('regressor: squared error split and leaf means', () => {
  const m = new DecisionTreeRegressor().fit(col([1, 2, 3, 4]), Float64Array.from([1, 1, 5, 5]));
  assert.equal(m.tree!.threshold[0], 2.5);
  assert.deepEqual(Array.from(m.predict(col([2.4, 2.6]))), [1, 5]);
  const stump = new DecisionTreeRegressor({ maxDepth: 1 }).fit(col([1, 2, 3, 4]), Float64Array.from([0, 0, 0, 4]));
  assert.equal(stump.tree!.threshold[0], 3.5);
  assert.deepEqual(Array.from(stump.predict(col([0, 9]))), [0, 4]);
});

test('arbitrary integer labels map to sorted classes; class weights reweight leaves', () => {
  const m = new DecisionTreeClassifier().fit(col([1, 2, 3, 4]), Int32Array.from([10, -3, 10, -3]));
  assert.deepEqual(Array.from(m.classes!), [-3, 10]);
  assert.deepEqual(Array.from(m.predict(col([1, 2, 3, 4]))), [10, -3, 10, -3]);
  const xc = col([0, 0, 0, 0, 0]);
  const yc = Int32Array.from([0, 0, 0, 0, 1]);
  // balanced: class 0 weight 5/(2*4), class 1 weight 5/(2*1): the single leaf is 50/50.
  expectClose(new DecisionTreeClassifier({ classWeight: 'balanced' }).fit(xc, yc).predictProba(col([0])).data, [0.5, 0.5]);
  expectClose(new DecisionTreeClassifier({ classWeight: { 1: 2 } }).fit(xc, yc).predictProba(col([0])).data, [4 / 6, 2 / 6]);
  assert.throws(() => new DecisionTreeClassifier({ classWeight: { 7: 2 } }).fit(xc, yc), /class "7"/);
});

test('iris: training accuracy, probabilities sum to 1, importances, JSON round trip', () => {
  const { x, y } = loadIris();
  // sklearn gives 0.9733 at depth 3 and 1.0 unlimited (same tree shape, root tie broken differently).
  const acc = (p: Int32Array) => p.reduce((s, v, i) => s + (v === y[i] ? 1 : 0), 0) / y.length;
  const m3 = new DecisionTreeClassifier({ maxDepth: 3 }).fit(x, y);
  expectClose(acc(m3.predict(x)), 146 / 150);
  const full = new DecisionTreeClassifier({ criterion: 'entropy' }).fit(x, y);
  assert.equal(acc(full.predict(x)), 1);
  const proba = full.predictProba(x);
  for (let r = 0; r < proba.rows; r++) expectClose(proba.data[r * 3] + proba.data[r * 3 + 1] + proba.data[r * 3 + 2], 1, { rtol: 1e-12 });
  const imp = full.featureImportances;
  expectClose(imp.reduce((a, b) => a + b, 0), 1, { rtol: 1e-12 });
  const back = DecisionTreeClassifier.fromJSON(JSON.parse(JSON.stringify(full.toJSON())));
  assert.deepEqual(back.predictProba(x).data, proba.data);
  assert.deepEqual(back.toJSON(), full.toJSON());
  const r = new DecisionTreeRegressor({ maxDepth: 4 }).fit(x, Float64Array.from(x.data.filter((_, i) => i % 4 === 0)));
  assert.deepEqual(DecisionTreeRegressor.fromJSON(JSON.parse(JSON.stringify(r.toJSON()))).predict(x), r.predict(x));
});

test('same seed gives the same tree with feature subsampling', () => {
  const { x, y } = loadIris();
  const a = new DecisionTreeClassifier({ maxFeatures: 'sqrt', seed: 5 }).fit(x, y).toJSON();
  const b = new DecisionTreeClassifier({ maxFeatures: 'sqrt', seed: 5 }).fit(x, y).toJSON();
  assert.deepEqual(a, b);
});

test('errors: not fitted, bad params, wrong feature count, bad JSON', () => {
  assert.throws(() => new DecisionTreeClassifier().predict(col([1])), NotFittedError);
  assert.throws(() => new DecisionTreeRegressor().predict(col([1])), NotFittedError);
  assert.throws(() => new DecisionTreeClassifier({ maxDepth: 0 }), (e: Error) => e instanceof RangeError && /maxDepth must be an integer >= 1/.test(e.message));
  assert.throws(() => new DecisionTreeClassifier({ criterion: 'mse' as 'gini' }), /criterion must be one of "gini", "entropy"/);
  assert.throws(() => new DecisionTreeClassifier({ maxDepth: '3' as unknown as number }), TypeError);
  assert.throws(() => new DecisionTreeClassifier({ minSamplesSplit: 1 }), /minSamplesSplit/);
  assert.throws(() => new DecisionTreeClassifier({ maxFeatures: 0 }), /maxFeatures/);
  assert.throws(() => new DecisionTreeClassifier({ max_depth: 3 } as object), /unknown parameter "max_depth"/);
  const m = new DecisionTreeClassifier().fit(col([1, 2]), Int32Array.from([0, 1]));
  assert.throws(() => m.predict(fromRows([[1, 2]])), /X has 2 features, but the model was fitted with 1 features/);
  assert.throws(() => m.fit(col([1, 2]), Int32Array.from([0])), /2 rows but y has 1/);
  assert.throws(() => new DecisionTreeClassifier().fit(col([1, 2]), Float64Array.from([0, 0.5])), /32-bit integers/);
  assert.throws(() => DecisionTreeClassifier.fromJSON({ ...m.toJSON(), kind: 'DecisionTreeRegressor' }), /kind/);
  assert.throws(() => DecisionTreeClassifier.fromJSON({ ...m.toJSON(), version: 99 }), /version 99/);
});
