// Fixed-window rate limits whose counting is atomic, so concurrent attempts cannot slip past a limit
// between a check and a count: each attempt is counted first and allowed only if it is within the
// limit. With Redis the counters are Redis keys; without it, rows of rate_limits in the database.
// Either way every process of a deployment shares them.
import { eq, gt, and, sql } from 'drizzle-orm';
import type { Db } from './db.ts';
import { rateLimits } from './rate-limit.tables.ts';
import type { Redis } from './redis.ts';

export interface RateLimitResult {
  allowed: boolean;
  /** Seconds until the window resets (for Retry-After). */
  retryAfterSec: number;
  count: number;
}

export interface RateLimiter {
  /** Counts one attempt on `key`, atomically, and says whether it is within `limit` per `windowSec`. */
  consume(key: string, limit: number, windowSec: number): Promise<RateLimitResult>;
  reset(key: string): Promise<void>;
  /** Marks `key` for `ttlSec` (for example, an address that signed in to an account). */
  remember(key: string, ttlSec: number): Promise<void>;
  remembers(key: string): Promise<boolean>;
}

const retryAfter = (resetAtMs: number, now: number) => Math.max(1, Math.ceil((resetAtMs - now) / 1000));

export function createRedisRateLimiter(redis: Redis, keyPrefix: string): RateLimiter {
  const prefix = `${keyPrefix}rl:`;
  return {
    async consume(key, limit, windowSec) {
      const k = prefix + key;
      // INCR, and start the window on the first hit; PTTL gives the time left.
      const res = await redis.multi().incr(k).pexpire(k, windowSec * 1000, 'NX').pttl(k).exec();
      const count = Number(res?.[0]?.[1] ?? 0);
      const ttl = Number(res?.[2]?.[1] ?? windowSec * 1000);
      return { allowed: count <= limit, retryAfterSec: retryAfter(ttl, 0), count };
    },
    async reset(key) {
      await redis.del(prefix + key);
    },
    async remember(key, ttlSec) {
      await redis.set(prefix + key, '1', 'EX', ttlSec);
    },
    async remembers(key) {
      return (await redis.exists(prefix + key)) === 1;
    },
  };
}

/**
 * Redis's counters, and the database's while Redis does not answer (its client fails at once while
 * disconnected and after 500 ms when unanswered): a Redis outage keeps limits enforced and sign-in
 * working, at the cost of counting that outage's attempts apart.
 */
export function withFallback(primary: RateLimiter, fallback: RateLimiter): RateLimiter {
  const either =
    <A extends unknown[], R>(op: (l: RateLimiter) => (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> =>
      op(primary)(...args).catch(() => op(fallback)(...args));
  return {
    consume: either((l) => l.consume),
    reset: either((l) => l.reset),
    remember: either((l) => l.remember),
    remembers: either((l) => l.remembers),
  };
}

/** Counters as rows: one upsert per attempt (a new window when the old one has ended), expired rows purged now and then. */
export function createDbRateLimiter(db: Db, now: () => number = Date.now): RateLimiter {
  let purgeAt = 0;
  const purge = () => {
    if (now() < purgeAt) return;
    purgeAt = now() + 60_000;
    db.delete(rateLimits).where(sql`${rateLimits.reset_at} < now()`).catch(() => {});
  };
  return {
    async consume(key, limit, windowSec) {
      purge();
      const window = sql`now() + make_interval(secs => ${windowSec})`;
      const rows = await db
        .insert(rateLimits)
        .values({ key, count: 1, reset_at: window })
        .onConflictDoUpdate({
          target: rateLimits.key,
          set: {
            count: sql`case when ${rateLimits.reset_at} <= now() then 1 else ${rateLimits.count} + 1 end`,
            reset_at: sql`case when ${rateLimits.reset_at} <= now() then excluded.reset_at else ${rateLimits.reset_at} end`,
          },
        })
        .returning({ count: rateLimits.count, reset_at: rateLimits.reset_at });
      const { count, reset_at } = rows[0];
      return { allowed: count <= limit, retryAfterSec: retryAfter(reset_at.getTime(), now()), count };
    },
    async reset(key) {
      await db.delete(rateLimits).where(eq(rateLimits.key, key));
    },
    async remember(key, ttlSec) {
      const until = sql`now() + make_interval(secs => ${ttlSec})`;
      await db.insert(rateLimits).values({ key, count: 1, reset_at: until }).onConflictDoUpdate({ target: rateLimits.key, set: { reset_at: until } });
    },
    async remembers(key) {
      const rows = await db.select({ key: rateLimits.key }).from(rateLimits).where(and(eq(rateLimits.key, key), gt(rateLimits.reset_at, sql`now()`))).limit(1);
      return rows.length > 0;
    },
  };
}
