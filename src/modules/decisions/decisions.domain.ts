// The pure part of seed 000: a problem's configuration (checked and filled with defaults), the
// context encoder a policy version was fitted with, building and restoring policies from src/ml, one
// draw (with the fallback), replay, and the training set an update learns from. No I/O here.
import { AppError } from '../../platform/errors.ts';
import { banditFromJSON, drawIndex, EpsilonGreedy, LinUCB, projectProbabilities, ThompsonSampling, type BanditJSON, type BanditPolicy } from '../../ml/bandit.ts';
import { matrix, type Matrix } from '../../ml/matrix.ts';
import { Rng, type RngState } from '../../ml/rng.ts';

export const POLICY_KINDS = ['thompson', 'linucb', 'epsilon_greedy', 'fixed'] as const;
export type PolicyKind = (typeof POLICY_KINDS)[number];

export interface PolicyConfig {
  kind: PolicyKind;
  /** Prior precision (thompson) or ridge penalty (linucb, epsilon_greedy), > 0. */
  lambda?: number;
  /** linucb's confidence width, >= 0. */
  alpha?: number;
  /** epsilon_greedy's exploration rate in [0, 1]. */
  epsilon?: number;
  /** fixed: the probability of each action (summing to 1), before clipping. */
  probabilities?: number[];
  /** thompson with 3+ actions: Monte Carlo draws behind the logged probabilities. */
  mc_samples?: number;
}

export interface NumericKey {
  key: string;
  standardize?: boolean;
  /** Used when the key is missing and on_missing is 'default' (default 0). */
  default?: number;
}
export interface CategoricalKey {
  key: string;
  values: string[];
  /** Used when the key is missing or its value unknown and on_missing is 'default' (default: all zeros). */
  default?: string | null;
}

export interface ContextSchema {
  /** 'any': accept any object, learn from the numeric keys seen (up to max_features); 'schema': the keys below. */
  mode: 'any' | 'schema';
  numeric: NumericKey[];
  categorical: CategoricalKey[];
  /** What a missing key (or an unknown categorical value) does: use its default, or refuse with 422 naming it. */
  on_missing: 'default' | 'reject';
  /** Keys the schema does not list: stored and ignored, or refused with 422. */
  on_unknown: 'ignore' | 'reject';
  max_features: number;
}

export interface RewardConfig {
  /**
   * 'outcome': the reward is a key of the uploaded outcome; 'event_log': the number of the user's
   * events of `event_type` in seed 002's event log within window_minutes after the decision.
   */
  source: 'outcome' | 'event_log';
  /** The key of the uploaded `outcome` that is the reward (a number, or a boolean as 1/0). */
  key: string;
  /** 'event_log': the event_type counted. */
  event_type: string | null;
  /** Outcomes later than this after their decision are stored but not learned from (null: no limit). */
  window_minutes: number | null;
  /** Reward given at the next update to a decision whose window closed without an outcome (null: none). */
  default_reward: number | null;
}

export interface ProblemConfig {
  actions: { name: string; features?: Record<string, number> }[];
  context: ContextSchema;
  reward: RewardConfig;
  policy: PolicyConfig;
  clip: { p_min: number; p_max: number };
  /** The action a spent budget gives (the "do nothing" option), by name. */
  default_action: string;
  /** At most this many non-default actions per user per UTC day (null: no budget). */
  budget_per_day: number | null;
  /** Drawn when the policy fails: fixed probabilities (clipped), uniform by default. */
  fallback: { probabilities: number[] | null };
  /** A policy that logs, on every decision, what it would have chosen (null: none). */
  shadow: PolicyConfig | null;
  /**
   * One model for all users ('shared'), or one per user ('per_user') whose prior is every user's data
   * at `prior_weight` (a power prior): users without data decide from that prior.
   */
  model: { kind: 'shared' } | { kind: 'per_user'; prior_weight: number };
  /** Cron (UTC) on which the problem's policy is updated (null: only on request). */
  update_cron: string | null;
  seed: number;
}

export const DEFAULT_PROBLEM = 'default';
const MAX_ACTIONS = 64;
const MAX_KEYS = 200;
const KEY = /^[\w.-]{1,100}$/;

const invalid = (message: string) => new AppError('UNPROCESSABLE', message);
const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** The default problem: two actions as the seed, Thompson sampling clipped to [0.2, 0.8], any context. */
export function defaultProblemConfig(): ProblemConfig {
  return normalizeConfig({ actions: [{ name: 'no_action' }, { name: 'action' }] });
}

function checkPolicy(p: unknown, field: string, nActions: number): PolicyConfig {
  if (!isObj(p)) throw invalid(`${field} must be an object with a kind (${POLICY_KINDS.join(', ')})`);
  const kind = p.kind as PolicyKind;
  if (!POLICY_KINDS.includes(kind)) throw invalid(`${field}.kind must be one of ${POLICY_KINDS.join(', ')}, got ${JSON.stringify(p.kind)}`);
  const out: PolicyConfig = { kind };
  const num = (name: keyof PolicyConfig, lo: number, hi: number, open = false) => {
    const v = p[name];
    if (v === undefined) return;
    if (!finite(v) || v < lo || v > hi || (open && v === lo)) throw invalid(`${field}.${name} must be a number in ${open ? '(' : '['}${lo}, ${hi}], got ${JSON.stringify(v)}`);
    (out as unknown as Record<string, number>)[name] = v;
  };
  num('lambda', 0, 1e6, true);
  num('alpha', 0, 1e3);
  num('epsilon', 0, 1);
  if (p.mc_samples !== undefined) {
    if (!Number.isInteger(p.mc_samples) || (p.mc_samples as number) < 10 || (p.mc_samples as number) > 100_000) throw invalid(`${field}.mc_samples must be an integer in [10, 100000]`);
    out.mc_samples = p.mc_samples as number;
  }
  if (kind === 'fixed') out.probabilities = checkProbabilities(p.probabilities ?? null, `${field}.probabilities`, nActions) ?? new Array(nActions).fill(1 / nActions);
  else if (p.probabilities !== undefined) throw invalid(`${field}.probabilities is only for the fixed policy`);
  return out;
}

function checkProbabilities(p: unknown, field: string, nActions: number): number[] | null {
  if (p === null) return null;
  if (!Array.isArray(p) || p.length !== nActions || !p.every((v) => finite(v) && v >= 0 && v <= 1)) throw invalid(`${field} must be ${nActions} numbers in [0, 1], one per action`);
  const sum = p.reduce((a: number, b: number) => a + b, 0);
  if (Math.abs(sum - 1) > 1e-9) throw invalid(`${field} must sum to 1, got ${sum}`);
  return p as number[];
}

/**
 * Checks a problem configuration and fills in the defaults; every error is a 422 naming the field.
 * The clip bounds must be feasible for the number of actions: p_min × actions <= 1 <= p_max × actions.
 */
export function normalizeConfig(input: unknown): ProblemConfig {
  if (!isObj(input)) throw invalid('config must be an object');
  const known = ['actions', 'context', 'reward', 'policy', 'clip', 'default_action', 'budget_per_day', 'fallback', 'shadow', 'model', 'update_cron', 'seed'];
  for (const k of Object.keys(input)) if (!known.includes(k)) throw invalid(`unknown config field '${k}' (the fields are ${known.join(', ')})`);
  const actionsIn = input.actions;
  if (!Array.isArray(actionsIn) || actionsIn.length < 2 || actionsIn.length > MAX_ACTIONS) throw invalid(`actions must be an array of 2 to ${MAX_ACTIONS} actions`);
  const names = new Set<string>();
  const actions = actionsIn.map((a, i) => {
    const name = typeof a === 'string' ? a : isObj(a) ? a.name : undefined;
    if (typeof name !== 'string' || !KEY.test(name)) throw invalid(`actions[${i}].name must be 1 to 100 letters, digits, '_', '.' or '-'`);
    if (names.has(name)) throw invalid(`actions[${i}].name '${name}' repeats`);
    names.add(name);
    const features = isObj(a) ? a.features : undefined;
    if (features !== undefined && (!isObj(features) || !Object.values(features).every(finite) || Object.keys(features).length > MAX_KEYS)) {
      throw invalid(`actions[${i}].features must be an object of at most ${MAX_KEYS} numbers`);
    }
    return features ? { name, features: features as Record<string, number> } : { name };
  });
  const k = actions.length;

  const c = input.context === undefined ? {} : input.context;
  if (!isObj(c)) throw invalid('context must be an object');
  const mode = (c.mode ?? 'any') as ContextSchema['mode'];
  if (mode !== 'any' && mode !== 'schema') throw invalid(`context.mode must be 'any' or 'schema', got ${JSON.stringify(c.mode)}`);
  const seenKeys = new Set<string>();
  const keyOf = (v: unknown, field: string) => {
    if (typeof v !== 'string' || !KEY.test(v)) throw invalid(`${field} must be 1 to 100 letters, digits, '_', '.' or '-'`);
    if (seenKeys.has(v)) throw invalid(`${field} '${v}' is listed twice`);
    seenKeys.add(v);
    return v;
  };
  const numericIn = c.numeric ?? [];
  const categoricalIn = c.categorical ?? [];
  if (!Array.isArray(numericIn) || numericIn.length > MAX_KEYS) throw invalid(`context.numeric must be an array of at most ${MAX_KEYS} keys`);
  if (!Array.isArray(categoricalIn) || categoricalIn.length > MAX_KEYS) throw invalid(`context.categorical must be an array of at most ${MAX_KEYS} keys`);
  const numeric = numericIn.map((n, i): NumericKey => {
    const o = typeof n === 'string' ? { key: n } : n;
    if (!isObj(o)) throw invalid(`context.numeric[${i}] must be a key or { key, standardize, default }`);
    if (o.default !== undefined && !finite(o.default)) throw invalid(`context.numeric[${i}].default must be a number`);
    if (o.standardize !== undefined && typeof o.standardize !== 'boolean') throw invalid(`context.numeric[${i}].standardize must be a boolean`);
    return { key: keyOf(o.key, `context.numeric[${i}].key`), standardize: o.standardize === true, default: (o.default as number | undefined) ?? 0 };
  });
  const categorical = categoricalIn.map((n, i): CategoricalKey => {
    if (!isObj(n)) throw invalid(`context.categorical[${i}] must be { key, values, default }`);
    const values = n.values;
    if (!Array.isArray(values) || values.length < 1 || values.length > MAX_KEYS || !values.every((v) => typeof v === 'string' && v.length <= 200) || new Set(values).size !== values.length) {
      throw invalid(`context.categorical[${i}].values must be 1 to ${MAX_KEYS} distinct strings`);
    }
    const def = n.default ?? null;
    if (def !== null && !values.includes(def)) throw invalid(`context.categorical[${i}].default must be one of its values`);
    return { key: keyOf(n.key, `context.categorical[${i}].key`), values: values as string[], default: def as string | null };
  });
  const onMissing = (c.on_missing ?? 'default') as ContextSchema['on_missing'];
  if (onMissing !== 'default' && onMissing !== 'reject') throw invalid(`context.on_missing must be 'default' or 'reject'`);
  const onUnknown = (c.on_unknown ?? 'ignore') as ContextSchema['on_unknown'];
  if (onUnknown !== 'ignore' && onUnknown !== 'reject') throw invalid(`context.on_unknown must be 'ignore' or 'reject'`);
  const maxFeatures = c.max_features ?? 20;
  if (!Number.isInteger(maxFeatures) || (maxFeatures as number) < 0 || (maxFeatures as number) > MAX_KEYS) throw invalid(`context.max_features must be an integer in [0, ${MAX_KEYS}]`);
  for (const key of Object.keys(c)) if (!['mode', 'numeric', 'categorical', 'on_missing', 'on_unknown', 'max_features'].includes(key)) throw invalid(`unknown field 'context.${key}'`);

  const r = input.reward === undefined ? {} : input.reward;
  if (!isObj(r)) throw invalid('reward must be an object');
  for (const key of Object.keys(r)) if (!['source', 'key', 'event_type', 'window_minutes', 'default_reward'].includes(key)) throw invalid(`unknown field 'reward.${key}'`);
  const source = r.source ?? 'outcome';
  if (source !== 'outcome' && source !== 'event_log') throw invalid(`reward.source must be 'outcome' or 'event_log', got ${JSON.stringify(r.source)}`);
  const eventType = r.event_type ?? null;
  if (source === 'event_log' && (typeof eventType !== 'string' || eventType.length < 1 || eventType.length > 200)) throw invalid("reward.event_type is required with source 'event_log' (the event_type counted)");
  if (source === 'outcome' && eventType !== null) throw invalid("reward.event_type is only for source 'event_log'");
  if (source === 'event_log' && (r.window_minutes ?? null) === null) throw invalid("reward.window_minutes is required with source 'event_log' (events are counted within it)");
  const rewardKey = r.key ?? 'clicks';
  if (typeof rewardKey !== 'string' || !KEY.test(rewardKey)) throw invalid('reward.key must be 1 to 100 letters, digits, _ . or -');
  const window = r.window_minutes ?? null;
  if (window !== null && (!Number.isInteger(window) || (window as number) < 1 || (window as number) > 525_600)) throw invalid('reward.window_minutes must be an integer from 1 to 525600 (a year), or null');
  const defReward = r.default_reward ?? null;
  if (defReward !== null && (!finite(defReward) || Math.abs(defReward) > 1e9)) throw invalid('reward.default_reward must be a number (|x| <= 1e9) or null');
  if (defReward !== null && window === null) throw invalid('reward.default_reward needs reward.window_minutes (when the window closes, the default is given)');

  const policy = checkPolicy(input.policy ?? { kind: 'thompson' }, 'policy', k);
  const clipIn = input.clip ?? { p_min: 0.2, p_max: 0.8 };
  if (!isObj(clipIn) || !finite(clipIn.p_min) || !finite(clipIn.p_max)) throw invalid('clip must be { p_min, p_max } with numbers in [0, 1]');
  const pMin = clipIn.p_min;
  const pMax = clipIn.p_max;
  if (pMin < 0 || pMax > 1 || pMin > pMax) throw invalid(`clip must satisfy 0 <= p_min <= p_max <= 1, got [${pMin}, ${pMax}]`);
  if (pMin * k > 1 + 1e-12) throw invalid(`clip.p_min × actions must be <= 1: ${pMin} × ${k} = ${pMin * k}, so no probability vector fits the bounds`);
  if (pMax * k < 1 - 1e-12) throw invalid(`clip.p_max × actions must be >= 1: ${pMax} × ${k} = ${pMax * k}, so no probability vector fits the bounds`);
  const defaultAction = input.default_action ?? actions[0].name;
  if (typeof defaultAction !== 'string' || !names.has(defaultAction)) throw invalid(`default_action must name one of the actions (${[...names].join(', ')})`);
  const budget = input.budget_per_day ?? null;
  if (budget !== null && (!Number.isInteger(budget) || (budget as number) < 0 || (budget as number) > 100_000)) throw invalid('budget_per_day must be an integer from 0 to 100000, or null');
  const fb = input.fallback ?? {};
  if (!isObj(fb)) throw invalid('fallback must be an object { probabilities }');
  const fallback = { probabilities: checkProbabilities(fb.probabilities ?? null, 'fallback.probabilities', k) };
  const shadow = input.shadow === undefined || input.shadow === null ? null : checkPolicy(input.shadow, 'shadow', k);
  const m = input.model ?? { kind: 'shared' };
  if (!isObj(m) || (m.kind !== 'shared' && m.kind !== 'per_user')) throw invalid("model must be { kind: 'shared' } or { kind: 'per_user', prior_weight }");
  for (const key of Object.keys(m)) if (key !== 'kind' && !(m.kind === 'per_user' && key === 'prior_weight')) throw invalid(`unknown field 'model.${key}'`);
  const priorWeight = m.prior_weight ?? 0.2;
  if (m.kind === 'per_user' && (!finite(priorWeight) || priorWeight <= 0 || priorWeight > 1)) throw invalid('model.prior_weight must be a number in (0, 1]');
  const model: ProblemConfig['model'] = m.kind === 'per_user' ? { kind: 'per_user', prior_weight: priorWeight as number } : { kind: 'shared' };
  const cron = input.update_cron ?? null;
  if (cron !== null && (typeof cron !== 'string' || cron.length > 100 || !/^[\d*/,\- ]+$/.test(cron) || cron.trim().split(/\s+/).length !== 5)) {
    throw invalid('update_cron must be a 5-field cron expression such as "0 3 * * *", or null');
  }
  const seed = input.seed ?? 0;
  if (!Number.isSafeInteger(seed) || (seed as number) < 0) throw invalid('seed must be a non-negative integer');
  return {
    actions,
    context: { mode, numeric, categorical, on_missing: onMissing, on_unknown: onUnknown, max_features: maxFeatures as number },
    reward: { source: source as RewardConfig['source'], key: rewardKey, event_type: eventType as string | null, window_minutes: window as number | null, default_reward: defReward as number | null },
    policy,
    clip: { p_min: pMin, p_max: pMax },
    default_action: defaultAction,
    budget_per_day: budget as number | null,
    fallback,
    shadow,
    model,
    update_cron: cron as string | null,
    seed: seed as number,
  };
}

// ---------------------------------------------------------------------------------------------
// Contexts

/** One column of the encoded vector (column 0 is always the intercept 1). */
export type Feature = { kind: 'numeric'; key: string; mean: number; sd: number; default: number } | { kind: 'onehot'; key: string; value: string };
export interface Encoder {
  features: Feature[];
}

/** Checks a context against the schema: 422 naming the key on a missing, mistyped or unknown key. */
/** A context's size once serialized, and the largest magnitude of a number in it (as rewards). */
export const CONTEXT_MAX_BYTES = 16_384;
export const CONTEXT_MAX_ABS = 1e9;

export function checkContext(context: Record<string, unknown>, schema: ContextSchema): void {
  // Whatever the schema: a policy's fit squares its features, so a huge one would break every later
  // update of the problem (its Cholesky factor stops existing), and every update reads every context.
  for (const [key, v] of Object.entries(context)) {
    if (typeof v === 'number' && !(Math.abs(v) <= CONTEXT_MAX_ABS)) throw invalid(`context.${key.slice(0, 100)} must be a number within ±1e9, got ${v}`);
  }
  if (JSON.stringify(context).length > CONTEXT_MAX_BYTES) throw invalid(`context must be at most ${CONTEXT_MAX_BYTES} bytes of JSON`);
  if (schema.mode === 'any') return;
  for (const n of schema.numeric) {
    const v = context[n.key];
    if (v === undefined || v === null) {
      if (schema.on_missing === 'reject') throw invalid(`context.${n.key} is required (a number)`);
    } else if (!finite(v)) throw invalid(`context.${n.key} must be a number, got ${JSON.stringify(v)?.slice(0, 100)}`);
  }
  for (const c of schema.categorical) {
    const v = context[c.key];
    if (v === undefined || v === null) {
      if (schema.on_missing === 'reject') throw invalid(`context.${c.key} is required (one of ${c.values.join(', ')})`);
    } else if (typeof v !== 'string') throw invalid(`context.${c.key} must be a string, one of ${c.values.join(', ')}`);
    else if (!c.values.includes(v) && schema.on_missing === 'reject') throw invalid(`context.${c.key} must be one of ${c.values.join(', ')}, got '${v.slice(0, 100)}'`);
  }
  if (schema.on_unknown === 'reject') {
    const listed = new Set([...schema.numeric.map((n) => n.key), ...schema.categorical.map((c) => c.key)]);
    for (const key of Object.keys(context)) if (!listed.has(key)) throw invalid(`context.${key.slice(0, 100)} is not a key of this problem's context schema`);
  }
}

/** Mean and standard deviation of the finite numbers (sd 1 when there is no spread, so encoding never divides by 0). */
function moments(values: number[]): { mean: number; sd: number } {
  if (!values.length) return { mean: 0, sd: 1 };
  // Welford's running mean and variance: no sum that overflows for values near the largest double.
  let m = 0;
  let s = 0;
  for (let i = 0; i < values.length; i++) {
    const d = values[i] - m;
    m += d / (i + 1);
    s += d * (values[i] - m);
  }
  const sd = Math.sqrt(s / values.length);
  return { mean: m, sd: Number.isFinite(sd) && sd > 1e-12 ? sd : 1 };
}

/**
 * The encoder a new policy version uses. 'any': the numeric keys seen most often (up to
 * max_features), standardized on the data; 'schema': the listed keys, numeric ones standardized when
 * asked, categorical ones one-hot.
 */
export function buildEncoder(schema: ContextSchema, contexts: Record<string, unknown>[]): Encoder {
  const features: Feature[] = [];
  if (schema.mode === 'any') {
    const counts = new Map<string, number>();
    for (const c of contexts) for (const [key, v] of Object.entries(c)) if (finite(v) && KEY.test(key)) counts.set(key, (counts.get(key) ?? 0) + 1);
    const keys = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, schema.max_features).map((e) => e[0]).sort();
    for (const key of keys) {
      const { mean, sd } = moments(contexts.map((c) => c[key]).filter(finite));
      features.push({ kind: 'numeric', key, mean, sd, default: mean });
    }
    return { features };
  }
  for (const n of schema.numeric) {
    const { mean, sd } = n.standardize ? moments(contexts.map((c) => c[n.key]).filter(finite)) : { mean: 0, sd: 1 };
    features.push({ kind: 'numeric', key: n.key, mean, sd, default: n.default ?? 0 });
  }
  for (const c of schema.categorical) for (const value of c.values) features.push({ kind: 'onehot', key: c.key, value });
  return { features };
}

/** Categorical defaults by key (for one-hot encoding of a missing or unknown value). */
function categoricalDefaults(schema: ContextSchema): Map<string, string | null> {
  return new Map(schema.categorical.map((c) => [c.key, c.default ?? null]));
}

/** The vector [1, features…] a policy sees for a context. */
export function encode(encoder: Encoder, context: Record<string, unknown>, schema?: ContextSchema): Float64Array {
  const x = new Float64Array(encoder.features.length + 1);
  x[0] = 1;
  const defaults = schema ? categoricalDefaults(schema) : new Map<string, string | null>();
  encoder.features.forEach((f, i) => {
    const v = context[f.key];
    if (f.kind === 'numeric') {
      const raw = finite(v) ? v : f.default;
      x[i + 1] = (raw - f.mean) / f.sd;
    } else {
      const value = typeof v === 'string' ? v : null;
      const given = value !== null && (schema?.categorical.find((c) => c.key === f.key)?.values.includes(value) ?? true) ? value : (defaults.get(f.key) ?? null);
      x[i + 1] = given === f.value ? 1 : 0;
    }
  });
  return x;
}

// ---------------------------------------------------------------------------------------------
// Policies

/** Fixed probabilities (the seed's placeholder): the vector is clipped, then one uniform draws from it. */
export interface FixedJSON {
  kind: 'Fixed';
  version: 1;
  probabilities: number[];
  actionNames: string[];
  clip: { pMin: number; pMax: number };
}
export type PolicyJSON = BanditJSON | FixedJSON;

export interface Draw {
  action: number;
  probability: number;
  probabilities: number[];
  rngState: RngState;
  method: string;
}

function clipOf(config: ProblemConfig) {
  return { pMin: config.clip.p_min, pMax: config.clip.p_max };
}

/** A new, untrained policy of this kind for K actions and `dim` encoded features. */
export function newPolicy(p: PolicyConfig, config: ProblemConfig, dim: number): PolicyJSON {
  const base = { nActions: config.actions.length, dim, actionNames: config.actions.map((a) => a.name), clip: clipOf(config) };
  switch (p.kind) {
    case 'thompson':
      return new ThompsonSampling({ ...base, lambda: p.lambda, mcSamples: p.mc_samples }).toJSON();
    case 'linucb':
      return new LinUCB({ ...base, alpha: p.alpha, lambda: p.lambda }).toJSON();
    case 'epsilon_greedy':
      return new EpsilonGreedy({ ...base, epsilon: p.epsilon, lambda: p.lambda }).toJSON();
    case 'fixed':
      return { kind: 'Fixed', version: 1, probabilities: p.probabilities!, actionNames: base.actionNames, clip: base.clip };
    default:
      throw new TypeError(`unknown policy kind ${String((p as { kind: unknown }).kind)}`);
  }
}

/**
 * Fits a policy on a training set (from scratch: every version learns from all data up to its time).
 * A fit whose parameters are not all finite numbers (contexts so large that their squares overflow)
 * throws instead of producing a version that could not decide.
 */
export function trainPolicy(p: PolicyConfig, config: ProblemConfig, data: TrainingSet, opts: { weight?: number; from?: PolicyJSON } = {}): PolicyJSON {
  const json = opts.from ?? newPolicy(p, config, data.contexts.cols);
  if (json.kind === 'Fixed' || data.contexts.rows === 0) return json;
  const policy = banditFromJSON(json);
  const w = opts.weight ?? 1;
  if (w === 1) policy.updateBatch(data.contexts, data.actions, data.rewards);
  else {
    // Weighted rows: x and r scaled by √w put w·xxᵀ, w·x·r and w·r² into the sufficient statistics.
    const s = Math.sqrt(w);
    policy.updateBatch(matrix(data.contexts.rows, data.contexts.cols, data.contexts.data.map((v) => v * s) as Float64Array), data.actions, data.rewards.map((v) => v * s));
  }
  const fitted = policy.toJSON() as PolicyJSON;
  if (!allFinite(fitted)) throw new RangeError('the fitted policy has non-finite parameters (contexts or rewards too large for double precision)');
  return fitted;
}

/** The rows of a training set that belong to one user. */
export function rowsOfUser(data: TrainingSet, userId: string): TrainingSet {
  const idx: number[] = [];
  data.rows.forEach((r, i) => r.userId === userId && idx.push(i));
  const d = data.contexts.cols;
  const x = new Float64Array(idx.length * d);
  idx.forEach((i, j) => x.set(data.contexts.data.subarray(i * d, (i + 1) * d), j * d));
  return {
    contexts: matrix(idx.length, d, x),
    actions: Int32Array.from(idx, (i) => data.actions[i]),
    rewards: Float64Array.from(idx, (i) => data.rewards[i]),
    propensities: Float64Array.from(idx, (i) => data.propensities[i]),
    nDefault: 0,
    rows: idx.map((i) => data.rows[i]),
  };
}

/**
 * Per-user policies with a power prior: every user's data at weight w (the `prior`, which users
 * without data decide from), then the user's own rows at 1 − w more, so their own data counts fully.
 */
export function trainPerUser(p: PolicyConfig, config: ProblemConfig, data: TrainingSet, prior: PolicyJSON, w: number): Map<string, PolicyJSON> {
  const out = new Map<string, PolicyJSON>();
  if (prior.kind === 'Fixed') return out;
  for (const userId of new Set(data.rows.map((r) => r.userId))) {
    out.set(userId, w === 1 ? prior : trainPolicy(p, config, rowsOfUser(data, userId), { weight: 1 - w, from: prior }));
  }
  return out;
}

function allFinite(v: unknown): boolean {
  if (typeof v === 'number') return Number.isFinite(v);
  if (Array.isArray(v) || ArrayBuffer.isView(v)) {
    for (const x of v as Iterable<unknown>) if (!allFinite(x)) return false;
    return true;
  }
  if (v !== null && typeof v === 'object') return Object.values(v).every(allFinite);
  return true;
}

export interface LoadedPolicy {
  json: PolicyJSON;
  bandit: BanditPolicy | null;
}

export function loadPolicy(json: PolicyJSON): LoadedPolicy {
  return { json, bandit: json.kind === 'Fixed' ? null : banditFromJSON(json) };
}

/** One draw from `rng` (its state before the draw is logged, so `replay` reproduces it). */
export function drawFrom(policy: LoadedPolicy, x: Float64Array, rng: Rng): Draw {
  if (policy.bandit) {
    const c = policy.bandit.choose(x, rng);
    return { action: c.action, probability: c.probability, probabilities: Array.from(c.probabilities), rngState: c.rngState, method: c.method };
  }
  const f = policy.json as FixedJSON;
  return drawFixed(f.probabilities, f.clip, rng);
}

/** A draw from fixed probabilities, clipped: the fixed policy and the fallback. */
export function drawFixed(probabilities: number[], clip: { pMin: number; pMax: number }, rng: Rng): Draw {
  const rngState = rng.state();
  const p = Array.from(projectProbabilities(probabilities, clip));
  const action = drawIndex(p, rng.next());
  return { action, probability: p[action], probabilities: p, rngState, method: 'exact' };
}

/** π(·|x) of a policy (what its draw would come from), for off-policy evaluation. */
export function probabilitiesOf(policy: LoadedPolicy, x: Float64Array, rng: Rng): Float64Array {
  if (policy.bandit) return policy.bandit.actionProbabilities(x, rng).probabilities;
  const f = policy.json as FixedJSON;
  return projectProbabilities(f.probabilities, f.clip);
}

export function fallbackProbabilities(config: ProblemConfig): number[] {
  const k = config.actions.length;
  return config.fallback.probabilities ?? new Array(k).fill(1 / k);
}

export type DecidedBy = 'policy' | 'fallback' | 'budget';

export interface Decision extends Draw {
  decidedBy: DecidedBy;
  reason: string | null;
}

/**
 * The decision at one decision point: the budget first (a spent budget gives the default action,
 * with probability 1: no randomization happened), then the policy, then the fallback if the policy
 * throws, each logged with its reason.
 */
export function decide(args: { config: ProblemConfig; policy: () => LoadedPolicy; x: Float64Array; rng: Rng; nonDefaultToday: number }): Decision {
  const { config, x, rng } = args;
  const defaultIdx = config.actions.findIndex((a) => a.name === config.default_action);
  if (config.budget_per_day !== null && args.nonDefaultToday >= config.budget_per_day) {
    const probabilities = config.actions.map((_, i) => (i === defaultIdx ? 1 : 0));
    return { action: defaultIdx, probability: 1, probabilities, rngState: rng.state(), method: 'exact', decidedBy: 'budget', reason: `budget of ${config.budget_per_day} non-default actions per day is spent` };
  }
  const state = rng.state();
  try {
    return { ...drawFrom(args.policy(), x, rng), decidedBy: 'policy', reason: null };
  } catch (err) {
    const reason = `policy failed: ${err instanceof Error ? err.message : String(err)}`.slice(0, 500);
    return { ...drawFixed(fallbackProbabilities(config), clipOf(config), new Rng(state)), decidedBy: 'fallback', reason };
  }
}

/** Recomputes a logged decision from its policy version and generator state. */
export function replay(args: { config: ProblemConfig; json: PolicyJSON; x: Float64Array; rngState: RngState; decidedBy: DecidedBy }): Draw {
  const rng = new Rng(args.rngState);
  switch (args.decidedBy) {
    case 'budget': {
      const d = args.config.actions.findIndex((a) => a.name === args.config.default_action);
      return { action: d, probability: 1, probabilities: args.config.actions.map((_, i) => (i === d ? 1 : 0)), rngState: args.rngState, method: 'exact' };
    }
    case 'fallback':
      return drawFixed(fallbackProbabilities(args.config), clipOf(args.config), rng);
    case 'policy':
      return drawFrom(loadPolicy(args.json), args.x, rng);
    default:
      throw new TypeError(`unknown decided_by ${String(args.decidedBy)}`);
  }
}

/** A seed per decision: the problem's seed mixed with a server-drawn 32-bit nonce (both logged through the state). */
export function decisionRng(seed: number, nonce: number): Rng {
  return Rng.derive(seed, nonce >>> 0);
}

// ---------------------------------------------------------------------------------------------
// Rewards and training data

/** Largest reward magnitude accepted: squares and sums of rewards stay exact enough in doubles. */
export const MAX_REWARD = 1e9;

/**
 * The reward in an uploaded outcome: the configured key, a number or a boolean; null when absent or
 * not numeric. A number beyond ±MAX_REWARD is refused (422 naming the key).
 */
export function rewardOf(outcome: unknown, key: string): number | null {
  if (!isObj(outcome)) return null;
  const v = outcome[key];
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (finite(v) && Math.abs(v) > MAX_REWARD) throw invalid(`data.outcome.${key} must be within ±${MAX_REWARD}, got ${v}`);
  return finite(v) ? v : null;
}

/** Whether the reward window of a decision at `decidedAt` has closed by `until` (never, without a window). */
export function windowClosed(reward: RewardConfig, decidedAt: Date, until: Date): boolean {
  return reward.window_minutes !== null && decidedAt.getTime() + reward.window_minutes * 60_000 <= until.getTime();
}

/** Whether an outcome at `outcomeAt` is inside the reward window of a decision at `decidedAt`. */
export function inWindow(reward: RewardConfig, decidedAt: Date, outcomeAt: Date): boolean {
  if (reward.window_minutes === null) return true;
  return outcomeAt.getTime() - decidedAt.getTime() <= reward.window_minutes * 60_000;
}

export interface LoggedRow {
  userId: string;
  context: Record<string, unknown>;
  action: number;
  probability: number;
  decidedBy: DecidedBy;
  decidedAt: Date;
  /** The outcome's reward when one arrived inside the window (null: none, or not numeric). */
  reward: number | null;
}

export interface TrainingSet {
  contexts: Matrix;
  actions: Int32Array;
  rewards: Float64Array;
  propensities: Float64Array;
  nDefault: number;
  /** The logged rows picked, in the order of the matrix rows. */
  rows: LoggedRow[];
}

/**
 * The rows an update at `until` learns from: decisions with an in-window reward, and decisions whose
 * window closed by `until` without one, given the default reward when the problem has one.
 */
export function trainingSet(rows: LoggedRow[], config: ProblemConfig, encoder: Encoder, until: Date, opts: { excludeBudget?: boolean } = {}): TrainingSet {
  const picked: { row: LoggedRow; reward: number }[] = [];
  let nDefault = 0;
  for (const row of rows) {
    if (opts.excludeBudget && row.decidedBy === 'budget') continue;
    if (row.reward !== null) picked.push({ row, reward: row.reward });
    else if (config.reward.default_reward !== null && windowClosed(config.reward, row.decidedAt, until)) {
      picked.push({ row, reward: config.reward.default_reward });
      nDefault++;
    }
  }
  const d = encoder.features.length + 1;
  const data = new Float64Array(picked.length * d);
  const actions = new Int32Array(picked.length);
  const rewards = new Float64Array(picked.length);
  const propensities = new Float64Array(picked.length);
  picked.forEach((p, i) => {
    data.set(encode(encoder, p.row.context, config.context), i * d);
    actions[i] = p.row.action;
    rewards[i] = p.reward;
    propensities[i] = p.row.probability;
  });
  return { contexts: matrix(picked.length, d, data), actions, rewards, propensities, nDefault, rows: picked.map((p) => p.row) };
}
