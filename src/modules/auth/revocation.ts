// Revoked token ids and token families (logout, used refresh tokens), seen by every process:
// - always: a table, the durable record, mirrored in each process's memory and re-synchronised every
//   REVOCATION_SYNC_MS, so a check never costs a database round trip. A revocation made by another
//   process is seen within that interval; one made by this process is seen at once;
// - with Redis besides: one key per id with the token's remaining lifetime, so other processes see a
//   revocation at once. Redis losing its data loses nothing: the table still has every revocation.
import { and, gt, lt, sql } from 'drizzle-orm';
import type { Db } from '../../platform/db.ts';
import type { Redis } from '../../platform/redis.ts';
import { revokedTokens } from './auth.tables.ts';

/** The revocation id of a whole token family (a sign-in), beside the jti ids of single tokens. */
export const familyKey = (family: string) => `fam:${family}`;

export interface RevocationStore {
  /** Revokes `jti` until `expiresAt`; true when this call revoked it, false when it already was. */
  revoke(jti: string, expiresAt: Date): Promise<boolean>;
  /** True when any of the ids (a token's jti, its family's `fam:` id) is revoked. */
  isRevoked(...ids: string[]): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Redis as the fast path over the database's durable record: a revocation is written to the database
 * first (so it survives Redis losing its data), then to Redis (so every process sees it at once).
 * A check looks at the database mirror in memory, then Redis; when Redis does not answer within
 * `timeoutMs`, the mirror alone decides (it lags other processes by at most REVOCATION_SYNC_MS).
 */
export function createRedisRevocationStore(
  redis: Redis,
  keyPrefix: string,
  durable: RevocationStore,
  opts: { timeoutMs?: number; now?: () => number } = {},
): RevocationStore {
  const now = opts.now ?? Date.now;
  const timeoutMs = opts.timeoutMs ?? 500;
  const key = (jti: string) => `${keyPrefix}revoked:${jti}`;
  // Redis answering late or not at all is the same as not answering: the caller goes on without it.
  const withTimeout = <T>(p: Promise<T>): Promise<T | undefined> => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), timeoutMs);
    });
    return Promise.race([p.catch(() => undefined), late]).finally(() => clearTimeout(timer));
  };
  return {
    async revoke(jti, expiresAt) {
      const first = await durable.revoke(jti, expiresAt);
      const ttl = Math.max(1000, expiresAt.getTime() - now());
      await withTimeout(redis.set(key(jti), '1', 'PX', ttl));
      return first;
    },
    async isRevoked(...ids) {
      if (await durable.isRevoked(...ids)) return true;
      return ((await withTimeout(redis.exists(...ids.map(key)))) ?? 0) > 0;
    },
    close: () => durable.close(),
  };
}

/** Re-read this far behind the newest revocation seen, so transactions that commit late are not missed. */
const SYNC_OVERLAP_MS = 5000;

export async function createDbRevocationStore(db: Db, opts: { syncMs: number; now?: () => number }): Promise<RevocationStore> {
  const now = opts.now ?? Date.now;
  const revoked = new Map<string, number>(); // jti -> expiry (ms)
  let watermark = new Date(0);
  let closed = false;

  const sync = async () => {
    const rows = await db
      .select({ jti: revokedTokens.jti, expires_at: revokedTokens.expires_at, revoked_at: revokedTokens.revoked_at })
      .from(revokedTokens)
      .where(and(gt(revokedTokens.revoked_at, new Date(watermark.getTime() - SYNC_OVERLAP_MS)), gt(revokedTokens.expires_at, sql`now()`)));
    for (const r of rows) {
      revoked.set(r.jti, r.expires_at.getTime());
      if (r.revoked_at > watermark) watermark = r.revoked_at;
    }
    const t = now();
    for (const [jti, exp] of revoked) if (exp <= t) revoked.delete(jti);
  };
  await sync();

  let purgeAt = now();
  const timer = setInterval(() => {
    if (closed) return;
    sync().catch(() => {}); // a failed sync is retried on the next tick; the mirror only gets older
    if (now() - purgeAt > 60_000) {
      purgeAt = now();
      db.delete(revokedTokens).where(lt(revokedTokens.expires_at, sql`now() - interval '1 minute'`)).catch(() => {});
    }
  }, opts.syncMs);
  timer.unref();

  return {
    async revoke(jti, expiresAt) {
      const rows = await db.insert(revokedTokens).values({ jti, expires_at: expiresAt }).onConflictDoNothing().returning({ jti: revokedTokens.jti });
      revoked.set(jti, expiresAt.getTime());
      return rows.length > 0;
    },
    async isRevoked(...ids) {
      const t = now();
      return ids.some((id) => {
        const exp = revoked.get(id);
        return exp !== undefined && exp > t;
      });
    },
    async close() {
      closed = true;
      clearInterval(timer);
    },
  };
}
