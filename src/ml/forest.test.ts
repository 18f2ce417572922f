import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { NotFittedError } from './errors.ts';
import { RandomForestClassifier, RandomForestRegressor } from './forest.ts';
import { fromRows, matrix, type Matrix } from './matrix.ts';
import { Rng } from './rng.ts';
import { expectClose } from '../../test/helpers/expect-close.ts';

function loadIris(): { x: Matrix; y: Int32Array } {
  const rows = readFileSync(new URL('../../datasets/iris.csv', import.meta.url), 'utf8').trim().split('\n').slice(1);
  const parsed = rows.map((l) => l.split(',').map(Number));
  return { x: fromRows(parsed.map((r) => r.slice(0, 4))), y: Int32Array.from(parsed.map((r) => r[4])) };
}

test('nJobs 1 (fit) and nJobs 2 (fitAsync on workers) give identical forests', async () => {
  const { x, y } = loadIris();
  const params = { nEstimators: 24, maxDepth: 6, oobScore: true, seed: 11 };
  const progress: number[] = [];
  const one = new RandomForestClassifier({ ...params, nJobs: 1 }).fit(x, y);
  const two = await new RandomForestClassifier({ ...params, nJobs: 2, onProgress: (f) => progress.push(f) }).fitAsync(x, y);
  assert.deepEqual(two.predictProba(x).data, one.predictProba(x).data);
  assert.deepEqual(JSON.stringify(two.toJSON()), JSON.stringify(one.toJSON()));
  assert.equal(progress.length, 24);
  assert.equal(progress[23], 1);
  assert.equal(two.oobScore_, one.oobScore_);
  assert.ok(one.oobScore_! > 0.9, `oob ${one.oobScore_}`);
});

test('probabilities sum to 1, JSON round trip, same seed same model, importances', () => {
  const { x, y } = loadIris();
  const m = new RandomForestClassifier({ nEstimators: 20, seed: 3, nJobs: 1 }).fit(x, y);
  const p = m.predictProba(x);
  for (let r = 0; r < p.rows; r++) expectClose(p.data[r * 3] + p.data[r * 3 + 1] + p.data[r * 3 + 2], 1, { rtol: 1e-12 });
  const back = RandomForestClassifier.fromJSON(JSON.parse(JSON.stringify(m.toJSON())));
  assert.deepEqual(back.predictProba(x).data, p.data);
  assert.deepEqual(new RandomForestClassifier({ nEstimators: 20, seed: 3, nJobs: 1 }).fit(x, y).toJSON(), m.toJSON());
  assert.notDeepEqual(new RandomForestClassifier({ nEstimators: 20, seed: 4, nJobs: 1 }).fit(x, y).toJSON().trees, m.toJSON().trees);
  const imp = m.featureImportances;
  expectClose(imp.reduce((a, b) => a + b, 0), 1, { rtol: 1e-12 });
  // Petal length and width carry most of the signal on iris.
  assert.ok(imp[2] + imp[3] > 0.6);
});

test('regressor fits a noisy sine and reports an out-of-bag R²', async () => {
  const rng = new Rng(5);
  const n = 400;
  const x = matrix(n, 2);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    x.data[i * 2] = rng.next() * 6;
    x.data[i * 2 + 1] = rng.next();
    y[i] = Math.sin(x.data[i * 2]) + 0.1 * rng.normal();
  }
  const m = new RandomForestRegressor({ nEstimators: 30, oobScore: true, seed: 2, nJobs: 1 }).fit(x, y);
  assert.ok(m.oobScore_! > 0.85, `oob R² ${m.oobScore_}`);
  const m2 = await new RandomForestRegressor({ nEstimators: 30, oobScore: true, seed: 2, nJobs: 2 }).fitAsync(x, y);
  assert.deepEqual(m2.predict(x), m.predict(x));
  assert.deepEqual(RandomForestRegressor.fromJSON(JSON.parse(JSON.stringify(m.toJSON()))).predict(x), m.predict(x));
});

test('errors: not fitted, bad params, wrong feature count, JSON kind/version', () => {
  assert.throws(() => new RandomForestClassifier().predict(fromRows([[1]])), NotFittedError);
  assert.throws(() => new RandomForestClassifier({ nEstimators: 0 }), /nEstimators must be an integer >= 1/);
  assert.throws(() => new RandomForestClassifier({ bootstrap: 'yes' as unknown as boolean }), TypeError);
  assert.throws(() => new RandomForestClassifier({ oobScore: true, bootstrap: false }), /oobScore requires bootstrap/);
  assert.throws(() => new RandomForestRegressor({ criterion: 'gini' as 'squared_error' }), /criterion/);
  assert.throws(() => new RandomForestClassifier({ n_estimators: 5 } as object), /unknown parameter "n_estimators"/);
  const { x, y } = loadIris();
  const m = new RandomForestClassifier({ nEstimators: 3, nJobs: 1 }).fit(x, y);
  assert.throws(() => m.predict(fromRows([[1, 2]])), /X has 2 features, but the model was fitted with 4/);
  assert.throws(() => RandomForestClassifier.fromJSON({ ...m.toJSON(), kind: 'X' }), /kind/);
  assert.throws(() => RandomForestClassifier.fromJSON({ ...m.toJSON(), version: 2 }), /version 2/);
});
