// The strategy bandit's choices over time (GET /api/v1/recommendations/choices): the window and its
// buckets from a query, and the per-bucket rows from the grouped log. Pure: the clock comes in.
import { AppError } from '../../platform/errors.ts';
import { parseTimestamp } from '../../platform/time.ts';

export const BUCKETS = { minute: 60, hour: 3600, day: 86_400 } as const;
export type Bucket = keyof typeof BUCKETS;
/** The window when `from` is absent: 6 hours of minutes, 7 days of hours, 90 days of days. */
export const DEFAULT_BUCKETS: Record<Bucket, number> = { minute: 360, hour: 168, day: 90 };
/** At most this many buckets in one answer (a chart has no use for more; the scan stays bounded). */
export const MAX_BUCKETS = 2000;

export interface ChoiceWindow {
  bucket: Bucket;
  seconds: number;
  /** Inclusive, aligned down to a bucket boundary (UTC). */
  from: Date;
  /** Exclusive. */
  to: Date;
}

/** The window of a query: `to` defaults to now, `from` to DEFAULT_BUCKETS buckets before `to`. */
export function choiceWindow(q: { bucket?: string; from?: string; to?: string }, now: Date): ChoiceWindow {
  const bucket = (q.bucket ?? 'hour') as Bucket;
  const seconds = BUCKETS[bucket];
  if (!seconds) throw new AppError('VALIDATION_ERROR', `bucket must be one of ${Object.keys(BUCKETS).join(', ')}, got '${String(q.bucket).slice(0, 40)}'`);
  const ms = seconds * 1000;
  const to = q.to !== undefined ? parseTimestamp(q.to, 'to') : now;
  const rawFrom = q.from !== undefined ? parseTimestamp(q.from, 'from') : new Date(to.getTime() - DEFAULT_BUCKETS[bucket] * ms);
  if (rawFrom.getTime() >= to.getTime()) throw new AppError('VALIDATION_ERROR', `from must be before to, got from ${rawFrom.toISOString()} and to ${to.toISOString()}`);
  const from = new Date(Math.floor(rawFrom.getTime() / ms) * ms);
  const n = Math.ceil((to.getTime() - from.getTime()) / ms);
  if (n > MAX_BUCKETS) throw new AppError('VALIDATION_ERROR', `the window from ${from.toISOString()} to ${to.toISOString()} holds ${n} ${bucket} buckets; at most ${MAX_BUCKETS} are allowed (narrow it or use a larger bucket)`);
  return { bucket, seconds, from, to };
}

export interface ChoiceGroup {
  start_s: number;
  strategy: string;
  chosen: number;
  mean_probability: number;
  rewarded: number;
  settled: number;
}

export interface ChoiceRow {
  start: string;
  strategy: string;
  chosen: number;
  mean_probability: number;
  rewarded: number;
  settled: number;
  mean_reward: number | null;
}

/**
 * Rows in time then strategy order. A choice is settled when the user interacted with a recommended
 * product (reward 1) or the reward window has passed without one (reward 0); `mean_reward` is over
 * the settled choices only (null when none is settled yet).
 */
export function choiceRows(groups: ChoiceGroup[]): ChoiceRow[] {
  return groups
    .map((g) => ({
      start: new Date(Number(g.start_s) * 1000).toISOString(),
      strategy: g.strategy,
      chosen: Number(g.chosen),
      mean_probability: Number(g.mean_probability),
      rewarded: Number(g.rewarded),
      settled: Number(g.settled),
      mean_reward: Number(g.settled) > 0 ? Number(g.rewarded) / Number(g.settled) : null,
    }))
    .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.strategy < b.strategy ? -1 : a.strategy > b.strategy ? 1 : 0));
}
