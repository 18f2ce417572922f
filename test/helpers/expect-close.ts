import assert from 'node:assert/strict';

/** Element-wise |a - e| <= atol + rtol * |e|, as numpy.allclose. */
export function expectClose(
  actual: number | ArrayLike<number>,
  expected: number | ArrayLike<number>,
  { rtol = 1e-7, atol = 0, msg = '' }: { rtol?: number; atol?: number; msg?: string } = {},
): void {
  const a = typeof actual === 'number' ? [actual] : Array.from(actual);
  const e = typeof expected === 'number' ? [expected] : Array.from(expected);
  assert.equal(a.length, e.length, `${msg} length ${a.length} != ${e.length}`);
  for (let i = 0; i < a.length; i++) {
    const tol = atol + rtol * Math.abs(e[i]);
    if (!(Math.abs(a[i] - e[i]) <= tol)) {
      assert.fail(`${msg} index ${i}: ${a[i]} is not within ${tol} of ${e[i]}`);
    }
  }
}
