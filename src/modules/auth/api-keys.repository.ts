import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import type { Db } from '../../platform/db.ts';
import { apiKeys } from './auth.tables.ts';

export interface ApiKeyRow {
  id: number;
  name: string;
  prefix: string;
  scopes: string[];
  user_id: number;
  created_at: Date;
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

const listColumns = {
  id: apiKeys.id,
  name: apiKeys.name,
  prefix: apiKeys.prefix,
  scopes: apiKeys.scopes,
  user_id: apiKeys.user_id,
  created_at: apiKeys.created_at,
  expires_at: apiKeys.expires_at,
  last_used_at: apiKeys.last_used_at,
  revoked_at: apiKeys.revoked_at,
};

export function createApiKeyRepository(db: Db) {
  return {
    async create(values: { name: string; prefix: string; key_hash: string; scopes: string[]; user_id: number; expires_at: Date | null }): Promise<ApiKeyRow> {
      const rows = await db.insert(apiKeys).values(values).returning(listColumns);
      return rows[0];
    },
    list: (): Promise<ApiKeyRow[]> => db.select(listColumns).from(apiKeys).orderBy(asc(apiKeys.id)),
    async findActiveByHash(keyHash: string): Promise<ApiKeyRow | null> {
      const rows = await db.select(listColumns).from(apiKeys).where(and(eq(apiKeys.key_hash, keyHash), isNull(apiKeys.revoked_at))).limit(1);
      return rows[0] ?? null;
    },
    async isActive(id: number): Promise<boolean> {
      const rows = await db
        .select({ id: apiKeys.id })
        .from(apiKeys)
        .where(and(eq(apiKeys.id, id), isNull(apiKeys.revoked_at), sql`(${apiKeys.expires_at} is null or ${apiKeys.expires_at} > now())`))
        .limit(1);
      return rows.length > 0;
    },
    async revoke(id: number): Promise<boolean> {
      const rows = await db.update(apiKeys).set({ revoked_at: sql`now()` }).where(and(eq(apiKeys.id, id), isNull(apiKeys.revoked_at))).returning({ id: apiKeys.id });
      return rows.length > 0;
    },
    async touch(id: number): Promise<void> {
      await db.update(apiKeys).set({ last_used_at: sql`now()` }).where(eq(apiKeys.id, id));
    },
  };
}

export type ApiKeyRepository = ReturnType<typeof createApiKeyRepository>;
