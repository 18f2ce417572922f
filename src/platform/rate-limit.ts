// Fixed-window rate limits. With Redis the counters are shared by every process; without it each
// process counts alone (the embedded database serves one process anyway).
import type { Redis } from './redis.ts';

export interface RateLimitResult {
  allowed: boolean;
  /** Seconds until the window resets (for Retry-After). */
  retryAfterSec: number;
  count: number;
}

export interface RateLimiter {
  /** Counts one hit on `key` and says whether it is within `limit` per `windowSec`. */
  hit(key: string, limit: number, windowSec: number): Promise<RateLimitResult>;
  /** Says whether `key` is still within `limit`, without counting a hit. */
  check(key: string, limit: number): Promise<RateLimitResult>;
  reset(key: string): Promise<void>;
}

export function createMemoryRateLimiter(now: () => number = Date.now): RateLimiter {
  const windows = new Map<string, { count: number; resetAt: number }>();
  let lastSweep = now();
  const current = (key: string, windowSec: number) => {
    const t = now();
    if (t - lastSweep > 60_000) {
      for (const [k, w] of windows) if (w.resetAt <= t) windows.delete(k);
      lastSweep = t;
    }
    let w = windows.get(key);
    if (!w || w.resetAt <= t) {
      w = { count: 0, resetAt: t + windowSec * 1000 };
      windows.set(key, w);
    }
    return w;
  };
  return {
    async hit(key, limit, windowSec) {
      const w = current(key, windowSec);
      w.count++;
      return { allowed: w.count <= limit, retryAfterSec: Math.max(1, Math.ceil((w.resetAt - now()) / 1000)), count: w.count };
    },
    async check(key, limit) {
      const w = windows.get(key);
      const t = now();
      if (!w || w.resetAt <= t) return { allowed: true, retryAfterSec: 0, count: 0 };
      return { allowed: w.count < limit, retryAfterSec: Math.max(1, Math.ceil((w.resetAt - t) / 1000)), count: w.count };
    },
    async reset(key) {
      windows.delete(key);
    },
  };
}

export function createRedisRateLimiter(redis: Redis, keyPrefix: string): RateLimiter {
  const prefix = `${keyPrefix}rl:`;
  return {
    async hit(key, limit, windowSec) {
      const k = prefix + key;
      // INCR, and start the window on the first hit; PTTL gives the time left.
      const res = await redis.multi().incr(k).pexpire(k, windowSec * 1000, 'NX').pttl(k).exec();
      const count = Number(res?.[0]?.[1] ?? 0);
      const ttl = Number(res?.[2]?.[1] ?? windowSec * 1000);
      return { allowed: count <= limit, retryAfterSec: Math.max(1, Math.ceil(ttl / 1000)), count };
    },
    async check(key, limit) {
      const res = await redis.multi().get(prefix + key).pttl(prefix + key).exec();
      const count = Number(res?.[0]?.[1] ?? 0);
      const ttl = Number(res?.[1]?.[1] ?? 0);
      return { allowed: count < limit, retryAfterSec: Math.max(1, Math.ceil(ttl / 1000)), count };
    },
    async reset(key) {
      await redis.del(prefix + key);
    },
  };
}
