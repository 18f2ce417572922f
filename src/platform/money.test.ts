import assert from 'node:assert/strict';
import { test } from 'node:test';
import { convertCents, formatCents, parseCents } from './money.ts';

test('amounts parse into exact cents and print back canonically', () => {
  assert.equal(parseCents('100'), 10000n);
  assert.equal(parseCents('100.5'), 10050n);
  assert.equal(parseCents('0.01'), 1n);
  assert.equal(parseCents(42.25), 4225n);
  assert.equal(parseCents('999999999999.99'), 99999999999999n);
  for (const bad of ['1e3', '-1', '0.001', '', ' 1', '1.', '.5', '1000000000000', 0.1 + 0.2, Number.NaN, true, null]) assert.equal(parseCents(bad), null, String(bad));
  assert.equal(formatCents(12345n), '123.45');
  assert.equal(formatCents(5n), '0.05');
  assert.equal(formatCents(-5n), '-0.05');
});

test('conversions by a rate are exact until one rounding to cents, half away from zero', () => {
  // 10.00 × 0.1 = 1.00 exactly (a float product gives 1.0000000000000002 × 100 cents first).
  assert.equal(convertCents(1000n, '0.1'), 100n);
  // 0.01 × 0.5 = 0.005 → 0.01; 0.03 × 0.5 = 0.015 → 0.02; 0.05 × 0.5 = 0.025 → 0.03 (half up, not to even).
  assert.equal(convertCents(1n, '0.5'), 1n);
  assert.equal(convertCents(3n, '0.5'), 2n);
  assert.equal(convertCents(5n, '0.5'), 3n);
  // 1.00 × 1.005 = 1.005 → 1.01; in floats 100 × 1.005 = 100.49999999999999, which rounds to 1.00.
  assert.equal(convertCents(100n, '1.005'), 101n);
  assert.equal(convertCents(99999999999999n, '1.00000000000001'), 100000000000000n);
  assert.equal(formatCents(convertCents(parseCents('19.99')!, '1.0837')), '21.66'); // 21.663163
  assert.equal(convertCents(1234n, 1.5), 1851n);
  for (const bad of ['0', '-1', '1e2', 'abc', '', 0, Number.POSITIVE_INFINITY]) assert.throws(() => convertCents(100n, bad as string), RangeError, String(bad));
});
