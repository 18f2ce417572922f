// Subscriptions of URLs to seed 001's alerts, and the consumer of the events module's `alert.raised`
// fact that turns each alert into one signed delivery per matching subscriber.
import { randomBytes } from 'node:crypto';
import { AppError } from '../../platform/errors.ts';
import type { Webhooks, WebhookRequest } from '../../platform/webhooks/webhooks.ts';
import type { AlertWebhooksRepository } from './alert-webhooks.repository.ts';
import type { CreateAlertWebhook } from './alert-webhooks.schemas.ts';

/** What this module needs of an `alert.raised` fact (the events module publishes GET /api/alerts items). */
export interface RaisedAlerts {
  alerts: { id: number; code: number; user_id: number; [k: string]: unknown }[];
}

export const TARGET_KIND = 'alert-webhook';

export function createAlertWebhooksService(deps: { repo: AlertWebhooksRepository; webhooks: Pick<Webhooks, 'checkUrl' | 'sendMany' | 'listDeliveries'> }) {
  const { repo, webhooks } = deps;
  // What the publish filter reads on the hot path: null = no subscriber at all, 'all' = some
  // subscriber takes every code. Refreshed after each change here and every few seconds (changes
  // made by other processes).
  let codes: Set<number> | 'all' | null = null;

  const out = <T extends { created_at: Date }>(r: T) => ({ ...r, created_at: r.created_at.toISOString() });

  const service = {
    async refresh(): Promise<void> {
      const targets = await repo.allTargets();
      codes = !targets.length ? null : targets.some((t) => t.codes === null) ? 'all' : new Set(targets.flatMap((t) => t.codes ?? []));
    },

    /** Synchronous and cheap: whether there is any subscriber at all. */
    listening: (): boolean => codes !== null,

    /** Synchronous and cheap: whether any subscriber wants any of these alerts. */
    wants(fact: RaisedAlerts): boolean {
      if (codes === null) return false;
      if (codes === 'all') return true;
      const set = codes;
      return fact.alerts.some((a) => set.has(a.code));
    },

    async create(body: CreateAlertWebhook) {
      const url = webhooks.checkUrl(body.url);
      const secret = `whsec_${randomBytes(24).toString('base64url')}`;
      const row = await repo.create({ url: url.href, codes: body.codes ? [...new Set(body.codes)] : null, secret });
      await service.refresh();
      return out(row);
    },

    list: async (page: number, size: number) => {
      const { rows, total } = await repo.list(page, size);
      return { rows: rows.map(out), total };
    },

    async delete(id: number) {
      if (!(await repo.delete(id))) throw new AppError('NOT_FOUND', `alert webhook ${id} not found`);
      await service.refresh();
    },

    async deliveries(id: number, page: number, size: number) {
      if (!(await repo.findById(id))) throw new AppError('NOT_FOUND', `alert webhook ${id} not found`);
      return webhooks.listDeliveries(`${TARGET_KIND}:${id}`, page, size);
    },

    /** The `alert.raised` consumer: one delivery per alert and matching subscriber, keyed for deduplication. */
    async fanOut(fact: RaisedAlerts): Promise<number> {
      const targets = await repo.allTargets();
      const requests: WebhookRequest[] = [];
      for (const alert of fact.alerts) {
        for (const t of targets) {
          if (t.codes !== null && !t.codes.includes(alert.code)) continue;
          requests.push({
            url: t.url,
            event: 'alert.raised',
            target: `${TARGET_KIND}:${t.id}`,
            idempotencyKey: `alert-${alert.id}-webhook-${t.id}`,
            body: { event: 'alert.raised', idempotency_key: `alert-${alert.id}-webhook-${t.id}`, webhook_id: t.id, alert },
          });
        }
      }
      await webhooks.sendMany(requests);
      return requests.length;
    },

    secretOf: (id: string) => (/^\d{1,15}$/.test(id) ? repo.secretOf(Number(id)) : Promise.resolve(null)),
  };
  return service;
}

export type AlertWebhooksService = ReturnType<typeof createAlertWebhooksService>;
