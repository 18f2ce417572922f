// The optional Redis connection (REDIS_URL). Modules that can use Redis take it as a dependency and
// fall back to an in-process or database equivalent with the same interface when it is null.
import { Redis } from 'ioredis';

export type { Redis };

export async function openRedis(url: string): Promise<Redis> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: true });
  await redis.connect();
  return redis;
}
