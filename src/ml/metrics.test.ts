import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { accuracy, balancedAccuracy, f1Macro, meanSquaredError, r2Score, scorer } from './metrics.ts';
import { expectClose } from '../../test/helpers/expect-close.ts';

const ref = JSON.parse(readFileSync(new URL('./fixtures/grid-metrics.json', import.meta.url), 'utf8'));

test('metrics match sklearn on small vectors (fixtures/grid-metrics.json)', () => {
  expectClose(accuracy(ref.y_true, ref.y_pred), ref.accuracy, { rtol: 1e-12 });
  expectClose(balancedAccuracy(ref.y_true, ref.y_pred), ref.balanced_accuracy, { rtol: 1e-12 });
  expectClose(f1Macro(ref.y_true, ref.y_pred), ref.f1_macro, { rtol: 1e-12 });
  expectClose(r2Score(ref.r_true, ref.r_pred), ref.r2, { rtol: 1e-12 });
  expectClose(meanSquaredError(ref.r_true, ref.r_pred), ref.mean_squared_error, { rtol: 1e-12 });
  expectClose(scorer('neg_mean_squared_error')(ref.r_true, ref.r_pred), -ref.mean_squared_error, { rtol: 1e-12 });
});

test('hand cases and errors', () => {
  assert.equal(accuracy([1, 2, 3, 4], [1, 2, 0, 0]), 0.5);
  // recall of class 0 is 1/1, of class 1 is 1/3: mean 2/3.
  expectClose(balancedAccuracy([0, 1, 1, 1], [0, 1, 0, 0]), 2 / 3);
  assert.equal(r2Score([2, 2], [2, 2]), 1);
  assert.throws(() => accuracy([1, 2], [1]), /yTrue has 2 values but yPred has 1/);
  assert.throws(() => scorer('auc' as 'r2'), /scoring must be one of/);
});
