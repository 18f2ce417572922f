import { asc, count, eq } from 'drizzle-orm';
import type { Db } from '../../platform/db.ts';
import { alertWebhooks } from './alert-webhooks.tables.ts';

const publicColumns = { id: alertWebhooks.id, url: alertWebhooks.url, codes: alertWebhooks.codes, created_at: alertWebhooks.created_at };

export function createAlertWebhooksRepository(db: Db) {
  return {
    create: async (row: { url: string; codes: number[] | null; secret: string }) => (await db.insert(alertWebhooks).values(row).returning())[0],
    async list(page: number, size: number) {
      const [rows, total] = await Promise.all([
        db.select(publicColumns).from(alertWebhooks).orderBy(asc(alertWebhooks.id)).limit(size).offset((page - 1) * size),
        db.select({ n: count() }).from(alertWebhooks),
      ]);
      return { rows, total: total[0].n };
    },
    findById: async (id: number) => (await db.select(publicColumns).from(alertWebhooks).where(eq(alertWebhooks.id, id)))[0] ?? null,
    secretOf: async (id: number) => (await db.select({ secret: alertWebhooks.secret }).from(alertWebhooks).where(eq(alertWebhooks.id, id)))[0]?.secret ?? null,
    /** Every subscription with its codes (no secrets): what the fan-out and the publish filter read. */
    allTargets: () => db.select({ id: alertWebhooks.id, url: alertWebhooks.url, codes: alertWebhooks.codes }).from(alertWebhooks),
    delete: async (id: number) => (await db.delete(alertWebhooks).where(eq(alertWebhooks.id, id)).returning({ id: alertWebhooks.id })).length > 0,
  };
}

export type AlertWebhooksRepository = ReturnType<typeof createAlertWebhooksRepository>;
