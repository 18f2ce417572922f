// The contract every contextual-bandit policy keeps, and the pieces they share: parameter checks,
// the probability-clipping projection of micro-randomized trials, the draw from a probability
// vector, and tie-aware argmax; PolicyBase holds what every policy keeps from its base params, and
// the per-action helpers serve the policies that keep one Bayesian linear model per action.
// A policy's `choose` logs the probability with which the returned action was actually drawn,
// which is what makes inverse-propensity estimates on its logs unbiased.

import { BayesLinearModel, type BayesLinearJSON, type BayesLinearParams } from './bandit-bayes-linear.ts';
import type { Matrix } from './matrix.ts';
import type { Rng, RngState } from './rng.ts';

export type ProbabilityMethod = 'exact' | 'monte_carlo';

export interface Choice {
  /** Index of the chosen action in [0, nActions). */
  action: number;
  /** Its name, when the policy was given action names. */
  actionName?: string;
  /** The probability with which `action` was drawn by the randomisation actually used. */
  probability: number;
  /** The whole vector the action was drawn from (or, for unclipped Thompson sampling, its estimate). */
  probabilities: Float64Array;
  /** Generator state before the draw: new Rng(rngState) + same policy state + same context replays it. */
  rngState: RngState;
  method: ProbabilityMethod;
  /** Number of Monte Carlo draws behind `probabilities` when method is 'monte_carlo'. */
  mcSamples?: number;
}

export interface ProbabilityEstimate {
  probabilities: Float64Array;
  method: ProbabilityMethod;
  mcSamples?: number;
}

export interface ChooseOptions {
  /** Monte Carlo draws for Thompson probabilities when no closed form applies (overrides the policy's). */
  mcSamples?: number;
}

export interface ClipBounds {
  pMin: number;
  pMax: number;
}

export interface BanditBaseParams {
  nActions: number;
  /** Context dimension d. */
  dim: number;
  actionNames?: readonly string[];
  /** Probability clipping: every action's probability is projected into [pMin, pMax]. */
  clip?: ClipBounds;
}

export interface BanditPolicy {
  readonly kind: string;
  readonly nActions: number;
  readonly dim: number;
  readonly actionNames: readonly string[] | undefined;
  choose(context: ArrayLike<number>, rng: Rng, opts?: ChooseOptions): Choice;
  /** π(·|x) after clipping: the vector `choose` would draw from (estimated by MC for Thompson with K > 2). */
  actionProbabilities(context: ArrayLike<number>, rng: Rng, opts?: ChooseOptions): ProbabilityEstimate;
  update(context: ArrayLike<number>, action: number | string, reward: number): this;
  updateBatch(contexts: Matrix, actions: ArrayLike<number>, rewards: ArrayLike<number>): this;
  toJSON(): unknown;
}

export const MAX_ACTIONS = 1024;
export const MAX_DIM = 1024;

/** Checks nActions, dim, actionNames and clip; returns normalised copies. */
export function checkBaseParams(p: BanditBaseParams): { nActions: number; dim: number; actionNames: string[] | undefined; clip: ClipBounds | undefined } {
  if (p === null || typeof p !== 'object') throw new TypeError('policy params must be an object');
  const { nActions, dim } = p;
  if (!Number.isInteger(nActions) || nActions < 1 || nActions > MAX_ACTIONS) throw new RangeError(`nActions must be an integer in [1, ${MAX_ACTIONS}], got ${nActions}`);
  if (!Number.isInteger(dim) || dim < 1 || dim > MAX_DIM) throw new RangeError(`dim must be an integer in [1, ${MAX_DIM}], got ${dim}`);
  let actionNames: string[] | undefined;
  if (p.actionNames !== undefined) {
    if (!Array.isArray(p.actionNames) || p.actionNames.length !== nActions) throw new RangeError(`actionNames must be an array of nActions = ${nActions} strings`);
    const seen = new Set<string>();
    for (const name of p.actionNames) {
      if (typeof name !== 'string' || name.length === 0) throw new TypeError('actionNames must be non-empty strings');
      if (seen.has(name)) throw new RangeError(`actionNames must be unique, '${name}' repeats`);
      seen.add(name);
    }
    actionNames = [...p.actionNames];
  }
  let clip: ClipBounds | undefined;
  if (p.clip !== undefined) {
    checkClip(p.clip, nActions);
    clip = { pMin: p.clip.pMin, pMax: p.clip.pMax };
  }
  return { nActions, dim, actionNames, clip };
}

/** Feasibility of [pMin, pMax] over K actions: 0 <= pMin <= 1/K <= pMax <= 1. */
export function checkClip(clip: ClipBounds, nActions: number): void {
  if (clip === null || typeof clip !== 'object') throw new TypeError('clip must be an object { pMin, pMax }');
  const { pMin, pMax } = clip;
  if (typeof pMin !== 'number' || !(pMin >= 0 && pMin <= 1)) throw new RangeError(`clip.pMin must be in [0, 1], got ${pMin}`);
  if (typeof pMax !== 'number' || !(pMax >= 0 && pMax <= 1)) throw new RangeError(`clip.pMax must be in [0, 1], got ${pMax}`);
  if (pMin > pMax) throw new RangeError(`clip.pMin must be <= clip.pMax, got ${pMin} > ${pMax}`);
  if (pMin * nActions > 1 + 1e-12) throw new RangeError(`clip.pMin * nActions must be <= 1 (infeasible: ${pMin} * ${nActions} = ${pMin * nActions})`);
  if (pMax * nActions < 1 - 1e-12) throw new RangeError(`clip.pMax * nActions must be >= 1 (infeasible: ${pMax} * ${nActions} = ${pMax * nActions})`);
}

/**
 * Projects a probability vector onto { q : pMin <= q_i <= pMax, Σ q_i = 1 } in Euclidean distance:
 * q_i = clamp(p_i − τ, pMin, pMax) with the unique shift τ that makes Σ q = 1. The same amount is
 * taken from (or given to) every entry strictly inside the bounds, so the order of the actions is
 * kept and a vector already inside the bounds is returned unchanged. τ is found exactly: Σ q(τ) is
 * piecewise linear and non-increasing, with kinks at p_i − pMin and p_i − pMax.
 * For two actions this is the micro-randomized-trial rule: p1 ← clamp(p1, pMin, pMax), p0 ← 1 − p1.
 */
export function projectProbabilities(p: ArrayLike<number>, clip: ClipBounds, out: Float64Array = new Float64Array(p.length)): Float64Array {
  const k = p.length;
  checkClip(clip, k);
  const { pMin, pMax } = clip;
  let inside = true;
  let sum = 0;
  for (let i = 0; i < k; i++) {
    if (typeof p[i] !== 'number' || !(p[i] >= 0 && p[i] <= 1)) throw new RangeError(`probabilities[${i}] must be in [0, 1], got ${p[i]}`);
    if (!(p[i] >= pMin && p[i] <= pMax)) inside = false;
    sum += p[i];
  }
  if (inside && Math.abs(sum - 1) <= 1e-12) {
    for (let i = 0; i < k; i++) out[i] = p[i];
    return out;
  }
  const total = (tau: number) => {
    let s = 0;
    for (let i = 0; i < k; i++) s += Math.min(pMax, Math.max(pMin, p[i] - tau));
    return s;
  };
  const kinks = new Float64Array(2 * k);
  for (let i = 0; i < k; i++) {
    kinks[2 * i] = p[i] - pMax;
    kinks[2 * i + 1] = p[i] - pMin;
  }
  kinks.sort();
  // total(kinks[0]) = K·pMax >= 1 and total(kinks[last]) = K·pMin <= 1: find the segment holding 1.
  let lo = 0;
  let hi = kinks.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (total(kinks[mid]) >= 1) lo = mid;
    else hi = mid;
  }
  const tLo = kinks[lo];
  const tHi = kinks[hi];
  const fLo = total(tLo);
  const fHi = total(tHi);
  const tau = fLo === fHi ? tLo : tLo + ((fLo - 1) * (tHi - tLo)) / (fLo - fHi);
  let s = 0;
  for (let i = 0; i < k; i++) {
    out[i] = Math.min(pMax, Math.max(pMin, p[i] - tau));
    s += out[i];
  }
  // Put the last rounding residue on an entry with room to take it.
  const resid = 1 - s;
  if (resid !== 0) {
    for (let i = 0; i < k; i++) {
      const v = out[i] + resid;
      if (v >= pMin && v <= pMax) {
        out[i] = v;
        break;
      }
    }
  }
  return out;
}

/** Inverse-CDF draw of an index from a probability vector with one uniform u in [0, 1).
 * An entry of probability 0 is never returned. */
export function drawIndex(p: ArrayLike<number>, u: number): number {
  let c = 0;
  let last = -1;
  for (let i = 0; i < p.length; i++) {
    if (p[i] <= 0) continue;
    c += p[i];
    last = i;
    if (u < c) return i;
  }
  if (last < 0) throw new RangeError('probability vector has no positive entry');
  return last; // u landed in the rounding gap between Σp and 1
}

/** Indices whose score is within `tol` (relative to the scale of the maximum) of the maximum, into `out`;
 * returns how many. */
export function tiedArgmax(scores: ArrayLike<number>, out: Int32Array, tol = 0): number {
  let best = -Infinity;
  for (let i = 0; i < scores.length; i++) if (scores[i] > best) best = scores[i];
  const cut = best - tol * Math.max(1, Math.abs(best));
  let n = 0;
  for (let i = 0; i < scores.length; i++) if (scores[i] >= cut) out[n++] = i;
  return n;
}

/** Argmax with ties broken uniformly at random; consumes randomness only when there is a tie. */
export function argmaxRandomTies(scores: ArrayLike<number>, rng: Rng, work: Int32Array): number {
  const n = tiedArgmax(scores, work);
  return n === 1 ? work[0] : work[rng.int(n)];
}

/** The generator state as four unsigned 32-bit words: the canonical form to log and to replay from. */
export function captureState(rng: Rng): RngState {
  const s = rng.state();
  return [s[0] >>> 0, s[1] >>> 0, s[2] >>> 0, s[3] >>> 0];
}

export function checkContext(x: ArrayLike<number>, dim: number): void {
  if (x === null || typeof x !== 'object' || typeof x.length !== 'number') throw new TypeError('context must be an array of numbers');
  if (x.length !== dim) throw new RangeError(`context must have length dim = ${dim}, got ${x.length}`);
  for (let i = 0; i < dim; i++) {
    if (typeof x[i] !== 'number' || !Number.isFinite(x[i])) throw new RangeError(`context[${i}] must be a finite number, got ${x[i]}`);
  }
}

/** Action index from an index or a name. */
export function resolveAction(action: number | string, nActions: number, names: readonly string[] | undefined): number {
  if (typeof action === 'string') {
    const i = names ? names.indexOf(action) : -1;
    if (i < 0) throw new RangeError(`unknown action name '${action}'`);
    return i;
  }
  if (!Number.isInteger(action) || action < 0 || action >= nActions) throw new RangeError(`action must be an integer in [0, ${nActions - 1}], got ${action}`);
  return action;
}

export function checkReward(r: number, name = 'reward'): void {
  if (typeof r !== 'number' || !Number.isFinite(r)) throw new RangeError(`${name} must be a finite number, got ${r}`);
}

export function checkMcSamples(m: number): number {
  if (!Number.isInteger(m) || m < 1 || m > 10_000_000) throw new RangeError(`mcSamples must be an integer in [1, 10000000], got ${m}`);
  return m;
}

/** Checks the shapes of a batch update and returns the actions as indices. */
export function checkBatch(contexts: Matrix, actions: ArrayLike<number>, rewards: ArrayLike<number>, nActions: number, dim: number): Int32Array {
  if (contexts.cols !== dim) throw new RangeError(`contexts must have dim = ${dim} columns, got ${contexts.cols}`);
  const n = contexts.rows;
  if (actions.length !== n) throw new RangeError(`actions must have contexts.rows = ${n} values, got ${actions.length}`);
  if (rewards.length !== n) throw new RangeError(`rewards must have contexts.rows = ${n} values, got ${rewards.length}`);
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const ai = actions[i];
    if (!Number.isInteger(ai) || ai < 0 || ai >= nActions) throw new RangeError(`actions[${i}] must be an integer in [0, ${nActions - 1}], got ${ai}`);
    a[i] = ai;
    checkReward(rewards[i], `rewards[${i}]`);
  }
  for (let i = 0; i < contexts.data.length; i++) {
    if (!Number.isFinite(contexts.data[i])) throw new RangeError(`contexts has a non-finite value at row ${Math.floor(i / dim)}, column ${i % dim}`);
  }
  return a;
}

/** Builds the Choice for a policy that draws from an exact probability vector (clipped if configured). */
export function chooseFromVector(
  proposed: Float64Array,
  clip: ClipBounds | undefined,
  rng: Rng,
  rngState: RngState,
  names: readonly string[] | undefined,
  method: ProbabilityMethod,
  mcSamples?: number,
): Choice {
  const q = clip ? projectProbabilities(proposed, clip) : proposed;
  return choiceOf(drawIndex(q, rng.next()), q, rngState, names, method, mcSamples);
}

/** The Choice record of an action drawn from `probabilities`. */
export function choiceOf(
  action: number,
  probabilities: Float64Array,
  rngState: RngState,
  names: readonly string[] | undefined,
  method: ProbabilityMethod,
  mcSamples?: number,
): Choice {
  const choice: Choice = { action, probability: probabilities[action], probabilities, rngState, method };
  if (names) choice.actionName = names[action];
  if (method === 'monte_carlo') choice.mcSamples = mcSamples;
  return choice;
}

/** Shared header check for fromJSON. */
export function checkHeader(json: unknown, kind: string, version: number): Record<string, unknown> {
  if (json === null || typeof json !== 'object') throw new TypeError(`${kind} JSON must be an object`);
  const j = json as Record<string, unknown>;
  if (j.kind !== kind) throw new TypeError(`expected kind '${kind}', got ${String(j.kind)}`);
  if (j.version !== version) throw new RangeError(`unsupported ${kind} version ${String(j.version)}, expected ${version}`);
  return j;
}

/** Rows of one action, as a matrix and rewards (for per-action batch updates). */
export function groupRows(contexts: Matrix, actions: Int32Array, rewards: ArrayLike<number>, action: number): { X: Matrix; r: Float64Array } {
  let n = 0;
  for (let i = 0; i < actions.length; i++) if (actions[i] === action) n++;
  const d = contexts.cols;
  const data = new Float64Array(n * d);
  const r = new Float64Array(n);
  let k = 0;
  for (let i = 0; i < actions.length; i++) {
    if (actions[i] !== action) continue;
    for (let j = 0; j < d; j++) data[k * d + j] = contexts.data[i * d + j];
    r[k++] = rewards[i];
  }
  return { X: { data, rows: n, cols: d }, r };
}

/** One Bayesian linear model per action, all with the same prior. */
export function actionModels(nActions: number, params: BayesLinearParams): BayesLinearModel[] {
  const models: BayesLinearModel[] = [];
  for (let a = 0; a < nActions; a++) models.push(new BayesLinearModel(params));
  return models;
}

/** Batch update of per-action models: each model learns from the rows logged with its action. */
export function updateActionModels(models: BayesLinearModel[], contexts: Matrix, actions: Int32Array, rewards: ArrayLike<number>): void {
  for (let a = 0; a < models.length; a++) {
    const rows = groupRows(contexts, actions, rewards, a);
    if (rows.r.length > 0) models[a].updateBatch(rows.X, rows.r);
  }
}

/** Restores per-action models from their JSON into `models` (one per action), checking each one's dim. */
export function loadActionModels(json: unknown, models: BayesLinearModel[], dim: number): void {
  const list = json as BayesLinearJSON[];
  if (!Array.isArray(list) || list.length !== models.length) throw new RangeError(`models must hold nActions = ${models.length} entries`);
  for (let a = 0; a < models.length; a++) {
    const m = BayesLinearModel.fromJSON(list[a]);
    if (m.dim !== dim) throw new RangeError(`models[${a}] has dim ${m.dim}, expected ${dim}`);
    models[a] = m;
  }
}

/**
 * What every policy keeps from its base params (checked by checkBaseParams), and the pieces that
 * need nothing else: the params part of toJSON, the checks of one observation, and choosing from
 * an exact probability vector. Subclasses must not redeclare these fields (a redeclared field
 * would be reset to undefined after this constructor runs).
 */
export abstract class PolicyBase {
  readonly nActions: number;
  readonly dim: number;
  readonly actionNames: readonly string[] | undefined;
  readonly clip: ClipBounds | undefined;

  constructor(params: BanditBaseParams) {
    const base = checkBaseParams(params);
    this.nActions = base.nActions;
    this.dim = base.dim;
    this.actionNames = base.actionNames;
    this.clip = base.clip;
  }

  /** toJSON's params: nActions and dim, the policy's own params, then actionNames and clip when set. */
  protected paramsJSON<P extends object>(own: P): BanditBaseParams & P {
    const params = { nActions: this.nActions, dim: this.dim, ...own } as BanditBaseParams & P;
    if (this.actionNames) params.actionNames = [...this.actionNames];
    if (this.clip) params.clip = { ...this.clip };
    return params;
  }

  /** Checks the context and reward of one observation and returns the action's index. */
  protected observation(context: ArrayLike<number>, action: number | string, reward: number): number {
    checkContext(context, this.dim);
    checkReward(reward);
    return resolveAction(action, this.nActions, this.actionNames);
  }

  /** Draws from an exact proposed vector, clipped if configured. */
  protected chooseExact(proposed: Float64Array, rng: Rng): Choice {
    const rngState = captureState(rng);
    return chooseFromVector(proposed, this.clip, rng, rngState, this.actionNames, 'exact');
  }

  /** The vector chooseExact draws from. */
  protected exactProbabilities(proposed: Float64Array): ProbabilityEstimate {
    return { probabilities: this.clip ? projectProbabilities(proposed, this.clip) : proposed, method: 'exact' };
  }
}
