import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromRows, toRows } from './matrix.ts';
import { csr, csrFromDense, csrFromTriplets, csrNormalizeRows, csrRowNorms, csrTakeRows, csrToDense, csrTranspose } from './sparse.ts';
import { expectClose } from '../../test/helpers/expect-close.ts';

const dense = fromRows([
  [0, 2, 0, 1],
  [0, 0, 0, 0],
  [3, 0, 4, 0],
]);

test('dense → CSR → dense round trip keeps values and canonical order', () => {
  const s = csrFromDense(dense);
  assert.deepEqual(Array.from(s.indptr), [0, 2, 2, 4]);
  assert.deepEqual(Array.from(s.indices), [1, 3, 0, 2]);
  assert.deepEqual(Array.from(s.data), [2, 1, 3, 4]);
  assert.deepEqual(toRows(csrToDense(s)), toRows(dense));
});

test('triplets sum duplicates and sort columns', () => {
  const s = csrFromTriplets(3, 4, [2, 0, 2, 0, 0], [2, 3, 0, 1, 3], [4, 0.5, 3, 2, 0.5]);
  assert.deepEqual(toRows(csrToDense(s)), toRows(dense));
  assert.deepEqual(Array.from(s.indices), [1, 3, 0, 2]);
  assert.throws(() => csrFromTriplets(2, 2, [2], [0], [1]), RangeError);
});

test('row norms, l2 normalisation (zero rows stay zero), take rows, transpose', () => {
  const s = csrFromDense(dense);
  expectClose(csrRowNorms(s), [5, 0, 25]);
  expectClose(csrRowNorms(s, false), [Math.sqrt(5), 0, 5]);
  const u = csrNormalizeRows(s);
  expectClose(csrToDense(u).data, [0, 2 / Math.sqrt(5), 0, 1 / Math.sqrt(5), 0, 0, 0, 0, 0.6, 0, 0.8, 0], { rtol: 1e-15 });
  assert.deepEqual(toRows(csrToDense(csrTakeRows(s, [2, 0]))), [dense.data.slice(8, 12), dense.data.slice(0, 4)].map((r) => Array.from(r)));
  const t = csrToDense(csrTranspose(s));
  for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) assert.equal(t.data[j * 3 + i], dense.data[i * 4 + j]);
});

test('csr() rejects inconsistent arrays', () => {
  assert.throws(() => csr(1, 3, Int32Array.from([0, 2]), Int32Array.from([2, 1]), Float64Array.from([1, 1])), /unsorted/);
  assert.throws(() => csr(1, 3, Int32Array.from([0, 1]), Int32Array.from([3]), Float64Array.from([1])), /out-of-range/);
  assert.throws(() => csr(2, 3, Int32Array.from([0, 1]), Int32Array.from([0]), Float64Array.from([1])), /indptr/);
});
