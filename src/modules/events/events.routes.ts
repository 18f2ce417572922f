// Seed 001's routes: POST /api/events (the seed's contract), reading events and alerts back, the
// live alert stream, and the admin CRUD of rules at /api/rules/:id. Events and alerts are 'owner':
// a signed-in user posts and reads only their own; admins and service credentials act for anyone.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { callerOf } from '../../platform/access.ts';
import { PreferCountHeaders, preferredCount, sendPage } from '../../platform/pagination.ts';
import { ErrorResponse } from '../../platform/schemas.ts';
import type { createAlertStreams } from './alert-stream.ts';
import {
  AlertSchema,
  CreateEventSchema,
  CreateRuleSchema,
  EventAnswerSchema,
  ListAlertsQuerySchema,
  ListEventsQuerySchema,
  ListRulesQuerySchema,
  PatchRuleSchema,
  RuleIdParamsSchema,
  RuleSchema,
  StoredEventSchema,
  StreamQuerySchema,
} from './events.schemas.ts';
import type { EventsService } from './events.service.ts';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 429: ErrorResponse };
const ruleErrors = { ...errors, 409: ErrorResponse, 422: ErrorResponse };

export function registerEventsRoutes(fastify: FastifyInstance, service: EventsService, streams: ReturnType<typeof createAlertStreams>): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.post('/api/events', {
    config: { access: 'owner', idempotent: true },
    schema: {
      tags: ['events'],
      summary: 'Record a deposit or withdrawal and evaluate the alert rules (seed 001)',
      operationId: 'record_alert_event',
      body: CreateEventSchema,
      response: { 200: EventAnswerSchema, ...errors },
    },
    handler: async (req) => service.ingest(req.body, callerOf(req)),
  });

  app.get('/api/events', {
    config: { access: 'owner' },
    schema: {
      tags: ['events'],
      summary: "List events (a user's, by time then arrival), with the alert codes each raised",
      operationId: 'list_alert_events',
      querystring: ListEventsQuerySchema,
      response: { 200: Type.Array(StoredEventSchema), ...errors },
    },
    handler: async (req, reply) => {
      return sendPage(reply, await service.listEvents(req.query, callerOf(req)));
    },
  });

  app.get('/api/alerts', {
    config: { access: 'owner' },
    schema: {
      tags: ['events'],
      summary: 'List raised alerts with the event that raised them and the rule version',
      operationId: 'list_alerts',
      querystring: ListAlertsQuerySchema,
      headers: PreferCountHeaders,
      response: { 200: Type.Array(AlertSchema), ...errors },
    },
    handler: async (req, reply) => {
      const asked = preferredCount(req.headers.prefer);
      return sendPage(reply, await service.listAlerts(req.query, callerOf(req), asked), asked);
    },
  });

  app.get('/api/alerts/stream', {
    config: { access: 'owner' },
    schema: {
      tags: ['events'],
      summary: 'Live alerts as Server-Sent Events (event: alert, data: an Alert), heartbeat comments every 15 s',
      operationId: 'stream_alerts',
      querystring: StreamQuerySchema,
      response: { 200: Type.String({ description: 'text/event-stream' }), ...errors },
    },
    handler: (req, reply) => streams.handle(req, reply, req.query),
  });

  app.get('/api/rules', {
    config: { access: 'user' },
    schema: {
      tags: ['rules'],
      summary: 'List alert rules (by event type, then priority)',
      operationId: 'list_rules',
      querystring: ListRulesQuerySchema,
      response: { 200: Type.Array(RuleSchema), ...errors },
    },
    handler: async (req, reply) => {
      return sendPage(reply, await service.listRules(req.query));
    },
  });

  app.get('/api/rules/:id', {
    config: { access: 'user' },
    schema: { tags: ['rules'], summary: 'Get one alert rule', operationId: 'get_rule', params: RuleIdParamsSchema, response: { 200: RuleSchema, ...errors } },
    handler: async (req) => service.getRule(req.params.id),
  });

  app.post('/api/rules', {
    config: { access: 'admin' },
    schema: { tags: ['rules'], summary: 'Create an alert rule (422 when it cannot be evaluated)', operationId: 'create_rule', body: CreateRuleSchema, response: { 201: RuleSchema, ...ruleErrors } },
    handler: async (req, reply) => {
      const rule = await service.createRule(req.body);
      reply.status(201).header('location', `/api/rules/${rule.id}`);
      return rule;
    },
  });

  app.put('/api/rules/:id', {
    config: { access: 'admin' },
    schema: {
      tags: ['rules'],
      summary: 'Replace an alert rule (its version increments)',
      operationId: 'replace_rule',
      params: RuleIdParamsSchema,
      body: CreateRuleSchema,
      response: { 200: RuleSchema, ...ruleErrors },
    },
    handler: async (req) => service.replaceRule(req.params.id, req.body),
  });

  app.patch('/api/rules/:id', {
    config: { access: 'admin' },
    schema: {
      tags: ['rules'],
      summary: 'Change some fields of an alert rule; {"enabled": false} disables it (its version increments)',
      operationId: 'update_rule',
      params: RuleIdParamsSchema,
      body: PatchRuleSchema,
      response: { 200: RuleSchema, ...ruleErrors },
    },
    handler: async (req) => service.patchRule(req.params.id, req.body),
  });

  app.delete('/api/rules/:id', {
    config: { access: 'admin' },
    schema: { tags: ['rules'], summary: 'Delete an alert rule (alerts it raised stay)', operationId: 'delete_rule', params: RuleIdParamsSchema, response: { 204: Type.Null(), ...errors } },
    handler: async (req, reply) => {
      await service.deleteRule(req.params.id);
      reply.status(204).send(null);
    },
  });
}
