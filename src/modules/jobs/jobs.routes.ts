// GET /api/v1/jobs, GET /api/v1/jobs/{id}, POST /api/v1/jobs/{id}/cancel: 'owner' routes.
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { ErrorResponse } from '../../platform/schemas.ts';
import { JobIdParamsSchema, JobSchema, ListJobsQuerySchema, type ListJobsQuery } from './jobs.schemas.ts';
import type { JobsService } from './jobs.service.ts';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse };

export function registerJobsRoutes(app: FastifyInstance, service: JobsService): void {
  app.get('/api/v1/jobs', {
    config: { access: 'owner' },
    schema: {
      tags: ['jobs'],
      summary: 'List jobs, newest first: your own (admins and services: everyone\'s)',
      operationId: 'list_jobs',
      querystring: ListJobsQuerySchema,
      response: { 200: Type.Array(JobSchema), ...errors },
    },
    handler: async (req, reply) => {
      const { rows, total } = await service.list(req.query as ListJobsQuery, req.principal!);
      reply.header('x-total-count', String(total));
      return rows;
    },
  });

  app.get('/api/v1/jobs/:id', {
    config: { access: 'owner' },
    schema: { tags: ['jobs'], summary: 'A job: state, progress, result or error', operationId: 'get_job', params: JobIdParamsSchema, response: { 200: JobSchema, ...errors } },
    handler: async (req) => service.get((req.params as { id: string }).id, req.principal!),
  });

  app.post('/api/v1/jobs/:id/cancel', {
    config: { access: 'owner' },
    schema: {
      tags: ['jobs'],
      summary: 'Cancel a job that has not finished (a running handler is signalled to stop); 409 when it already has',
      operationId: 'cancel_job',
      params: JobIdParamsSchema,
      response: { 200: JobSchema, ...errors, 409: ErrorResponse },
    },
    handler: async (req) => service.cancel((req.params as { id: string }).id, req.principal!),
  });
}
