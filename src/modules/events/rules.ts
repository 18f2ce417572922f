// Alert rules as data: the four kinds, their parameters, validation at save time, and a reference
// evaluator. The database function events_ingest (drizzle/0003_events_perf.sql) evaluates rules in
// production; `evaluateRules` states the same semantics in TypeScript, with money as integer cents,
// so tests can replay a history sequentially and compare.
import { AppError } from '../../platform/errors.ts';
import { formatCents, parseCents } from '../../platform/money.ts';

export const EVENT_TYPES = ['deposit', 'withdraw'] as const;
export type EventType = (typeof EVENT_TYPES)[number];
export const RULE_KINDS = ['threshold', 'consecutive', 'window_sum', 'window_count'] as const;
export type RuleKind = (typeof RULE_KINDS)[number];
export const COMPARISONS = ['>', '>=', '<', '<='] as const;
export type Comparison = (typeof COMPARISONS)[number];

export interface ThresholdParams {
  op: Comparison;
  amount: string;
}
export interface ConsecutiveParams {
  count: number;
  ignore_other_types: boolean;
  strictly_increasing: boolean;
}
export interface WindowSumParams {
  window_seconds: number;
  op: Comparison;
  amount: string;
}
export interface WindowCountParams {
  window_seconds: number;
  op: Comparison;
  count: number;
}
export type RuleParams = ThresholdParams | ConsecutiveParams | WindowSumParams | WindowCountParams;

export interface RuleDefinition {
  code: number;
  name: string;
  kind: RuleKind;
  event_type: EventType;
  enabled: boolean;
  priority: number;
  params: RuleParams;
}

/** The bounds that keep one evaluation cheap: a run longer than 1,000 events is not a rule. */
export const MAX_CONSECUTIVE = 1000;
export const MAX_WINDOW_SECONDS = 10 * 366 * 86_400;
const MAX_CODE = 2_147_483_647;
const MAX_CENTS = 99_999_999_999_999n; // numeric(14,2)

// ---- validation -------------------------------------------------------------------------------

const unprocessable = (msg: string) => new AppError('UNPROCESSABLE', msg);

function oneOf<T extends string>(value: unknown, allowed: readonly T[], field: string): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw unprocessable(`${field} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}

function intIn(value: unknown, min: number, max: number, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw unprocessable(`${field} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function money(value: unknown, field: string): string {
  const cents = parseCents(value);
  if (cents === null || cents > MAX_CENTS) {
    throw unprocessable(`${field} must be a non-negative decimal string with at most 2 decimals (e.g. "100.00"), got ${JSON.stringify(value)}`);
  }
  return formatCents(cents);
}

function bool(value: unknown, def: boolean, field: string): boolean {
  if (value === undefined) return def;
  if (typeof value !== 'boolean') throw unprocessable(`${field} must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

const PARAM_KEYS: Record<RuleKind, string[]> = {
  threshold: ['op', 'amount'],
  consecutive: ['count', 'ignore_other_types', 'strictly_increasing'],
  window_sum: ['window_seconds', 'op', 'amount'],
  window_count: ['window_seconds', 'op', 'count'],
};

/** Checks a rule's params for its kind and returns them in canonical form (amounts as "0.00" strings). */
export function validateParams(kind: RuleKind, params: unknown): RuleParams {
  if (params === null || typeof params !== 'object' || Array.isArray(params)) {
    throw unprocessable(`params must be an object with ${PARAM_KEYS[kind].join(', ')} for a ${kind} rule`);
  }
  const p = params as Record<string, unknown>;
  const unknown = Object.keys(p).filter((k) => !PARAM_KEYS[kind].includes(k));
  if (unknown.length) throw unprocessable(`params.${unknown[0]} is not a parameter of a ${kind} rule (expected ${PARAM_KEYS[kind].join(', ')})`);
  switch (kind) {
    case 'threshold':
      return { op: oneOf(p.op, COMPARISONS, 'params.op'), amount: money(p.amount, 'params.amount') };
    case 'consecutive':
      return {
        count: intIn(p.count, 1, MAX_CONSECUTIVE, 'params.count'),
        ignore_other_types: bool(p.ignore_other_types, false, 'params.ignore_other_types'),
        strictly_increasing: bool(p.strictly_increasing, false, 'params.strictly_increasing'),
      };
    case 'window_sum':
      return {
        window_seconds: intIn(p.window_seconds, 0, MAX_WINDOW_SECONDS, 'params.window_seconds'),
        op: oneOf(p.op, COMPARISONS, 'params.op'),
        amount: money(p.amount, 'params.amount'),
      };
    case 'window_count':
      return {
        window_seconds: intIn(p.window_seconds, 0, MAX_WINDOW_SECONDS, 'params.window_seconds'),
        op: oneOf(p.op, COMPARISONS, 'params.op'),
        count: intIn(p.count, 0, 1_000_000_000, 'params.count'),
      };
    default: {
      const never: never = kind;
      throw unprocessable(`unknown kind ${String(never)}`);
    }
  }
}

/** Validates a whole rule (after defaults and any patch are applied); throws UNPROCESSABLE naming the field. */
export function validateRule(input: Record<string, unknown>): RuleDefinition {
  const kind = oneOf(input.kind, RULE_KINDS, 'kind');
  const name = input.name ?? '';
  if (typeof name !== 'string' || name.length > 200) throw unprocessable('name must be a string of at most 200 characters');
  return {
    code: intIn(input.code, 0, MAX_CODE, 'code'),
    name,
    kind,
    event_type: oneOf(input.event_type, EVENT_TYPES, 'event_type'),
    enabled: bool(input.enabled, true, 'enabled'),
    priority: intIn(input.priority ?? 100, -1_000_000, 1_000_000, 'priority'),
    params: validateParams(kind, input.params),
  };
}

// ---- reference evaluation ---------------------------------------------------------------------

export interface HistoryEvent {
  seq: number;
  type: EventType;
  /** Integer cents. */
  cents: bigint;
  time: number;
}

export interface EvaluableRule extends RuleDefinition {
  id: number;
}

function compare(a: bigint, op: Comparison, b: bigint): boolean {
  switch (op) {
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    default: {
      const never: never = op;
      throw new TypeError(`unknown comparison ${String(never)}`);
    }
  }
}

/**
 * The codes the enabled rules raise for `event`, in answer order (priority, then code). `history`
 * is the user's events stored before it (any order); the event itself is included in every rule,
 * and rules see history as of the event's time: events with time <= t, ties in time by seq.
 */
export function evaluateRules(history: readonly HistoryEvent[], event: HistoryEvent, rules: readonly EvaluableRule[]): EvaluableRule[] {
  const asOf = [...history, event].filter((e) => e.time <= event.time).sort((a, b) => b.time - a.time || b.seq - a.seq);
  const fired: EvaluableRule[] = [];
  for (const rule of rules) {
    if (!rule.enabled || rule.event_type !== event.type) continue;
    if (ruleFires(rule, asOf, event)) fired.push(rule);
  }
  return fired.sort((a, b) => a.priority - b.priority || a.code - b.code);
}

function ruleFires(rule: EvaluableRule, newestFirst: HistoryEvent[], event: HistoryEvent): boolean {
  const inWindow = (w: number) => newestFirst.filter((e) => e.type === event.type && e.time >= event.time - w && e.time <= event.time);
  switch (rule.kind) {
    case 'threshold': {
      const p = rule.params as ThresholdParams;
      return compare(event.cents, p.op, parseCents(p.amount)!);
    }
    case 'window_sum': {
      const p = rule.params as WindowSumParams;
      const sum = inWindow(p.window_seconds).reduce((s, e) => s + e.cents, 0n);
      return compare(sum, p.op, parseCents(p.amount)!);
    }
    case 'window_count': {
      const p = rule.params as WindowCountParams;
      return compare(BigInt(inWindow(p.window_seconds).length), p.op, BigInt(p.count));
    }
    case 'consecutive': {
      const p = rule.params as ConsecutiveParams;
      const last = newestFirst.filter((e) => !p.ignore_other_types || e.type === event.type).slice(0, p.count);
      if (last.length !== p.count || last.some((e) => e.type !== event.type)) return false;
      if (!p.strictly_increasing) return true;
      // newest first: each must be larger than the next (older) one
      for (let i = 0; i + 1 < last.length; i++) if (!(last[i].cents > last[i + 1].cents)) return false;
      return true;
    }
    default: {
      const never: never = rule.kind;
      throw new TypeError(`unknown rule kind ${String(never)}`);
    }
  }
}

/** The four seed rules (what migration 0002 inserts), for the reference evaluator and the docs. */
export const DEFAULT_RULES: readonly RuleDefinition[] = [
  { code: 1100, name: 'withdrawal over 100', kind: 'threshold', event_type: 'withdraw', enabled: true, priority: 10, params: { op: '>', amount: '100.00' } },
  { code: 30, name: '3 withdrawals in a row', kind: 'consecutive', event_type: 'withdraw', enabled: true, priority: 20, params: { count: 3, ignore_other_types: false, strictly_increasing: false } },
  { code: 300, name: '3 deposits, each larger than the last', kind: 'consecutive', event_type: 'deposit', enabled: true, priority: 10, params: { count: 3, ignore_other_types: true, strictly_increasing: true } },
  { code: 123, name: 'deposits over 200 within 30 s', kind: 'window_sum', event_type: 'deposit', enabled: true, priority: 20, params: { window_seconds: 30, op: '>', amount: '200.00' } },
];
