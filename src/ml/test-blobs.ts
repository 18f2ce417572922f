// Test data shared by the k-means and KNN tests: Gaussian blobs around k random centres.

import { matrix, type Matrix } from './matrix.ts';
import { Rng } from './rng.ts';

/**
 * n×d rows, each drawn around one of k centres (chosen at random) with the given spread. `rng`
 * is a seed or a generator to continue. round: integer values (many exact distance ties);
 * offset: added to every centre coordinate.
 */
export function blobs(rng: Rng | number, n: number, d: number, k: number, spread: number, round = false, offset = 0): Matrix {
  const r = typeof rng === 'number' ? new Rng(rng) : rng;
  const centres = Array.from({ length: k }, () => Array.from({ length: d }, () => r.normal() * 5 + offset));
  const X = matrix(n, d);
  for (let i = 0; i < n; i++) {
    const c = centres[r.int(k)];
    for (let t = 0; t < d; t++) {
      const v = c[t] + r.normal() * spread;
      X.data[i * d + t] = round ? Math.round(v) : v;
    }
  }
  return X;
}
