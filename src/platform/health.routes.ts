import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { Type } from 'typebox';
import type { Database } from './db.ts';
import { AppError } from './errors.ts';
import { ErrorResponse } from './schemas.ts';

export function registerHealthRoutes(app: FastifyInstance, deps: { database: Database; metrics: Registry }): void {
  const Status = Type.Object({ status: Type.String() });
  app.get('/health', {
    config: { access: 'public' },
    schema: { tags: ['platform'], summary: 'Liveness: the process is up', response: { 200: Status } },
    handler: async () => ({ status: 'ok' }),
  });
  app.get('/ready', {
    config: { access: 'public' },
    schema: {
      tags: ['platform'],
      summary: 'Readiness: the database answers',
      response: { 200: Type.Object({ status: Type.String(), database: Type.String() }), 503: ErrorResponse },
    },
    handler: async () => {
      try {
        await deps.database.ping();
      } catch (err) {
        throw new AppError('NOT_READY', 'database is not answering', { cause: err });
      }
      return { status: 'ready', database: deps.database.kind };
    },
  });
  app.get('/metrics', {
    config: { access: 'service' },
    schema: { tags: ['platform'], summary: 'Prometheus metrics', produces: ['text/plain'], response: { 200: Type.String({ description: 'Prometheus text format' }), 401: ErrorResponse, 403: ErrorResponse } },
    handler: async (_req, reply) => {
      reply.type(deps.metrics.contentType);
      return deps.metrics.metrics();
    },
  });
}
