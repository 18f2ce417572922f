// The HTTP face of the job system (src/platform/jobs): list, read and cancel jobs. Queues and their
// handlers belong to the modules that define them; this module only shows their jobs to their owners.
import type { FastifyInstance } from 'fastify';
import type { JobSystem } from '../../platform/jobs/jobs.ts';
import { registerJobsRoutes } from './jobs.routes.ts';
import { createJobsService } from './jobs.service.ts';

export function registerJobsModule(app: FastifyInstance, deps: { jobs: JobSystem }) {
  const service = createJobsService({ jobs: deps.jobs });
  registerJobsRoutes(app, service);
  return { service };
}
