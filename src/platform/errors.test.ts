import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NotFittedError } from '../ml/errors.ts';
import { DecisionTreeClassifier } from '../ml/tree.ts';
import { AppError, withMlErrors } from './errors.ts';

test("src/ml's parameter, data and not-fitted errors become 422 with their message; other errors pass through", async () => {
  const bad = await withMlErrors(() => new DecisionTreeClassifier({ maxDepth: -1 } as never)).catch((e: unknown) => e);
  assert.ok(bad instanceof AppError);
  assert.equal(bad.code, 'UNPROCESSABLE');
  assert.match(bad.message, /maxDepth/);
  const unfitted = await withMlErrors(() => {
    throw new NotFittedError('DecisionTreeClassifier is not fitted yet');
  }).catch((e: unknown) => e);
  assert.ok(unfitted instanceof AppError && unfitted.code === 'UNPROCESSABLE');
  const other = await withMlErrors(async () => {
    throw new Error('disk on fire');
  }).catch((e: unknown) => e);
  assert.ok(!(other instanceof AppError));
  assert.equal(await withMlErrors(() => 42), 42);
});
