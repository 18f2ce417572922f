import { test } from 'node:test';
import assert from 'node:assert/strict';
import { binMatrix, fitBinMapper, splitThreshold } from './binning.ts';
import { fromRows, matrix } from './matrix.ts';
import { Rng } from './rng.ts';

test('few distinct values get exact bins with midpoint cuts', () => {
  const x = fromRows([[1], [3], [3], [7], [1]]);
  const m = fitBinMapper(x);
  assert.equal(m.nBins[0], 3);
  assert.deepEqual(Array.from(m.cuts[0]), [2, 5]);
  assert.deepEqual(Array.from(binMatrix(x, m).codes), [0, 1, 1, 2, 0]);
  // A cut between bins 0 and 2 (bin 1 empty in some node) lands midway between 1 and 7.
  assert.equal(splitThreshold(m, 0, 0, 2), 4);
});

test('many distinct values are cut at quantiles into at most 256 bins, codes agree with the cuts', () => {
  const rng = new Rng(3);
  const n = 5000;
  const x = matrix(n, 2);
  for (let i = 0; i < n; i++) {
    x.data[i * 2] = rng.normal();
    x.data[i * 2 + 1] = rng.int(4); // 4 distinct values
  }
  const m = fitBinMapper(x);
  assert.equal(m.nBins[0], 256);
  assert.equal(m.nBins[1], 4);
  const { codes } = binMatrix(x, m);
  const counts = new Int32Array(256);
  for (let i = 0; i < n; i++) {
    const c = codes[i];
    counts[c]++;
    const v = x.data[i * 2];
    if (c > 0) assert.ok(v > m.cuts[0][c - 1]);
    if (c < 255) assert.ok(v <= m.cuts[0][c]);
    assert.ok(v >= m.binLo[c] && v <= m.binHi[c]);
  }
  // Quantile bins hold roughly n/256 rows each.
  for (let b = 0; b < 256; b++) assert.ok(counts[b] >= 10 && counts[b] <= 30, `bin ${b} has ${counts[b]}`);
});

test('constant feature has one bin; wrong column count throws', () => {
  const m = fitBinMapper(fromRows([[2, 1], [2, 2]]));
  assert.equal(m.nBins[0], 1);
  assert.throws(() => binMatrix(fromRows([[1]]), m), /1 features, but the bins were fitted on 2/);
  assert.throws(() => fitBinMapper(fromRows([[1]]), 300), RangeError);
});
