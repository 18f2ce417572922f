import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectClose } from '../../test/helpers/expect-close.ts';
import { Rng } from './rng.ts';
import { betaInc, logGamma, normalCdf, normalQuantile, sampleGamma, studentTCdf, studentTPdf } from './stats.ts';

// Reference values from scipy.stats (Debian python3-scipy).
test('normal CDF and quantile match scipy', () => {
  expectClose(normalCdf(1.96), 0.9750021048517795, { rtol: 1e-13 });
  expectClose(normalCdf(-3), 0.0013498980316300933, { rtol: 1e-12 });
  expectClose(normalCdf(-8), 6.22096057427174e-16, { rtol: 1e-10 });
  expectClose(normalQuantile(0.975), 1.959963984540054, { rtol: 1e-13 });
  expectClose(normalQuantile(1e-10), -6.361340902404056, { rtol: 1e-12 });
  expectClose(normalQuantile(0.3), -0.5244005127080409, { rtol: 1e-13 });
  assert.throws(() => normalQuantile(1.5), RangeError);
});

test('Student-t, log-gamma and incomplete beta match scipy', () => {
  expectClose(studentTCdf(2, 5), 0.9490302605850709, { rtol: 1e-13 });
  expectClose(studentTCdf(-1.5, 3), 0.11529193262241141, { rtol: 1e-12 });
  expectClose(studentTCdf(0.3, 4.5), 0.6112332264802844, { rtol: 1e-13 });
  expectClose(studentTCdf(1, 1), 0.75, { rtol: 1e-13 });
  expectClose(studentTPdf(0.7, 3.2), 0.27386781804054333, { rtol: 1e-12 });
  expectClose(logGamma(4.5), 2.4537365708424423, { rtol: 1e-13 });
  expectClose(betaInc(2.5, 1.5, 0.3), 0.0889437231706656, { rtol: 1e-12 });
});

test('gamma draws have the right mean and variance (shape < 1 and > 1)', () => {
  const rng = new Rng(11);
  for (const shape of [0.4, 3.5]) {
    let s = 0;
    let s2 = 0;
    const n = 40000;
    for (let i = 0; i < n; i++) {
      const g = sampleGamma(rng, shape);
      s += g;
      s2 += g * g;
    }
    const mean = s / n;
    const v = s2 / n - mean * mean;
    assert.ok(Math.abs(mean - shape) < 4 * Math.sqrt(shape / n), `mean ${mean} vs ${shape}`);
    assert.ok(Math.abs(v - shape) < 0.1 * shape, `variance ${v} vs ${shape}`);
  }
});
