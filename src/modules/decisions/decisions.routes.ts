// Seed 000's routes: the four seed endpoints (owner: a signed-in user acts only for their own user_id,
// services and admins for anyone; update is for services and admins), a decision and its replay,
// updates, and the admin routes for problems, versions, evaluation and export.
import { Readable } from 'node:stream';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { callerOf } from '../../platform/access.ts';
import { sendPage } from '../../platform/pagination.ts';
import { ErrorResponse } from '../../platform/schemas.ts';
import {
  ActionAnswerSchema,
  ActionSchema,
  AddUserAnswerSchema,
  AddUserSchema,
  CreateProblemSchema,
  DecisionDetailSchema,
  DecisionIdParams,
  EvaluateAnswerSchema,
  EvaluateSchema,
  ExportQuerySchema,
  PageQuerySchema,
  ProblemRefParams,
  ProblemSchema,
  ReplaceConfigSchema,
  ReplaySchema,
  RollbackSchema,
  UpdateAnswerSchema,
  UpdateIdParams,
  UpdateSchema,
  UpdateViewSchema,
  UploadAnswerSchema,
  UploadSchema,
  VersionSchema,
} from './decisions.schemas.ts';
import type { DecisionsService } from './decisions.service.ts';
import { exportLines } from './decisions.export.ts';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse, 422: ErrorResponse, 429: ErrorResponse };
const tags = ['decisions'];
const problemTags = ['decision problems'];

export function registerDecisionsRoutes(fastify: FastifyInstance, service: DecisionsService): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  app.post('/api/v1/add_user', {
    config: { access: 'owner', idempotent: true },
    schema: { tags, summary: 'Add a user to the one user store (seed 000)', operationId: 'decisions_add_user', body: AddUserSchema, response: { 201: AddUserAnswerSchema, ...errors } },
    handler: async (req, reply) => reply.status(201).send(await service.addUser(req.body, callerOf(req))),
  });

  app.post('/api/v1/action', {
    config: { access: 'owner', idempotent: true },
    schema: {
      tags,
      summary: "Request an action for a user's context: drawn from the live policy (idempotent per user_id and decision_idx) (seed 000)",
      operationId: 'decisions_request_action',
      body: ActionSchema,
      response: { 201: ActionAnswerSchema, ...errors },
    },
    handler: async (req, reply) => reply.status(201).send(await service.action(req.body, callerOf(req))),
  });

  app.post('/api/v1/upload_data', {
    config: { access: 'owner', idempotent: true },
    schema: {
      tags,
      summary: "Upload a decision's outcome (by decision_id or decision_idx), or free data (seed 000)",
      operationId: 'decisions_upload_data',
      body: UploadSchema,
      response: { 201: UploadAnswerSchema, ...errors },
    },
    handler: async (req, reply) => reply.status(201).send(await service.uploadData(req.body, callerOf(req))),
  });

  app.post('/api/v1/update', {
    config: { access: 'service' },
    schema: {
      tags,
      summary: 'Update the model: a job builds a new policy version from the data up to timestamp; 202 and a callback with callback_url (seed 000)',
      operationId: 'decisions_update_model',
      body: UpdateSchema,
      response: { 200: UpdateAnswerSchema, 202: UpdateAnswerSchema, ...errors },
    },
    handler: async (req, reply) => {
      const r = await service.update(req.body, callerOf(req));
      return reply.status(r.accepted ? 202 : 200).send(r.body);
    },
  });

  app.get('/api/v1/updates/:id', {
    config: { access: 'service' },
    schema: { tags, summary: 'The state of a model update', operationId: 'decisions_get_update', params: UpdateIdParams, response: { 200: UpdateViewSchema, ...errors } },
    handler: async (req) => service.getUpdate(req.params.id, callerOf(req)),
  });

  app.get('/api/v1/decisions/export', {
    config: { access: 'admin' },
    schema: {
      tags,
      summary: 'Stream every decision with its outcome and reward, as CSV or JSON lines',
      operationId: 'decisions_export',
      querystring: ExportQuerySchema,
      produces: ['application/x-ndjson', 'text/csv'],
      response: { 200: Type.String({ description: 'one decision per line (CSV with a header row, or JSON lines)' }), ...errors },
    },
    handler: async (req, reply) => {
      const format = req.query.format ?? 'jsonl';
      const rows = await service.openExport(req.query);
      reply.type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8');
      reply.header('content-disposition', `attachment; filename="decisions.${format}"`);
      return reply.send(Readable.from(exportLines(rows, format)) as never);
    },
  });

  app.get('/api/v1/decisions/:id', {
    config: { access: 'owner' },
    schema: { tags, summary: 'One logged decision with everything needed to reproduce it', operationId: 'decisions_get', params: DecisionIdParams, response: { 200: DecisionDetailSchema, ...errors } },
    handler: async (req) => service.getDecision(req.params.id, callerOf(req)),
  });

  app.get('/api/v1/decisions/:id/replay', {
    config: { access: 'owner' },
    schema: {
      tags,
      summary: 'Recompute a decision from its stored policy version and generator state',
      operationId: 'decisions_replay',
      params: DecisionIdParams,
      response: { 200: ReplaySchema, ...errors },
    },
    handler: async (req) => service.replay(req.params.id, callerOf(req)),
  });

  app.get('/api/v1/problems', {
    config: { access: 'admin' },
    schema: { tags: problemTags, summary: 'List decision problems', operationId: 'decisions_list_problems', querystring: PageQuerySchema, response: { 200: Type.Array(ProblemSchema), ...errors } },
    handler: async (req, reply) => sendPage(reply, await service.listProblems(req.query.page, req.query.size)),
  });

  app.post('/api/v1/problems', {
    config: { access: 'admin' },
    schema: { tags: problemTags, summary: 'Create a decision problem from its configuration (version 1 is made at once)', operationId: 'decisions_create_problem', body: CreateProblemSchema, response: { 201: ProblemSchema, ...errors } },
    handler: async (req, reply) => {
      const p = await service.createProblem(req.body);
      return reply.status(201).header('location', `/api/v1/problems/${p.id}`).send(p);
    },
  });

  app.get('/api/v1/problems/:id', {
    config: { access: 'admin' },
    schema: { tags: problemTags, summary: 'One decision problem (by id or name)', operationId: 'decisions_get_problem', params: ProblemRefParams, response: { 200: ProblemSchema, ...errors } },
    handler: async (req) => service.getProblem(req.params.id),
  });

  app.put('/api/v1/problems/:id/config', {
    config: { access: 'admin' },
    schema: {
      tags: problemTags,
      summary: "Replace a problem's configuration (same actions); a new version is built at once from all data so far",
      operationId: 'decisions_replace_problem_config',
      params: ProblemRefParams,
      body: ReplaceConfigSchema,
      response: { 200: ProblemSchema, ...errors },
    },
    handler: async (req) => service.replaceConfig(req.params.id, req.body.config),
  });

  app.get('/api/v1/problems/:id/versions', {
    config: { access: 'admin' },
    schema: { tags: problemTags, summary: "A problem's policy versions, newest first", operationId: 'decisions_list_versions', params: ProblemRefParams, querystring: PageQuerySchema, response: { 200: Type.Array(VersionSchema), ...errors } },
    handler: async (req, reply) => sendPage(reply, await service.listVersions(req.params.id, req.query.page, req.query.size)),
  });

  app.post('/api/v1/problems/:id/rollback', {
    config: { access: 'admin' },
    schema: { tags: problemTags, summary: 'Make an earlier policy version live again', operationId: 'decisions_rollback', params: ProblemRefParams, body: RollbackSchema, response: { 200: ProblemSchema, ...errors } },
    handler: async (req) => service.rollback(req.params.id, req.body.version),
  });

  app.post('/api/v1/problems/:id/evaluate', {
    config: { access: 'admin' },
    schema: {
      tags: problemTags,
      summary: 'Score candidate policies on the logged decisions with IPS, SNIPS and DR (a job), beside the live policy and uniform random',
      operationId: 'decisions_evaluate',
      params: ProblemRefParams,
      body: EvaluateSchema,
      response: { 202: EvaluateAnswerSchema, ...errors },
    },
    handler: async (req, reply) => reply.status(202).send(await service.evaluate(req.params.id, req.body, callerOf(req))),
  });
}
