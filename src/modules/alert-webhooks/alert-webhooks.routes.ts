// Admin routes: subscribe a URL to seed 001's alerts, list and remove subscriptions, read a
// subscription's delivery log.
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { ErrorResponse } from '../../platform/schemas.ts';
import {
  AlertWebhookSchema,
  CreateAlertWebhookSchema,
  CreatedAlertWebhookSchema,
  DeliverySchema,
  IdParamsSchema,
  PageQuerySchema,
  type CreateAlertWebhook,
  type PageQuery,
} from './alert-webhooks.schemas.ts';
import type { AlertWebhooksService } from './alert-webhooks.service.ts';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse };
type IdParams = { id: number };

export function registerAlertWebhooksRoutes(app: FastifyInstance, service: AlertWebhooksService): void {
  app.post('/api/alert-webhooks', {
    config: { access: 'admin' },
    schema: {
      tags: ['events'],
      summary: 'Subscribe a URL to alerts: each alert raised is POSTed to it, signed (the secret is shown once)',
      operationId: 'create_alert_webhook',
      body: CreateAlertWebhookSchema,
      response: { 201: CreatedAlertWebhookSchema, ...errors, 422: ErrorResponse },
    },
    handler: async (req, reply) => {
      const row = await service.create(req.body as CreateAlertWebhook);
      reply.status(201).header('location', `/api/alert-webhooks/${row.id}`);
      return row;
    },
  });

  app.get('/api/alert-webhooks', {
    config: { access: 'admin' },
    schema: { tags: ['events'], summary: 'List alert webhook subscriptions (without their secrets)', operationId: 'list_alert_webhooks', querystring: PageQuerySchema, response: { 200: Type.Array(AlertWebhookSchema), ...errors } },
    handler: async (req, reply) => {
      const q = req.query as PageQuery;
      const { rows, total } = await service.list(q.page, q.size);
      reply.header('x-total-count', String(total));
      return rows;
    },
  });

  app.delete('/api/alert-webhooks/:id', {
    config: { access: 'admin' },
    schema: { tags: ['events'], summary: 'Remove an alert webhook subscription', operationId: 'delete_alert_webhook', params: IdParamsSchema, response: { 204: Type.Null(), ...errors } },
    handler: async (req, reply) => {
      await service.delete((req.params as IdParams).id);
      reply.status(204).send();
    },
  });

  app.get('/api/alert-webhooks/:id/deliveries', {
    config: { access: 'admin' },
    schema: {
      tags: ['events'],
      summary: "A subscription's delivery log, newest first: one row per attempt",
      operationId: 'list_alert_webhook_deliveries',
      params: IdParamsSchema,
      querystring: PageQuerySchema,
      response: { 200: Type.Array(DeliverySchema), ...errors },
    },
    handler: async (req, reply) => {
      const q = req.query as PageQuery;
      const { rows, total } = await service.deliveries((req.params as IdParams).id, q.page, q.size);
      reply.header('x-total-count', String(total));
      return rows;
    },
  });
}
