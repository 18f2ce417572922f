// Parameter constraints for the tree family, checked as scikit-learn's _parameter_constraints:
// each parameter names what it accepts, a wrong type throws TypeError and a value out of range
// throws RangeError, both naming the parameter and its limit.

export interface Constraint {
  /** Human description, e.g. "an integer >= 1 or null". */
  desc: string;
  /** True when the value has an acceptable type (else TypeError). */
  type: (v: unknown) => boolean;
  /** True when the value is in range (else RangeError). */
  range: (v: unknown) => boolean;
}

export const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
export const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

export function intRange(min: number, max = Infinity): Constraint {
  const hi = max === Infinity ? '' : ` and <= ${max}`;
  return { desc: `an integer >= ${min}${hi}`, type: isInt, range: (v) => (v as number) >= min && (v as number) <= max };
}

/** A real in (lo, hi] (or [lo, hi] when loClosed). */
export function realRange(lo: number, hi: number, loClosed = false): Constraint {
  return {
    desc: `a number in ${loClosed ? '[' : '('}${lo}, ${hi}]`,
    type: isNum,
    range: (v) => (loClosed ? (v as number) >= lo : (v as number) > lo) && (v as number) <= hi,
  };
}

export function oneOf(...values: readonly (string | boolean)[]): Constraint {
  return {
    desc: `one of ${values.map((v) => JSON.stringify(v)).join(', ')}`,
    type: (v) => values.some((x) => typeof x === typeof v),
    range: (v) => values.includes(v as string | boolean),
  };
}

export const boolean: Constraint = { desc: 'a boolean', type: (v) => typeof v === 'boolean', range: () => true };
export const nullValue: Constraint = { desc: 'null', type: (v) => v === null, range: () => true };
export const func: Constraint = { desc: 'a function', type: (v) => typeof v === 'function', range: () => true };
export const seedConstraint: Constraint = {
  desc: 'an integer in [0, 2^32)',
  type: isInt,
  range: (v) => (v as number) >= 0 && (v as number) < 2 ** 32,
};
export const classWeightConstraint: Constraint = {
  desc: '"balanced", null, or an object mapping class labels to weights > 0',
  type: (v) => v === null || v === 'balanced' || (typeof v === 'object' && !Array.isArray(v)),
  range: (v) =>
    v === null ||
    v === 'balanced' ||
    Object.values(v as Record<string, unknown>).every((w) => typeof w === 'number' && Number.isFinite(w) && w > 0),
};

/** Accepts a value matching any of the constraints; the type must fit one of them. */
export function anyOf(...cs: Constraint[]): Constraint {
  return {
    desc: cs.map((c) => c.desc).join(' or '),
    type: (v) => cs.some((c) => c.type(v)),
    range: (v) => cs.some((c) => c.type(v) && c.range(v)),
  };
}

export type Constraints = Record<string, Constraint>;

/** Checks params against a table; unknown keys and undefined values of known keys are rejected / skipped. */
export function validateParams(owner: string, params: object, table: Constraints): void {
  for (const key of Object.keys(params)) {
    const c = table[key];
    if (c === undefined) {
      throw new TypeError(`${owner}: unknown parameter ${JSON.stringify(key)}; accepted: ${Object.keys(table).join(', ')}`);
    }
    const v = (params as Record<string, unknown>)[key];
    if (v === undefined) continue;
    if (!c.type(v)) throw new TypeError(`${owner}: ${key} must be ${c.desc}, got ${JSON.stringify(v)}`);
    if (!c.range(v)) throw new RangeError(`${owner}: ${key} must be ${c.desc}, got ${JSON.stringify(v)}`);
  }
}

export type MaxFeatures = 'sqrt' | 'log2' | number | null;

export const maxFeaturesConstraint: Constraint = anyOf(
  oneOf('sqrt', 'log2'),
  realRange(0, 1),
  intRange(2),
  nullValue,
);

/**
 * Resolves maxFeatures to a feature count as sklearn. JS has one number type, so a number in
 * (0, 1] is a fraction (1 means all features, sklearn's 1.0) and an integer >= 2 is a count.
 */
export function resolveMaxFeatures(mf: MaxFeatures, p: number): number {
  let k: number;
  if (mf === null) k = p;
  else if (mf === 'sqrt') k = Math.floor(Math.sqrt(p));
  else if (mf === 'log2') k = Math.floor(Math.log2(p));
  else if (mf <= 1) k = Math.floor(mf * p);
  else k = mf;
  if (k > p) throw new RangeError(`maxFeatures must be <= the number of features (${p}), got ${mf}`);
  return Math.max(1, k);
}

/** minSamplesSplit / minSamplesLeaf: an integer count, or a non-integer fraction of the samples as sklearn. */
export function resolveMinSamples(v: number, n: number): number {
  return Number.isInteger(v) ? v : Math.max(1, Math.ceil(v * n));
}

/** Constraint for minSamplesSplit (int >= 2 or fraction in (0,1)) and minSamplesLeaf (int >= 1 or fraction). */
export const minSamplesSplitConstraint: Constraint = anyOf(intRange(2), fraction());
export const minSamplesLeafConstraint: Constraint = anyOf(intRange(1), fraction());

function fraction(): Constraint {
  return { desc: 'a fraction in (0, 1)', type: isNum, range: (v) => (v as number) > 0 && (v as number) < 1 };
}

/** Constraints of the parameters that shape how one tree grows, shared by trees and forests. */
export const growthConstraints: Constraints = {
  maxDepth: anyOf(intRange(1), nullValue),
  minSamplesSplit: minSamplesSplitConstraint,
  minSamplesLeaf: minSamplesLeafConstraint,
  maxFeatures: maxFeaturesConstraint,
  minImpurityDecrease: realRange(0, Infinity, true),
};

/** Constraints that differ between classifiers and regressors (trees and forests alike). */
export const classifierOnlyConstraints: Constraints = { criterion: oneOf('gini', 'entropy'), classWeight: classWeightConstraint };
export const regressorOnlyConstraints: Constraints = { criterion: oneOf('squared_error') };
