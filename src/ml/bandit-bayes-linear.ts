// Conjugate Bayesian linear regression r = xᵀw + ε, the reward model under Thompson sampling,
// LinUCB and ridge ε-greedy. Two noise models:
//  - { kind: 'known', variance: σ² }: prior w ~ N(m0, λ⁻¹ I); posterior N(m, Λ⁻¹) with
//    Λ = λI + XᵀX/σ², m = Λ⁻¹(λ m0 + Xᵀr/σ²).
//  - { kind: 'estimated', a0, b0 } (default a0 = 2, b0 = 1, so the prior mean of σ² is 1): the
//    normal-inverse-gamma prior σ² ~ IG(a0, b0), w | σ² ~ N(m0, σ² λ⁻¹ I). The posterior is
//    σ² ~ IG(a, b), w | σ² ~ N(m, σ² Λ⁻¹) with Λ = λI + XᵀX, m = Λ⁻¹(λ m0 + Xᵀr), a = a0 + n/2,
//    b = b0 + ½(rᵀr + λ m0ᵀm0 − mᵀΛm). Marginally w is multivariate Student-t with 2a degrees of
//    freedom and scale (b/a)Λ⁻¹, so exploration widens when rewards turn out noisy. This is the
//    default because a decision server rarely knows its reward noise in advance.
// Both updates keep the same sufficient statistics (Λ, λm0 + Xᵀr, rᵀr, n); `update` keeps Λ⁻¹
// current by Sherman–Morrison in O(d²), `updateBatch` refactorises by Cholesky, and the two agree
// to rounding.

import type { Matrix } from './matrix.ts';
import type { Rng } from './rng.ts';
import { cholesky, choleskyInverse, dot, lowerMatVec, matVec, quadForm, rankOneUpdate, setIdentity, shermanMorrisonUpdate, symmetrize } from './linalg-small.ts';
import { sampleInverseGamma } from './stats.ts';

export type NoiseModel = { kind: 'known'; variance: number } | { kind: 'estimated'; a0: number; b0: number };

export interface BayesLinearParams {
  dim: number;
  /** Prior precision λ > 0 (ridge penalty). Default 1. */
  lambda?: number;
  /** Prior mean m0 (length dim). Default zeros. */
  priorMean?: ArrayLike<number>;
  /** Default { kind: 'estimated', a0: 2, b0: 1 }. */
  noise?: NoiseModel;
}

export interface BayesLinearJSON {
  kind: 'BayesLinearModel';
  version: 1;
  dim: number;
  lambda: number;
  priorMean: number[];
  noise: NoiseModel;
  n: number;
  sumSq: number;
  precision: number[];
  covarianceScale: number[];
  b: number[];
}

export const BAYES_LINEAR_VERSION = 1;

export class BayesLinearModel {
  readonly dim: number;
  readonly lambda: number;
  readonly noise: NoiseModel;
  readonly priorMean: Float64Array;
  private n = 0;
  private sumSq = 0; // Σ w_data r², with w_data = 1/σ² (known) or 1 (estimated)
  private readonly prec: Float64Array; // Λ
  private readonly cov: Float64Array; // Λ⁻¹ (kept current)
  private readonly b: Float64Array; // λ m0 + w_data Xᵀr
  private readonly m: Float64Array; // Λ⁻¹ b
  private readonly chol: Float64Array; // lower Cholesky of Λ⁻¹, lazily computed for sampling
  private cholDirty = true;
  private readonly work: Float64Array;
  private readonly work2: Float64Array;
  private readonly lWork: Float64Array;

  constructor(params: BayesLinearParams) {
    const { dim } = params;
    if (!Number.isInteger(dim) || dim < 1 || dim > 4096) throw new RangeError(`dim must be an integer in [1, 4096], got ${dim}`);
    const lambda = params.lambda ?? 1;
    if (!(lambda > 0) || !Number.isFinite(lambda)) throw new RangeError(`lambda must be a finite number > 0, got ${lambda}`);
    const noise = params.noise ?? { kind: 'estimated', a0: 2, b0: 1 };
    switch (noise.kind) {
      case 'known':
        if (!(noise.variance > 0) || !Number.isFinite(noise.variance)) throw new RangeError(`noise.variance must be a finite number > 0, got ${noise.variance}`);
        break;
      case 'estimated':
        if (!(noise.a0 > 0) || !Number.isFinite(noise.a0)) throw new RangeError(`noise.a0 must be a finite number > 0, got ${noise.a0}`);
        if (!(noise.b0 > 0) || !Number.isFinite(noise.b0)) throw new RangeError(`noise.b0 must be a finite number > 0, got ${noise.b0}`);
        break;
      default:
        throw new TypeError(`noise.kind must be 'known' or 'estimated', got ${String((noise as { kind: unknown }).kind)}`);
    }
    this.dim = dim;
    this.lambda = lambda;
    this.noise = { ...noise };
    this.priorMean = new Float64Array(dim);
    if (params.priorMean !== undefined) {
      if (params.priorMean.length !== dim) throw new RangeError(`priorMean must have length dim = ${dim}, got ${params.priorMean.length}`);
      for (let i = 0; i < dim; i++) {
        const v = params.priorMean[i];
        if (!Number.isFinite(v)) throw new RangeError(`priorMean[${i}] must be finite, got ${v}`);
        this.priorMean[i] = v;
      }
    }
    this.prec = setIdentity(new Float64Array(dim * dim), dim, lambda);
    this.cov = setIdentity(new Float64Array(dim * dim), dim, 1 / lambda);
    this.b = new Float64Array(dim);
    for (let i = 0; i < dim; i++) this.b[i] = lambda * this.priorMean[i];
    this.m = Float64Array.from(this.priorMean);
    this.chol = new Float64Array(dim * dim);
    this.work = new Float64Array(dim);
    this.work2 = new Float64Array(dim);
    this.lWork = new Float64Array(dim * dim);
  }

  /** Weight of one observation in Λ and b: 1/σ² when σ² is known, 1 under the NIG prior. */
  private get dataWeight(): number {
    return this.noise.kind === 'known' ? 1 / this.noise.variance : 1;
  }

  get count(): number {
    return this.n;
  }

  /** Incremental posterior update with one observation, O(d²). */
  update(x: ArrayLike<number>, r: number): this {
    checkVector(x, this.dim, 'x');
    if (!Number.isFinite(r)) throw new RangeError(`reward must be finite, got ${r}`);
    const w = this.dataWeight;
    rankOneUpdate(this.prec, this.dim, x, w);
    shermanMorrisonUpdate(this.cov, this.dim, x, this.work, w);
    symmetrize(this.cov, this.dim);
    for (let i = 0; i < this.dim; i++) this.b[i] += w * x[i] * r;
    this.sumSq += w * r * r;
    this.n++;
    matVec(this.cov, this.dim, this.dim, this.b, this.m);
    this.cholDirty = true;
    return this;
  }

  /** Batch update with the rows of X; the same posterior as calling update row by row. */
  updateBatch(X: Matrix, r: ArrayLike<number>): this {
    if (X.cols !== this.dim) throw new RangeError(`X must have dim = ${this.dim} columns, got ${X.cols}`);
    if (r.length !== X.rows) throw new RangeError(`rewards must have X.rows = ${X.rows} values, got ${r.length}`);
    const d = this.dim;
    const w = this.dataWeight;
    const xd = X.data;
    for (let i = 0; i < X.rows; i++) {
      const ri = r[i];
      if (!Number.isFinite(ri)) throw new RangeError(`rewards[${i}] must be finite, got ${ri}`);
      for (let j = 0; j < d; j++) {
        if (!Number.isFinite(xd[i * d + j])) throw new RangeError(`X has a non-finite value at row ${i}, column ${j}`);
      }
    }
    for (let i = 0; i < X.rows; i++) {
      const o = i * d;
      const ri = r[i];
      for (let j = 0; j < d; j++) {
        const wj = w * xd[o + j];
        if (wj === 0) continue;
        this.b[j] += wj * ri;
        for (let k = 0; k < d; k++) this.prec[j * d + k] += wj * xd[o + k];
      }
      this.sumSq += w * ri * ri;
    }
    this.n += X.rows;
    this.refactor();
    return this;
  }

  /** Recomputes Λ⁻¹ and the mean from Λ by Cholesky (also clears Sherman–Morrison drift). */
  refactor(): this {
    cholesky(this.prec, this.dim, this.lWork);
    choleskyInverse(this.lWork, this.dim, this.cov, this.work);
    matVec(this.cov, this.dim, this.dim, this.b, this.m);
    this.cholDirty = true;
    return this;
  }

  /** Posterior mean of w (a copy). */
  mean(): Float64Array {
    return Float64Array.from(this.m);
  }

  /** Λ (a copy): the posterior precision, in units of 1/σ² under the NIG prior. */
  precision(): Float64Array {
    return Float64Array.from(this.prec);
  }

  /** Λ⁻¹ (a copy): Cov(w) when σ² is known, Cov(w | σ²)/σ² under the NIG prior. */
  scaleMatrix(): Float64Array {
    return Float64Array.from(this.cov);
  }

  /** Posterior shape a and scale b of σ² (estimated noise only). */
  noisePosterior(): { shape: number; scale: number } {
    if (this.noise.kind !== 'estimated') throw new TypeError('noisePosterior() needs noise.kind = estimated');
    const shape = this.noise.a0 + this.n / 2;
    const quad = this.sumSq + this.lambda * dot(this.priorMean, this.priorMean, this.dim) - dot(this.m, this.b, this.dim);
    return { shape, scale: this.noise.b0 + 0.5 * Math.max(0, quad) };
  }

  /** Posterior mean of σ² (the known variance, or b/(a−1); Infinity while a ≤ 1). */
  noiseVariance(): number {
    const nz = this.noise;
    switch (nz.kind) {
      case 'known':
        return nz.variance;
      case 'estimated': {
        const { shape, scale } = this.noisePosterior();
        return shape > 1 ? scale / (shape - 1) : Infinity;
      }
      default:
        throw new TypeError(`unknown noise kind ${String((nz as { kind: unknown }).kind)}`);
    }
  }

  /** Marginal posterior covariance of w: Λ⁻¹ (known σ²) or E[σ²]·Λ⁻¹ = b/(a−1)·Λ⁻¹ (NIG; needs a > 1). */
  covariance(): Float64Array {
    const s = this.noise.kind === 'known' ? 1 : this.noiseVariance();
    if (!Number.isFinite(s)) throw new RangeError(`posterior covariance is infinite while the noise shape a = a0 + n/2 <= 1`);
    const out = Float64Array.from(this.cov);
    for (let i = 0; i < out.length; i++) out[i] *= s;
    return out;
  }

  /** xᵀ m: the posterior mean reward at x. */
  predictMean(x: ArrayLike<number>): number {
    return dot(this.m, x, this.dim);
  }

  /** xᵀ Λ⁻¹ x: the score's variance per unit σ² (its variance when σ² is known). */
  quadForm(x: ArrayLike<number>): number {
    return Math.max(0, quadForm(this.cov, this.dim, x));
  }

  /** xᵀ Λ⁻¹ y: the covariance of two scores per unit σ². */
  bilinear(x: ArrayLike<number>, y: ArrayLike<number>): number {
    const d = this.dim;
    let s = 0;
    for (let i = 0; i < d; i++) {
      const xi = x[i];
      if (xi === 0) continue;
      let t = 0;
      for (let j = 0; j < d; j++) t += this.cov[i * d + j] * y[j];
      s += xi * t;
    }
    return s;
  }

  /** A draw of the factor s with w | s ~ N(m, s·Λ⁻¹): a σ² draw from IG(a, b) under the NIG prior,
   * and 1 (consuming no randomness) when σ² is known, since Λ⁻¹ is then the covariance itself. */
  sampleCovarianceScale(rng: Rng): number {
    const nz = this.noise;
    switch (nz.kind) {
      case 'known':
        return 1;
      case 'estimated': {
        const { shape, scale } = this.noisePosterior();
        return sampleInverseGamma(rng, shape, scale);
      }
      default:
        throw new TypeError(`unknown noise kind ${String((nz as { kind: unknown }).kind)}`);
    }
  }

  /** Draws w from the posterior: σ² first under the NIG prior, then m + σ·L z with L = chol(Λ⁻¹). */
  sample(rng: Rng, out: Float64Array = new Float64Array(this.dim)): Float64Array {
    if (out.length !== this.dim) throw new RangeError(`out must have length dim = ${this.dim}, got ${out.length}`);
    if (this.cholDirty) {
      cholesky(this.cov, this.dim, this.chol);
      this.cholDirty = false;
    }
    const s = Math.sqrt(this.sampleCovarianceScale(rng));
    for (let i = 0; i < this.dim; i++) this.work2[i] = rng.normal();
    lowerMatVec(this.chol, this.dim, this.work2, out);
    for (let i = 0; i < this.dim; i++) out[i] = this.m[i] + s * out[i];
    return out;
  }

  toJSON(): BayesLinearJSON {
    return {
      kind: 'BayesLinearModel',
      version: BAYES_LINEAR_VERSION,
      dim: this.dim,
      lambda: this.lambda,
      priorMean: Array.from(this.priorMean),
      noise: { ...this.noise },
      n: this.n,
      sumSq: this.sumSq,
      precision: Array.from(this.prec),
      covarianceScale: Array.from(this.cov),
      b: Array.from(this.b),
    };
  }

  static fromJSON(json: BayesLinearJSON): BayesLinearModel {
    if (json === null || typeof json !== 'object') throw new TypeError('BayesLinearModel JSON must be an object');
    if (json.kind !== 'BayesLinearModel') throw new TypeError(`expected kind 'BayesLinearModel', got ${String(json.kind)}`);
    if (json.version !== BAYES_LINEAR_VERSION) throw new RangeError(`unsupported BayesLinearModel version ${json.version}, expected ${BAYES_LINEAR_VERSION}`);
    const model = new BayesLinearModel({ dim: json.dim, lambda: json.lambda, priorMean: json.priorMean, noise: json.noise });
    const dd = json.dim * json.dim;
    if (json.precision?.length !== dd || json.covarianceScale?.length !== dd || json.b?.length !== json.dim) {
      throw new RangeError(`BayesLinearModel JSON arrays must have lengths dim² = ${dd}, dim² and dim = ${json.dim}`);
    }
    if (!Number.isInteger(json.n) || json.n < 0) throw new RangeError(`n must be an integer >= 0, got ${json.n}`);
    if (!Number.isFinite(json.sumSq) || json.sumSq < 0) throw new RangeError(`sumSq must be finite and >= 0, got ${json.sumSq}`);
    model.n = json.n;
    model.sumSq = json.sumSq;
    model.prec.set(json.precision);
    model.cov.set(json.covarianceScale);
    model.b.set(json.b);
    matVec(model.cov, model.dim, model.dim, model.b, model.m);
    for (let i = 0; i < model.m.length; i++) {
      if (!Number.isFinite(model.m[i])) throw new RangeError('BayesLinearModel JSON holds non-finite values');
    }
    return model;
  }
}

export function checkVector(x: ArrayLike<number>, n: number, name: string): void {
  if (x === null || typeof x !== 'object' || typeof x.length !== 'number') throw new TypeError(`${name} must be an array of numbers`);
  if (x.length !== n) throw new RangeError(`${name} must have length ${n}, got ${x.length}`);
  for (let i = 0; i < n; i++) {
    if (typeof x[i] !== 'number' || !Number.isFinite(x[i])) throw new RangeError(`${name}[${i}] must be a finite number, got ${x[i]}`);
  }
}
