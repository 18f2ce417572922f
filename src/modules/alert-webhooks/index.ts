// Seed 001's alerts delivered to subscribed URLs: admins subscribe a URL to some or all alert codes;
// this module consumes the events module's `alert.raised` fact (never its tables) and enqueues one
// signed webhook delivery per alert and subscriber.
import type { FastifyInstance } from 'fastify';
import type { Database } from '../../platform/db.ts';
import type { Facts } from '../../platform/jobs/facts.ts';
import type { Webhooks } from '../../platform/webhooks/webhooks.ts';
import { createAlertWebhooksRepository } from './alert-webhooks.repository.ts';
import { registerAlertWebhooksRoutes } from './alert-webhooks.routes.ts';
import { createAlertWebhooksService, TARGET_KIND, type RaisedAlerts } from './alert-webhooks.service.ts';

/** How often a process re-reads the subscriptions (to see those made by other processes). */
const REFRESH_MS = 5_000;

export async function registerAlertWebhooksModule(app: FastifyInstance, deps: { database: Database; webhooks: Webhooks; facts: Facts }) {
  const service = createAlertWebhooksService({ repo: createAlertWebhooksRepository(deps.database.db), webhooks: deps.webhooks });
  deps.webhooks.registerSigner(TARGET_KIND, service.secretOf);
  deps.facts.consume<RaisedAlerts>('alert.raised', 'alert-webhooks', (fact) => service.fanOut(fact), { wants: service.wants, active: service.listening, concurrency: 2, retryLimit: 5 });
  registerAlertWebhooksRoutes(app, service);
  await service.refresh();
  const timer = setInterval(() => service.refresh().catch((err: unknown) => app.log.warn({ err }, 'could not refresh alert webhooks')), REFRESH_MS);
  timer.unref();
  app.addHook('onClose', async () => clearInterval(timer));
  return { service };
}
