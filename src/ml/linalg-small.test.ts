import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectClose } from '../../test/helpers/expect-close.ts';
import { cholesky, choleskyInverse, choleskySolve, lowerMatVec, matVec, rankOneUpdate, shermanMorrisonUpdate, solveSpd } from './linalg-small.ts';

const A = Float64Array.from([4, 12, -16, 12, 37, -43, -16, -43, 98]);

test('Cholesky of the textbook 3x3 matrix', () => {
  const l = cholesky(A, 3, new Float64Array(9));
  expectClose(l, [2, 0, 0, 6, 1, 0, -8, 5, 3], { atol: 1e-12 });
  const x = choleskySolve(l, 3, [1, 2, 3], new Float64Array(3));
  expectClose(matVec(A, 3, 3, x, new Float64Array(3)), [1, 2, 3], { atol: 1e-10 });
  expectClose(solveSpd(A, 3, [1, 2, 3], new Float64Array(3), new Float64Array(9)), x, { rtol: 1e-14 });
  const z = lowerMatVec(l, 3, [1, 1, 1], new Float64Array(3));
  expectClose(z, [2, 7, 0], { atol: 1e-12 });
  assert.throws(() => cholesky(Float64Array.from([1, 2, 2, 1]), 2, new Float64Array(4)), /positive definite/);
});

test('Sherman–Morrison matches a refactorised inverse', () => {
  const l = cholesky(A, 3, new Float64Array(9));
  const inv = choleskyInverse(l, 3, new Float64Array(9), new Float64Array(3));
  const x = [0.5, -1, 2];
  shermanMorrisonUpdate(inv, 3, x, new Float64Array(3), 0.7);
  const a2 = rankOneUpdate(Float64Array.from(A), 3, x, 0.7);
  const inv2 = choleskyInverse(cholesky(a2, 3, new Float64Array(9)), 3, new Float64Array(9), new Float64Array(3));
  expectClose(inv, inv2, { rtol: 1e-10, atol: 1e-14 });
});
