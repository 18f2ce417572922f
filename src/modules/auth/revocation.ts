// Revoked token ids and token families (logout, used refresh tokens), seen by every process:
// - with Redis: one key per id with the token's remaining lifetime, checked on each request;
// - without: a table, mirrored in each process's memory and re-synchronised every
//   REVOCATION_SYNC_MS, so a check never costs a database round trip. A revocation made by another
//   process is seen within that interval; one made by this process is seen at once.
import { and, gt, lt, sql } from 'drizzle-orm';
import type { Db } from '../../platform/db.ts';
import type { Redis } from '../../platform/redis.ts';
import { revokedTokens } from './auth.tables.ts';

export interface RevocationStore {
  /** Revokes `jti` until `expiresAt`; true when this call revoked it, false when it already was. */
  revoke(jti: string, expiresAt: Date): Promise<boolean>;
  /** True when any of the ids (a token's jti, its family's `fam:` id) is revoked. */
  isRevoked(...ids: string[]): Promise<boolean>;
  close(): Promise<void>;
}

export function createRedisRevocationStore(redis: Redis, keyPrefix: string, now: () => number = Date.now): RevocationStore {
  const key = (jti: string) => `${keyPrefix}revoked:${jti}`;
  return {
    async revoke(jti, expiresAt) {
      const ttl = Math.max(1000, expiresAt.getTime() - now());
      return (await redis.set(key(jti), '1', 'PX', ttl, 'NX')) === 'OK';
    },
    async isRevoked(...ids) {
      return (await redis.exists(...ids.map(key))) > 0;
    },
    async close() {},
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
