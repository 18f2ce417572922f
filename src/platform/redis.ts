// The optional Redis connection (REDIS_URL). Modules that can use Redis take it as a dependency and
// fall back to an in-process or database equivalent with the same interface when it is null.
// Commands fail at once while Redis is unreachable (no offline queue) and time out after 500 ms,
// so an outage costs a request milliseconds: callers that can go on without Redis do (revocations,
// rate limits), and the rest answer 503.
import { Redis, type RedisOptions } from 'ioredis';
import { watchDependency, type Dependency, type DependencyLog } from './dependencies.ts';

export type { Redis };

export const REDIS_OPTIONS: RedisOptions = {
  lazyConnect: true,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  connectTimeout: 1000,
  commandTimeout: 500,
  keepAlive: 10_000,
  // Reconnect quickly: the dependency watch, not a growing backoff, decides how long an outage lasts.
  retryStrategy: (times) => Math.min(times * 100, 500),
};

/** A client with its errors handled (ioredis prints "Unhandled error event" otherwise); the watch logs outages. */
export function createRedisClient(url: string, log: { debug(obj: object, msg: string): void }): Redis {
  const redis = new Redis(url, REDIS_OPTIONS);
  redis.on('error', (err: Error) => log.debug({ err: { message: err.message } }, 'redis connection error'));
  return redis;
}

export async function openRedis(url: string, log: DependencyLog & { debug(obj: object, msg: string): void }): Promise<{ redis: Redis; dependency: Dependency }> {
  const redis = createRedisClient(url, log);
  await redis.connect();
  const dependency = watchDependency({
    name: 'redis',
    probe: () => redis.ping(),
    log,
    // A connection that is open but unanswered (a partition) is dropped and made again.
    onFailure() {
      if (redis.status === 'ready' || redis.status === 'connect') redis.disconnect(true);
    },
  });
  return { redis, dependency };
}
