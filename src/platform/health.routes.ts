import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { Type } from 'typebox';
import type { Dependency } from './dependencies.ts';
import { errorBody } from './errors.ts';
import { ErrorResponse } from './schemas.ts';

/** /ready answers within this, whatever the state of the dependencies. */
const READY_TIMEOUT_MS = 800;

export function registerHealthRoutes(app: FastifyInstance, deps: { dependencies: readonly Dependency[]; metrics: Registry }): void {
  const Status = Type.Object({ status: Type.String() });
  app.get('/health', {
    config: { access: 'public' },
    schema: { tags: ['platform'], summary: 'Liveness: the process is up', response: { 200: Status } },
    handler: async () => ({ status: 'ok' }),
  });
  const States = Type.Record(Type.String(), Type.Union([Type.Literal('up'), Type.Literal('down')]), { description: 'Each dependency: the database, and Redis when configured' });
  app.get('/ready', {
    config: { access: 'public' },
    schema: {
      tags: ['platform'],
      summary: 'Readiness: the database (and Redis, when configured) answer; within a second, whatever their state',
      response: {
        200: Type.Object({ status: Type.String(), dependencies: States }),
        503: Type.Intersect([ErrorResponse, Type.Object({ dependencies: States })]),
      },
    },
    handler: async (req, reply) => {
      const checks = await Promise.all(deps.dependencies.map(async (d) => [d.name, (await d.check(READY_TIMEOUT_MS)) ? 'up' : 'down'] as const));
      const states = Object.fromEntries(checks);
      const down = checks.filter(([, s]) => s === 'down').map(([n]) => n);
      if (!down.length) return { status: 'ready', dependencies: states };
      reply.header('retry-after', '1');
      return reply.status(503).send({ ...errorBody(`not ready: ${down.join(' and ')} ${down.length > 1 ? 'are' : 'is'} unreachable`, 'UNAVAILABLE', req.id), dependencies: states });
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
