// Seed 003's ML API over a model registry: /train (grid search, synchronous or as a job), /predict,
// /status, versioned models with held-out metrics, and datasets (iris, wine, breast cancer ship).
// Each version is listed in seed 002's algos through the facts model.version.created / removed.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config.ts';
import type { Database } from '../../platform/db.ts';
import type { Facts } from '../../platform/jobs/facts.ts';
import type { JobSystem } from '../../platform/jobs/jobs.ts';
import { runOnThread } from '../../platform/jobs/threads.ts';
import type { Clock } from '../../platform/time.ts';
import { createModelsRepository } from './models.repository.ts';
import { createTrainingPool } from './training-pool.ts';
import { registerModelsRoutes } from './models.routes.ts';
import { createModelsService, TRAIN_QUEUE, type TrainJobData } from './models.service.ts';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

export interface ModelsModuleDeps {
  database: Database;
  config: Pick<Config, 'modelsTrainTimeoutS' | 'modelsCacheSize' | 'modelsActiveRefreshMs' | 'predictMaxRows' | 'datasetMaxBytes' | 'datasetCacheBytes' | 'mlThreads'>;
  jobs: JobSystem;
  facts: Facts;
  clock: Clock;
  /** Serve the routes (MODULES); the training queue is defined either way, so any process can run its jobs. */
  routes: boolean;
}

export async function registerModelsModule(app: FastifyInstance, deps: ModelsModuleDeps) {
  const { config } = deps;
  // Warm training threads (one per ML thread at most), ended with the app.
  const trainingPool = createTrainingPool({ idle: Math.max(1, config.mlThreads ?? availableParallelism()) });
  app.addHook('onClose', () => trainingPool.close());
  const service = createModelsService({
    repo: createModelsRepository(deps.database),
    trainingPool,
    facts: deps.facts,
    jobs: deps.jobs,
    runThread: runOnThread,
    clock: deps.clock,
    datasetsDir: new URL('../../../datasets/', import.meta.url),
    libraryVersion: `arbiter-ml ${pkg.version}`,
    config: {
      trainTimeoutMs: config.modelsTrainTimeoutS * 1000,
      cacheSize: config.modelsCacheSize,
      datasetCacheBytes: config.datasetCacheBytes,
      predictMaxRows: config.predictMaxRows,
      activeRefreshMs: config.modelsActiveRefreshMs,
      mlThreads: config.mlThreads,
    },
  });
  // Trainings are deterministic: a retry would fail the same way.
  deps.jobs.define<TrainJobData, unknown>({ name: TRAIN_QUEUE, handler: (job) => service.runTrainJob(job), concurrency: 1, retryLimit: 0, timeoutSeconds: config.modelsTrainTimeoutS });
  await service.init();
  if (deps.routes) registerModelsRoutes(app, service, { datasetMaxBytes: config.datasetMaxBytes });
  return { service };
}
