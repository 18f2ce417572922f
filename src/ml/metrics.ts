// Scores with sklearn's definitions, and the scorer names GridSearchCV accepts (greater is
// better, so mean squared error is negated as sklearn's neg_mean_squared_error).

type Values = ArrayLike<number>;

function checkLengths(a: Values, b: Values, name: string): void {
  if (a.length !== b.length) throw new RangeError(`${name}: yTrue has ${a.length} values but yPred has ${b.length}`);
  if (a.length === 0) throw new RangeError(`${name}: needs at least one sample`);
}

export function accuracy(yTrue: Values, yPred: Values): number {
  checkLengths(yTrue, yPred, 'accuracy');
  let hit = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) hit++;
  return hit / yTrue.length;
}

/** Sorted distinct values of one or two label arrays. */
function labelsOf(...arrays: Values[]): number[] {
  const s = new Set<number>();
  for (const a of arrays) for (let i = 0; i < a.length; i++) s.add(a[i]);
  return Array.from(s).sort((a, b) => a - b);
}

/** Mean recall over the classes present in yTrue (sklearn ignores predicted-only classes). */
export function balancedAccuracy(yTrue: Values, yPred: Values): number {
  checkLengths(yTrue, yPred, 'balancedAccuracy');
  const labels = labelsOf(yTrue);
  let sum = 0;
  for (const c of labels) {
    let support = 0;
    let tp = 0;
    for (let i = 0; i < yTrue.length; i++) {
      if (yTrue[i] === c) {
        support++;
        if (yPred[i] === c) tp++;
      }
    }
    sum += tp / support;
  }
  return sum / labels.length;
}

/** Unweighted mean of per-class F1 over the labels in yTrue ∪ yPred; 0 where undefined (zero_division=0). */
export function f1Macro(yTrue: Values, yPred: Values): number {
  checkLengths(yTrue, yPred, 'f1Macro');
  const labels = labelsOf(yTrue, yPred);
  let sum = 0;
  for (const c of labels) {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (let i = 0; i < yTrue.length; i++) {
      const t = yTrue[i] === c;
      const p = yPred[i] === c;
      if (t && p) tp++;
      else if (p) fp++;
      else if (t) fn++;
    }
    const denom = 2 * tp + fp + fn;
    sum += denom === 0 ? 0 : (2 * tp) / denom;
  }
  return sum / labels.length;
}

export function meanSquaredError(yTrue: Values, yPred: Values): number {
  checkLengths(yTrue, yPred, 'meanSquaredError');
  let s = 0;
  for (let i = 0; i < yTrue.length; i++) s += (yTrue[i] - yPred[i]) ** 2;
  return s / yTrue.length;
}

/** Coefficient of determination; as sklearn, 1 for a perfect fit of constant targets, else 0 then. */
export function r2Score(yTrue: Values, yPred: Values): number {
  checkLengths(yTrue, yPred, 'r2Score');
  let mean = 0;
  for (let i = 0; i < yTrue.length; i++) mean += yTrue[i];
  mean /= yTrue.length;
  let ssRes = 0;
  let ssTot = 0;
  for (let i = 0; i < yTrue.length; i++) {
    ssRes += (yTrue[i] - yPred[i]) ** 2;
    ssTot += (yTrue[i] - mean) ** 2;
  }
  if (ssTot === 0) return ssRes === 0 ? 1 : 0;
  return 1 - ssRes / ssTot;
}

export type ScorerName = 'accuracy' | 'balanced_accuracy' | 'f1_macro' | 'r2' | 'neg_mean_squared_error';
export const SCORER_NAMES: readonly ScorerName[] = ['accuracy', 'balanced_accuracy', 'f1_macro', 'r2', 'neg_mean_squared_error'];

export function scorer(name: ScorerName): (yTrue: Values, yPred: Values) => number {
  switch (name) {
    case 'accuracy':
      return accuracy;
    case 'balanced_accuracy':
      return balancedAccuracy;
    case 'f1_macro':
      return f1Macro;
    case 'r2':
      return r2Score;
    case 'neg_mean_squared_error':
      return (t, p) => -meanSquaredError(t, p);
    default: {
      const never: never = name;
      throw new RangeError(`scoring must be one of ${SCORER_NAMES.join(', ')}, got ${JSON.stringify(never)}`);
    }
  }
}
