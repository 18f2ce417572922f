// Seed 000 as a contextual-bandit service for micro-randomized trials: decision problems as
// configuration, every decision logged with what reproduces it, outcomes joined to decisions, and
// policy updates and off-policy evaluation as jobs (callbacks through the webhooks job type).
import type { FastifyInstance } from 'fastify';
import type { Database } from '../../platform/db.ts';
import type { JobSystem } from '../../platform/jobs/jobs.ts';
import { PermanentJobError } from '../../platform/jobs/jobs.ts';
import type { Clock } from '../../platform/time.ts';
import type { Webhooks } from '../../platform/webhooks/webhooks.ts';
import { Rng } from '../../ml/rng.ts';
import type { EventLogReader } from '../resources/event-log.reader.ts';
import type { UsersService } from '../users/users.service.ts';
import { createDecisionsRepository } from './decisions.repository.ts';
import { registerDecisionsRoutes } from './decisions.routes.ts';
import { CALLBACK_TARGET, createDecisionsService, EVALUATE_QUEUE, UPDATE_QUEUE } from './decisions.service.ts';
import { randomBytes } from 'node:crypto';

export interface DecisionsModuleDeps {
  database: Database;
  users: UsersService;
  jobs: JobSystem;
  webhooks: Webhooks;
  clock: Clock;
  /** Seed 002's event log (when the resources module runs here), for rewards counted from it. */
  eventLog?: EventLogReader;
  /** How long POST /api/v1/update without callback_url waits for its job (DECISIONS_SYNC_UPDATE_MS). */
  syncUpdateWaitMs: number;
  /** Seed of the generator that draws each decision's nonce (default: random per process). */
  seed?: number;
}

/** Defines the module's queues (before the job system starts) and registers its routes. */
export function registerDecisionsModule(app: FastifyInstance, deps: DecisionsModuleDeps) {
  const service = createDecisionsService({
    repo: createDecisionsRepository(deps.database),
    users: deps.users,
    jobs: deps.jobs,
    webhooks: deps.webhooks,
    clock: deps.clock,
    eventLog: deps.eventLog,
    rng: new Rng(deps.seed ?? randomBytes(4).readUInt32LE(0)),
    log: app.log,
    syncUpdateWaitMs: deps.syncUpdateWaitMs,
  });
  deps.jobs.define<{ update_id?: string; problem_id?: number }, unknown>({
    name: UPDATE_QUEUE,
    // A failed build is recorded (and called back) by runUpdate itself: retrying would not help.
    retryLimit: 0,
    handler: async (job) => {
      if (job.data.update_id) return service.runUpdate(job.data.update_id);
      if (job.data.problem_id) return service.runScheduledUpdate(job.data.problem_id);
      throw new PermanentJobError('a decisions.update job needs update_id or problem_id');
    },
  });
  deps.jobs.define<Parameters<typeof service.runEvaluation>[0], unknown>({
    name: EVALUATE_QUEUE,
    retryLimit: 0,
    timeoutSeconds: 3600,
    handler: async (job) => {
      try {
        return await service.runEvaluation(job.data);
      } catch (err) {
        throw new PermanentJobError(err instanceof Error ? err.message : String(err));
      }
    },
  });
  deps.webhooks.registerSigner(CALLBACK_TARGET, (id) => service.callbackSecret(id));
  registerDecisionsRoutes(app, service);
  return service;
}
